"""Payments, payouts and the provider's webhooks; reconciliation for operators."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, HTTPException, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.ledger.adapters.metrics import WEBHOOKS
from services.ledger.adapters.reconciliation import reconcile
from services.ledger.adapters.stripe import BadSignature, verify_webhook
from services.ledger.entrypoints.http.deps import Ctx, Me, Operator
from services.ledger.service_layer import payments
from services.ledger.service_layer.ports import PaymentProvider
from shared.contracts import utc_now

log = structlog.get_logger(__name__)

router = APIRouter(tags=["payments"])


class PaymentBody(BaseModel):
    """Pay what I owe with a payment method made by the provider's client library (its id,
    ``pm_...``): the card itself never reaches Kith."""

    model_config = ConfigDict(extra="forbid")

    payment_method: str = Field(pattern=r"^pm_[A-Za-z0-9_]{1,200}$")
    currency: str = Field(default="GBP", pattern=r"^[A-Z]{3}$")


class PayoutAccountBody(BaseModel):
    """The provider's id of my payout account (``acct_...``), made in the provider's own
    onboarding."""

    model_config = ConfigDict(extra="forbid")

    account: str = Field(pattern=r"^acct_[A-Za-z0-9]{1,200}$")


class PayoutBody(BaseModel):
    """Pay a person what the ledger owes them."""

    model_config = ConfigDict(extra="forbid")

    currency: str = Field(default="GBP", pattern=r"^[A-Z]{3}$")


def _provider(request: Request) -> PaymentProvider:
    provider = request.app.state.provider
    if provider is None:
        raise HTTPException(503, "payments are not set up (KITH_LEDGER_PROVIDER_SECRET_KEY)")
    assert provider is not None
    return provider  # type: ignore[no-any-return]


@router.put("/v1/me/ledger/payout-account")
async def set_payout_account(body: PayoutAccountBody, ctx: Ctx, person_id: Me) -> dict[str, str]:
    """Where my earnings are paid: my account at the provider."""
    await ctx.communities.set_payout_account(f"person:{person_id}", body.account)
    return {"account": body.account}


@router.post("/v1/me/ledger/payments", status_code=202)
async def pay(body: PaymentBody, ctx: Ctx, person_id: Me, request: Request) -> dict[str, Any]:
    """Pay what I owe; it is posted when the provider confirms (by webhook)."""
    payment = await payments.pay(
        ctx.start,
        _provider(request),
        owner=f"person:{person_id}",
        currency=body.currency,
        payment_method=body.payment_method,
        now=utc_now(),
    )
    return {"payment": payment.provider_id, "amount": payment.amount, "status": payment.status}


@router.post("/v1/operator/ledger/payouts/{person_id}", dependencies=[Operator])
async def pay_out(
    person_id: uuid.UUID, body: PayoutBody, ctx: Ctx, request: Request
) -> dict[str, Any]:
    """Pay a helper what the ledger owes them, to their payout account."""
    payout = await payments.pay_out(
        ctx.start, _provider(request), person_id=person_id, currency=body.currency, now=utc_now()
    )
    return {"payout": payout.provider_id, "amount": payout.amount}


@router.post("/v1/ledger/webhooks/provider")
async def webhook(
    request: Request,
    ctx: Ctx,
    stripe_signature: Annotated[str, Header(max_length=2000)],
) -> dict[str, str]:
    """The provider's webhook: refused unless its signature verifies; each event is applied
    once however often the provider sends it."""
    secret: str | None = request.app.state.webhook_secret
    if secret is None:
        raise HTTPException(503, "webhooks are not set up (KITH_LEDGER_PROVIDER_WEBHOOK_SECRET)")
    payload = await request.body()
    try:
        event = verify_webhook(
            payload,
            stripe_signature,
            secret,
            now=utc_now(),
            tolerance_s=request.app.state.webhook_tolerance_s,
        )
        outcome = await payments.on_webhook(ctx.start, event, now=utc_now())
    except BadSignature as error:
        WEBHOOKS.labels("refused").inc()
        raise HTTPException(400, f"stripe-signature: {error}") from None
    except (KeyError, TypeError, ValueError) as error:
        raise HTTPException(400, f"not an event the ledger can read: {error!r}") from None
    log.info("provider webhook", event_id=str(event.get("id")), outcome=outcome)
    WEBHOOKS.labels(outcome).inc()
    return {"outcome": outcome}


@router.get("/v1/operator/ledger/reconciliation", dependencies=[Operator])
async def reconciliation(
    ctx: Ctx,
    request: Request,
    since: Annotated[AwareDatetime | None, Query(description="default: 31 days ago")] = None,
) -> dict[str, Any]:
    """The ledger against completed visits and the provider's payouts: every difference."""
    start = since or utc_now() - timedelta(days=31)
    return await reconcile(ctx.pool, request.app.state.provider, since=start)
