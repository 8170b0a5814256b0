"""The scenarios ``kith faults`` knows, by name, and the options they share.

Each scenario's module is imported when it runs: ``kith`` itself starts fast.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from kith.faults.result import ScenarioResult


@dataclass(frozen=True)
class Options:
    """Every scenario's knobs, from the command line."""

    bookings: int = 5000
    kills: int = 5
    requests: int = 600
    rate: float = 20.0
    seed: int = 7
    visits: int = 2000
    flow_visits: int = 300
    notices: int = 1000


async def _relay_kill(folder: Path, options: Options) -> ScenarioResult:
    from kith.faults.relay_kill import RelayKillOptions, run_relay_kill

    return await run_relay_kill(
        folder, RelayKillOptions(bookings=options.bookings, kills=options.kills, seed=options.seed)
    )


async def _database_kill(folder: Path, options: Options) -> ScenarioResult:
    from kith.faults.relay_kill import RelayKillOptions, run_relay_kill

    return await run_relay_kill(
        folder,
        RelayKillOptions(
            bookings=options.bookings, kills=options.kills, seed=options.seed, victim="database"
        ),
    )


async def _ops_kill(folder: Path, options: Options) -> ScenarioResult:
    from kith.faults.ops_kill import OpsKillOptions, run_ops_kill

    return await run_ops_kill(
        folder, OpsKillOptions(requests=min(options.requests, 400), seed=options.seed)
    )


async def _matcher_kill(folder: Path, options: Options) -> ScenarioResult:
    from kith.faults.matcher_kill import MatcherKillOptions, run_matcher_kill

    return await run_matcher_kill(
        folder,
        MatcherKillOptions(requests=options.requests, rate=options.rate, seed=options.seed),
    )


async def _broker_restart(folder: Path, options: Options) -> ScenarioResult:
    from kith.faults.broker_restart import run_broker_restart

    return await run_broker_restart(folder)


async def _poison(folder: Path, options: Options) -> ScenarioResult:
    from kith.faults.poison import run_poison

    return await run_poison(folder)


async def _ledger_kill(folder: Path, options: Options) -> ScenarioResult:
    from kith.faults.ledger_faults import LedgerFaultOptions, run_ledger_kill
    from kith.faults.platform import platform

    async with platform(folder) as running:
        return await run_ledger_kill(
            running,
            LedgerFaultOptions(visits=options.visits, kills=options.kills, seed=options.seed),
        )


async def _ledger_replay(folder: Path, options: Options) -> ScenarioResult:
    from kith.faults.ledger_faults import LedgerFaultOptions, run_ledger_replay
    from kith.faults.platform import platform

    async with platform(folder) as running:
        return await run_ledger_replay(
            running, LedgerFaultOptions(visits=options.visits, seed=options.seed)
        )


async def _notify_kill(folder: Path, options: Options) -> ScenarioResult:
    from kith.faults.notify_kill import NotifyKillOptions, run_notify_kill
    from kith.faults.platform import platform

    async with platform(folder) as running:
        return await run_notify_kill(
            running,
            NotifyKillOptions(
                notices=options.notices, kills=min(options.kills, 5), seed=options.seed
            ),
        )


async def _booking_kill(folder: Path, options: Options) -> ScenarioResult:
    from kith.faults.flow_kills import FlowKillOptions, run_booking_kill

    return await run_booking_kill(
        folder, FlowKillOptions(visits=options.flow_visits, kills=options.kills, seed=options.seed)
    )


async def _trust_kill(folder: Path, options: Options) -> ScenarioResult:
    from kith.faults.flow_kills import FlowKillOptions, run_trust_kill

    return await run_trust_kill(
        folder, FlowKillOptions(visits=options.flow_visits, kills=options.kills, seed=options.seed)
    )


async def _partners_kill(folder: Path, options: Options) -> ScenarioResult:
    from kith.faults.partners_kill import PartnersKillOptions, run_partners_kill

    return await run_partners_kill(
        folder, PartnersKillOptions(referrals=options.flow_visits, kills=3, seed=options.seed)
    )


async def _crash_anywhere(folder: Path, options: Options) -> ScenarioResult:
    from kith.faults.crash_anywhere import CrashAnywhereOptions, run_crash_anywhere

    return await run_crash_anywhere(
        folder, CrashAnywhereOptions(visits=options.flow_visits, seed=options.seed)
    )


Scenario = Callable[[Path, Options], Awaitable[ScenarioResult]]

#: Every scenario, in the order ``kith faults`` runs them.
SCENARIOS: dict[str, Scenario] = {
    "relay_kill": _relay_kill,
    "matcher_kill": _matcher_kill,
    "broker_restart": _broker_restart,
    "poison": _poison,
    "database_kill": _database_kill,
    "ops_kill": _ops_kill,
    "ledger_kill": _ledger_kill,
    "ledger_replay": _ledger_replay,
    "notify_kill": _notify_kill,
    "booking_kill": _booking_kill,
    "trust_kill": _trust_kill,
    "partners_kill": _partners_kill,
    "crash_anywhere": _crash_anywhere,
}
