"""Email verification and password reset: links sent by email, or by text message to an
account with a phone only (notify), single-use tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ConfigDict, Field

from services.booking.domain.errors import Invalid
from services.booking.entrypoints.http.dependencies import Ctx, Me
from services.booking.entrypoints.http.schemas import Body, email_or_phone
from services.booking.service_layer import account_links
from shared.contracts import utc_now
from shared.http_limits import client_address, enforce

router = APIRouter(prefix="/v1", tags=["people"])


class PasswordResetBody(Body):
    """The email, or the mobile phone number, of the account whose password is forgotten."""

    model_config = ConfigDict(json_schema_extra=email_or_phone)

    email: str | None = Field(default=None, min_length=3, max_length=254)
    phone: str | None = Field(
        default=None,
        min_length=3,
        max_length=40,
        description="The mobile phone number signed up with (E.164, such as +447700900123).",
    )


class LinkTokenBody(Body):
    """The token from a link Kith emailed (after ``token=`` in the link)."""

    token: str = Field(min_length=16, max_length=128)


class PasswordResetConfirmBody(LinkTokenBody):
    """A reset link's token and the new password."""

    password: str = Field(min_length=8, max_length=256)


#: The same answer whether or not the address has an account: a stranger learns nothing.
_SENT = {
    "status": "sent",
    "detail": "if an account has this email or phone number, a link to reset its password"
    " is on its way",
}


@router.post("/auth/password-reset", status_code=202)
async def ask_password_reset(body: PasswordResetBody, ctx: Ctx, request: Request) -> dict[str, Any]:
    """Forgotten password: send a link to reset it (valid ``KITH_PASSWORD_RESET_TTL_S``,
    once), by email, or by text message to an account with a phone only. Name the account
    by ``email`` or by ``phone`` (the email is used when both are given). The answer is the
    same whether or not there is such an account. Counted against the sign-in limits
    (``KITH_RATE_SIGN_IN_*``, per client address and per email or phone)."""
    account = body.email or body.phone
    if account is None:
        raise Invalid("email", "give the account's email or its mobile phone number (phone)")
    await enforce(
        ctx.limiter, ctx.settings, "sign_in", address=client_address(request), account=account
    )
    await account_links.request_password_reset(
        ctx.uow, body.email, utc_now(), ctx.settings.password_reset_ttl_s, phone=body.phone
    )
    return _SENT


@router.post("/auth/password-reset/confirm")
async def confirm_password_reset(
    body: PasswordResetConfirmBody, ctx: Ctx, request: Request
) -> dict[str, Any]:
    """Set a new password with a reset link's token: it works once and expires; every
    session of the account ends (sign in again with the new password). A used, expired or
    unknown token is a 422 problem naming ``token`` and why."""
    await enforce(ctx.limiter, ctx.settings, "sign_in", address=client_address(request))
    # Hashed before the transaction opens: it takes tens of milliseconds.
    password_hash = await ctx.passwords.hash(body.password)
    person_id = await account_links.reset_password(
        ctx.uow, body.token, password_hash, ctx.sessions, utc_now()
    )
    return {"person_id": person_id, "status": "password changed: sign in with it"}


@router.post("/me/email-verification", status_code=202)
async def ask_email_verification(ctx: Ctx, person_id: Me, request: Request) -> dict[str, Any]:
    """Email me a link to verify my email again (a new sign-up gets one by itself); the
    link works for ``KITH_EMAIL_VERIFICATION_TTL_S``. Counted against the sign-in limits."""
    await enforce(
        ctx.limiter,
        ctx.settings,
        "sign_in",
        address=client_address(request),
        account=f"verify:{person_id}",
    )
    await account_links.ask_verification(
        ctx.uow, person_id, utc_now(), ctx.settings.email_verification_ttl_s
    )
    return {"status": "sent", "detail": "a link to verify your email is on its way"}


@router.post("/auth/email-verification/confirm")
async def confirm_email_verification(
    body: LinkTokenBody, ctx: Ctx, request: Request
) -> dict[str, Any]:
    """Verify an email with a verification link's token (once; it expires)."""
    await enforce(ctx.limiter, ctx.settings, "sign_in", address=client_address(request))
    person_id = await account_links.verify_email(ctx.uow, body.token, utc_now())
    return {"person_id": person_id, "email_verified": True}
