"""``partners_kill``: SIGKILL the partners gateway while a partner sends and receives.

A partner registered through the gateway refers people at a steady rate, every other one
over HTTP (``POST /v1/events``, sent again with the same event id until it is answered) and
the others signed on the inbox topic, as ``kith_partner.PartnerClient`` does. Booking turns
each referral into a request, which the partner reads back on its feed and by webhook (to a
receiver this scenario runs). The gateway is killed at random moments (seeded) and started
again at once.

Lost: a referral the gateway acknowledged (HTTP) or the broker acknowledged (inbox) that
never became one event on ``kith.partners.v1`` and one referral in booking; a request made
for a referred person that never reached the partner's feed; an event on the partner's feed
never delivered by webhook. A duplicate effect: a referral published twice
(two event ids) or made into two requests; a webhook whose ``webhook-id`` is not its event's
id, or an event delivered under two ids.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import structlog

from kith.client import until
from kith.faults.flow_kills import Kill
from kith.faults.gate import LoadGate
from kith.faults.platform import Platform, platform
from kith.faults.processes import ServiceProcess
from kith.faults.reading import ends_now, events_of, group_reached, read_only, read_topics, settle
from kith.faults.result import ScenarioResult
from kith.faults.webhook_receiver import WebhookReceiver, receiving
from kith.faults.world import places
from kith_partner import PartnerClient
from services.partners.entrypoints.consumers import INBOX_GROUP
from shared import clock
from shared.contracts import Envelope, encode
from shared.contracts.partners import Consent, ConsentMethod, PersonReferred
from shared.contracts.requests import HelpRequested
from shared.contracts.skills import Skill
from shared.contracts.topics import PARTNERS, PARTNERS_INBOX, REQUESTS, partner_feed
from shared.embedded import free_port
from shared.geo import cell_of

log = structlog.get_logger(__name__)

#: Webhooks retried quickly, to a receiver on loopback over plain HTTP.
PARTNERS_ENV = {
    "KITH_WEBHOOK_BACKOFF_BASE_S": "0.1",
    "KITH_WEBHOOK_BACKOFF_CAP_S": "1",
    "KITH_WEBHOOK_ALLOW_HTTP": "true",
    "KITH_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
}
_RETRY_FOR_S = 120.0


@dataclass(frozen=True)
class PartnersKillOptions:
    """Referrals sent, their rate, kills of the gateway, and the RNG's seed."""

    referrals: int = 300
    rate: float = 20.0
    kills: int = 3
    seed: int = 7


@dataclass
class Partner:
    """A partner registered for a scenario, and the referrals it had acknowledged."""

    partner_id: str
    api_key: str
    sent: dict[str, str] = field(default_factory=dict)
    """Referral id -> how it was sent (``http`` or ``inbox``), once acknowledged."""
    http_retries: int = 0


async def run_partners_kill(folder: Path, options: PartnersKillOptions) -> ScenarioResult:
    """Kill the gateway ``options.kills`` times while referrals and webhooks flow."""
    async with receiving() as receiver, platform(folder, env=PARTNERS_ENV) as kith:
        booking = kith.add("booking", http=True)
        port = free_port()
        gateway = kith.add("partners", env={"KITH_PARTNERS_PORT": str(port)})
        gateway.http_port = port
        await kith.start_all(booking, gateway)
        async with httpx.AsyncClient(base_url=gateway.api, timeout=10) as http:
            partner = await register(http, kith, receiver)
            client = PartnerClient(kith.bootstrap, partner.partner_id, partner.api_key)
            await client.start()
            try:
                kills = await _traffic_while_killing(http, kith, gateway, client, partner, options)
            finally:
                await client.stop()
        result = await settle(
            lambda: check_partners(kith, partner, receiver), lambda seen: seen.lost == 0, 120
        )
        return ScenarioResult(
            result.checked,
            result.lost,
            result.duplicate_effects,
            max((k.recovery_s for k in kills), default=0.0),
            {
                **result.details,
                "kills": [k.as_json() for k in kills],
                "http_retries": partner.http_retries,
            },
        )


