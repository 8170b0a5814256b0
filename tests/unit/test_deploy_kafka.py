"""The Kafka users and ACLs in deploy/ agree with the topic registry, and give each service and
each partner no more than the registry says.

``deploy/kafka/acls.sh`` is generated from ``shared.contracts.topics.SERVICE_ACCESS`` by
``kith kafka-acls``; the services' own consumers and publishers are checked against the same
registry, so a service that starts reading a topic fails here until the registry (and so the
ACLs) say it may.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import yaml

from kith.kafka_acls import ACLS_SCRIPT, render_partner, render_services
from shared.contracts.registry import TOPIC_OF
from shared.contracts.topics import (
    ALL_TOPICS,
    DEAD_LETTERS,
    PARTNERS_INBOX,
    SERVICE_ACCESS,
    partner_feed,
)

ROOT = Path(__file__).resolve().parents[2]
RULE = re.compile(r"^acl --allow-principal User:(\S+) (.*?) --(topic|group) (\S+)(.*)$")


def _rules(script: str) -> set[tuple[str, frozenset[str], str, str, bool]]:
    """(principal, operations, resource kind, name, prefixed) for each ``acl`` line."""
    found = set()
    for line in script.splitlines():
        match = RULE.match(line)
        if match:
            principal, operations, kind, name, rest = match.groups()
            ops = frozenset(re.findall(r"--operation (\w+)", operations))
            found.add((principal, ops, kind, name, "prefixed" in rest))
    return found


def test_the_acls_in_deploy_are_those_the_registry_gives() -> None:
    in_deploy = (ROOT / ACLS_SCRIPT).read_text(encoding="utf-8")
    assert in_deploy == render_services(), "regenerate: kith kafka-acls > deploy/kafka/acls.sh"
    rules = _rules(in_deploy)
    for service, access in SERVICE_ACCESS.items():
        mine = {r for r in rules if r[0] == f"kith-{service}"}
        topics = [(ops, name) for _, ops, kind, name, prefixed in mine if kind == "topic"]
        read = {name for ops, name in topics if "Read" in ops and name != access.owned_prefix}
        wrote = {name for ops, name in topics if "Write" in ops and name != access.owned_prefix}
        assert read == {t.name for t in access.reads}, service
        assert wrote == {t.name for t in access.writes}, service
        assert f'user kith-{service} "${{KAFKA_PASSWORD_{service.upper()}:?}}"' in in_deploy


def test_a_partner_reads_only_its_feed_and_writes_only_the_inbox() -> None:
    partner_id = str(uuid.uuid4())
    rules = _rules(render_partner(partner_id))
    assert {r[0] for r in rules} == {f"partner-{partner_id}"}
    topics = {(name, ops) for _, ops, kind, name, _ in rules if kind == "topic"}
    assert topics == {
        (partner_feed(partner_id), frozenset({"Read", "Describe"})),
        (PARTNERS_INBOX.name, frozenset({"Write", "Describe"})),
    }
    groups = {name for _, _, kind, name, _ in rules if kind == "group"}
    assert groups == {f"partner-{partner_id}"}


def test_only_the_gateway_reads_the_inbox_and_nobody_but_its_writers_writes_a_topic() -> None:
    readers = {s for s, a in SERVICE_ACCESS.items() if PARTNERS_INBOX in a.reads}
    assert readers == {"partners", "ops"}, "the inbox is read by the gateway (and operators)"
    assert all(DEAD_LETTERS in a.writes for s, a in SERVICE_ACCESS.items() if s != "ops")
    assert SERVICE_ACCESS["ops"].writes == (), "the console only reads"
    for topic in ALL_TOPICS:
        if topic in (DEAD_LETTERS, PARTNERS_INBOX):
            continue
        writers = {s for s, a in SERVICE_ACCESS.items() if topic in a.writes}
        assert writers, f"nobody may write {topic.name}"


def test_each_service_reads_and_writes_only_what_the_registry_says() -> None:
    from services.booking.entrypoints.consumers import TOPICS as BOOKING_READS
    from services.matching.app import NEIGHBOURHOOD_TOPICS
    from services.partners.entrypoints.consumers import PROJECTED
    from services.trust.entrypoints.consumer import CONSUMED as TRUST_READS
    from shared.contracts.partners import PartnerServiceChanged, PersonReferred
    from shared.contracts.requests import OfferMade, RequestUnmatched
    from shared.contracts.topics import PARTNERS, STANDING
    from shared.contracts.trust import RelationshipChanged, StandingChanged, VettingStepRecorded

    def within(service: str, topics: Any, kind: str = "reads") -> None:
        allowed = set(getattr(SERVICE_ACCESS[service], kind))
        assert set(topics) <= allowed, (service, {t.name for t in set(topics) - allowed})

    within("booking", BOOKING_READS)
    within("trust", TRUST_READS)
    within("matching", (*NEIGHBOURHOOD_TOPICS, STANDING, PARTNERS))
    within("partners", (*PROJECTED, PARTNERS_INBOX))
    within("matching", (TOPIC_OF[OfferMade], TOPIC_OF[RequestUnmatched]), "writes")
    within("trust", (TOPIC_OF[RelationshipChanged], TOPIC_OF[StandingChanged]), "writes")
    within(
        "partners",
        (TOPIC_OF[PersonReferred], TOPIC_OF[PartnerServiceChanged], TOPIC_OF[VettingStepRecorded]),
        "writes",
    )


def test_compose_gives_each_service_its_own_kafka_user_over_sasl_ssl() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    for name, service in services.items():
        match = re.fullmatch(r"(booking|matching|trust)(-\d+)?", name)
        if not match:
            continue
        env = service["environment"]
        assert env["KITH_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["KITH_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert env["KITH_KAFKA_SASL_USERNAME"] == f"kith-{match.group(1)}"
        assert re.fullmatch(r"\$\{KAFKA_PASSWORD_[A-Z]+:\?[^}]+\}", env["KITH_KAFKA_SASL_PASSWORD"])
    broker = services["kafka-1"]["environment"]
    assert set(broker["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")) >= {
        "INTERNAL:SASL_SSL",
        "EXTERNAL:SASL_SSL",
    }
    assert broker["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert "acls.sh" in " ".join(services["kafka-acls"]["command"])


def _k8s_documents() -> list[dict[str, Any]]:
    folder = ROOT / "deploy" / "k8s"
    return [
        doc
        for path in sorted(folder.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc
    ]


def test_k8s_config_map_speaks_sasl_ssl_with_scram() -> None:
    (config_map,) = [doc for doc in _k8s_documents() if doc["kind"] == "ConfigMap"]
    data = config_map["data"]
    assert data["KITH_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert data["KITH_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert data["KITH_KAFKA_SSL_CAFILE"].startswith("/etc/kith/")
    assert "KITH_KAFKA_SASL_USERNAME" not in data, "each service's user is in its own Secret"


def test_each_k8s_service_logs_in_as_the_user_acls_sh_grants(tmp_path: Path) -> None:
    """make-secrets.py's per-service file names the user acls.sh creates, with the password
    acls.sh reads for it; matching's has no database."""
    import subprocess
    import sys

    make = ROOT / "deploy" / "make-secrets.py"
    subprocess.run([sys.executable, str(make), "--into", str(tmp_path)], check=True, timeout=30)
    acls = (ROOT / ACLS_SCRIPT).read_text(encoding="utf-8")
    compose = dict(
        line.split("=", 1)
        for line in (tmp_path / ".env").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    deployments = [doc for doc in _k8s_documents() if doc["kind"] == "Deployment"]
    assert {doc["metadata"]["name"] for doc in deployments} >= {"booking", "matching", "trust"}
    for deployment in deployments:
        service = deployment["metadata"]["name"]
        env = dict(
            line.split("=", 1)
            for line in (tmp_path / "k8s" / "secrets" / f"{service}.env")
            .read_text(encoding="utf-8")
            .splitlines()
            if line and not line.startswith("#")
        )
        user = env["KITH_KAFKA_SASL_USERNAME"]
        assert f'user {user} "${{KAFKA_PASSWORD_{service.upper()}:?}}"' in acls
        assert env["KITH_KAFKA_SASL_PASSWORD"] == compose[f"KAFKA_PASSWORD_{service.upper()}"]
        assert ("KITH_DATABASE_URL" in env) == (service != "matching")
