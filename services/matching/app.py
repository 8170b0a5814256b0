"""The faust application: matching's tables per neighbourhood, and its agents on them.

``create_app`` builds the app from settings (nothing connects until it starts); the agents
that read each stream are in ``agents``, faust's adjusted parts beside the driver
(``driver``, ``recovery``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust
from faust.sensors import Monitor
from mode import Service

from services.matching.agents import CONSUMED, CONSUMER_NAME, NEIGHBOURHOOD_TOPICS, Agents
from services.matching.domain import Policy
from services.matching.driver import (
    CONNECTION_ATTR,
    FETCH_MAX_WAIT_ATTR,
    IDEMPOTENCE_ATTR,
    IDLE_FETCH_MAX_WAIT_ATTR,
    register_transport,
)
from services.matching.handlers import Matcher
from services.matching.recovery import EagerTableManager
from services.matching.state import MatchingState
from shared.contracts.topics import NEIGHBOURHOOD_PARTITIONS
from shared.messaging.connection import KafkaConnection
from shared.settings import Settings

__all__ = [
    "APP_ID",
    "CONSUMED",
    "CONSUMER_NAME",
    "NEIGHBOURHOOD_TOPICS",
    "Runtime",
    "create_app",
    "policy_from",
    "runtime_of",
]

APP_ID = "kith-matching"
_RUNTIME_ATTR = "kith_runtime"


class Runtime:
    """What the running app holds besides faust's own: the handlers and readiness."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self.ready = asyncio.Event()
        """Set once partitions are assigned and tables recovered."""


def policy_from(settings: Settings) -> Policy:
    """The cascade's knobs from settings."""
    return Policy(
        regular_hold_s=settings.regular_hold_s,
        offer_ttl_s=settings.offer_ttl_s,
        cascade_width=settings.cascade_width,
        cascade_rounds=settings.cascade_rounds,
        short_notice_s=settings.short_notice_h * 3600,
        escalate_before_s=settings.reoffer_escalate_before_h * 3600,
    )


def runtime_of(app: faust.App) -> Runtime:
    """The runtime ``create_app`` attached to ``app``."""
    runtime: Runtime = getattr(app, _RUNTIME_ATTR)
    return runtime


def create_app(
    settings: Settings, *, app_id: str = APP_ID, from_beginning: bool = True
) -> faust.App:
    """Build the matching app; nothing connects until it is started.

    Args:
        settings: Kith settings (broker, timeouts, cascade knobs).
        app_id: The faust app id: consumer group and changelog topic prefix.
        from_beginning: Where a new consumer group starts reading (tests read only the new).
    """
    register_transport()
    _quiet_faust()
    session_s = settings.session_timeout_ms / 1000
    datadir = settings.state_dir / "matching" / app_id
    # faust makes only the last folder, and tables here are in memory: the folder stays empty.
    datadir.parent.mkdir(parents=True, exist_ok=True)
    connection = KafkaConnection.from_settings(settings)
    app = faust.App(
        app_id,
        broker=f"kith://{connection.bootstrap}",
        **connection.faust(),
        store="memory://",
        topic_partitions=NEIGHBOURHOOD_PARTITIONS,
        topic_replication_factor=settings.kafka_replication_factor,
        broker_session_timeout=session_s,
        broker_rebalance_timeout=settings.rebalance_timeout_ms / 1000,
        broker_heartbeat_interval=settings.heartbeat_interval_ms / 1000,
        broker_request_timeout=max(session_s, 10.0),
        stream_recovery_delay=0.0,
        # How often handled offsets are committed (faust's default is 2.8 s): what a restarted
        # worker may read again, at most a second of events, each handled again harmlessly
        # (offers keep their ids). The committer and faust's livelock check wake this often.
        broker_commit_interval=1.0,
        producer_linger=0.0,
        producer_acks=-1 if settings.kafka_acks in {"all", "-1"} else int(settings.kafka_acks),
        consumer_auto_offset_reset="earliest" if from_beginning else "latest",
        TableManager=EagerTableManager,
        Monitor=QuietMonitor,
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
        datadir=str(datadir),
    )
    setattr(app, FETCH_MAX_WAIT_ATTR, settings.fetch_max_wait_ms)
    setattr(app, IDLE_FETCH_MAX_WAIT_ATTR, settings.idle_fetch_max_wait_ms)
    setattr(app, IDEMPOTENCE_ATTR, settings.kafka_idempotence)
    setattr(app, CONNECTION_ATTR, connection)

    def table(name: str) -> Any:
        return app.Table(
            name,
            partitions=NEIGHBOURHOOD_PARTITIONS,
            schema=_table_schema(),
        )

    state = MatchingState(
        helpers=table("helpers"),
        # Keyed by helper, on the partitions of the facts topic that feeds it (``filing``).
        ledger=table("helper-ledger"),
        roster=table("roster"),
        relationships=table("relationships"),
        progress=table("progress"),
        # One entry per open request; "open-requests" held one document per neighbourhood.
        open_requests=table("open-rounds"),
        # Standing is keyed by person, not neighbourhood: every worker keeps all of it.
        # One partition, as faust advises for a GlobalTable read by several workers.
        standing=app.GlobalTable(
            "standing",
            partitions=1,
            use_partitioner=True,
            recovery_buffer_size=1,
            schema=_table_schema(),
        ),
        series=table("series"),
        unmatched=table("unmatched"),
        # Partners' services are keyed by partner, and each covers neighbourhoods on any
        # partition: every worker keeps all of them, like standing.
        partner_services=app.GlobalTable(
            "partner-services",
            partitions=1,
            use_partitioner=True,
            recovery_buffer_size=1,
            schema=_table_schema(),
        ),
    )
    runtime = Runtime(Matcher(state, policy_from(settings), loopback=False))
    setattr(app, _RUNTIME_ATTR, runtime)
    Agents(app, runtime, _timer_interval(settings))
    return app


class QuietMonitor(Monitor):
    """faust's monitor without its once-a-second sampling.

    The sampler turns counts into rates for faust's own web page, which matching does not
    serve (``web_enabled=False``); Kith's figures are its Prometheus metrics. Sampled, an
    idle worker woke once a second more for it.
    """

    @Service.task
    async def _sampler(self) -> None:
        """Sample nothing."""


def _quiet_faust() -> None:
    # faust's own loggers keep a level the process chose (``configure_logging`` keeps their
    # info at debug); otherwise they say only warnings.
    for name in ("faust", "mode"):
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.WARNING)
    # faust's services log through the logger of the module their class is defined in: the
    # driver's subclasses are as chatty as faust itself.
    for name in ("aiokafka", "services.matching.driver"):
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, logging.WARNING))


def _table_schema() -> faust.Schema[str, bytes]:
    """String keys (JSON) and JSON bytes values that matching encodes itself."""
    return faust.Schema(
        key_type=str, value_type=bytes, key_serializer="json", value_serializer="raw"
    )


def _timer_interval(settings: Settings) -> float:
    """Often enough that a round ends close to its time, never busier than 10 a second."""
    shortest = min(settings.offer_ttl_s, settings.regular_hold_s or settings.offer_ttl_s)
    return max(0.1, min(1.0, shortest / 4))
