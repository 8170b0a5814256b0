"""Expenses and mileage: the helper records, the neighbour confirms, the ledger posts."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from services.ledger.entrypoints.http import schemas
from services.ledger.entrypoints.http.deps import Ctx, Me
from services.ledger.service_layer import expenses
from shared.contracts import utc_now

router = APIRouter(prefix="/v1/me/ledger", tags=["expenses"])


class ReceiptBody(BaseModel):
    """A photo of the receipt, base64-encoded."""

    model_config = ConfigDict(extra="forbid")

    content_type: Literal["image/jpeg", "image/png", "image/webp", "application/pdf"]
    data_base64: str = Field(min_length=4, max_length=30_000_000)


class ExpenseBody(BaseModel):
    """Money a helper spent for the neighbour of one of their visits."""

    model_config = ConfigDict(extra="forbid")

    booking_id: uuid.UUID
    amount: int = Field(strict=True, ge=1, le=1_000_000, description="minor units (pence)")
    what_for: str = Field(min_length=1, max_length=200)
    receipt: ReceiptBody | None = None


class MileageBody(BaseModel):
    """How far a helper drove a neighbour on a lift, to a tenth of a mile."""

    model_config = ConfigDict(extra="forbid")

    booking_id: uuid.UUID
    miles: float = Field(gt=0, le=500)


class DecisionBody(BaseModel):
    """The neighbour's answer to an expense."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["confirm", "dispute"]


def _json(expense: expenses.Expense) -> dict[str, Any]:
    return {
        "expense_id": str(expense.expense_id),
        "kind": str(expense.kind),
        "booking_id": str(expense.booking_id),
        "currency": expense.currency,
        "amount": expense.amount,
        "what_for": expense.what_for,
        "has_receipt": expense.has_receipt,
        "status": expense.status,
    }


@router.post("/expenses", status_code=201, response_model=schemas.Expense)
async def record_expense(
    body: ExpenseBody, ctx: Ctx, person_id: Me, request: Request
) -> dict[str, Any]:
    """Record what I spent for the neighbour of my visit (the neighbour then confirms)."""
    receipt = None
    if body.receipt is not None:
        try:
            data = base64.b64decode(body.receipt.data_base64, validate=True)
        except (binascii.Error, ValueError):
            raise HTTPException(422, "receipt.data_base64: not base64") from None
        if len(data) > request.app.state.receipt_max_bytes:
            raise HTTPException(413, "receipt: the photo is too large")
        receipt = expenses.Receipt(body.receipt.content_type, data)
    expense = await expenses.record_expense(
        ctx.start,
        helper_id=person_id,
        booking_id=body.booking_id,
        amount=body.amount,
        what_for=body.what_for,
        receipt=receipt,
        now=utc_now(),
    )
    return _json(expense)


@router.post("/mileage", status_code=201, response_model=schemas.Expense)
async def record_mileage(body: MileageBody, ctx: Ctx, person_id: Me) -> dict[str, Any]:
    """Record the miles of a lift I gave, paid at the community's rate once confirmed."""
    expense = await expenses.record_mileage(
        ctx.start,
        helper_id=person_id,
        booking_id=body.booking_id,
        miles_tenths=round(body.miles * 10),
        now=utc_now(),
    )
    return _json(expense)


@router.get("/expenses", response_model=schemas.Expenses)
async def my_expenses(
    ctx: Ctx, person_id: Me, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    """Expenses I recorded as a helper, and those I am asked to confirm, newest first."""
    return {"items": await ctx.queries.expenses_of(person_id, limit)}


@router.post("/expenses/{expense_id}", response_model=schemas.Expense)
async def decide(
    expense_id: uuid.UUID, body: DecisionBody, ctx: Ctx, person_id: Me
) -> dict[str, Any]:
    """As the neighbour: confirm an expense (it is posted) or dispute it (nothing is)."""
    expense = await expenses.decide(
        ctx.start,
        neighbour_id=person_id,
        expense_id=expense_id,
        confirm=body.decision == "confirm",
        now=utc_now(),
    )
    return {**_json(expense), "status": "confirmed" if body.decision == "confirm" else "disputed"}


@router.get("/expenses/{expense_id}/receipt", response_class=Response)
async def receipt(expense_id: uuid.UUID, ctx: Ctx, person_id: Me) -> Response:
    """The receipt photo, for the visit's helper and neighbour only."""
    found = await ctx.queries.receipt(expense_id, person_id)
    if found is None:
        raise HTTPException(404, "no receipt of yours with this id")
    content_type, data = found
    return Response(
        data,
        media_type=content_type,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
