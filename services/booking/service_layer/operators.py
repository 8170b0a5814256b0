"""Operators' accounts: made by an administrator, signed into with a password and a code.

Who may do what is decided at the route (a role per action); this module makes accounts,
signs operators in and out, and reads the audit trail for administrators.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from services.booking.domain.credentials import Passwords, new_token, token_digest
from services.booking.domain.errors import Conflict, NotFound, Unauthorized
from services.booking.domain.operators import (
    Acting,
    Role,
    account_change_refusal,
    new_totp_secret,
    provisioning_uri,
    totp_matches,
)
from services.booking.service_layer.ports import UnitOfWork
from shared.operator_access import OPERATOR_SESSION_PREFIX

#: Said for every refused sign-in, whatever was wrong: it tells nobody which part failed.
_REFUSED = "that email, password and code do not match an operator"


async def add_operator(
    uow: UnitOfWork,
    passwords: Passwords,
    by: Acting,
    *,
    email: str,
    name: str,
    roles: frozenset[Role],
    password: str,
    now: datetime,
) -> dict[str, Any]:
    """Make an operator's account; the answer carries the TOTP secret, shown this once."""
    password_hash = await passwords.hash(password)  # slow: before the transaction opens
    secret = new_totp_secret()
    operator_id = uuid.uuid4()
    async with uow.begin() as repo:
        added = await repo.add_operator(
            {
                "operator_id": operator_id,
                "email": email,
                "name": name,
                "roles": sorted(role.value for role in roles),
                "password_hash": password_hash,
                "totp_secret": secret,
                "created_at": now,
                "created_by": by.stamp,
            }
        )
        if not added:
            raise Conflict("an operator with that email exists")
        await repo.audit(
            by,
            "operator.add",
            now,
            subject_kind="operator",
            subject_id=operator_id,
            details={"name": name, "roles": sorted(role.value for role in roles)},
        )
    return {
        "operator_id": operator_id,
        "email": email,
        "name": name,
        "roles": sorted(role.value for role in roles),
        "totp_secret": secret,
        "totp_uri": provisioning_uri(secret, email),
    }


async def sign_in(
    uow: UnitOfWork,
    passwords: Passwords,
    *,
    email: str,
    password: str,
    code: str,
    now: datetime,
    lifetime: timedelta,
) -> dict[str, Any]:
    """A session token for an operator whose password and current code are right."""
    async with uow.read() as repo:
        found = await repo.operator_for_sign_in(email)
    # The slow hash runs outside any transaction; an unknown email checks a dummy hash.
    check = await passwords.check(password, found["password_hash"] if found else None)
    if found is None or not check.matches:
        raise Unauthorized(_REFUSED)
    token = OPERATOR_SESSION_PREFIX + new_token()
    expires_at = now + lifetime
    async with uow.begin() as repo:
        # Read again under a lock: two sign-ins racing with one code, only one uses it.
        account = await repo.operator_for_sign_in(email)
        if account is None:
            raise Unauthorized(_REFUSED)
        step = totp_matches(account["totp_secret"], code, now, account["totp_last_step"])
        if step is None:
            raise Unauthorized(_REFUSED)
        await repo.operator_signed_in(
            account["operator_id"], token_digest(token), step, now, expires_at, check.rehashed
        )
        who = Acting(
            account["operator_id"],
            account["name"],
            frozenset(Role(role) for role in account["roles"]),
        )
        await repo.audit(
            who, "operator.sign_in", now, subject_kind="operator", subject_id=who.operator_id
        )
    return {
        "token": token,
        "expires_at": expires_at,
        "operator": {"operator_id": who.operator_id, "name": who.name, "roles": account["roles"]},
    }


async def authenticate(uow: UnitOfWork, token: str, now: datetime) -> Acting | None:
    """The operator whose live session ``token`` is, or ``None``."""
    async with uow.read() as repo:
        return await repo.operator_by_token(token_digest(token), now)


