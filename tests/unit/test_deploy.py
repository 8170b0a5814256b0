"""The deployment files in deploy/ parse and agree with the code they deploy.

Docker and Kubernetes are not run here: the files are read, and checked against ``Settings``
(every ``KITH_*`` variable is a real setting) and ``ALL_TOPICS`` (every topic, with its
partition count, is created by both the compose job and the Kubernetes job).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from shared.contracts.topics import ALL_TOPICS, SERVICE_ACCESS
from shared.postgres.roles import DATABASE_SERVICES
from shared.secrets import NEEDS, require_secrets
from shared.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
YAML_FILES = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])

KITH_VARIABLE = re.compile(r"\bKITH_[A-Z0-9_]+\b")
CREATED_TOPIC = re.compile(r"--topic\s+(\S+)\s+--partitions\s+(\d+)(.*)")


def _documents(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]


def _compose() -> dict[str, Any]:
    (doc,) = _documents(DEPLOY / "compose.yaml")
    assert isinstance(doc, dict)
    return doc


def _services() -> dict[str, dict[str, Any]]:
    services = _compose()["services"]
    assert isinstance(services, dict)
    return services


def _k8s_documents() -> list[dict[str, Any]]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in _documents(path)]


def _k8s_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in _k8s_documents() if doc.get("kind") == kind]


def _strings(node: object) -> list[str]:
    """Every string in a parsed YAML tree, mapping keys included."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (*_strings(key), *_strings(value))]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def _kith_variables(node: object) -> set[str]:
    return {name for text in _strings(node) for name in KITH_VARIABLE.findall(text)}


def _created_topics(script: str) -> dict[str, tuple[int, bool]]:
    """Topic name -> (partitions, compacted) for each ``--topic X --partitions N`` line."""
    created: dict[str, tuple[int, bool]] = {}
    for line in script.splitlines():
        match = CREATED_TOPIC.search(line)
        if match:
            name, partitions, rest = match.groups()
            assert name not in created, f"{name} is created twice"
            created[name] = (int(partitions), "cleanup.policy=compact" in rest)
    return created


def _expected_topics() -> dict[str, tuple[int, bool]]:
    return {topic.name: (topic.partitions, topic.compacted) for topic in ALL_TOPICS}


def _role_replicas(role: str) -> int:
    """Processes of one role in compose: services named ``role`` or ``role-N``, with replicas."""
    return sum(
        int(service.get("deploy", {}).get("replicas", 1))
        for name, service in _services().items()
        if re.fullmatch(rf"{role}(-\d+)?", name)
    )


ALLOWED_VARIABLES = {f"KITH_{name.upper()}" for name in Settings.model_fields}


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_file_parses(path: Path) -> None:
    assert _documents(path), f"{path} holds no document"


def test_there_are_yaml_files_to_check() -> None:
    assert DEPLOY / "compose.yaml" in YAML_FILES
    assert len(list(K8S.glob("*.yaml"))) >= 5


def test_compose_runs_every_part_of_the_platform() -> None:
    services = _services()
    assert _role_replicas("booking") == 2
    assert _role_replicas("matching") == 2
    assert _role_replicas("trust") == 1
    brokers = [name for name, service in services.items() if "apache/kafka" in service["image"]]
    assert {"kafka-1", "kafka-2", "kafka-3"} <= set(brokers)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert any("kafka-ui" in str(service.get("image", "")) for service in services.values())


def test_compose_brokers_form_one_kraft_quorum_with_durable_defaults() -> None:
    services = _services()
    node_ids = set()
    for name in ("kafka-1", "kafka-2", "kafka-3"):
        env = services[name]["environment"]
        assert "controller" in env["KAFKA_PROCESS_ROLES"]
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        node_ids.add(env["KAFKA_NODE_ID"])
    assert node_ids == {"1", "2", "3"}


def test_compose_kith_services_have_production_settings() -> None:
    for name, service in _services().items():
        if not re.fullmatch(r"(booking|matching|trust)(-\d+)?", name):
            continue
        env = service["environment"]
        role = name.split("-")[0]
        assert service["command"] == ["python", "-m", f"services.{role}"]
        assert env["KITH_KAFKA_IDEMPOTENCE"] == "true"
        assert env["KITH_KAFKA_REPLICATION_FACTOR"] == "3"
        assert env["KITH_LOG_FORMAT"] == "json"
        assert env["KITH_HTTP_HOST"] == "0.0.0.0"
        assert env["KITH_KAFKA_BOOTSTRAP"].count("kafka-") == 3
        if role in DATABASE_SERVICES:  # as its own role, which owns only its database
            assert env["KITH_DATABASE_URL"].startswith(f"postgresql://kith_{role}:")
        else:
            assert "KITH_DATABASE_URL" not in env, "matching has no database"
        assert "KITH_OPERATOR_TOKEN" in env
        assert "healthcheck" in service


