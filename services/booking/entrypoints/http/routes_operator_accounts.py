"""Operators' accounts, sign-in with a second factor, and the audit trail.

An administrator makes each operator's account; the operator signs in with their password
and the code from their authenticator app, and every later call names them. Administrators
read and export the audit trail; nothing in the API changes it.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field
from pydantic_core import to_jsonable_python

from services.booking.domain.operators import TOTP_DIGITS, Role
from services.booking.entrypoints.http.dependencies import Acts, Admin, Ctx, Token
from services.booking.entrypoints.http.schemas import EMAIL_PATTERN, Body
from services.booking.service_layer import operators
from shared.contracts import utc_now
from shared.http_limits import client_address, enforce

router = APIRouter(prefix="/v1/operator", tags=["operators"])


class OperatorSignInBody(Body):
    """An operator's email, password and the current code from their authenticator app."""

    email: str = Field(max_length=254)
    password: str = Field(max_length=256)
    code: str = Field(
        pattern=rf"^[0-9]{{{TOTP_DIGITS}}}$",
        max_length=TOTP_DIGITS,
        description="The six-digit one-time code.",
    )


class NewOperatorBody(Body):
    """An operator's account, made by an administrator."""

    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    name: str = Field(min_length=1, max_length=80, description="Shown in the audit trail.")
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    password: str = Field(min_length=12, max_length=256)


class OtherServiceEntryBody(Body):
    """What an operator did in another Kith service, for the one audit trail."""

    action: str = Field(
        pattern=r"^(partners|notify|ledger|ops)\.[a-z_]{1,60}$",
        max_length=70,
        description="The service, a dot, and what was done (`ledger.decide_pot_request`).",
    )
    subject_kind: str | None = Field(default=None, pattern=r"^[a-z_]{1,40}$", max_length=40)
    subject_id: str | None = Field(default=None, max_length=80)
    reason: str | None = Field(default=None, min_length=1, max_length=500)
    details: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=200)]] = (
        Field(
            default_factory=dict,
            max_length=20,
            description="What was asked (ids and choices, never personal values).",
        )
    )


class ExportFormat(StrEnum):
    """How the audit trail is exported."""

    CSV = "csv"
    JSON = "json"


AUDIT_COLUMNS = (
    "entry_id",
    "at",
    "operator_id",
    "operator",
    "roles",
    "action",
    "subject_kind",
    "subject_id",
    "reason",
    "details",
)


@router.post("/sessions", status_code=201)
async def sign_in(body: OperatorSignInBody, ctx: Ctx, request: Request) -> dict[str, Any]:
    """Sign in as an operator: a bearer token for ``KITH_OPERATOR_SESSION_HOURS``. Every try
    counts against ``KITH_RATE_OPS_SIGN_IN_*`` (per address, and per email)."""
    await enforce(
        ctx.limiter,
        ctx.settings,
        "ops_sign_in",
        address=client_address(request),
        account=f"operator:{body.email.lower()}",
    )
    return await operators.sign_in(
        ctx.uow,
        ctx.passwords,
        email=body.email,
        password=body.password,
        code=body.code,
        now=utc_now(),
        lifetime=timedelta(hours=ctx.settings.operator_session_hours),
    )


@router.delete("/sessions/current", status_code=204)
async def sign_out(who: Acts, token: Token, ctx: Ctx) -> Response:
    """Sign this session out: its token stops working at once."""
    if who.operator_id is not None:
        await operators.sign_out(ctx.uow, who, token, utc_now())
    return Response(status_code=204)


@router.get("/me")
async def me(who: Acts) -> dict[str, Any]:
    """Who is signed in, and their roles (``operator_id`` null: the development bootstrap
    administrator)."""
    return {
        "operator_id": who.operator_id,
        "name": who.name,
        "roles": sorted(role.value for role in who.roles),
    }


@router.post("/accounts", status_code=201)
async def add_operator(body: NewOperatorBody, who: Admin, ctx: Ctx) -> dict[str, Any]:
    """Administrators: make an operator's account. The answer holds the TOTP secret and its
    ``otpauth://`` address, shown this once: give it to the operator's authenticator app."""
    return await operators.add_operator(
        ctx.uow,
        ctx.passwords,
        who,
        email=body.email,
        name=body.name,
        roles=frozenset(body.roles),
        password=body.password,
        now=utc_now(),
    )


@router.get("/accounts")
async def accounts(_: Admin, ctx: Ctx) -> dict[str, Any]:
    """Administrators: every operator's account (never a secret)."""
    return {"items": await operators.listed(ctx.uow)}


