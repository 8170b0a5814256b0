"""Money in and out: a payer settles what they owe by card, a helper is paid what they are
owed, and the provider's webhooks are processed once each.

What is owed is read from the ledger (a ``money`` account's balance), never stored apart.
A payment is posted when the provider's webhook says it succeeded; a payout when the
provider accepted the transfer. Each posting carries the provider's id, which the ledger
takes once only, so neither a redelivered webhook nor a retried call posts twice.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from services.ledger.domain.postings import (
    PROVIDER_ACCOUNT,
    Kind,
    Posting,
    owner_account,
    reversal,
    transfer,
)
from services.ledger.service_layer.ports import (
    LedgerUnitOfWork,
    PaymentProvider,
    ProviderObject,
    Refused,
)
from shared.unit_of_work import UnitOfWorkStarter


def _key(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:48]


async def pay(
    start: UnitOfWorkStarter[LedgerUnitOfWork],
    provider: PaymentProvider,
    *,
    owner: str,
    currency: str,
    payment_method: str,
    now: datetime,
) -> ProviderObject:
    """Charge what ``owner`` owes in ``currency`` to a payment method made by the provider.

    Raises:
        Refused: nothing is owed.
        ProviderError: the provider refused or was not reached.
    """
    async with start() as uow:
        owed = -await uow.balance(owner_account(owner, "money"))
        last = await uow.last_entry(owner_account(owner, "money"))
    if owed <= 0:
        raise Refused("nothing is owed")
    # The same debt asked to be paid twice (a double tap) is one charge at the provider.
    payment = await provider.create_payment(
        amount=owed,
        currency=currency,
        payment_method=payment_method,
        owner=owner,
        idempotency_key=_key("pay", owner, currency, last, owed),
    )
    async with start() as uow:
        await uow.record_provider_object("payment", payment, owner)
    return payment


async def pay_out(
    start: UnitOfWorkStarter[LedgerUnitOfWork],
    provider: PaymentProvider,
    *,
    person_id: uuid.UUID,
    currency: str,
    now: datetime,
) -> ProviderObject:
    """Pay a helper what the ledger owes them in ``currency``, to their connected account.

    Raises:
        Refused: nothing is owed, or they have no payout account.
        ProviderError: the provider refused or was not reached.
    """
    owner = f"person:{person_id}"
    async with start() as uow:
        owed = await uow.balance(owner_account(owner, "money"))
        last = await uow.last_entry(owner_account(owner, "money"))
        destination = await uow.payout_account(owner)
    if owed <= 0:
        raise Refused("nothing is owed to this person")
    if destination is None:
        raise Refused("this person has not given a payout account")
    payout = await provider.create_payout(
        amount=owed,
        currency=currency,
        destination=destination,
        owner=owner,
        idempotency_key=_key("payout", owner, currency, last, owed),
    )
    posting = Posting(
        Kind.PAYOUT,
        transfer(owner_account(owner, "money"), PROVIDER_ACCOUNT, currency, payout.amount),
        person_id=person_id,
        external_ref=payout.provider_id,
        occurred_at=now,
        memo="paid out",
    )
    async with start() as uow:
        await uow.record_provider_object("payout", payout, owner)
        await uow.post(posting)
    return payout


async def on_webhook(
    start: UnitOfWorkStarter[LedgerUnitOfWork], event: dict[str, Any], *, now: datetime
) -> str:
    """Apply one verified provider event, once; what was done, for the answer and the log.

    ``payment_intent.succeeded`` posts the payment (the payer's debt goes down by what the
    provider received); ``payment_intent.payment_failed`` marks it failed; ``transfer.reversed``
    posts a correction of the payout. Anything else is acknowledged and ignored.
    """
    event_id, kind = str(event["id"]), str(event["type"])
    obj: dict[str, Any] = event["data"]["object"]
    async with start() as uow:
        if not await uow.first_webhook(event_id, kind):
            return "already processed"
        if kind == "payment_intent.succeeded":
            known = await uow.provider_object(str(obj["id"]))
            owner = (obj.get("metadata") or {}).get("kith_owner") or (known and known.owner)
            if not owner:
                return "not a payment of Kith's"
            currency = str(obj["currency"]).upper()
            amount = int(obj.get("amount_received") or obj["amount"])
            posted = await uow.post(
                Posting(
                    Kind.PAYMENT,
                    transfer(PROVIDER_ACCOUNT, owner_account(owner, "money"), currency, amount),
                    external_ref=str(obj["id"]),
                    occurred_at=now,
                    memo="paid by card",
                )
            )
            await uow.set_provider_status(str(obj["id"]), "succeeded")
            return "payment posted" if posted else "payment was posted already"
        if kind == "payment_intent.payment_failed":
            await uow.set_provider_status(str(obj["id"]), "failed")
            return "payment failed"
        if kind == "transfer.reversed":
            original = await uow.posting_by_ref(str(obj["id"]))
            if original is None:
                return "not a payout of Kith's"
            correction = reversal(original, memo="payout reversed by the provider", occurred_at=now)
            posted = await uow.post(correction)
            await uow.set_provider_status(str(obj["id"]), "reversed")
            return "payout reversed" if posted else "payout was reversed already"
    return "ignored"
