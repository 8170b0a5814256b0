"""A person's download of what Kith holds about them.

Booking answers from its own database only (no service reads another's): the person's
profile, availability, requests, offers, visits, the check-ins and concerns they wrote and
their sessions, and what booking keeps of trust's word on them (standing and relationships,
from trust's events). What only trust keeps is named, with why, under ``held_elsewhere``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from services.booking.domain.errors import NotFound
from services.booking.service_layer.accounts import get_availability, me
from services.booking.service_layer.ports import UnitOfWork
from services.booking.service_layer.records import Row

#: What other services keep about a person that this export cannot include, and why.
HELD_ELSEWHERE: dict[str, str] = {
    "trust": (
        "Trust keeps each vetting step recorded for you (which step, when, who recorded it),"
        " from which the approved skills under 'trust.standing' follow, and its own copy of"
        " your check-in answers and concerns. Ask an operator for them."
    ),
    "withheld": (
        "What other people said of you (their check-in answers, the concerns they raised and"
        " how operators resolved them) is theirs and is not included, nor relationships the"
        " other person ended, which would tell you their answer."
    ),
}


async def export(
    uow: UnitOfWork, person_id: uuid.UUID, *, now: datetime, session_max_age_days: int
) -> dict[str, Any]:
    """Everything booking holds of or by the person, as one JSON-ready document."""
    profile = await me(uow, person_id)
    availability = await get_availability(uow, person_id, now)
    async with uow.read() as repo:
        person = await repo.person(person_id)
        if person is None:
            raise NotFound("no such person")
        rows = await repo.export_of(person_id)
        standing = await repo.standing(person_id)
        assisted = await repo.assisted_sign_up(person_id)
    lifetime = timedelta(days=session_max_age_days)
    return {
        "exported_at": now,
        "profile": {**profile, "kind": person["kind"], "created_at": person["created_at"]},
        "availability": availability,
        "requests": [_request(row) for row in rows["requests"]],
        "series": [_series(row) for row in rows["series"]],
        "offers": [_offer(row) for row in rows["offers"]],
        "bookings": [_booking(row, person_id) for row in rows["bookings"]],
        "check_ins": [_check_in(row) for row in rows["check_ins"]],
        "concerns_raised": [_concern(row) for row in rows["concerns_raised"]],
        "sessions": [
            {"created_at": row["created_at"], "expires_at": row["created_at"] + lifetime}
            for row in rows["sessions"]
        ],
        "referrals": [_referral(row) for row in rows["referrals"]],
        # Registered by an operator: by whom, and the consent given (null if self-made).
        "assisted_sign_up": assisted.view() if assisted is not None else None,
        "trust": {
            "standing": standing,
            "relationships": [_relationship(row, person_id) for row in rows["relationships"]],
        },
        "held_elsewhere": HELD_ELSEWHERE,
    }


def _series(row: Row) -> dict[str, Any]:
    return _pick(
        row,
        "series_id",
        "repeat",
        "first_starts_at",
        "time_zone",
        "occurrences",
        "skill",
        "hours",
        "notes",
        "made_until",
        "regular_helper_id",
        "status",
        "created_at",
    )


def _pick(row: Row, *names: str) -> dict[str, Any]:
    return {name: row[name] for name in names}


def _request(row: Row) -> dict[str, Any]:
    return _pick(
        row,
        "request_id",
        "series_id",
        "occurrence",
        "occurrences",
        "skill",
        "starts_at",
        "hours",
        "preferred_helper_id",
        "notes",
        "status",
        "created_at",
    )


def _offer(row: Row) -> dict[str, Any]:
    return _pick(
        row,
        "offer_id",
        "request_id",
        "skill",
        "starts_at",
        "hours",
        "round",
        "expires_at",
        "status",
        "received_at",
    )


def _booking(row: Row, person_id: uuid.UUID) -> dict[str, Any]:
    mine = "helper" if row["helper_id"] == person_id else "neighbour"
    view = _pick(
        row,
        "booking_id",
        "request_id",
        "helper_id",
        "neighbour_id",
        "skill",
        "starts_at",
        "hours",
        "status",
        "checked_in_at",
        "completed_at",
        "cancelled_at",
        "cancelled_by",
        "created_at",
    )
    view["my_side"] = mine
    # A reason is the canceller's own words: the person gets theirs, not the other side's.
    view["cancel_reason"] = row["cancel_reason"] if row["cancelled_by"] == mine else None
    # So is a no-show's note: the side that reported it wrote it.
    view["no_show_note"] = (
        row.get("no_show_note") if row.get("no_show_reported_by") == mine else None
    )
    return view


def _check_in(row: Row) -> dict[str, Any]:
    return _pick(
        row, "checkin_id", "booking_id", "about_id", "see_again", "as_agreed", "note", "created_at"
    )


def _concern(row: Row) -> dict[str, Any]:
    # Their own words and where the concern stands; an operator's reasoning is not theirs.
    return _pick(row, "concern_id", "about_id", "booking_id", "summary", "status", "raised_at")


def _referral(row: Row) -> dict[str, Any]:
    return _pick(
        row,
        "referral_id",
        "partner_id",
        "partner_reference",
        "referred_at",
        "consent_given_at",
        "consent_method",
        "consent_recorded_by",
    )


def _relationship(row: Row, person_id: uuid.UUID) -> dict[str, Any]:
    helper = row["helper_id"] == person_id
    return {
        "person_id": row["neighbour_id"] if helper else row["helper_id"],
        "my_side": "helper" if helper else "neighbour",
        "stage": row["stage"],
        "visits": row["visits"],
        "hours_together": row["hours_together"],
        "last_visit_at": row["last_visit_at"],
    }
