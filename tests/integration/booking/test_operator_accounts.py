"""Operators sign in as themselves (password and a one-time code), act within their roles,
and every action and every view of someone's personal details goes on an append-only trail."""

from __future__ import annotations

import csv
import dataclasses
import io
import uuid

import asyncpg
import pytest
from fastapi.security import HTTPAuthorizationCredentials
from starlette.requests import Request

from kith.operators import add_operator
from services.booking.domain.errors import Forbidden
from services.booking.domain.operators import Role, totp_at, totp_now, totp_step
from services.booking.entrypoints.http.dependencies import Context, operator
from shared.contracts import utc_now
from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking
from tests.integration.booking.support import sign_up, signed_in_operator

BOOTSTRAP = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


async def _audit(booking: Booking, **query: str) -> list[dict[str, object]]:
    found = await booking.client.get("/v1/operator/audit", headers=BOOTSTRAP, params=query)
    assert found.status_code == 200, found.text
    items: list[dict[str, object]] = found.json()["items"]
    return items


async def test_an_operator_signs_in_with_password_and_code_and_is_named(
    booking: Booking,
) -> None:
    headers, account = await signed_in_operator(booking.client, BOOTSTRAP, "Priya Shah")
    me = await booking.client.get("/v1/operator/me", headers=headers)
    assert me.json() == {
        "operator_id": account["operator_id"],
        "name": "Priya Shah",
        "roles": ["coordinator"],
    }
    sign_ins = await _audit(booking, subject_id=account["operator_id"], action="operator")
    assert [entry["action"] for entry in sign_ins] == ["operator.add", "operator.sign_in"]
    assert sign_ins[0]["operator"] == "bootstrap"
    assert sign_ins[1]["operator"] == "Priya Shah"


async def test_a_wrong_or_replayed_code_and_a_wrong_password_are_refused_alike(
    booking: Booking,
) -> None:
    _, account = await signed_in_operator(booking.client, BOOTSTRAP, "Tom Reyes")
    now = utc_now()
    base = {"email": account["email"], "password": account["password"]}
    used = totp_now(account["totp_secret"], now)  # the sign-in above used this step
    wrong = str((int(used) + 1) % 1_000_000).zfill(6)
    attempts = [
        {**base, "code": used},
        {**base, "code": wrong},
        {
            **base,
            "password": "not the password",
            "code": totp_at(account["totp_secret"], totp_step(now) + 1),
        },
    ]
    for body in attempts:
        refused = await booking.client.post("/v1/operator/sessions", json=body)
        assert refused.status_code == 401, refused.text
        assert refused.json()["detail"] == (
            "that email, password and code do not match an operator"
        )
    # A made-up token is no operator.
    fake = {"Authorization": "Bearer " + uuid.uuid4().hex}
    assert (await booking.client.get("/v1/operator/me", headers=fake)).status_code == 403


async def test_signing_out_ends_the_operator_session_at_once(booking: Booking) -> None:
    headers, _ = await signed_in_operator(booking.client, BOOTSTRAP, "Lee Park")
    out = await booking.client.delete("/v1/operator/sessions/current", headers=headers)
    assert out.status_code == 204
    assert (await booking.client.get("/v1/operator/me", headers=headers)).status_code == 403


async def test_the_shared_token_is_an_administrator_only_in_the_development_mode(
    booking: Booking,
) -> None:
    context = booking.runtime.app().state.context
    assert isinstance(context, Context)
    request = Request({"type": "http", "headers": [], "state": {}})
    credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=OPERATOR_TOKEN)
    who = await operator(request, context, credentials)
    assert who.operator_id is None
    assert who.name == "bootstrap"
    production = dataclasses.replace(
        context, settings=context.settings.model_copy(update={"development": False})
    )
    with pytest.raises(Forbidden):
        await operator(request, production, credentials)
    # Other services still reach booking's internal API with it, in production too.
    person_id, _ = await sign_up(booking.client, "Nia")
    contact = await booking.client.get(
        f"/v1/internal/people/{person_id}/contact", headers=BOOTSTRAP
    )
    assert contact.status_code == 200