async def sign_out(uow: UnitOfWork, who: Acting, token: str, now: datetime) -> None:
    """End the session ``token`` (it stops working at once)."""
    async with uow.begin() as repo:
        await repo.end_operator_session(token_digest(token))
        await repo.audit(
            who, "operator.sign_out", now, subject_kind="operator", subject_id=who.operator_id
        )


async def listed(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every operator's account, without secrets."""
    async with uow.read() as repo:
        return await repo.operators()


async def one(uow: UnitOfWork, operator_id: uuid.UUID) -> dict[str, Any]:
    """One operator's account, without secrets."""
    async with uow.read() as repo:
        found = await repo.operator(operator_id)
    if found is None:
        raise NotFound("no such operator")
    return found


async def change_account(
    uow: UnitOfWork,
    by: Acting,
    operator_id: uuid.UUID,
    *,
    roles: frozenset[Role] | None,
    disabled: bool | None,
    reason: str,
    now: datetime,
) -> dict[str, Any]:
    """Administrators: change an operator's roles, or disable (or enable) their account; a
    disabled operator's sessions end at once. Refused (409) for one's own disabling and for
    a change leaving no enabled administrator."""
    async with uow.begin() as repo:
        # The administrators first, then the account: every change takes the same order.
        admins = await repo.enabled_administrators()
        account = await repo.operator_locked(operator_id)
        if account is None:
            raise NotFound("no such operator")
        enabled_before = account["disabled_at"] is None
        enabled_after = enabled_before if disabled is None else not disabled
        roles_before = sorted(account["roles"])
        roles_after = roles_before if roles is None else sorted(role.value for role in roles)
        admin = Role.ADMINISTRATOR.value
        why = account_change_refusal(
            by.operator_id,
            operator_id,
            disabling=enabled_before and not enabled_after,
            admin_before=enabled_before and admin in roles_before,
            admin_after=enabled_after and admin in roles_after,
            enabled_admins=len(admins),
        )
        if why is not None:
            raise Conflict(why)
        disabled_at = None if enabled_after else (account["disabled_at"] or now)
        await repo.change_operator(operator_id, roles_after, disabled_at)
        changes: dict[str, Any] = {}
        if roles_after != roles_before:
            changes["roles"] = {"before": roles_before, "after": roles_after}
        if enabled_after != enabled_before:
            changes["disabled"] = not enabled_after
        await repo.audit(
            by,
            "operator.change",
            now,
            subject_kind="operator",
            subject_id=operator_id,
            reason=reason,
            details=changes,
        )
    return {
        **{key: account[key] for key in ("operator_id", "email", "name", "created_at")},
        "roles": roles_after,
        "disabled_at": disabled_at,
    }


async def record_elsewhere(
    uow: UnitOfWork,
    who: Acting,
    now: datetime,
    *,
    action: str,
    subject_kind: str | None,
    subject_id: str | None,
    reason: str | None,
    details: dict[str, str],
) -> int:
    """One entry for an action ``who`` takes in another service; its id."""
    async with uow.begin() as repo:
        return await repo.audit(
            who,
            action,
            now,
            subject_kind=subject_kind,
            subject_id=subject_id,
            reason=reason,
            details=details,
        )


async def audit_trail(
    uow: UnitOfWork,
    who: Acting,
    now: datetime,
    *,
    after: int,
    limit: int,
    operator_id: uuid.UUID | None,
    action: str | None,
    subject_id: str | None,
    export: str | None = None,
    newest_first: bool = False,
) -> list[dict[str, Any]]:
    """Entries of the audit trail, in the order written; reading it is itself recorded when
    it is exported (a copy leaves Kith)."""
    async with uow.begin() as repo:
        entries = await repo.audit_entries(
            after=after,
            limit=limit,
            operator_id=operator_id,
            action=action,
            subject_id=subject_id,
            newest_first=newest_first,
        )
        if export is not None:
            await repo.audit(
                who,
                "audit.export",
                now,
                details={"format": export, "entries": len(entries), "after": after},
            )
    return entries