def test_every_kith_variable_in_compose_and_k8s_is_a_setting() -> None:
    used = _kith_variables(_compose()) | _kith_variables(_k8s_documents())
    assert "KITH_KAFKA_BOOTSTRAP" in used
    assert used <= ALLOWED_VARIABLES, f"not fields of Settings: {sorted(used - ALLOWED_VARIABLES)}"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KITH_SESSION_TIMEOUT_MS", "30000"),
        ("KITH_HEARTBEAT_INTERVAL_MS", "3000"),
        ("KITH_REBALANCE_TIMEOUT_MS", "60000"),
    ],
)
def test_consumer_timeouts_are_valid_settings_in_both(variable: str, value: str) -> None:
    (config_map,) = _k8s_kind("ConfigMap")
    assert config_map["data"][variable] == value
    assert _services()["trust"]["environment"][variable] == value
    field = variable.removeprefix("KITH_").lower()
    settings = Settings.model_validate({field: int(value)})
    assert getattr(settings, field) == int(value)


def test_k8s_settings_are_valid_for_settings() -> None:
    (config_map,) = _k8s_kind("ConfigMap")
    settings = Settings.model_validate(
        {name.removeprefix("KITH_").lower(): value for name, value in config_map["data"].items()}
    )
    assert settings.kafka_idempotence is True
    assert settings.kafka_replication_factor == 3


def test_compose_topic_job_creates_exactly_all_topics() -> None:
    job = _services()["kafka-topics"]
    script = "\n".join(_strings(job["command"]))
    assert _created_topics(script) == _expected_topics()
    assert "--replication-factor 3" in script
    assert "min.insync.replicas=2" in script


def _k8s_job(name: str) -> dict[str, Any]:
    (job,) = [doc for doc in _k8s_kind("Job") if doc["metadata"]["name"] == name]
    return job


def test_k8s_topic_job_creates_exactly_all_topics() -> None:
    job = _k8s_job("kith-topics")
    script = "\n".join(_strings(job["spec"]["template"]["spec"]["containers"]))
    assert _created_topics(script) == _expected_topics()
    assert "--replication-factor 3" in script
    assert "min.insync.replicas=2" in script


