"""Every Kafka client of Kith takes SASL (SCRAM-SHA-512) and TLS from the settings.

One helper (``shared.messaging.KafkaConnection``) turns the ``KITH_KAFKA_*`` settings into
client options; these tests build each client (or stop it where it would connect) and look at
what it was given, and a scan of the source fails on any Kafka client made without it.
"""

from __future__ import annotations

import ast
import json
import ssl
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.messaging import KafkaConnection
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SECURE = {
    "kafka_bootstrap": "kafka-1:9093,kafka-2:9093",
    "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_username": "kith-booking",
    "kafka_sasl_password": "a long random password",
}


@pytest.fixture
def settings() -> Settings:
    return Settings(**SECURE)  # type: ignore[arg-type]


def _assert_secure(options: dict[str, Any]) -> None:
    assert options["bootstrap_servers"] == SECURE["kafka_bootstrap"]
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "kith-booking"
    assert options["sasl_plain_password"] == "a long random password"
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_settings_become_options_for_aiokafka_faust_and_librdkafka(settings: Settings) -> None:
    connection = KafkaConnection.from_settings(settings)
    _assert_secure(connection.aiokafka())
    assert "a long random password" not in repr(connection)
    librdkafka = connection.librdkafka()
    assert librdkafka["security.protocol"] == "sasl_ssl"
    assert librdkafka["sasl.mechanism"] == "SCRAM-SHA-512"
    assert librdkafka["sasl.username"] == "kith-booking"
    assert librdkafka["ssl.endpoint.identification.algorithm"] == "https"
    credentials = connection.faust()["broker_credentials"]
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    auth = credentials_to_aiokafka_auth(credentials)
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-512"
    assert auth["sasl_plain_username"] == "kith-booking"


def test_the_embedded_broker_stays_plaintext() -> None:
    options = KafkaConnection.of("127.0.0.1:9092").aiokafka()
    assert options == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}
    assert KafkaConnection.of("127.0.0.1:9092").faust() == {"broker_credentials": None}


def test_sasl_without_a_user_fails_loudly() -> None:
    with pytest.raises(ValueError, match="SASL username and password"):
        KafkaConnection("kafka:9093", security_protocol="SASL_SSL")


class _Made(Exception):
    """Raised by a recording client instead of connecting."""


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every aiokafka client a module makes records its options and stops there."""
    calls: list[dict[str, Any]] = []

    def recorder(*_: Any, **options: Any) -> Any:
        calls.append(options)
        raise _Made

    import kith.bench.concern
    import kith.faults.poison
    import kith.faults.reading
    import kith_partner.client
    import shared.messaging.admin
    import shared.messaging.loop
    import shared.messaging.offsets
    import shared.messaging.publisher
    import shared.messaging.reader
    import shared.postgres.replay

    for module in (
        shared.messaging.admin,
        shared.messaging.loop,
        shared.messaging.offsets,
        shared.messaging.publisher,
        shared.messaging.reader,
        shared.postgres.replay,
        kith_partner.client,
        kith.faults.reading,
        kith.faults.poison,
    ):
        for name in ("AIOKafkaConsumer", "AIOKafkaProducer", "AIOKafkaAdminClient"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, recorder)
    monkeypatch.setattr("aiokafka.AIOKafkaConsumer", recorder)  # imported inside a function
    assert kith.bench.concern  # its reader imports aiokafka's class when made
    return calls


async def test_every_client_is_made_with_the_connection_options(
    settings: Settings, made: list[dict[str, Any]]
) -> None:
    from aiokafka import TopicPartition

    from kith.bench.concern import _StandingWatcher
    from kith.faults.reading import read_topics
    from kith_partner import PartnerClient
    from shared.contracts.topics import PEOPLE
    from shared.messaging import Publisher, end_offsets, ensure_topics, group_caught_up
    from shared.messaging.loop import group_member
    from shared.messaging.reader import StreamReader
    from shared.postgres.replay import topic_ends

    partition = [TopicPartition(PEOPLE.name, 0)]
    clients: dict[str, Callable[[], object]] = {
        "publisher": lambda: Publisher(settings, client_id="test"),
        "consumer group member": lambda: group_member(
            settings, PEOPLE.name, group_id="g", name="n"
        ),
        "stream reader (console, kith tail)": lambda: StreamReader(
            settings, [PEOPLE.name], from_beginning=True
        ),
        "benchmark's standing reader": lambda: _StandingWatcher(
            settings, "http://127.0.0.1/metrics"
        ),
    }
    for name, make in clients.items():
        with pytest.raises(_Made):
            make()
        _assert_secure(made.pop())
        assert not made, name
    connections: dict[str, Callable[[], Awaitable[object]]] = {
        "topic creation": lambda: ensure_topics(settings),
        "end offsets": lambda: end_offsets(settings, partition),
        "group progress": lambda: group_caught_up(settings, "g", PEOPLE),
        "replay check": lambda: topic_ends(settings, [PEOPLE.name]),
        "faults' reader": lambda: read_topics(settings, [PEOPLE.name]),
    }
    for name, connect in connections.items():
        with pytest.raises(_Made):
            await connect()
        _assert_secure(made.pop())
        assert not made, name

    partner = PartnerClient(KafkaConnection.from_settings(settings), uuid.uuid4(), "kith_pk_x")
    with pytest.raises(_Made):
        await partner.start()
    _assert_secure(made.pop())
    with pytest.raises(_Made):
        await anext(partner.feed())
    _assert_secure(made.pop())


def test_matching_faust_app_gets_the_credentials(settings: Settings) -> None:
    from faust.auth import SASLCredentials

    from services.matching.app import create_app
    from services.matching.driver import CONNECTION_ATTR

    app = create_app(settings, app_id=f"test-{uuid.uuid4().hex[:8]}")
    credentials = app.conf.broker_credentials
    assert isinstance(credentials, SASLCredentials)
    assert credentials.username == "kith-booking"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.ssl_context is not None
    assert getattr(app, CONNECTION_ATTR) == KafkaConnection.from_settings(settings)


#: Where Kafka clients are made; each must take its options from ``KafkaConnection``.
CLIENT_CLASSES = {"AIOKafkaConsumer", "AIOKafkaProducer", "AIOKafkaAdminClient"}


def _client_calls() -> Iterator[tuple[Path, ast.Call]]:
    for folder in ("shared", "services", "kith", "kith_partner", "examples"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                    if name in CLIENT_CLASSES:
                        yield path, node


def _scan() -> tuple[int, list[str]]:
    """How many Kafka clients the source makes, and those made without the options."""
    calls = list(_client_calls())
    missed = [
        f"{path.relative_to(ROOT)}:{call.lineno}"
        for path, call in calls
        if not any(
            keyword.arg is None and ".aiokafka()" in ast.unparse(keyword.value)
            for keyword in call.keywords
        )
    ]
    return len(calls), missed


def test_no_kafka_client_is_made_without_the_connection_options() -> None:
    # In a fresh interpreter: CPython 3.11.7's parser can fail with "AST constructor
    # recursion depth mismatch" deep in a long-lived test worker's stack.
    script = (
        "import json, tests.unit.test_kafka_connection as scan; print(json.dumps(scan._scan()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    count, missed = json.loads(done.stdout)
    assert count >= 10, "the scan finds Kith's clients"
    assert missed == [], "made without **KafkaConnection...aiokafka()"
