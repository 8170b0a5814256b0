"""``crash_anywhere``: a random process SIGKILLed at a random moment, ten times in a row,
under the whole flow at once.

Kith runs as ``kith up --replicas booking=2`` would (two booking processes on one port,
trust, matching, the partners gateway and the operators' console), and everything flows:
helpers accept, check in, check out and answer (``flow``), an operator vets applicants, and
a partner refers people over HTTP and its inbox while it hears of requests by webhook
(``partners_kill``). At random moments (seeded) one process drawn at random is killed and
started again at once, as ``kith up`` would start it.

Then everything is compared: every acknowledged write in booking, on its topic and applied
by trust once (``flow_checks``); every referral published and made into a request once,
every feed event delivered by webhook under its id; and no request stranded: every visit
asked for was booked and completed, and matching has read every request and booking.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
import structlog

from kith.demo import FILING_TOPICS
from kith.faults.flow import FLOW_ENV, FlowSize, seed
from kith.faults.flow_checks import check_flow
from kith.faults.flow_kills import flow_while_killing, settle_flow
from kith.faults.groups import service_groups
from kith.faults.partners_kill import (
    PARTNERS_ENV,
    check_partners,
    register,
    send_referrals,
)
from kith.faults.platform import platform
from kith.faults.reading import caught_up, settle
from kith.faults.result import ScenarioResult
from kith.faults.webhook_receiver import receiving
from kith.faults.world import Api
from kith_partner import PartnerClient
from shared.contracts.topics import BOOKINGS, REQUESTS
from shared.embedded import free_port
from shared.messaging import group_lag

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class CrashAnywhereOptions:
    """Visits made, crashes, referrals beside them, and the RNG's seed."""

    visits: int = 300
    crashes: int = 10
    referrals: int = 100
    referral_rate: float = 5.0
    seed: int = 7
    helpers: int = 8


async def run_crash_anywhere(folder: Path, options: CrashAnywhereOptions) -> ScenarioResult:
    """Kill ``options.crashes`` random processes at random moments under the whole flow."""
    async with (
        receiving() as receiver,
        platform(folder, env={**FLOW_ENV, **PARTNERS_ENV}) as kith,
    ):
        booking = kith.add("booking", http=True)
        booking_2 = kith.add(
            "booking", name="booking-2", env={"KITH_HTTP_PORT": str(booking.http_port)}
        )
        port = free_port()
        gateway = kith.add("partners", env={"KITH_PARTNERS_PORT": str(port)})
        gateway.http_port = port
        ops_port = free_port()
        ops = kith.add("ops", env={"KITH_OPS_PORT": str(ops_port)})
        ops.http_port = ops_port
        others = [kith.add("trust"), kith.add("matching")]
        victims = [booking, booking_2, gateway, ops, *others]
        await kith.start_all(*victims)
        api = Api(booking.api, concurrency=options.helpers + 4)
        async with httpx.AsyncClient(base_url=gateway.api, timeout=10) as http:
            partner = await register(http, kith, receiver)
            client = PartnerClient(kith.bootstrap, partner.partner_id, partner.api_key)
            await client.start()
            try:
                flow = await seed(
                    api, kith, FlowSize(visits=options.visits, helpers=options.helpers)
                )
                referring = send_referrals(
                    http, client, partner, options.referrals, options.referral_rate
                )
                kills = await flow_while_killing(
                    api,
                    kith,
                    flow,
                    victims,
                    options.crashes,
                    options.seed,
                    at_random=True,
                    beside=referring,
                )
            finally:
                await client.stop()
                await api.close()
        await settle_flow(kith)
        flow_result = await settle(lambda: check_flow(kith, flow), lambda seen: seen.lost == 0, 90)
        partners_result = await settle(
            lambda: check_partners(kith, partner, receiver), lambda seen: seen.lost == 0, 90
        )

        async def matching_caught_up() -> bool:
            # Its own filing topics too: a booking reaches matching's tables in three hops.
            matching = service_groups()["matching"].group_id
            return await caught_up(kith.bootstrap, matching, [REQUESTS, BOOKINGS, *FILING_TOPICS])

        matching_read_all = await settle(matching_caught_up, lambda done: done, 240)
        matching_lag = {} if matching_read_all else await _lag(kith.bootstrap)
        stranded = len(flow.visits) - len(flow.acked.get("check-out", set()))
        return ScenarioResult(
            checked=flow_result.checked + partners_result.checked,
            lost=flow_result.lost + partners_result.lost + stranded + int(not matching_read_all),
            duplicate_effects=flow_result.duplicate_effects + partners_result.duplicate_effects,
            recovery_s=max((k.recovery_s for k in kills), default=0.0),
            details={
                "kills": [k.as_json() for k in kills],
                "stranded_visits": stranded,
                "matching_read_every_request_and_booking": matching_read_all,
                "matching_lag": matching_lag,
                "flow": flow_result.details,
                "partners": partners_result.details,
                "http_retries": api.retries + partner.http_retries,
            },
        )


async def _lag(bootstrap: str) -> dict[str, str]:
    """Where matching's commits stopped short: ``topic[partition]: committed of end``."""
    matching = service_groups()["matching"].group_id
    found = {}
    for topic in (REQUESTS, BOOKINGS, *FILING_TOPICS):
        lag = await group_lag(bootstrap, matching, topic)
        for partition, (committed, end) in lag.items():
            found[f"{topic.name}[{partition}]"] = f"{committed} of {end}"
    return found
