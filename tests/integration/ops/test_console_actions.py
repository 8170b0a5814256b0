"""Operators act from the console as themselves: the console signs them in through booking
(password and one-time code) and calls booking's operator API with their own session, so
booking checks their role and names them on the audit trail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from services.booking.domain.operators import totp_now
from shared.contracts import utc_now
from tests.conftest import Stack
from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking, running_booking
from tests.integration.booking.support import served, sign_up
from tests.integration.ops.support import RunningConsole, running_console

BOOTSTRAP = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
CHANGE = {"X-Kith-Console": "1"}


@dataclass
class Both:
    booking: Booking
    console: RunningConsole


@pytest.fixture(scope="module")
async def both(stack: Stack) -> AsyncIterator[Both]:
    async with running_booking(stack) as booking, served(booking.runtime.app()) as url:
        settings = stack.settings(operator_token=OPERATOR_TOKEN, booking_url=url)
        async with running_console(settings, own_database=True) as console:
            yield Both(booking, console)


async def _operator(booking: Booking, name: str, *roles: str) -> dict[str, str]:
    made = await booking.client.post(
        "/v1/operator/accounts",
        headers=BOOTSTRAP,
        json={
            "email": f"{name.split()[0].lower()}@kith.example",
            "name": name,
            "roles": list(roles),
            "password": "a long operator password",
        },
    )
    assert made.status_code == 201, made.text
    account: dict[str, str] = made.json()
    return account


async def _sign_in(client: httpx.AsyncClient, account: dict[str, str]) -> httpx.Response:
    return await client.post(
        "/ops/login",
        data={
            "email": account["email"],
            "password": "a long operator password",
            "code": totp_now(account["totp_secret"], utc_now()),
        },
    )


async def test_an_operator_signs_in_with_a_code_and_acts_as_themselves(both: Both) -> None:
    booking = both.booking
    account = await _operator(booking, "Ruth Bell", "coordinator")
    helper_id, _ = await sign_up(booking.client, "Vera", skills=["shopping"])
    async with httpx.AsyncClient(base_url=both.console.url) as browser:
        wrong = await browser.post(
            "/ops/login",
            data={"email": account["email"], "password": "not it", "code": "123456"},
        )
        assert wrong.status_code == 401
        assert "do not match an operator" in wrong.text

        signed_in = await _sign_in(browser, account)
        assert signed_in.status_code == 303, signed_in.text
        cookie = signed_in.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        me = await browser.get("/ops/me")
        assert me.json() == {"name": "Ruth Bell", "roles": ["coordinator"]}
        page = await browser.get("/ops/act")
        assert page.status_code == 200
        assert "script-src 'sha256-" in page.headers["content-security-policy"]

        path = f"/ops/api/people/{helper_id}/vetting-steps"
        step = {"step": "identity", "evidence": "Passport seen"}
        unmarked = await browser.post(path, json=step)
        assert unmarked.status_code == 403, "a change needs the console's header"
        vetted = await browser.post(path, json=step, headers=CHANGE)
        assert vetted.status_code == 201, vetted.text
        assert vetted.json()["recorded_by"] == "operator:Ruth Bell"
        pipeline = await browser.get("/ops/api/vetting")
        applicant = [a for a in pipeline.json()["applicants"] if a["person_id"] == helper_id]
        assert applicant[0]["display_name"] == "Vera"

        # Booking decides what a coordinator may do, and the console passes its answer on.
        refused = await browser.get("/ops/api/audit")
        assert refused.status_code == 403
        climbing = await browser.get("/ops/api/..%2F..%2Fme")
        assert climbing.status_code == 404

        trail = await booking.client.get(
            "/v1/operator/audit", headers=BOOTSTRAP, params={"subject_id": helper_id}
        )
        assert [(e["action"], e["operator"]) for e in trail.json()["items"]] == [
            ("vetting.record_step", "Ruth Bell")
        ]

        out = await browser.post("/ops/logout")
        assert out.status_code == 303
        assert (await browser.get("/ops/me")).status_code == 401
    # Signing out of the console ended the session in booking too.
    sessions = await booking.client.get(
        "/v1/operator/audit",
        headers=BOOTSTRAP,
        params={"operator_id": account["operator_id"], "action": "operator.sign_out"},
    )
    assert len(sessions.json()["items"]) == 1


async def test_an_administrator_reads_and_exports_the_trail_through_the_console(
    both: Both,
) -> None:
    account = await _operator(both.booking, "Ada Grant", "administrator")
    async with httpx.AsyncClient(base_url=both.console.url) as browser:
        assert (await _sign_in(browser, account)).status_code == 303
        latest = await browser.get("/ops/api/audit", params={"newest_first": "true"})
        assert latest.status_code == 200, latest.text
        assert latest.json()["items"][0]["action"] == "operator.sign_in"
        exported = await browser.get("/ops/api/audit/export", params={"format": "csv"})
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        assert "attachment" in exported.headers["content-disposition"]
        assert "Ada Grant" in exported.text
