"""Prometheus metrics every Kith process exposes: events in and out, handler latency,
consumer lag, outbox backlog and dead letters.

The metrics live in prometheus-client's default registry, so the shared messaging code
(``Publisher``, ``EventConsumer``, ``OutboxRelay``) records them wherever it runs; a process
serves them on ``/metrics`` only when ``start_metrics_server`` is given a port. Labels stay
few and bounded: a service name, a topic, an event type, a partition, a reason category.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from enum import StrEnum
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import structlog
from prometheus_client import Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from shared.http_thread import serve_in_thread, stop_serving
from shared.settings import Settings

__all__ = [
    "CONSUMER_LAG",
    "DEAD_LETTERS",
    "EVENTS_CONSUMED",
    "EVENTS_PUBLISHED",
    "HANDLER_SECONDS",
    "OUTBOX_BACKLOG",
    "DeadLetterReason",
    "MetricsServer",
    "serve_metrics",
    "service_name",
    "set_service_name",
    "start_metrics_server",
]

log = structlog.get_logger(__name__)

EVENTS_CONSUMED = Counter(
    "kith_events_consumed",
    "Messages a consumer read, by event type ('undecodable' when it could not be read).",
    ["service", "topic", "type"],
)
EVENTS_PUBLISHED = Counter(
    "kith_events_published",
    "Messages a producer published and the broker acknowledged.",
    ["service", "topic", "type"],
)
HANDLER_SECONDS = Histogram(
    "kith_handler_seconds",
    "Time a handler took over one event (each attempt, failed ones included).",
    ["service", "topic"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CONSUMER_LAG = Gauge(
    "kith_consumer_lag",
    "Messages on a partition not yet read: the broker's high-water mark minus the position.",
    ["service", "topic", "partition"],
)
OUTBOX_BACKLOG = Gauge(
    "kith_outbox_backlog",
    "Outbox rows committed but not yet published, as the relay last saw them.",
    ["service"],
)
DEAD_LETTERS = Counter(
    "kith_dead_letters",
    "Messages a consumer sent to the dead-letter topic, by reason category.",
    ["service", "topic", "reason"],
)


class DeadLetterReason(StrEnum):
    """Why a message was dead-lettered: a category, so the label stays bounded.

    The full reason travels in the dead letter's headers.
    """

    UNDECODABLE = "undecodable"
    WRONG_TOPIC = "wrong_topic"
    REJECTED = "rejected"
    HANDLER_FAILED = "handler_failed"


# One process is one service: the entry point names it once, and every publisher, consumer
# and relay built afterwards labels its metrics with it unless told otherwise.
_service = "kith"


def service_name() -> str:
    """The service label this process's metrics carry by default."""
    return _service


def set_service_name(service: str) -> None:
    """Name the service this process runs, for the metrics' ``service`` label."""
    global _service
    _service = service


@dataclass(frozen=True, slots=True)
class MetricsServer:
    """A running ``/metrics`` endpoint (a daemon thread); ``close`` stops it."""

    host: str
    port: int
    _server: WSGIServer
    _thread: threading.Thread

    def close(self) -> None:
        """Stop serving and free the port."""
        stop_serving(self._server, self._thread)


def serve_metrics(host: str, port: int) -> MetricsServer:
    """Serve the default registry on ``/metrics`` at ``host``:``port`` (0: a free port) from
    a daemon thread that sleeps until a scrape comes (``shared.http_thread``), as
    prometheus-client's ``start_http_server`` would with a wake-up every half second.

    Raises:
        OSError: The port is taken.
    """
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
    server_class = type("_MetricsHTTPServer", (ThreadingWSGIServer,), {"address_family": family})
    server: WSGIServer = make_server(
        host, port, make_wsgi_app(), server_class, handler_class=_Quiet
    )
    thread = serve_in_thread(server, "kith-metrics")
    return MetricsServer(host, server.server_port, server, thread)


class _Quiet(WSGIRequestHandler):
    """Scrapes are not worth a log line each."""

    def log_message(self, format: str, *args: object) -> None:
        """Log nothing."""


def start_metrics_server(settings: Settings, service: str) -> MetricsServer | None:
    """Name this process's service and, when ``settings.metrics_port`` is set, serve metrics.

    Port 0 takes a free port (the returned server says which). A daemon thread serves, so a
    process that forgets ``close`` still exits. A port already taken is logged and the service
    runs on without metrics: they are for watching it, never a reason for it to stop.
    """
    set_service_name(service)
    if settings.metrics_port is None:
        return None
    try:
        return serve_metrics(settings.http_host, settings.metrics_port)
    except OSError as error:
        log.error(
            "metrics not served: the port is taken",
            host=settings.http_host,
            port=settings.metrics_port,
            error=str(error),
        )
        return None