async def test_roles_decide_who_resolves_concerns_and_who_reads_the_trail(
    booking: Booking,
) -> None:
    coordinator, _ = await signed_in_operator(booking.client, BOOTSTRAP, "Cora Diaz")
    lead, _ = await signed_in_operator(booking.client, BOOTSTRAP, "Sam Okoye", "safeguarding_lead")
    about_id, _ = await sign_up(booking.client, "Mo")
    raised = await booking.client.post(
        "/v1/operator/concerns",
        headers=coordinator,
        json={"about_id": about_id, "summary": "A neighbour called about a visit"},
    )
    assert raised.status_code == 201, raised.text
    concern_id = raised.json()["concern_id"]
    decision = {"outcome": "reinstate", "reason": "Spoke to both; a misunderstanding"}
    path = f"/v1/operator/concerns/{concern_id}/resolve"
    refused = await booking.client.post(path, headers=coordinator, json=decision)
    assert refused.status_code == 403
    assert "safeguarding lead" in refused.json()["detail"]
    assert (await booking.client.get("/v1/operator/audit", headers=coordinator)).status_code == 403
    resolved = await booking.client.post(path, headers=lead, json=decision)
    assert resolved.status_code == 200, resolved.text

    entries = await _audit(booking, subject_id=concern_id)
    assert [(e["action"], e["operator"], e["reason"]) for e in entries] == [
        ("concern.resolve", "Sam Okoye", "Spoke to both; a misunderstanding")
    ]
    async with booking.runtime.uow.read() as repo:
        resolved_by = await repo.conn.fetchval(
            "SELECT resolved_by FROM concerns WHERE concern_id = $1", uuid.UUID(concern_id)
        )
    assert resolved_by == "operator:Sam Okoye"
    raised_entries = await _audit(booking, subject_id=about_id, action="concern.raise")
    assert raised_entries[0]["operator"] == "Cora Diaz"
    assert raised_entries[0]["details"] == {"concern_id": concern_id}


async def test_each_action_and_each_view_of_personal_details_writes_its_entry(
    booking: Booking,
) -> None:
    headers, account = await signed_in_operator(booking.client, BOOTSTRAP, "Ana Lima")
    helper_id, _ = await sign_up(booking.client, "Vic")
    vetted = await booking.client.post(
        f"/v1/operator/people/{helper_id}/vetting-steps",
        headers=headers,
        json={"step": "identity", "evidence": "Passport seen in person", "recorded_by": "X"},
    )
    assert vetted.status_code == 201, vetted.text
    seen = await booking.client.get(
        f"/v1/operator/people/{helper_id}",
        headers=headers,
        params={"reason": "Checking their vetting before an interview"},
    )
    assert seen.status_code == 200
    welfare = await booking.client.get("/v1/operator/welfare-checks", headers=headers)
    assert welfare.status_code == 200

    mine = await _audit(booking, operator_id=account["operator_id"])
    actions = [(e["action"], e["subject_id"], e["reason"]) for e in mine]
    assert actions == [
        ("operator.sign_in", account["operator_id"], None),
        ("vetting.record_step", helper_id, None),
        ("person.view", helper_id, "Checking their vetting before an interview"),
        ("welfare_checks.view", None, None),
    ]
    assert mine[1]["details"] == {"step": "identity", "outcome": "passed"}
    # A signed-in operator records as themselves, whatever the body says.
    assert vetted.json()["recorded_by"] == "operator:Ana Lima"
    async with booking.runtime.uow.read() as repo:
        evidence = await repo.conn.fetchval(
            "SELECT evidence FROM vetting_records WHERE person_id = $1", uuid.UUID(helper_id)
        )
    assert evidence == "Passport seen in person"


