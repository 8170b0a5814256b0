"""Settings for every Kith process, read from ``KITH_*`` environment variables.

Nothing reads them at import time: each process builds one ``Settings`` at start-up.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: A rate limit: COUNT requests per SECONDS (a burst of COUNT, then one every SECONDS/COUNT).
_RATE = r"^[1-9][0-9]{0,8}/[1-9][0-9]{0,6}$"
#: Every rate-limit setting, for tools that set them all at once (load tests, benchmarks).
RATE_LIMITS = (
    "rate_sign_in_per_address",
    "rate_sign_in_per_account",
    "rate_sign_up_per_address",
    "rate_sign_up_per_account",
    "rate_ops_sign_in_per_address",
    "rate_ops_sign_in_per_account",
    "rate_concerns_per_address",
    "rate_concerns_per_account",
    "rate_partner_api_per_address",
    "rate_partner_api_per_account",
)


class LogFormat(StrEnum):
    """How logs are written: readable on a terminal, or one JSON object a line."""

    CONSOLE = "console"
    JSON = "json"


class Settings(BaseSettings):
    """Every setting Kith reads. Unknown ``KITH_*`` variables are an error, not a silent typo."""

    model_config = SettingsConfigDict(env_prefix="KITH_", extra="forbid", frozen=True)

    kafka_bootstrap: str | None = Field(
        default=None,
        description="host:port[,host:port] of a Kafka broker; unset starts the embedded one.",
    )
    database_url: str | None = Field(
        default=None,
        description="postgresql:// URL of a server; each service uses its own database on it. "
        "Unset starts the embedded PostgreSQL.",
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT",
        description="How every Kafka client connects: SASL_SSL (SCRAM over TLS) on Apache"
        " Kafka in production; PLAINTEXT on the embedded broker, which has no SASL.",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = Field(
        default="SCRAM-SHA-512", description="The SASL mechanism of SASL_* protocols."
    )
    kafka_sasl_username: str | None = Field(
        default=None, description="This process's SASL user: one per service (deploy/kafka/)."
    )
    kafka_sasl_password: SecretStr | None = Field(
        default=None, description="The SASL user's password."
    )
    kafka_ssl_cafile: Path | None = Field(
        default=None,
        description="PEM file of the CA that signed the brokers' certificates (SSL and"
        " SASL_SSL); the system's CAs when unset.",
    )
    kafka_ssl_certfile: Path | None = Field(
        default=None, description="A client certificate (PEM), for brokers that ask for one."
    )
    kafka_ssl_keyfile: Path | None = Field(
        default=None, description="The client certificate's private key (PEM)."
    )
    kafka_ssl_check_hostname: bool = Field(
        default=True, description="Whether a broker's certificate must name its host."
    )
    kafka_idempotence: bool = Field(
        default=False,
        description="Idempotent producer. Apache Kafka supports it; the embedded broker does not.",
    )
    kafka_acks: str = Field(default="all", pattern=r"^(all|0|1|-1)$")
    kafka_replication_factor: int = Field(default=1, ge=1, le=5)
    fetch_max_wait_ms: int = Field(
        default=25,
        ge=0,
        le=5000,
        description=(
            "How long a fetch waits for data. Apache Kafka answers as soon as data arrives;"
            " the embedded broker often waits out the whole time, so there a hop may add up to"
            " this much. Shorter costs the broker an empty fetch per consumer this often when"
            " idle."
        ),
    )
    background_fetch_max_wait_ms: int = Field(
        default=250,
        ge=0,
        le=5000,
        description=(
            "The fetch wait of consumers no one waits on (trust's, the operators' console,"
            " the partners' projector) while records flow: what they read is seen up to this"
            " much later."
        ),
    )
    idle_fetch_max_wait_ms: int = Field(
        default=5000,
        ge=0,
        le=10_000,
        description=(
            "The fetch wait of the consumers a person's screen waits on (booking's, matching's,"
            " trust's) once they have read nothing for 10 s. An idle consumer costs the broker"
            " a fetch this often (the embedded broker looks at its partitions a few times"
            " during each). After such a quiet spell the first record is seen up to half of"
            " this later on the embedded broker; Apache Kafka answers at once."
        ),
    )
    message_idle_fetch_max_wait_ms: int = Field(
        default=15_000,
        ge=0,
        le=30_000,
        description=(
            "The idle fetch wait of the consumers whose records become messages rather than"
            " answers on someone's screen: notify's (emails, texts, pushes) and the partners'"
            " inbox. Each idle fetch costs the embedded broker a few looks at its partitions;"
            " after a quiet spell the first record is seen up to half of this later there."
            " Apache Kafka answers at once."
        ),
    )
    background_idle_fetch_max_wait_ms: int = Field(
        default=30_000,
        ge=0,
        le=30_000,
        description=(
            "The idle fetch wait of the consumers no one waits on (the ledger's, the"
            " operators' console, the partners' projector): they read most partitions, and"
            " the embedded broker looks at each a few times during every fetch. After a quiet"
            " spell their first record is seen up to half of this later there; Apache Kafka"
            " answers at once. Keep it under aiokafka's request timeout (40 s)."
        ),
    )
    session_timeout_ms: int = Field(default=6000, ge=1000, le=300_000)
    heartbeat_interval_ms: int = Field(
        default=2000,
        ge=100,
        le=60_000,
        description=(
            "How often a consumer tells its group it is alive; a third of the session"
            " timeout, as Kafka advises. A member that joins waits up to this long for the"
            " others to hear of it."
        ),
    )
    rebalance_timeout_ms: int = Field(
        default=3000,
        ge=500,
        le=300_000,
        description="A consumer group join waits this long on the embedded broker.",
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    state_dir: Path = Field(default=Path(".kith"), description="Embedded data and run files.")
    web_app_dir: Path | None = Field(
        default=None,
        description="The built web app booking serves at /app/ (`npm run build` in web/);"
        " unset, the project's web/dist.",
    )
    log_format: LogFormat = LogFormat.CONSOLE
    log_level: str = Field(default="info", pattern=r"^(debug|info|warning|error)$")
    operator_token: SecretStr | None = Field(
        default=None, description="Bearer token of the operators' role."
    )
    development: bool = Field(
        default=False,
        description="The embedded development mode, set by `kith up` when it starts the embedded"
        " PostgreSQL: secrets left unset are generated into state_dir, and a service accepts"
        " short or placeholder secrets. Never set in production.",
    )
    idempotency_key_secret: SecretStr | None = Field(
        default=None,
        description="Keys the HMAC under which a request body is kept with its Idempotency-Key"
        " (at least 32 characters). Generated into state_dir in the development mode.",
    )
    idempotency_ttl_s: int = Field(
        default=24 * 3600,
        ge=60,
        le=7 * 24 * 3600,
        description="How long an Idempotency-Key is remembered; a retry after that is a new"
        " request.",
    )
    password_memory_kib: int = Field(
        default=19 * 1024,
        ge=19 * 1024,
        le=4 * 1024 * 1024,
        description="argon2id memory per password hash, in KiB (OWASP's minimum: 19 MiB).",
    )
    password_time_cost: int = Field(
        default=2, ge=2, le=20, description="argon2id passes per password hash (OWASP: 2)."
    )
    password_parallelism: int = Field(
        default=1, ge=1, le=16, description="argon2id lanes per password hash (OWASP: 1)."
    )
    operator_session_hours: int = Field(
        default=12,
        ge=1,
        le=24 * 7,
        description="How long an operator's sign-in (password and one-time code) lasts before"
        " they must sign in again.",
    )
    session_max_age_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="How long a bearer token from sign-up or sign-in works before its owner"
        " must sign in again.",
    )
    http_max_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        le=16 * 1024 * 1024,
        description="The largest request body booking, ops and the partners gateway read; a"
        " larger one is answered 413.",
    )
    password_reset_ttl_s: int = Field(
        default=3600,
        ge=60,
        le=7 * 24 * 3600,
        description="How long a password-reset link works after it was asked for (once only).",
    )
    welcome_link_ttl_s: int = Field(
        default=14 * 24 * 3600,
        ge=60,
        le=60 * 24 * 3600,
        description="How long the link to choose a password works, sent to someone an operator"
        " registered (assisted sign-up), once only; they may ask for a reset link later.",
    )
    email_verification_ttl_s: int = Field(
        default=3 * 24 * 3600,
        ge=60,
        le=30 * 24 * 3600,
        description="How long an email-verification link works after it was asked for.",
    )
    web_app_url: str | None = Field(
        default=None,
        max_length=2048,
        description=(
            "Where people open the web app, for the links notify emails (a reset link is"
            " <web_app_url>#/reset?token=...); unset, booking's /app/ (see booking_url)."
        ),
    )
    rate_sign_in_per_address: str = Field(
        default="30/60",
        pattern=_RATE,
        description="Sign-ins (POST /v1/sessions) from one client address, as COUNT/SECONDS.",
    )
    rate_sign_in_per_account: str = Field(
        default="10/300",
        pattern=_RATE,
        description="Sign-ins to one email, from any address, as COUNT/SECONDS.",
    )
    rate_sign_up_per_address: str = Field(
        default="30/3600",
        pattern=_RATE,
        description="Sign-ups (POST /v1/people) from one client address, as COUNT/SECONDS.",
    )
    rate_sign_up_per_account: str = Field(
        default="5/3600",
        pattern=_RATE,
        description="Sign-ups with one email, from any address, as COUNT/SECONDS.",
    )
    rate_ops_sign_in_per_address: str = Field(
        default="10/60",
        pattern=_RATE,
        description="Operators' sign-ins (POST /ops/login) from one client address, as"
        " COUNT/SECONDS.",
    )
    rate_ops_sign_in_per_account: str = Field(
        default="30/60",
        pattern=_RATE,
        description="Operators' sign-ins from any address (one operators' role), as COUNT/SECONDS.",
    )
    rate_concerns_per_address: str = Field(
        default="30/3600",
        pattern=_RATE,
        description="Concerns (POST /v1/concerns) from one client address, as COUNT/SECONDS.",
    )
    rate_concerns_per_account: str = Field(
        default="10/3600",
        pattern=_RATE,
        description="Concerns raised by one person, from any address, as COUNT/SECONDS.",
    )
    rate_partner_api_per_address: str = Field(
        default="600/60",
        pattern=_RATE,
        description="Partner API calls from one client address, as COUNT/SECONDS.",
    )
    rate_partner_api_per_account: str = Field(
        default="600/60",
        pattern=_RATE,
        description="Partner API calls with one partner's key, from any address, as COUNT/SECONDS.",
    )
    offer_ttl_s: int = Field(default=15 * 60, ge=1, description="How long an offer stays open.")
    regular_hold_s: int = Field(
        default=10 * 60, ge=0, description="How long a regular helper holds an offer alone."
    )
    cascade_width: int = Field(default=3, ge=1, le=20, description="Helpers offered at once.")
    cascade_rounds: int = Field(default=4, ge=1, le=20, description="Rounds before escalation.")
    short_notice_h: int = Field(
        default=24,
        ge=0,
        le=168,
        description="An offer of a visit starting within this many hours says it is short notice.",
    )
    reoffer_escalate_before_h: int = Field(
        default=2,
        ge=0,
        le=72,
        description=(
            "A visit asked for again (its helper cancelled, or a suspension held it) that is"
            " still not booked this many hours before it starts goes to operators then."
        ),
    )
    address_visible_before_s: int = Field(
        default=48 * 3600,
        ge=0,
        description="How long before a visit its helper may see the neighbour's address.",
    )
    late_cancel_window_s: int = Field(default=24 * 3600, ge=0)
    check_in_opens_before_s: int = Field(
        default=30 * 60,
        ge=0,
        le=7 * 24 * 3600,
        description=(
            "How long before a visit's start its helper may check in; check-in closes at the"
            " visit's end."
        ),
    )
    no_show_after_s: int = Field(
        default=30 * 60,
        ge=60,
        le=24 * 3600,
        description=(
            "A helper not checked in this long after a visit's start is a no-show: booking's"
            " visit sweep reports it (operators see it, both people are told)."
        ),
    )
    visit_close_after_s: int = Field(
        default=3 * 3600,
        ge=0,
        le=7 * 24 * 3600,
        description=(
            "A visit checked in but not out is closed (completed) this long after its end, so"
            " its check-in questions are asked and the relationship moves on."
        ),
    )
    referral_time_zone: str = Field(
        default="Europe/London",
        min_length=1,
        max_length=64,
        description=(
            "The IANA time zone of the people local partners refer (a referral names none):"
            " a referred person's weekly visits keep their local hour in it across"
            " daylight-saving changes, as a member's do in their own zone."
        ),
    )
    series_horizon_days: int = Field(
        default=42,
        ge=7,
        le=366,
        description="How far ahead a weekly or fortnightly request's occurrences are made;"
        " booking makes more as time passes, so a series never runs out.",
    )
    series_step_back_notice_s: int = Field(
        default=7 * 24 * 3600,
        ge=0,
        description="Notice a helper or neighbour gives when stepping back from a series: the"
        " occurrences starting within it stay booked, later ones are offered again.",
    )
    regular_after_visits: int = Field(default=3, ge=1, le=20)
    clock_file: Path | None = Field(
        default=None,
        description=(
            "Development and tests only: a file holding how far Kith's clock runs ahead of"
            " real time, so `kith clock advance 7d` moves every process a week on at once."
            " `kith up` sets it on its embedded stack; unset, the clock is real time and"
            " cannot be moved."
        ),
    )
    ready_file: Path | None = Field(
        default=None, description="Written by a service once it serves; read by `kith up`."
    )
    outbox_poll_s: float = Field(
        default=5.0,
        gt=0,
        le=30,
        description=(
            "How often an outbox relay looks for events no NOTIFY announced. Each committed"
            " event wakes it at once; the look is a safety net."
        ),
    )
    relationship_pause_after_days: int = Field(
        default=42,
        ge=1,
        le=3650,
        description="Trust pauses a pair that has had no visit for this many days.",
    )
    # Each vetting step counts for its own time (identity is checked once and never lapses),
    # so recording one step again renews that step only. Three years is the usual renewal
    # of an enhanced background check for work with adults at risk.
    vetting_background_check_valid_days: int = Field(
        default=3 * 365,
        ge=1,
        le=3650,
        description="How long a passed background check counts before it must be done again.",
    )
    vetting_references_valid_days: int = Field(
        default=3 * 365,
        ge=1,
        le=3650,
        description="How long passed references count before they must be taken again.",
    )
    vetting_interview_valid_days: int = Field(
        default=3 * 365,
        ge=1,
        le=3650,
        description="How long a passed interview counts before the helper is seen again.",
    )
    concern_window_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description=(
            "A person may raise a concern only about someone they have a visit booked with, or"
            " had one with that started at most this many days ago."
        ),
    )
    concern_limit: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Concerns one person may raise within concern_limit_window_h (then 429).",
    )
    concern_limit_window_h: int = Field(
        default=24, ge=1, le=24 * 30, description="The period concern_limit counts over."
    )
    vetting_valid_s: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Overrides the validity of every vetting step that lapses with one in seconds; for"
            " tests and demos that must watch an approval lapse. Unset in production."
        ),
    )

    ops_port: int = Field(
        default=8001, ge=0, le=65535, description="The operators' console (``/ops``)."
    )
    partners_port: int = Field(
        default=8002, ge=0, le=65535, description="The partners gateway's HTTP API."
    )
    notify_port: int = Field(
        default=8003,
        ge=0,
        le=65535,
        description="Notify's small HTTP API: operators' list of notices that could not be sent.",
    )
    smtp_host: str | None = Field(
        default=None,
        max_length=255,
        description=(
            "The SMTP server notify sends email through. Unset, `kith up` on its embedded stack"
            " runs a development mail server and points notify at it; elsewhere no email is sent."
        ),
    )
    smtp_port: int = Field(
        default=587, ge=1, le=65535, description="The SMTP server's port (587 submission)."
    )
    smtp_username: str | None = Field(
        default=None, max_length=255, description="SMTP authentication: the user name, if any."
    )
    smtp_password: SecretStr | None = Field(
        default=None, description="SMTP authentication: the password, if any."
    )
    smtp_starttls: bool = Field(
        default=False, description="Upgrade the SMTP connection with STARTTLS before sending."
    )
    smtp_tls: bool = Field(
        default=False, description="Connect to the SMTP server over TLS from the start (465)."
    )
    smtp_connections: int = Field(
        default=8,
        ge=1,
        le=100,
        description=(
            "SMTP connections notify keeps open at once; messages beyond them wait for one."
        ),
    )
    mail_from: str = Field(
        default="Kith <kith@localhost>",
        max_length=320,
        description="The From of every email Kith sends.",
    )
    mail_inbox_port: int = Field(
        default=8025,
        ge=0,
        le=65535,
        description=(
            "`kith up` on its embedded stack: the development mail server's inbox page, where"
            " every email Kith sent can be read."
        ),
    )
    mail_smtp_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="`kith up`: the development mail server's SMTP port (0: any free one).",
    )
    sms_api_url: str = Field(
        default="https://api.twilio.com",
        max_length=2048,
        description=(
            "The SMS provider's API (Twilio's Messages API, or one that speaks it). `kith up` on"
            " its embedded stack with no sms_account_sid points it at the development inbox."
        ),
    )
    sms_account_sid: str | None = Field(
        default=None,
        max_length=64,
        description="The SMS provider's account SID; unset, no text message is sent.",
    )
    sms_auth_token: SecretStr | None = Field(
        default=None, description="The SMS provider's auth token (a secret)."
    )
    sms_from: str | None = Field(
        default=None,
        max_length=64,
        description=(
            "Who text messages come from: a number in E.164 (+447700900123), or a Messaging"
            " Service SID (MG...)."
        ),
    )
    booking_url: str | None = Field(
        default=None,
        max_length=2048,
        description=(
            "Where notify asks booking for a person's contact details and language (the"
            " operator-token-protected internal API); unset, booking on http_host:http_port."
        ),
    )
    vapid_private_key: SecretStr | None = Field(
        default=None,
        description=(
            "Web push: Kith's VAPID private key (PEM, EC P-256). Unset in the development mode,"
            " one is generated into the state folder (vapid-private.pem, and the public key"
            " browsers subscribe with in vapid-public-key); unset elsewhere, no push is sent."
        ),
    )
    vapid_public_key: str | None = Field(
        default=None,
        max_length=200,
        description=(
            "Web push: the public half of vapid_private_key (base64url, uncompressed point),"
            " which booking gives browsers to subscribe with (GET /v1/push/key)."
        ),
    )
    vapid_subject: str = Field(
        default="mailto:kith@localhost",
        max_length=320,
        description="Web push: how a push service reaches Kith's operators (mailto: or https:).",
    )
    operators_email: str | None = Field(
        default=None,
        max_length=320,
        description=(
            "Where notify tells Kith's operators what needs them at once (a welfare check);"
            " unset, each such notice is listed as an open task on the operators' console."
        ),
    )
    operators_time_zone: str = Field(
        default="Europe/London",
        min_length=1,
        max_length=64,
        description="The IANA time zone times are written in, in notices to the operators.",
    )
    notify_url: str | None = Field(
        default=None,
        max_length=2048,
        description=(
            "Where the operators' console asks notify for its figures (its operators' API);"
            " unset, notify on http_host:notify_port."
        ),
    )
    notify_reminder_day_before_h: int = Field(
        default=24,
        ge=1,
        le=24 * 7,
        description="The first reminder of a visit goes this many hours before it starts.",
    )
    notify_reminder_hour_before_min: int = Field(
        default=60,
        ge=5,
        le=24 * 60,
        description="The second reminder of a visit goes this many minutes before it starts.",
    )
    notify_max_attempts: int = Field(
        default=6,
        ge=1,
        le=50,
        description=(
            "Tries of one notice before it is recorded as failed and listed for operators"
            " (each retry waits twice as long, from notify_retry_base_s)."
        ),
    )
    notify_retry_base_s: float = Field(
        default=2.0, gt=0, le=3600, description="The wait before a notice's first retry."
    )
    notify_senders: int = Field(
        default=4,
        ge=1,
        le=16,
        description=(
            "Notices one notify process sends at once: each waits mostly on booking and the"
            " SMTP server, so a few in parallel keep up with a burst (each holds one database"
            " connection while it sends)."
        ),
    )
    notify_batch: int = Field(
        default=20,
        ge=1,
        le=200,
        description=(
            "Due notices one sender takes at once: one question to booking for all their"
            " contacts, their messages sent together. Each outcome is written as it is known:"
            " a notify process killed mid-batch sends again only the messages it had in"
            " flight."
        ),
    )
    notify_lease_s: float = Field(
        default=60.0,
        ge=10,
        le=3600,
        description=(
            "How long a sender holds the notices it took: a notify process killed while"
            " sending leaves its notices to the others (or to itself, restarted) once this"
            " has passed. Longer than one send may take (each wait on a server ends after"
            " 15 s)."
        ),
    )
    notify_poll_s: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="How often notify looks for notices and reminders that fell due.",
    )
    ledger_port: int = Field(
        default=8004,
        ge=0,
        le=65535,
        description=(
            "The ledger's HTTP API: balances and statements, gifts, expenses, payments, the"
            " provider's webhooks, and operators' settings and reconciliation."
        ),
    )
    ledger_url: str | None = Field(
        default=None,
        max_length=2048,
        description=(
            "Where the operators' console asks the ledger for pots, approvals and"
            " reconciliation, and where booking forwards the web app's /ledger/ calls; unset,"
            " the ledger on http_host:ledger_port."
        ),
    )
    ledger_forward_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description=(
            "How long booking waits for the ledger when it forwards the web app's /ledger/"
            " calls before it answers 503 (the app says to try again)."
        ),
    )
    ledger_provider_url: str = Field(
        default="https://api.stripe.com",
        max_length=2048,
        description=(
            "The payment provider's API (Stripe's PaymentIntents and Transfers). Only its"
            " ids are kept: card details go from the client to the provider, never to Kith."
        ),
    )
    ledger_provider_secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "The provider's secret API key; unset, the ledger takes no payments and makes no"
            " payouts (everything else works)."
        ),
    )
    ledger_provider_webhook_secret: SecretStr | None = Field(
        default=None,
        description=(
            "The signing secret of the provider's webhook endpoint: a webhook whose"
            " signature does not verify with it is refused."
        ),
    )
    ledger_webhook_tolerance_s: int = Field(
        default=300,
        ge=1,
        le=86400,
        description="How old a webhook's signed timestamp may be (replays older are refused).",
    )
    ledger_receipt_max_bytes: int = Field(
        default=2_000_000,
        ge=1024,
        le=20_000_000,
        description="The largest receipt photo the ledger keeps.",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description=(
            "Where this process serves Prometheus metrics (``/metrics``); unset serves none. "
            "``kith up`` gives each process its own."
        ),
    )
    webhook_backoff_base_s: float = Field(
        default=1.0,
        gt=0,
        le=3600,
        description="A failed partner webhook is retried after base * 2^(attempt-1) seconds.",
    )
    webhook_backoff_cap_s: float = Field(
        default=300.0, gt=0, le=86_400, description="The longest wait between webhook retries."
    )
    webhook_max_attempts: int = Field(
        default=12,
        ge=1,
        le=100,
        description="Attempts before a webhook delivery is abandoned and later ones proceed.",
    )
    webhook_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="How long one webhook attempt may take in all (resolving, connecting,"
        " sending and reading the answer).",
    )
    webhook_max_response_bytes: int = Field(
        default=64 * 1024,
        ge=0,
        le=10 * 1024 * 1024,
        description="How much of a webhook receiver's answer is read; a longer answer fails"
        " the attempt.",
    )
    webhook_allow_http: bool = Field(
        default=False,
        description="Allow plain http webhook URLs (the body and signature travel in clear)."
        " The development mode allows it anyway; elsewhere webhooks go over https.",
    )
    webhook_allowed_networks: str = Field(
        default="",
        description="Comma-separated CIDRs (such as 10.1.0.0/16) that webhooks may reach"
        " although they are loopback, private or link-local; every other non-public address"
        " is refused. The development mode adds loopback.",
    )
    webhook_rotation_window_s: int = Field(
        default=24 * 3600,
        ge=0,
        le=30 * 86_400,
        description="After a webhook secret is rotated, how long the previous secret still"
        " signs each webhook beside the new one.",
    )

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _cidrs(cls, value: str) -> str:
        for cidr in filter(None, (part.strip() for part in value.split(","))):
            ipaddress.ip_network(cidr, strict=False)  # ValueError names the bad one
        return value

    @field_validator("referral_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/London") from error
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in {"postgres", "postgresql"}:
            raise ValueError("must be a postgresql:// URL")
        return value

    def rate(self, name: str) -> tuple[int, int]:
        """A rate-limit setting as ``(count, seconds)``."""
        if name not in RATE_LIMITS:
            raise KeyError(name)
        count, _, seconds = str(getattr(self, name)).partition("/")
        return int(count), int(seconds)

    def booking_base_url(self) -> str:
        """Where booking's API listens (``booking_url``, else ``http_host:http_port``)."""
        return self.booking_url or f"http://{self.http_host}:{self.http_port}"

    def ledger_base_url(self) -> str:
        """Where the ledger's API listens (``ledger_url``, else ``http_host:ledger_port``)."""
        return self.ledger_url or f"http://{self.http_host}:{self.ledger_port}"

    def require_bootstrap(self) -> str:
        """The broker address; fails loudly when no broker was started or configured."""
        if not self.kafka_bootstrap:
            raise RuntimeError("KITH_KAFKA_BOOTSTRAP is not set: start Kith with `kith up`")
        return self.kafka_bootstrap

    def database_for(self, service: str) -> str:
        """The URL of ``service``'s own database on the configured server."""
        if not self.database_url:
            raise RuntimeError("KITH_DATABASE_URL is not set: start Kith with `kith up`")
        parts = urlsplit(self.database_url)
        return urlunsplit(parts._replace(path=f"/kith_{service}"))
