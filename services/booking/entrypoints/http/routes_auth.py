"""Email verification and password reset: links sent by email (notify), single-use tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from services.booking.entrypoints.http.dependencies import Ctx, Me
from services.booking.entrypoints.http.schemas import Body
from services.booking.service_layer import account_links
from shared.contracts import utc_now
from shared.http_limits import client_address, enforce

router = APIRouter(prefix="/v1", tags=["people"])


class PasswordResetBody(Body):
    """The email of the account whose password is forgotten."""

    email: str = Field(min_length=3, max_length=254)


class LinkTokenBody(Body):
    """The token from a link Kith emailed (after ``token=`` in the link)."""

    token: str = Field(min_length=16, max_length=128)


class PasswordResetConfirmBody(LinkTokenBody):
    """A reset link's token and the new password."""

    password: str = Field(min_length=8, max_length=256)


#: The same answer whether or not the address has an account: a stranger learns nothing.
_SENT = {
    "status": "sent",
    "detail": "if an account has this email, a link to reset its password is on its way",
}


@router.post("/auth/password-reset", status_code=202)
async def ask_password_reset(body: PasswordResetBody, ctx: Ctx, request: Request) -> dict[str, Any]:
    """Forgotten password: email a link to reset it (valid ``KITH_PASSWORD_RESET_TTL_S``,
    once). The answer is the same whether or not an account has this email. Counted
    against the sign-in limits (``KITH_RATE_SIGN_IN_*``, per client address and per email)."""
    await enforce(
        ctx.limiter, ctx.settings, "sign_in", address=client_address(request), account=body.email
    )
    await account_links.request_password_reset(
        ctx.uow, body.email, utc_now(), ctx.settings.password_reset_ttl_s
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
