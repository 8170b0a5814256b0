"""Notices through `kith up`'s processes: a visit is booked, both sides are emailed through
the development mail server, and the clock moved to the day before brings one reminder."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from kith.client import send
from kith.demo import MATCHING_CATCH_UP_S, ask_for_help, matching_knows_people, sign_up
from kith.faults.notify_kill import NotifyKillOptions, run_notify_kill
from kith.faults.platform import platform
from kith.running import running_kith
from shared import clock
from shared.embedded.mail import read_mailbox, subject
from tests.conftest import Stack
from tests.support import eventually

pytestmark = pytest.mark.e2e

_STEPS = ("identity", "references", "interview", "background_check")
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


async def _contact(http: httpx.AsyncClient, operator: dict[str, str], person_id: str) -> str:
    contact = await send(http, "GET", f"/v1/internal/people/{person_id}/contact", operator)
    return str(contact["email"])


def _subjects(mail: Path, address: str) -> list[str]:
    return [subject(m) for m in read_mailbox(mail) if m["To"] == address]


async def _arrives(mail: Path, address: str, prefix: str) -> None:
    async def arrived() -> bool:
        return any(s.startswith(prefix) for s in _subjects(mail, address))

    await eventually(arrived, timeout_s=60, what=f"an email {prefix!r}")


async def test_a_booked_visit_is_confirmed_to_both_and_reminded_once_the_day_before(
    own_stack: Stack, tmp_path: Path
) -> None:
    # A broker and database of its own: on a test worker's shared broker, matching first
    # reads every earlier test's history (see ``fresh_stack``).
    stack = own_stack
    clock_file = tmp_path / "clock"
    state = tmp_path / "kith"
    env = {"KITH_CLOCK_FILE": str(clock_file), "KITH_NOTIFY_POLL_S": "2"}
    clock.install(clock_file)  # this test reads the moved present too
    try:
        await _booked_and_reminded(stack, state, clock_file, env)
    finally:
        clock.install(None)


async def _booked_and_reminded(
    stack: Stack, state: Path, clock_file: Path, env: dict[str, str]
) -> None:
    async with (
        running_kith(
            bootstrap=stack.bootstrap,
            database_url=stack.database_url,
            state_dir=state,
            services=("booking", "matching", "trust", "notify"),
            env=env,
            ready_timeout_s=90,
        ) as kith,
        httpx.AsyncClient(base_url=kith.api, timeout=10) as http,
    ):
        mail = state / "mail"
        operator = {"Authorization": f"Bearer {kith.operator_token}"}
        run = uuid.uuid4().hex[:6]
        rng = random.Random(run)
        home = (rng.uniform(51.3, 51.7), rng.uniform(-0.4, 0.2))
        helper = await sign_up(http, f"Ada ({run})", home, ["shopping"], run)
        await send(
            http,
            "PUT",
            "/v1/me/availability",
            helper.headers,
            json={"rules": [{"weekday": d, "start": "08:00", "end": "20:00"} for d in _DAYS]},
        )
        for step in _STEPS:
            await send(
                http,
                "POST",
                f"/v1/operator/people/{helper.person_id}/vetting-steps",
                operator,
                json={"step": step},
            )
        neighbour = await sign_up(http, f"Mrs Okafor ({run})", home, [], run)
        helper_email = await _contact(http, operator, helper.person_id)
        neighbour_email = await _contact(http, operator, neighbour.person_id)

        async def vetted() -> bool:
            person = await send(http, "GET", f"/v1/operator/people/{helper.person_id}", operator)
            return "shopping" in ((person.get("standing") or {}).get("approved_skills") or {})

        await eventually(vetted, timeout_s=60, what="trust to approve the helper")
        await eventually(
            partial(matching_knows_people, stack.bootstrap),
            timeout_s=MATCHING_CATCH_UP_S,
            what="matching",
        )
        request = await ask_for_help(http, neighbour, day=2)

        async def offered() -> dict[str, Any] | None:
            inbox = await send(http, "GET", "/v1/offers", helper.headers)
            return next(
                (o for o in inbox["items"] if o["request_id"] == request["request_id"]), None
            )

        offer = await eventually(offered, timeout_s=60, what="an offer to the helper")
        await send(http, "POST", f"/v1/offers/{offer['offer_id']}/accept", helper.headers)

        for address in (helper_email, neighbour_email):
            await _arrives(mail, address, "Your visit is booked")
        helper_subjects = _subjects(mail, helper_email)
        assert any(s.startswith("Can you help? shopping") for s in helper_subjects)
        assert sum(s.startswith("Your identity check: passed") for s in helper_subjects) == 1
        assert not any(s.startswith("Tomorrow") for s in helper_subjects)

        starts_at = datetime.fromisoformat(request["starts_at"])
        clock.advance(clock_file, starts_at - timedelta(hours=23) - clock.now())

        for address in (helper_email, neighbour_email):
            await _arrives(mail, address, "Tomorrow: shopping")
        # A fence: the hour-before reminder comes after every sweep that could have sent the
        # day's again.
        clock.advance(clock_file, starts_at - timedelta(minutes=30) - clock.now())
        for address in (helper_email, neighbour_email):
            await _arrives(mail, address, "Soon: shopping")
            subjects = _subjects(mail, address)
            assert sum(s.startswith("Tomorrow: shopping") for s in subjects) == 1, subjects
            assert sum(s.startswith("Your visit is booked") for s in subjects) == 1, subjects
        page = (await http.get(kith.inbox)).text
        assert "Tomorrow: shopping" in page
    assert "emails sent:" in (state / "kith-up.log").read_text()


async def test_notify_killed_while_sending_sends_every_notice_and_each_once(
    tmp_path: Path,
) -> None:
    # kith faults' notify_kill, short: 200 notices due, notify killed twice while sending. On a
    # broker and database of its own: a hundred bookings of one helper on the session's broker
    # are a hundred helper states for every later matching in this worker to file again.
    async with platform(tmp_path) as running:
        result = await run_notify_kill(
            running, NotifyKillOptions(notices=200, kills=2, lease_s=10, timeout_s=120)
        )
    assert len(result.details["kills"]) == 2
    assert result.checked == 200
    assert result.lost == 0, result.details
    # Each email's record is committed in the step that writes its end-of-data line.
    assert result.duplicate_effects == 0, result.details
