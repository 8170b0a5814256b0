"""Visits close by themselves: booking's visit sweep, run by the clock.

Without it, a visit nobody checked out of stayed open for ever (its check-in questions never
asked, the relationship never moving on), and a helper who never came was noticed only if
the neighbour reported it. Each run, in one transaction per batch:

- a visit checked in but not out is completed ``close_after_s`` after its end: the same
  ``visit.completed`` trust consumes, so its questions are asked and the pair moves on;
- a confirmed visit whose helper has not checked in ``no_show_after_s`` after its start
  takes the no-show path: the booking is a no-show (the helper absent), its hours go back,
  ``visit.no_show`` (version 2: reported by nobody) tells operators and trust, and both
  people are told through their notices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.booking.domain.visits import BookingStatus, visit_fields
from services.booking.service_layer.ports import Repository, UnitOfWork
from services.booking.service_layer.records import Row
from shared.contracts import Envelope
from shared.contracts.bookings import Side, VisitCompleted, VisitNoShowV2
from shared.settings import Settings

PRODUCER = "booking"
#: Visits closed per transaction; a full batch makes the sweep run again at once.
BATCH = 200


@dataclass(frozen=True, slots=True)
class VisitWindows:
    """How long after a visit's start or end the sweep acts."""

    no_show_after_s: int
    close_after_s: int

    @classmethod
    def from_settings(cls, settings: Settings) -> VisitWindows:
        """The windows the settings name."""
        return cls(settings.no_show_after_s, settings.visit_close_after_s)


async def close_overdue_visits(uow: UnitOfWork, now: datetime, windows: VisitWindows) -> int:
    """Close one batch of overdue visits as of ``now``; how many were closed."""
    not_checked_in_by = now - timedelta(seconds=windows.no_show_after_s)
    ended_by = now - timedelta(seconds=windows.close_after_s)
    async with uow.begin() as repo:
        rows = await repo.overdue_visits(not_checked_in_by, ended_by, BATCH)
        for row in rows:
            if row["status"] == BookingStatus.CHECKED_IN:
                await _complete(repo, row, now)
            else:
                await _not_checked_in(repo, row)
    return len(rows)


async def _complete(repo: Repository, row: Row, now: datetime) -> None:
    booking_id = row["booking_id"]
    await repo.update_booking(
        booking_id, status=BookingStatus.COMPLETED.value, completed_at=now, closed_by_sweep=True
    )
    await repo.publish([Envelope.wrap(VisitCompleted(**visit_fields(row)), producer=PRODUCER)])
    told = {"booking_id": str(booking_id)}
    for person_id in (row["helper_id"], row["neighbour_id"]):
        await repo.notify(person_id, "booking.completed", told)


async def _not_checked_in(repo: Repository, row: Row) -> None:
    booking_id = row["booking_id"]
    await repo.update_booking(
        booking_id,
        status=BookingStatus.NO_SHOW.value,
        no_show_absent=Side.HELPER.value,
        no_show_reported_by=None,
        closed_by_sweep=True,
    )
    await repo.free_helper_hours(booking_id)
    event = VisitNoShowV2(**visit_fields(row), absent=Side.HELPER, reported_by=None)
    await repo.publish([Envelope.wrap(event, producer=PRODUCER)])
    told = {"booking_id": str(booking_id)}
    for person_id in (row["neighbour_id"], row["helper_id"]):
        await repo.notify(person_id, "booking.no_show", told)