def test_k8s_deployments_run_each_service() -> None:
    deployments = {doc["metadata"]["name"]: doc for doc in _k8s_kind("Deployment")}
    assert {name: doc["spec"]["replicas"] for name, doc in deployments.items()} == {
        "booking": 2,
        "matching": 2,
        "trust": 1,
        "ledger": 1,
    }
    for name, doc in deployments.items():
        (container,) = doc["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["python", "-m", f"services.{name}"]
        refs = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
        assert refs == {"kith-settings", f"kith-{name}"}, "its own Secret and nobody else's"
        assert "readinessProbe" in container
    (booking,) = deployments["booking"]["spec"]["template"]["spec"]["containers"]
    assert booking["readinessProbe"]["httpGet"]["path"] == "/health"
    services = [doc for doc in _k8s_kind("Service") if doc["metadata"]["name"] == "booking"]
    assert services, "booking has no Service"


def test_every_document_is_in_the_kith_namespace() -> None:
    (namespace,) = _k8s_kind("Namespace")
    assert all(
        doc["metadata"].get("namespace") == namespace["metadata"]["name"]
        for doc in _k8s_documents()
        if doc.get("kind") not in {"Namespace", "Kustomization"}
    )


SECRET_VARIABLES = {"KITH_OPERATOR_TOKEN", "KITH_IDEMPOTENCY_KEY_SECRET", "KITH_DATABASE_URL"}
#: The services the Kubernetes manifests run, each with a Secret of its own.
K8S_SERVICES = ("booking", "matching", "trust", "ledger")
#: Setting -> the secret NEEDS names for it.
NEED_OF = {
    "KITH_OPERATOR_TOKEN": "operator_token",
    "KITH_IDEMPOTENCY_KEY_SECRET": "idempotency_key_secret",
    "KITH_DATABASE_URL": "database",
}


def _kustomization() -> dict[str, Any]:
    (kustomization,) = _documents(K8S / "kustomization.yaml")
    assert isinstance(kustomization, dict)
    return kustomization


def _generators() -> dict[str, dict[str, Any]]:
    return {g["name"]: g for g in _kustomization()["secretGenerator"]}


def test_no_secret_is_kept_in_the_repository() -> None:
    """Secrets come from files deploy/make-secrets.py writes (ignored by git), never a sample."""
    assert not _k8s_kind("Secret"), "a Secret in the manifests would hold a placeholder"
    generators = _generators()
    assert set(generators) == {f"kith-{s}" for s in K8S_SERVICES} | {"kith-admin", "kith-kafka-ca"}
    for service in K8S_SERVICES:
        assert generators[f"kith-{service}"]["envs"] == [f"secrets/{service}.env"]
    assert generators["kith-admin"]["envs"] == ["secrets/admin.env"]
    assert generators["kith-kafka-ca"]["files"] == ["ca.pem=secrets/kafka-ca.pem"]
    ignored = (DEPLOY / ".gitignore").read_text(encoding="utf-8").split()
    assert {".env", "k8s/secrets/"} <= set(ignored)
    for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            assert value == "", f"env.example gives {name} a value: leave it for make-secrets"


def test_k8s_services_mount_the_kafka_ca_the_config_map_names() -> None:
    (config_map,) = _k8s_kind("ConfigMap")
    cafile = Path(config_map["data"]["KITH_KAFKA_SSL_CAFILE"])
    for deployment in _k8s_kind("Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == str(cafile.parent)]
        (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        assert volume["secret"]["secretName"] == "kith-kafka-ca"
        assert mount.get("readOnly") is True
        assert cafile.name == "ca.pem", "the key kith-kafka-ca holds"


def test_compose_asks_for_every_secret_and_holds_none() -> None:
    for name, service in _services().items():
        if not re.fullmatch(r"(booking|matching|trust)(-\d+)?", name):
            continue
        env = service["environment"]
        needed = SECRET_VARIABLES - (
            set() if name.startswith(DATABASE_SERVICES) else {"KITH_DATABASE_URL"}
        )
        assert set(env) >= needed
        for variable in needed:
            # ``${NAME:?message}``: compose refuses to start with it unset or empty.
            assert re.search(r"\$\{[A-Z_]+:\?[^}]+\}", env[variable]), (name, variable)
    assert re.fullmatch(
        r"\$\{POSTGRES_PASSWORD:\?[^}]+\}",
        _services()["postgres"]["environment"]["POSTGRES_PASSWORD"],
    )


def _make_secrets(into: Path) -> subprocess.CompletedProcess[str]:
    script = [sys.executable, str(DEPLOY / "make-secrets.py"), "--into", str(into)]
    host = ["--database-host", "db.internal:5432"]
    return subprocess.run([*script, *host], capture_output=True, text=True, timeout=30)


def test_make_secrets_writes_values_every_service_accepts_and_never_overwrites(
    tmp_path: Path,
) -> None:
    assert _make_secrets(tmp_path).returncode == 0
    compose = _env_file(tmp_path / ".env")
    kafka = {"KAFKA_ADMIN_PASSWORD"} | {
        f"KAFKA_PASSWORD_{service.upper()}" for service in SERVICE_ACCESS
    }
    roles = {f"POSTGRES_PASSWORD_{service.upper()}" for service in DATABASE_SERVICES}
    assert (
        set(compose)
        == {
            "POSTGRES_PASSWORD",
            "OPERATOR_TOKEN",
            "IDEMPOTENCY_KEY_SECRET",
        }
        | kafka
        | roles
    )
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0
    as_compose = Settings(
        operator_token=compose["OPERATOR_TOKEN"],
        idempotency_key_secret=compose["IDEMPOTENCY_KEY_SECRET"],
        database_url=f"postgresql://kith:{compose['POSTGRES_PASSWORD']}@postgres:5432/postgres",
    )
    for service in NEEDS:
        require_secrets(as_compose, service)
    again = _make_secrets(tmp_path)
    assert again.returncode != 0
    assert "exists" in again.stderr
    assert _env_file(tmp_path / ".env") == compose


def test_make_secrets_gives_each_k8s_service_only_its_own_secrets(tmp_path: Path) -> None:
    assert _make_secrets(tmp_path).returncode == 0
    compose = _env_file(tmp_path / ".env")
    folder = tmp_path / "k8s" / "secrets"
    files = {path.stem: _env_file(path) for path in folder.glob("*.env")}
    assert set(files) == {*SERVICE_ACCESS, "admin"}
    for service, env in files.items():
        if service == "admin":
            continue
        assert (folder / f"{service}.env").stat().st_mode & 0o077 == 0
        needs = {name for name, need in NEED_OF.items() if need in NEEDS[service]}
        kafka = {"KITH_KAFKA_SASL_USERNAME", "KITH_KAFKA_SASL_PASSWORD"}
        assert set(env) == needs | kafka, service
        assert env["KITH_KAFKA_SASL_USERNAME"] == f"kith-{service}"
        assert env["KITH_KAFKA_SASL_PASSWORD"] == compose[f"KAFKA_PASSWORD_{service.upper()}"]
        settings = Settings.model_validate(
            {name.removeprefix("KITH_").lower(): value for name, value in env.items()}
        )
        require_secrets(settings, service)
        if service in DATABASE_SERVICES:
            url = urlsplit(env["KITH_DATABASE_URL"])
            assert (url.username, url.hostname, url.port) == (
                f"kith_{service}",
                "db.internal",
                5432,
            )
            assert url.password == compose[f"POSTGRES_PASSWORD_{service.upper()}"]
    # No two services share a credential.
    passwords = [
        value
        for service, env in files.items()
        if service != "admin"
        for name, value in env.items()
        if name in {"KITH_KAFKA_SASL_PASSWORD", "KITH_DATABASE_URL"}
    ]
    assert len(passwords) == len(set(passwords))
    # The admin Job's file: what acls.sh and the role provisioning read, the same passwords.
    admin = files["admin"]
    for name in [*(n for n in compose if n.startswith(("KAFKA_", "POSTGRES_PASSWORD_")))]:
        assert admin[name] == compose[name], name
    admin_url = urlsplit(admin["POSTGRES_ADMIN_URL"])
    assert (admin_url.username, admin_url.hostname) == ("kith", "db.internal")
    assert admin_url.password == compose["POSTGRES_PASSWORD"]
    assert not set(admin) & SECRET_VARIABLES, "the admin Job needs no service's secrets"


def test_k8s_secrets_reach_only_their_service() -> None:
    """Each Deployment reads its own Secret; only the admin Jobs read kith-admin."""
    secret_users: dict[str, set[str]] = {}
    for doc in [*_k8s_kind("Deployment"), *_k8s_kind("Job")]:
        pod = doc["spec"]["template"]["spec"]
        containers = [*pod.get("initContainers", []), *pod["containers"]]
        names = {
            ref["secretRef"]["name"]
            for container in containers
            for ref in container.get("envFrom", [])
            if "secretRef" in ref
        }
        names |= {
            env["valueFrom"]["secretKeyRef"]["name"]
            for container in containers
            for env in container.get("env", [])
            if "secretKeyRef" in env.get("valueFrom", {})
        }
        for name in names:
            secret_users.setdefault(name, set()).add(doc["metadata"]["name"])
    for service in K8S_SERVICES:
        assert secret_users[f"kith-{service}"] == {service}
    assert secret_users["kith-admin"] == {"kith-topics", "kith-access"}


def test_k8s_access_job_provisions_every_role_and_runs_the_generated_acls() -> None:
    job = _k8s_job("kith-access")
    pod = job["spec"]["template"]["spec"]
    script = "\n".join(_strings([*pod["initContainers"], *pod["containers"]]))
    assert "kith kafka-acls" in script, "acls.sh as generated from the deployed registry"
    assert "provision(" in script
    assert "DATABASE_SERVICES" in script
    assert pod["restartPolicy"] == "OnFailure", "provision and acls.sh are idempotent"


def _env_file(path: Path) -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    return dict(pairs)


def test_dockerfile_runs_the_services_as_a_non_root_user() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.MULTILINE)
    assert re.search(r"^USER (?!root)\S+", dockerfile, re.MULTILINE)
    assert re.search(r"^RUN pip install \.(?!\[)", dockerfile, re.MULTILINE)
    assert '"python", "-m", "services.booking"' in dockerfile
    assert "python -m services." in dockerfile
    assert _kith_variables(dockerfile) <= ALLOWED_VARIABLES


def test_compose_initialises_a_role_per_service_database() -> None:
    script = (DEPLOY / "postgres" / "init-roles.sh").read_text(encoding="utf-8")
    assert f"for service in {' '.join(DATABASE_SERVICES)}; do" in script
    assert 'CREATE DATABASE :"role" OWNER :"role";' in script
    assert 'REVOKE ALL ON DATABASE :"role" FROM PUBLIC;' in script
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    postgres = compose["services"]["postgres"]
    assert any("init-roles.sh:/docker-entrypoint-initdb.d/" in v for v in postgres["volumes"])
    for service in DATABASE_SERVICES:
        assert f"POSTGRES_PASSWORD_{service.upper()}" in postgres["environment"]
