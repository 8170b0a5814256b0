"""``python -m examples.lift_service``: run the example lift-service partner as its own process.

Configuration (flags, or the environment variables named in ``--help``)::

    KITH_KAFKA_BOOTSTRAP   the broker Kith runs on
    KITH_PARTNER_ID        the partner id from registration
    KITH_PARTNER_KEY       the API key from registration (shown once)
    KITH_PARTNERS_API      the partners API, e.g. http://127.0.0.1:8002 (to learn its helper id)

Against a Kafka with SASL and TLS, the partner's own Kafka user (given by Kith's operators)::

    KITH_KAFKA_SECURITY_PROTOCOL   SASL_SSL
    KITH_KAFKA_SASL_USERNAME       the partner's SCRAM user, e.g. partner-<partner id>
    KITH_KAFKA_SASL_PASSWORD       its password
    KITH_KAFKA_SSL_CAFILE          the CA of the brokers' certificates (optional)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import uuid
from typing import Any, cast

import uvicorn

from examples.lift_service.service import LiftService, Referral
from examples.lift_service.webhook import webhook_app
from kith_partner import PartnerClient
from shared.messaging import KafkaConnection
from shared.messaging.connection import SaslMechanism, SecurityProtocol


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m examples.lift_service", description=__doc__)
    env = os.environ.get
    parser.add_argument("--bootstrap", default=env("KITH_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    parser.add_argument("--partner-id", default=env("KITH_PARTNER_ID"), required=False)
    parser.add_argument("--api-key", default=env("KITH_PARTNER_KEY"), required=False)
    parser.add_argument("--api", default=env("KITH_PARTNERS_API"))
    parser.add_argument("--group", default=None, help="feed consumer group (default per partner)")
    parser.add_argument("--decline", action="store_true", help="decline offers (a full service)")
    parser.add_argument(
        "--webhook-port",
        type=int,
        default=None,
        help="also take Kith's webhooks on http://127.0.0.1:PORT/kith, verified with the"
        " secrets in KITH_PARTNER_WEBHOOK_SECRET (comma-separated during a rotation)",
    )
    parser.add_argument(
        "--refer",
        metavar="NAME@LAT,LNG",
        action="append",
        default=[],
        help="refer someone for a lift at start-up, e.g. Edith@51.545,-0.055",
    )
    arguments = parser.parse_args()
    if not arguments.partner_id or not arguments.api_key:
        parser.error("give --partner-id and --api-key (or KITH_PARTNER_ID and KITH_PARTNER_KEY)")
    return arguments


def _referral(spec: str) -> Referral:
    name, _, place = spec.partition("@")
    lat, _, lng = place.partition(",")
    return Referral(name, float(lat), float(lng), reference=f"LIFT-{uuid.uuid4().hex[:6]}")


def _kafka(bootstrap: str) -> KafkaConnection:
    env = os.environ.get
    protocol = env("KITH_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    if protocol not in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"):
        raise SystemExit(f"KITH_KAFKA_SECURITY_PROTOCOL: unknown protocol {protocol!r}")
    mechanism = env("KITH_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    if mechanism not in ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"):
        raise SystemExit(f"KITH_KAFKA_SASL_MECHANISM: unknown mechanism {mechanism!r}")
    return KafkaConnection(
        bootstrap,
        security_protocol=cast(SecurityProtocol, protocol),
        sasl_mechanism=cast(SaslMechanism, mechanism),
        sasl_username=env("KITH_KAFKA_SASL_USERNAME"),
        sasl_password=env("KITH_KAFKA_SASL_PASSWORD"),
        ssl_cafile=env("KITH_KAFKA_SSL_CAFILE"),
    )


async def main(arguments: argparse.Namespace) -> None:
    """Connect, refer whoever was named, then answer offers until SIGTERM or Ctrl-C."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    client = PartnerClient(
        _kafka(arguments.bootstrap),
        arguments.partner_id,
        arguments.api_key,
        api_url=arguments.api,
        group_id=arguments.group,
    )
    async with client:
        helper_id = None
        if arguments.api:
            me = await client.me()
            runs = me.get("service") or {}
            helper_id = uuid.UUID(runs["helper_id"]) if runs.get("helper_id") else None
            logging.info("partner %s, helper id %s", me["name"], helper_id)
        lifts = LiftService(client, helper_id, accept=not arguments.decline)
        for spec in arguments.refer:
            await lifts.refer(_referral(spec))
        logging.info("lift service ready: reading %s", client.feed_topic)
        receiver = _webhooks(arguments.webhook_port) if arguments.webhook_port else None
        try:
            await lifts.run(stop)
        finally:
            if receiver is not None:
                receiver.should_exit = True
    logging.info("lift service stopped")


def _webhooks(port: int) -> uvicorn.Server:
    """Serve the webhook receiver in the background (a ``uvicorn.Server`` to stop)."""
    secrets = [s for s in os.environ.get("KITH_PARTNER_WEBHOOK_SECRET", "").split(",") if s]
    if not secrets:
        raise SystemExit("--webhook-port needs KITH_PARTNER_WEBHOOK_SECRET")

    def on_event(event: dict[str, Any]) -> None:
        logging.info("webhook %s %s", event.get("type"), event.get("event_id"))

    config = uvicorn.Config(
        webhook_app(secrets, on_event), host="127.0.0.1", port=port, log_config=None
    )
    server = uvicorn.Server(config)
    asyncio.get_running_loop().create_task(server.serve())
    return server


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s lift-service %(message)s")
    for chatty in ("aiokafka", "httpx"):  # every request and rebalance, at info
        logging.getLogger(chatty).setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(_arguments()))
