"""Structured logging: readable on a terminal, JSON in production."""

from __future__ import annotations

import logging
import sys

import structlog

from shared.settings import LogFormat, Settings


def configure_logging(settings: Settings, service: str) -> structlog.stdlib.BoundLogger:
    """Route structlog and the standard library through one renderer, bound to ``service``."""
    level = getattr(logging, settings.log_level.upper())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format is LogFormat.JSON
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared_processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared_processors,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Client libraries are chatty at info about every rebalance; keep their warnings. At
    # debug, faust's own rebalance and recovery steps (info) are kept too.
    for noisy in ("aiokafka", "kafka", "faust", "mode", "uvicorn.access"):
        quiet = logging.INFO if level <= logging.DEBUG and noisy in {"faust", "mode"} else None
        logging.getLogger(noisy).setLevel(quiet or max(level, logging.WARNING))
    structlog.contextvars.bind_contextvars(service=service)
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(service)
    return logger