class AccountChangeBody(Body):
    """A change to an operator's account, with the reason; what is left out stays."""

    roles: list[Role] | None = Field(default=None, min_length=1, max_length=len(Role))
    disabled: bool | None = Field(
        default=None, description="True disables the account (its sessions end at once)."
    )
    reason: str = Field(min_length=1, max_length=500, description="Why (kept on the trail).")


@router.patch("/accounts/{account_id}")
async def change_operator(
    account_id: uuid.UUID, body: AccountChangeBody, who: Admin, ctx: Ctx
) -> dict[str, Any]:
    """Administrators: change an operator's roles, or disable (``disabled: true``) or enable
    their account; a disabled operator is signed out everywhere at once. A 409 for disabling
    your own account, or for a change that would leave no enabled administrator."""
    return await operators.change_account(
        ctx.uow,
        who,
        account_id,
        roles=frozenset(body.roles) if body.roles is not None else None,
        disabled=body.disabled,
        reason=body.reason,
        now=utc_now(),
    )


AuditAfter = Annotated[int, Query(ge=0, description="Entries after this entry_id.")]
AuditLimit = Annotated[int, Query(ge=1, le=1000)]
AuditAction = Annotated[
    str | None, Query(max_length=80, description="An action, or its family (`concern`).")
]
AuditSubject = Annotated[str | None, Query(max_length=80, description="A subject's id.")]


@router.get("/audit")
async def audit(
    who: Admin,
    ctx: Ctx,
    after: AuditAfter = 0,
    limit: AuditLimit = 100,
    operator_id: uuid.UUID | None = None,
    action: AuditAction = None,
    subject_id: AuditSubject = None,
    newest_first: bool = False,
) -> dict[str, Any]:
    """Administrators: the audit trail in the order it was written; page with ``after`` set
    to the last ``entry_id`` (``next_after``, null at the end). ``newest_first`` gives the
    latest ``limit`` entries, newest first (no paging)."""
    entries = await operators.audit_trail(
        ctx.uow,
        who,
        utc_now(),
        after=after,
        limit=limit,
        operator_id=operator_id,
        action=action,
        subject_id=subject_id,
        newest_first=newest_first,
    )
    last = entries[-1]["entry_id"] if len(entries) == limit and not newest_first else None
    return {"items": entries, "next_after": last}


@router.post("/audit/entries", status_code=201)
async def record_elsewhere(body: OtherServiceEntryBody, who: Acts, ctx: Ctx) -> dict[str, Any]:
    """Put on record an action the calling operator takes in another Kith service (partners,
    notify, the ledger): the service forwards the operator's own token, so the entry names
    whoever booking knows the token to be, and the service acts only once it is written."""
    entry_id = await operators.record_elsewhere(
        ctx.uow,
        who,
        utc_now(),
        action=body.action,
        subject_kind=body.subject_kind,
        subject_id=body.subject_id,
        reason=body.reason,
        details=body.details,
    )
    return {"entry_id": entry_id}


@router.get(
    "/audit/export",
    response_class=Response,
    responses={
        200: {
            "description": "The audit trail as a file.",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            },
        }
    },
)
async def export_audit(
    who: Admin,
    ctx: Ctx,
    format: ExportFormat = ExportFormat.CSV,
    after: AuditAfter = 0,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 100_000,
    operator_id: uuid.UUID | None = None,
    action: AuditAction = None,
    subject_id: AuditSubject = None,
) -> Response:
    """Administrators: download the audit trail as CSV or JSON (the export is itself put
    on record)."""
    entries = await operators.audit_trail(
        ctx.uow,
        who,
        utc_now(),
        after=after,
        limit=limit,
        operator_id=operator_id,
        action=action,
        subject_id=subject_id,
        export=format.value,
    )
    stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
    disposition = f'attachment; filename="kith-audit-{stamp}.{format.value}"'
    if format is ExportFormat.JSON:
        return Response(
            json.dumps(to_jsonable_python(entries), ensure_ascii=False),
            media_type="application/json",
            headers={"Content-Disposition": disposition},
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AUDIT_COLUMNS)
    for entry in entries:
        writer.writerow(
            _cell(value)
            for value in [
                entry["entry_id"],
                entry["at"].isoformat(),
                entry["operator_id"] or "",
                entry["operator"],
                " ".join(entry["roles"]),
                entry["action"],
                entry["subject_kind"] or "",
                entry["subject_id"] or "",
                entry["reason"] or "",
                json.dumps(entry["details"], ensure_ascii=False, sort_keys=True),
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run: text starting like a formula gets a quote."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