async def test_the_trail_exports_as_csv_and_json_and_cannot_be_changed(booking: Booking) -> None:
    headers, account = await signed_in_operator(booking.client, BOOTSTRAP, "Eve Stone")
    person_id, _ = await sign_up(booking.client, "Jo")
    await booking.client.get(
        f"/v1/operator/people/{person_id}", headers=headers, params={"reason": "a call"}
    )
    exported = await booking.client.get(
        "/v1/operator/audit/export",
        headers=BOOTSTRAP,
        params={"format": "csv", "subject_id": person_id},
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["action"], r["operator"], r["reason"]) for r in rows] == [
        ("person.view", "Eve Stone", "a call")
    ]
    as_json = await booking.client.get(
        "/v1/operator/audit/export",
        headers=BOOTSTRAP,
        params={"format": "json", "subject_id": person_id},
    )
    assert [e["operator_id"] for e in as_json.json()] == [account["operator_id"]]
    exports = await _audit(booking, action="audit.export")
    assert {e["details"]["format"] for e in exports} >= {"csv", "json"}  # type: ignore[index]

    # The API offers no way to change the trail...
    for method in ("PUT", "PATCH", "DELETE"):
        answer = await booking.client.request(method, "/v1/operator/audit", headers=BOOTSTRAP)
        assert answer.status_code == 405
    # ...and the database refuses to, whoever asks.
    async with booking.runtime.uow.read() as repo:
        for statement in (
            "UPDATE operator_audit SET reason = 'changed'",
            "DELETE FROM operator_audit",
            "TRUNCATE operator_audit",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await repo.conn.execute(statement)
    assert (await _audit(booking, subject_id=person_id))[0]["reason"] == "a call"


async def test_the_first_administrator_of_a_new_kith_is_made_from_the_command_line(
    booking: Booking,
) -> None:
    made = await add_operator(
        booking.settings,
        database_url=booking.runtime.database_url,
        email=f"first-{uuid.uuid4().hex[:6]}@kith.example",
        name="Ada First",
        roles=frozenset({Role.ADMINISTRATOR}),
        password="the first administrator's password",
    )
    session = await booking.client.post(
        "/v1/operator/sessions",
        json={
            "email": made["email"],
            "password": "the first administrator's password",
            "code": totp_now(made["totp_secret"], utc_now()),
        },
    )
    assert session.status_code == 201, session.text
    admin = {"Authorization": f"Bearer {session.json()['token']}"}
    made_entry = await booking.client.get(
        "/v1/operator/audit",
        headers=admin,
        params={"subject_id": str(made["operator_id"]), "action": "operator.add"},
    )
    assert [e["operator"] for e in made_entry.json()["items"]] == ["kith operators add"]


async def test_an_administrator_changes_roles_and_disables_accounts_but_never_the_last_admin(
    booking: Booking,
) -> None:
    client = booking.client
    ada, ada_account = await signed_in_operator(client, BOOTSTRAP, "Ada Grant", "administrator")
    cal, cal_account = await signed_in_operator(client, BOOTSTRAP, "Cal Moss")
    cal_path = f"/v1/operator/accounts/{cal_account['operator_id']}"
    ada_path = f"/v1/operator/accounts/{ada_account['operator_id']}"
    refused = await client.patch(ada_path, headers=cal, json={"disabled": True, "reason": "x"})
    assert refused.status_code == 403, "only administrators change accounts"

    own = await client.patch(ada_path, headers=ada, json={"disabled": True, "reason": "leaving"})
    assert own.status_code == 409, own.text
    assert "your own account" in own.json()["detail"]
    # Every other administrator this module made is disabled: Ada is the last one.
    for account in (await client.get("/v1/operator/accounts", headers=ada)).json()["items"]:
        if account["operator_id"] == ada_account["operator_id"] or account["disabled_at"]:
            continue
        if "administrator" in account["roles"]:
            gone = await client.patch(
                f"/v1/operator/accounts/{account['operator_id']}",
                headers=ada,
                json={"disabled": True, "reason": "tidying up"},
            )
            assert gone.status_code == 200, gone.text
    for who, body in [
        (ada, {"roles": ["coordinator"], "reason": "stepping down"}),
        (BOOTSTRAP, {"disabled": True, "reason": "leaving"}),
    ]:
        last = await client.patch(ada_path, headers=who, json=body)
        assert last.status_code == 409, last.text
        assert "last administrator" in last.json()["detail"]

    promoted = await client.patch(
        cal_path,
        headers=ada,
        json={"roles": ["coordinator", "safeguarding_lead"], "reason": "trained as a lead"},
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["roles"] == ["coordinator", "safeguarding_lead"]
    assert (await client.get("/v1/operator/me", headers=cal)).json()["roles"] == [
        "coordinator",
        "safeguarding_lead",
    ]

    disabled = await client.patch(
        cal_path, headers=ada, json={"disabled": True, "reason": "left the charity"}
    )
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled_at"] is not None
    # Signed out at once, and no new sign-in.
    assert (await client.get("/v1/operator/me", headers=cal)).status_code == 403
    again = await client.post(
        "/v1/operator/sessions",
        json={
            "email": cal_account["email"],
            "password": cal_account["password"],
            "code": totp_at(cal_account["totp_secret"], totp_step(utc_now()) + 1),
        },
    )
    assert again.status_code == 401

    trail = await _audit(booking, subject_id=str(cal_account["operator_id"]))
    changes = [e for e in trail if e["action"] == "operator.change"]
    assert [(e["operator"], e["reason"], e["details"]) for e in changes] == [
        (
            "Ada Grant",
            "trained as a lead",
            {"roles": {"before": ["coordinator"], "after": ["coordinator", "safeguarding_lead"]}},
        ),
        ("Ada Grant", "left the charity", {"disabled": True}),
    ]
    enabled = await client.patch(cal_path, headers=ada, json={"disabled": False, "reason": "back"})
    assert enabled.json()["disabled_at"] is None
