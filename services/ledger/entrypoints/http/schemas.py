"""What the ledger answers a person, documented: the web app's typed client is generated
from this API's OpenAPI document (``web/ledger-openapi.json``, ``kith openapi --service
ledger``), so these shapes are a contract with it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Hours(BaseModel):
    """Hours, in hours (two decimals)."""

    given: float = Field(description="hours given to others on visits")
    received: float = Field(description="hours received from others on visits")
    gifted_to_pots: float = Field(description="hours given into communities' pots")
    credits: float = Field(description="time credits: hours to receive (below zero: owed)")


class Money(BaseModel):
    """Money in one currency, in minor units (pence)."""

    currency: str
    balance: int
    earned: int = Field(description="earned for visits")
    charged: int = Field(description="charged for visits and expenses as the neighbour")
    expenses: int = Field(description="spent for neighbours and paid back (expenses, mileage)")
    paid: int = Field(description="paid by card")
    paid_out: int = Field(description="paid out to a bank account")


class Balance(BaseModel):
    """A person's balance, derived from the ledger's entries."""

    owner: str
    hours: Hours
    money: list[Money]


class StatementLine(BaseModel):
    """One entry on a person's accounts."""

    entry_id: int
    posting_id: str
    kind: Literal[
        "visit",
        "late_cancellation",
        "gift",
        "expense",
        "mileage",
        "payment",
        "payout",
        "correction",
    ]
    mode: Literal["paid", "time_credits", "gifted"] | None
    account: Literal["time", "money"]
    unit: str = Field(description="``hour`` (amounts in minutes) or a currency (minor units)")
    amount: int = Field(description="above zero: to this person; below: from them")
    occurred_at: str
    booking_id: str | None
    memo: str
    corrects: str | None = Field(description="the posting this one corrects, if a correction")


class Statement(BaseModel):
    """Entries, newest first."""

    items: list[StatementLine]
    next_before: int | None = Field(description="pass as ``before`` for the next page")


class Month(BaseModel):
    """A helper's month."""

    month: str = Field(description="YYYY-MM (UTC)")
    hours_given: float
    earned: dict[str, int] = Field(description="minor units, per currency")


class Earnings(BaseModel):
    """A helper's earnings, by month, oldest first."""

    months: list[Month]


class Pot(BaseModel):
    """A community's pot of gifted hours."""

    community_id: str
    hours: float = Field(description="in it now")
    given: float = Field(description="given into it, in all")
    drawn: float = Field(description="drawn from it for visits, in all")


class Gift(BaseModel):
    """Hours given into a pot."""

    posting_id: str
    pot: Pot


class PotAsked(BaseModel):
    """A request asked to be covered from a pot."""

    request_id: str
    community_id: str
    new: bool = Field(description="false when it had been asked already")


class CommunityView(BaseModel):
    """How a neighbourhood's hours are paid for, as a person sees it."""

    community_id: str
    modes: list[Literal["paid", "time_credits", "gifted"]]
    currency: str
    pot_rule: Literal["approval", "allowance"]
    monthly_allowance_hours: int
    mileage_rate: int = Field(description="minor units per mile for a lift (0: none)")
    pot: Pot


class Expense(BaseModel):
    """An expense or a lift's mileage."""

    expense_id: str
    kind: Literal["expense", "mileage"]
    booking_id: str
    currency: str
    amount: int = Field(description="minor units")
    what_for: str
    has_receipt: bool
    status: Literal["recorded", "confirmed", "disputed"]
    helper_id: str | None = None
    neighbour_id: str | None = None
    miles: float | None = None
    recorded_at: str | None = None


class Expenses(BaseModel):
    """Expenses a person recorded or is asked to confirm, newest first."""

    items: list[Expense]