async def register(http: httpx.AsyncClient, kith: Platform, receiver: WebhookReceiver) -> Partner:
    """A partner that refers people and reads the requests stream, by webhook too."""
    response = await http.post(
        "/v1/partners",
        headers={"Authorization": f"Bearer {kith.operator_token}"},
        json={
            "name": "Faults partner",
            "scopes": {"read_streams": ["kith.requests.v1"], "send": ["partner.person_referred"]},
            "webhook_url": f"{receiver.url}/hook",
        },
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return Partner(str(body["partner_id"]), str(body["api_key"]))


def _referral(partner: Partner, index: int, run: str) -> PersonReferred:
    place = places(1)[0]
    cell = cell_of(place.lat, place.lng)
    starts_at = (clock.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    return PersonReferred(
        referral_id=uuid.uuid4(),
        partner_id=uuid.UUID(partner.partner_id),
        partner_reference=f"faults-{run}-{index}",
        first_name="Edith",
        neighbourhood=place.neighbourhood,
        cell=cell,
        skill=Skill.SHOPPING,
        starts_at=starts_at + timedelta(hours=index % 48),
        hours=1,
        consent=Consent(
            given_at=clock.now(), method=ConsentMethod.VERBAL, recorded_by="front desk"
        ),
    )


async def _send_http(http: httpx.AsyncClient, partner: Partner, referral: PersonReferred) -> None:
    """Send one event over HTTP until the gateway answers; the same bytes every time."""
    body = encode(Envelope.wrap(referral, producer=f"partner:{partner.partner_id}"))
    headers = {"Authorization": f"Bearer {partner.api_key}", "Content-Type": "application/json"}
    deadline = time.monotonic() + _RETRY_FOR_S
    while True:
        try:
            response = await http.post("/v1/events", content=body, headers=headers)
        except httpx.TransportError:
            pass
        else:
            if response.status_code == 202:
                partner.sent[str(referral.referral_id)] = "http"
                return
            if response.status_code < 500:
                raise RuntimeError(f"the gateway refused a referral: {response.text}")
        if time.monotonic() > deadline:
            raise RuntimeError("the gateway did not answer for two minutes")
        partner.http_retries += 1
        await asyncio.sleep(0.05)


async def _traffic_while_killing(
    http: httpx.AsyncClient,
    kith: Platform,
    gateway: ServiceProcess,
    client: PartnerClient,
    partner: Partner,
    options: PartnersKillOptions,
) -> list[Kill]:
    """Send the referrals; kill the gateway after a random number of them each time (one
    kill after the other: while the gateway comes back the referrals go on up to the next
    kill's point and wait there, so every kill lands under traffic; ``kith.faults.gate``)."""
    rng = random.Random(options.seed)
    low, high = options.referrals // 10, options.referrals * 9 // 10
    moments = sorted(rng.sample(range(max(1, low), max(2, high)), options.kills))
    sent = 0
    progress = asyncio.Event()
    gate = LoadGate()

    def after(index: int) -> None:
        nonlocal sent
        sent = index + 1
        progress.set()

    async def killer() -> list[Kill]:
        kills: list[Kill] = []
        resumed_at = 0
        for index, moment in enumerate(moments):
            # After a hold, a few referrals on their way again before the next kill.
            while sent < max(moment, resumed_at + 2):
                if sent == options.referrals:
                    return kills  # the traffic ended: a kill now would find none
                progress.clear()
                await progress.wait()
            kill = Kill(gateway.name, sent)
            later = moments[index + 1 :]
            gate.hold_at(later[0] if later else None)
            try:
                await _kill_and_restart(kith, gateway, kill)
            finally:
                gate.hold_at(None)
            resumed_at = sent
            kills.append(kill)
        return kills

    killing = asyncio.create_task(killer())
    await send_referrals(
        http, client, partner, options.referrals, options.rate, after=after, gate=gate
    )
    return await killing


async def send_referrals(
    http: httpx.AsyncClient,
    client: PartnerClient,
    partner: Partner,
    count: int,
    rate: float,
    *,
    after: Callable[[int], None] = lambda index: None,
    gate: LoadGate | None = None,
) -> None:
    """Refer ``count`` people at ``rate`` a second, every other one over HTTP, the others
    on the inbox topic; ``after(index)`` runs as each is sent off. ``gate`` holds them back
    at a mark while it is held."""
    run = uuid.uuid4().hex[:8]
    sending: list[asyncio.Task[None]] = []
    due = time.monotonic()
    for index in range(count):
        if gate is not None and await gate.wait(index):
            due = time.monotonic()  # held: the schedule goes on from now, not in a burst
        # Open loop: each referral at its own moment, whatever the ones before cost.
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        due += 1 / rate
        referral = _referral(partner, index, run)
        if index % 2 == 0:
            sending.append(asyncio.create_task(_send_http(http, partner, referral)))
        else:
            sending.append(asyncio.create_task(_send_inbox(client, partner, referral)))
        after(index)
    await asyncio.gather(*sending)


async def _send_inbox(client: PartnerClient, partner: Partner, referral: PersonReferred) -> None:
    await client.send(referral)
    partner.sent[str(referral.referral_id)] = "inbox"


async def _kill_and_restart(kith: Platform, gateway: ServiceProcess, kill: Kill) -> None:
    marks = await ends_now(kith.bootstrap, [PARTNERS_INBOX])
    await gateway.kill()
    await gateway.restart()
    kill.ready_s = await gateway.wait_ready()
    await until(
        lambda: group_reached(kith.bootstrap, INBOX_GROUP, marks),
        120,
        "the gateway to read what was on its inbox when it was killed",
        every_s=0.1,
    )
    kill.recovery_s = time.monotonic() - gateway.started_at
    log.info("restarted", **kill.as_json())


async def check_partners(
    kith: Platform, partner: Partner, receiver: WebhookReceiver
) -> ScenarioResult:
    """Each acknowledged referral published and made into a request once; each event on
    the partner's feed delivered by webhook under its own id."""
    published: dict[str, set[uuid.UUID]] = defaultdict(set)
    asked: dict[uuid.UUID, set[str]] = defaultdict(set)
    streams = await read_topics(kith.bootstrap, [PARTNERS.name, REQUESTS.name])
    for _, envelope in events_of(streams):
        if isinstance(envelope.data, PersonReferred):
            published[str(envelope.data.referral_id)].add(envelope.event_id)
        elif isinstance(envelope.data, HelpRequested):
            asked[envelope.data.neighbour_id].add(str(envelope.event_id))
    async with read_only(kith.settings().database_for("booking")) as db:
        rows = await db.fetch(
            "SELECT r.referral_id, r.person_id, count(q.request_id) AS requests"
            " FROM referrals r LEFT JOIN requests q ON q.neighbour_id = r.person_id"
            " WHERE r.partner_id = $1 GROUP BY r.referral_id, r.person_id",
            uuid.UUID(partner.partner_id),
        )
    requests = {str(row["referral_id"]): int(row["requests"]) for row in rows}
    # The partner reads the requests stream: each request made for someone it referred.
    for_referred = {event for row in rows for event in asked[row["person_id"]]}
    feed = {
        str(json.loads(record.value)["event_id"])
        for record in await read_topics(kith.bootstrap, [partner_feed(partner.partner_id)])
        if record.value
    }
    ids_of: dict[str, set[str]] = defaultdict(set)
    mismatched = 0
    for delivery in receiver.deliveries:
        event_id = str(json.loads(delivery.body)["event_id"])
        webhook_id = delivery.headers.get("webhook-id", "")
        ids_of[event_id].add(webhook_id)
        mismatched += int(webhook_id != event_id)
    sent = set(partner.sent)
    lost = Counter(
        {
            "referral_not_published": len(sent - set(published)),
            "referral_not_in_booking": len(sent - set(requests)),
            "referral_without_request": sum(1 for r in sent if requests.get(r) == 0),
            "request_not_on_feed": len(for_referred - feed),
            "feed_event_not_delivered_by_webhook": len(feed - set(ids_of)),
        }
    )
    duplicates = Counter(
        {
            "referral_published_twice": sum(len(ids) - 1 for ids in published.values()),
            "referral_made_into_two_requests": sum(max(0, n - 1) for n in requests.values()),
            "webhook_id_not_the_event_id": mismatched,
            "event_delivered_under_two_ids": sum(len(ids) - 1 for ids in ids_of.values()),
        }
    )
    return ScenarioResult(
        checked=len(sent) + len(feed),
        lost=sum(lost.values()),
        duplicate_effects=sum(duplicates.values()),
        recovery_s=0.0,
        details={
            "referrals_acknowledged": dict(Counter(partner.sent.values())),
            "requests_for_referred": len(for_referred),
            "feed_events": len(feed),
            "webhook_requests": len(receiver.deliveries),
            "redelivered_webhooks": len(receiver.deliveries) - len(ids_of),
            "lost": {k: v for k, v in lost.items() if v},
            "duplicates": {k: v for k, v in duplicates.items() if v},
        },
    )
