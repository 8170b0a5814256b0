"""How every Kith Kafka client connects: the one place that turns settings into client options.

Every client (aiokafka producers, consumers and admin clients in ``shared/messaging``, the
matching service's faust app, the partner SDK, ``kith tail``, the benchmarks' readers, and a
partner's confluent-kafka client) takes its connection options from ``KafkaConnection``, so
a broker that asks for SASL and TLS gets them from every client, and none is missed
(``tests/unit/test_kafka_connection.py`` checks each).

On Apache Kafka in production: ``SASL_SSL`` with ``SCRAM-SHA-512``, one user per service and
per partner (``deploy/kafka/``). The embedded broker (Tansu) has no SASL: development stays
``PLAINTEXT``.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from shared.settings import Settings

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


@dataclass(frozen=True, slots=True)
class KafkaConnection:
    """A broker address and how to authenticate to it and encrypt the connection.

    Attributes:
        bootstrap: ``host:port[,host:port]`` of the brokers.
        security_protocol: ``PLAINTEXT`` (the embedded broker), ``SSL``, ``SASL_PLAINTEXT``
            or ``SASL_SSL`` (production).
        sasl_mechanism: The SASL mechanism; Kith's deployment uses ``SCRAM-SHA-512``.
        sasl_username: This client's SASL user (a service's, or a partner's).
        sasl_password: Its password.
        ssl_cafile: The CA that signed the brokers' certificates (the system's CAs if unset).
        ssl_certfile: A client certificate, for brokers that also ask for one.
        ssl_keyfile: Its private key.
        ssl_check_hostname: Whether a broker's certificate must name the host connected to.
    """

    bootstrap: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_check_hostname: bool = True

    def __post_init__(self) -> None:
        if self.uses_sasl and not (self.sasl_username and self.sasl_password):
            raise ValueError(f"{self.security_protocol} needs a SASL username and password")

    @classmethod
    def of(cls, source: Kafka) -> KafkaConnection:
        """The connection ``source`` stands for: Kith's settings, a connection as it is, or
        a bare bootstrap address (plaintext: the embedded broker, and tests)."""
        if isinstance(source, KafkaConnection):
            return source
        if isinstance(source, str):
            return cls(source)
        return cls.from_settings(source)

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaConnection:
        """The connection the ``KITH_KAFKA_*`` settings describe."""
        password = settings.kafka_sasl_password

        def path(value: object) -> str | None:
            return None if value is None else str(value)

        return cls(
            bootstrap=settings.require_bootstrap(),
            security_protocol=settings.kafka_security_protocol,
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_username=settings.kafka_sasl_username,
            sasl_password=None if password is None else password.get_secret_value(),
            ssl_cafile=None
            if settings.kafka_ssl_cafile is None
            else str(settings.kafka_ssl_cafile),
            ssl_certfile=(
                None if settings.kafka_ssl_certfile is None else str(settings.kafka_ssl_certfile)
            ),
            ssl_keyfile=(
                None if settings.kafka_ssl_keyfile is None else str(settings.kafka_ssl_keyfile)
            ),
            ssl_check_hostname=settings.kafka_ssl_check_hostname,
        )

    @property
    def uses_sasl(self) -> bool:
        """Whether clients authenticate with SASL."""
        return self.security_protocol in {"SASL_PLAINTEXT", "SASL_SSL"}

    @property
    def uses_tls(self) -> bool:
        """Whether connections are encrypted with TLS."""
        return self.security_protocol in {"SSL", "SASL_SSL"}

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of ``SSL`` and ``SASL_SSL`` connections; None otherwise."""
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(cafile=self.ssl_cafile)
        context.check_hostname = self.ssl_check_hostname
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
        }
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = self.sasl_password
        return options

    def faust(self) -> dict[str, Any]:
        """Keyword arguments for ``faust.App``: the broker URL's hosts and its credentials.

        The broker URL's scheme is the caller's (matching uses its own driver).
        """
        # faust is imported here, not at the top: only the matching service has it loaded.
        from faust.auth import SASLCredentials, SSLCredentials
        from faust.types.auth import SASLMechanism

        credentials: Any = None
        if self.uses_sasl:
            credentials = SASLCredentials(
                username=self.sasl_username,
                password=self.sasl_password,
                mechanism=SASLMechanism(self.sasl_mechanism),
                ssl_context=self.ssl_context(),
            )
        elif self.uses_tls:
            credentials = SSLCredentials(self.ssl_context())
        return {"broker_credentials": credentials}

    def librdkafka(self) -> dict[str, str]:
        """Configuration entries for librdkafka clients (confluent-kafka), as a partner uses."""
        config = {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": self.security_protocol.lower(),
        }
        if self.uses_sasl:
            config["sasl.mechanism"] = self.sasl_mechanism
            config["sasl.username"] = self.sasl_username or ""
            config["sasl.password"] = self.sasl_password or ""
        if self.uses_tls:
            if self.ssl_cafile:
                config["ssl.ca.location"] = self.ssl_cafile
            if self.ssl_certfile:
                config["ssl.certificate.location"] = self.ssl_certfile
            if self.ssl_keyfile:
                config["ssl.key.location"] = self.ssl_keyfile
            config["ssl.endpoint.identification.algorithm"] = (
                "https" if self.ssl_check_hostname else "none"
            )
        return config


#: What a Kafka client of Kith accepts: settings, a connection, or a plaintext address.
Kafka: TypeAlias = Settings | KafkaConnection | str
