"""Booking's SQL: every query the use cases need, on one connection."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.booking.adapters.account_link_queries import AccountLinkQueries
from services.booking.adapters.assisted_queries import AssistedQueries
from services.booking.adapters.candidate_queries import CandidateQueries
from services.booking.adapters.erasure_queries import ErasureQueries
from services.booking.adapters.flag_queries import FlagQueries
from services.booking.adapters.guards import guarded
from services.booking.adapters.health_queries import HealthQueries
from services.booking.adapters.notices import NOTICE_CHANNEL
from services.booking.adapters.notification_queries import NotificationQueries
from services.booking.adapters.operator_queries import OperatorQueries
from services.booking.adapters.partner_queries import PartnerQueries
from services.booking.adapters.people_queries import PeopleQueries, row_or_none
from services.booking.adapters.pipeline_queries import PipelineQueries
from services.booking.adapters.review_queries import ReviewQueries, held_for_review
from services.booking.adapters.safeguarding_queries import SafeguardingQueries
from services.booking.adapters.series_queries import SeriesQueries
from services.booking.adapters.visit_queries import VisitQueries
from shared.contracts import Envelope
from shared.postgres import (
    OUTBOX_CHANNEL,
    add_to_outbox,
    change_with_events,
    first_delivery,
    outbox_row,
)

Row = dict[str, Any]

#: The columns an occurrence of a request is inserted with, and their types.
_REQUEST_TYPES = {
    "request_id": "uuid",
    "series_id": "uuid",
    "occurrence": "int",
    "occurrences": "int",
    "neighbour_id": "uuid",
    "neighbourhood": "text",
    "cell": "text",
    "skill": "text",
    "starts_at": "timestamptz",
    "hours": "int",
    "preferred_helper_id": "uuid",
    "notes": "text",
}


class Repository(
    PeopleQueries,
    AccountLinkQueries,
    PartnerQueries,
    SafeguardingQueries,
    FlagQueries,
    ErasureQueries,
    VisitQueries,
    SeriesQueries,
    NotificationQueries,
    ReviewQueries,
    OperatorQueries,
    PipelineQueries,
    HealthQueries,
    CandidateQueries,
    AssistedQueries,
):
    """Queries on one connection; the caller owns the transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    # -- events ------------------------------------------------------------------------
    async def publish(self, envelopes: Sequence[Envelope[Any]]) -> None:
        """Write events to the outbox in the current transaction."""
        await add_to_outbox(self.conn, envelopes)

    async def first_delivery(self, consumer: str, event_id: uuid.UUID) -> bool:
        """Record a consumed event; False when it was applied before."""
        return await first_delivery(self.conn, consumer, event_id)

    # -- requests ----------------------------------------------------------------------
    async def add_requests(self, rows: list[Row], envelopes: Sequence[Envelope[Any]]) -> None:
        """Insert the occurrences of one request and their events, in one statement."""
        columns = list(_REQUEST_TYPES)
        arrays = ", ".join(
            f"${index}::{_REQUEST_TYPES[column]}[]" for index, column in enumerate(columns, 1)
        )
        await change_with_events(
            self.conn,
            f"INSERT INTO requests ({', '.join(columns)}) SELECT * FROM unnest({arrays})",
            [[row[column] for row in rows] for column in columns],
            envelopes,
        )

    async def request(self, request_id: uuid.UUID, *, lock: bool = False) -> Row | None:
        """One occurrence, with how many offers were made for it."""
        if lock:
            return row_or_none(
                await self.conn.fetchrow(
                    "SELECT * FROM requests WHERE request_id = $1 FOR UPDATE", request_id
                )
            )
        return row_or_none(
            await self.conn.fetchrow(
                "SELECT r.*, (SELECT count(*) FROM offers o WHERE o.request_id = r.request_id)"
                " AS offers_made FROM requests r WHERE r.request_id = $1",
                request_id,
            )
        )

    async def requests_of(self, neighbour_id: uuid.UUID, after: int, limit: int) -> list[Row]:
        """A neighbour's requests in the order they were made, after a cursor."""
        rows = await self.conn.fetch(
            "SELECT r.*, (SELECT count(*) FROM offers o WHERE o.request_id = r.request_id)"
            " AS offers_made FROM requests r WHERE neighbour_id = $1 AND seq > $2"
            " ORDER BY seq LIMIT $3",
            neighbour_id,
            after,
            limit,
        )
        return [dict(row) for row in rows]

    async def requests_with_status(self, status: str, after: int, limit: int) -> list[Row]:
        """Requests in one status, oldest first (the operators' waiting list)."""
        rows = await self.conn.fetch(
            "SELECT * FROM requests WHERE status = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            status,
            after,
            limit,
        )
        return [dict(row) for row in rows]

    async def series(self, series_id: uuid.UUID, *, lock: bool = False) -> list[Row]:
        """Every occurrence of a series, in order, optionally locked."""
        suffix = " FOR UPDATE" if lock else ""
        rows = await self.conn.fetch(
            f"SELECT * FROM requests WHERE series_id = $1 ORDER BY occurrence{suffix}",
            series_id,
        )
        return [dict(row) for row in rows]

    async def move_request(self, request_id: uuid.UUID, starts_at: datetime, hours: int) -> None:
        """A rescheduled visit moves its request too."""
        await self.conn.execute(
            "UPDATE requests SET starts_at = $2, hours = $3 WHERE request_id = $1",
            request_id,
            starts_at,
            hours,
        )

    async def set_request_status(self, request_id: uuid.UUID, status: str) -> None:
        """Move an occurrence to a new status."""
        await self.conn.execute(
            "UPDATE requests SET status = $2 WHERE request_id = $1", request_id, status
        )

    # -- offers ------------------------------------------------------------------------
    async def receive_offers(
        self, consumer: str, offers: Sequence[tuple[uuid.UUID, Row]], bookable: Sequence[str]
    ) -> list[uuid.UUID | None]:
        """Apply consumed offers once each, in one statement (one round trip, atomic alone).

        Takes ``(event_id, offer)`` pairs. For each, locks the request, checks the offer names
        its neighbour, records the event in the inbox and inserts the offer (withdrawn unless
        the request's status is ``bookable``); an open offer notifies its helper and neighbour
        (``adapters.notices``). Returns, for each in order, the neighbour of the request it
        names, or ``None`` for an unknown request; nothing is written for an offer whose
        neighbour differs. Requests are locked in id order, so two runs never wait on each
        other in a circle.
        """
        rows = await self.conn.fetch(
            "WITH incoming AS (SELECT * FROM unnest($2::uuid[], $3::uuid[], $4::uuid[],"
            " $5::uuid[], $6::uuid[], $7::text[], $8::text[], $9::int[], $10::timestamptz[],"
            " $11::text[]) WITH ORDINALITY AS i(event_id, request_id, neighbour_id, offer_id,"
            " helper_id, neighbourhood, skill, round, expires_at, reasons, n)),"
            " request AS (SELECT request_id, neighbour_id, status, starts_at, hours FROM requests"
            " WHERE request_id IN (SELECT request_id FROM incoming) ORDER BY request_id"
            " FOR UPDATE),"
            " fits AS (SELECT i.*, r.status, r.starts_at, r.hours FROM incoming i JOIN request r"
            " ON r.request_id = i.request_id AND r.neighbour_id = i.neighbour_id),"
            " first AS (INSERT INTO inbox (consumer, event_id) SELECT $1, event_id FROM fits"
            " ON CONFLICT DO NOTHING RETURNING event_id),"
            " added AS (INSERT INTO offers (offer_id, request_id, helper_id, neighbour_id,"
            " neighbourhood, skill, starts_at, hours, round, expires_at, reasons, status)"
            " SELECT f.offer_id, f.request_id, f.helper_id, f.neighbour_id, f.neighbourhood,"
            " f.skill, f.starts_at, f.hours, f.round, f.expires_at, f.reasons::jsonb,"
            " CASE WHEN f.status = ANY($12::text[]) THEN 'open' ELSE 'withdrawn' END"
            " FROM fits f JOIN first USING (event_id) ORDER BY f.n"
            " ON CONFLICT (offer_id) DO NOTHING"
            " RETURNING offer_id, request_id, helper_id, neighbour_id, status),"
            # An escalated request matching offers again (supply changed) is open again, off
            # the operators' waiting list; a data-modifying WITH runs whether read or not.
            " reopened AS (UPDATE requests SET status = 'open' WHERE status = 'unmatched'"
            " AND request_id IN (SELECT request_id FROM added WHERE status = 'open')),"
            # Heard when the statement commits, and only for offers added open. (A plain
            # SELECT in WITH runs only if read: the count below reads it.)
            " notified AS (SELECT pg_notify($13, json_build_object('offer_id', offer_id,"
            " 'request_id', request_id, 'helper_id', helper_id,"
            " 'neighbour_id', neighbour_id)::text) FROM added WHERE status = 'open')"
            " SELECT r.neighbour_id, (SELECT count(*) FROM notified) AS notified"
            " FROM incoming i LEFT JOIN request r USING (request_id) ORDER BY i.n",
            consumer,
            [event_id for event_id, _ in offers],
            [offer["request_id"] for _, offer in offers],
            [offer["neighbour_id"] for _, offer in offers],
            [offer["offer_id"] for _, offer in offers],
            [offer["helper_id"] for _, offer in offers],
            [offer["neighbourhood"] for _, offer in offers],
            [offer["skill"] for _, offer in offers],
            [offer["round"] for _, offer in offers],
            [offer["expires_at"] for _, offer in offers],
            [json.dumps(offer["reasons"]) for _, offer in offers],
            list(bookable),
            NOTICE_CHANNEL,
        )
        return [row["neighbour_id"] for row in rows]

    async def offer(self, offer_id: uuid.UUID, *, lock: bool = False) -> Row | None:
        """One offer, optionally locked until the transaction ends."""
        suffix = " FOR UPDATE" if lock else ""
        return _offer(
            await self.conn.fetchrow(f"SELECT * FROM offers WHERE offer_id = $1{suffix}", offer_id)
        )

    async def offers_of(
        self, helper_id: uuid.UUID, now: datetime, limit: int, offset: int
    ) -> list[Row]:
        """A helper's inbox: open unexpired offers first, then the rest, newest first."""
        rows = await self.conn.fetch(
            "SELECT o.*, p.display_name AS neighbour_name, s.repeat AS repeats FROM offers o"
            " LEFT JOIN people p ON p.person_id = o.neighbour_id"
            " LEFT JOIN requests r ON r.request_id = o.request_id"
            " LEFT JOIN series s ON s.series_id = r.series_id WHERE o.helper_id = $1"
            " ORDER BY (o.status = 'open' AND o.expires_at > $2) DESC, o.starts_at, o.seq"
            " LIMIT $3 OFFSET $4",
            helper_id,
            now,
            limit,
            offset,
        )
        return [offer for row in rows if (offer := _offer(row)) is not None]

    async def set_offer_status(self, offer_id: uuid.UUID, status: str) -> None:
        """Move an offer to a new status."""
        await self.conn.execute(
            "UPDATE offers SET status = $2 WHERE offer_id = $1", offer_id, status
        )

    async def withdraw_open_offers(self, request_id: uuid.UUID) -> None:
        """Every still-open offer of a request lapses."""
        await self.conn.execute(
            "UPDATE offers SET status = 'withdrawn' WHERE request_id = $1 AND status = 'open'",
            request_id,
        )

    async def lock_for_accept(self, offer_id: uuid.UUID) -> Row | None:
        """An offer with its request and its helper's suspension, both rows locked.

        One round trip. The request row is locked first (its CTE emits, and so locks, it
        before the outer query can lock the offer), so accepts of different offers of one
        request take turns and never deadlock. Columns of the request are prefixed ``r_``;
        ``partner_service`` says the helper is a partner's service, ``referred_by`` the partner
        who referred the neighbour (or None). None when the offer or
        its request does not exist.
        """
        return _offer(
            await self.conn.fetchrow(
                "WITH r AS MATERIALIZED (SELECT * FROM requests WHERE request_id ="
                " (SELECT request_id FROM offers WHERE offer_id = $1) FOR UPDATE)"
                " SELECT o.*, r.status AS r_status, r.neighbourhood AS r_neighbourhood,"
                " r.skill AS r_skill, r.starts_at AS r_starts_at, r.hours AS r_hours,"
                " r.series_id AS r_series_id, r.occurrence AS r_occurrence,"
                " coalesce((SELECT s.suspended FROM standing s"
                " WHERE s.person_id = o.helper_id), false)"
                f" OR {held_for_review('o.helper_id')} AS suspended,"
                " coalesce((SELECT p.kind = 'partner_service' FROM people p"
                " WHERE p.person_id = o.helper_id), false) AS partner_service,"
                " (SELECT p.partner_id FROM people p WHERE p.person_id = r.neighbour_id"
                " AND p.kind = 'referred') AS referred_by"
                " FROM r JOIN offers o ON o.request_id = r.request_id"
                " WHERE o.offer_id = $1 FOR UPDATE OF o",
                offer_id,
            )
        )

    async def book(
        self,
        booking: Row,
        hours: list[datetime],
        accepted: str,
        withdrawn: str,
        request_status: str,
        envelope: Envelope[Any],
    ) -> None:
        """Write an accept in one statement: the booking, its helper-hours, the offer
        accepted and the request's other open offers withdrawn, the request's new status,
        and the event in the outbox (waking the relay when the transaction commits).

        Raises:
            AlreadyBooked: The request is booked already (``bookings_one_active_per_request``).
            HoursTaken: The helper holds one of these hours (``helper_hours_no_overlap``).
        """
        columns = list(booking)
        marks = ", ".join(f"${index}" for index in range(1, len(columns) + 1))
        n = len(columns)
        with guarded():
            await self.conn.execute(
                f"WITH b AS (INSERT INTO bookings ({', '.join(columns)}) VALUES ({marks})"
                " RETURNING booking_id, helper_id, request_id, offer_id),"
                f" h AS (INSERT INTO helper_hours (helper_id, hour, booking_id)"
                f" SELECT b.helper_id, hour, b.booking_id FROM b, unnest(${n + 1}::timestamptz[])"
                " AS hour),"
                f" o AS (UPDATE offers SET status = CASE WHEN offers.offer_id = b.offer_id"
                f" THEN ${n + 2} ELSE ${n + 3} END FROM b WHERE offers.request_id = b.request_id"
                " AND (offers.offer_id = b.offer_id OR offers.status = 'open')),"
                f" r AS (UPDATE requests SET status = ${n + 4} FROM b"
                " WHERE requests.request_id = b.request_id),"
                " e AS (INSERT INTO outbox (event_id, topic, key, type, envelope)"
                f" VALUES (${n + 5}, ${n + 6}, ${n + 7}, ${n + 8}, ${n + 9}))"
                f" SELECT pg_notify('{OUTBOX_CHANNEL}', '')",
                *booking.values(),
                hours,
                accepted,
                withdrawn,
                request_status,
                *outbox_row(envelope),
            )

    # -- bookings ----------------------------------------------------------------------
    async def booking(self, booking_id: uuid.UUID, *, lock: bool = False) -> Row | None:
        """One booking, optionally locked until the transaction ends."""
        suffix = " FOR UPDATE" if lock else ""
        return row_or_none(
            await self.conn.fetchrow(
                f"SELECT * FROM bookings WHERE booking_id = $1{suffix}", booking_id
            )
        )

    async def bookings_of(
        self, person_id: uuid.UUID, when: str | None, now: datetime, limit: int, offset: int
    ) -> list[Row]:
        """A person's bookings on either side; ``when`` is upcoming, past or None."""
        condition = {"upcoming": " AND starts_at > $2", "past": " AND starts_at <= $2"}.get(
            when or "", " AND $2::timestamptz IS NOT NULL"
        )
        order = "DESC" if when == "past" else "ASC"
        rows = await self.conn.fetch(
            "SELECT * FROM bookings WHERE (helper_id = $1 OR neighbour_id = $1)"
            f"{condition} ORDER BY starts_at {order}, seq LIMIT $3 OFFSET $4",
            person_id,
            now,
            limit,
            offset,
        )
        return [dict(row) for row in rows]

    async def update_booking(self, booking_id: uuid.UUID, **changes: Any) -> None:
        """Set some columns of a booking."""
        assignments = ", ".join(
            f"{column} = ${index}" for index, column in enumerate(changes, start=2)
        )
        await self.conn.execute(
            f"UPDATE bookings SET {assignments} WHERE booking_id = $1",
            booking_id,
            *changes.values(),
        )

    async def take_helper_hours(
        self, helper_id: uuid.UUID, booking_id: uuid.UUID, hours: list[datetime]
    ) -> None:
        """Take hours for a booking.

        Raises:
            HoursTaken: The helper holds one of them already (``helper_hours_no_overlap``).
        """
        with guarded():
            await self.conn.execute(
                "INSERT INTO helper_hours (helper_id, hour, booking_id)"
                " SELECT $1, hour, $2 FROM unnest($3::timestamptz[]) AS hour",
                helper_id,
                booking_id,
                hours,
            )

    async def free_helper_hours(self, booking_id: uuid.UUID) -> None:
        """Give a cancelled booking's hours back to its helper."""
        await self.conn.execute("DELETE FROM helper_hours WHERE booking_id = $1", booking_id)

    async def add_checkin(self, checkin: Row) -> bool:
        """Store one person's answers about a visit; False if they answered before."""
        inserted = await self.conn.fetchval(
            "INSERT INTO checkins (checkin_id, booking_id, author_id, about_id, see_again,"
            " as_agreed, note) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (booking_id, author_id) DO NOTHING RETURNING true",
            *checkin.values(),
        )
        return bool(inserted)

    # -- relationships -----------------------------------------------------------------
    async def upsert_relationship(self, record: Row) -> None:
        """Keep trust's latest record of a pair (an older one never overwrites a newer)."""
        columns = list(record)
        marks = ", ".join(f"${index}" for index in range(1, len(columns) + 1))
        updates = ", ".join(f"{column} = excluded.{column}" for column in columns[1:])
        await self.conn.execute(
            f"INSERT INTO relationships ({', '.join(columns)}) VALUES ({marks})"
            f" ON CONFLICT (pair_id) DO UPDATE SET {updates}"
            " WHERE relationships.as_of <= excluded.as_of",
            *record.values(),
        )

    async def relationships_of(
        self,
        person_id: uuid.UUID | None,
        limit: int = 1000,
        offset: int = 0,
        *,
        matchable_only: bool = False,
    ) -> list[Row]:
        """A page of the pair records of one person (or all, for ``None``)."""
        rows = await self.conn.fetch(
            "SELECT * FROM relationships WHERE ($1::uuid IS NULL OR helper_id = $1"
            " OR neighbour_id = $1) AND (matchable OR NOT $4)"
            " ORDER BY last_visit_at DESC NULLS LAST, pair_id LIMIT $2 OFFSET $3",
            person_id,
            limit,
            offset,
            matchable_only,
        )
        return [dict(row) for row in rows]


def _offer(record: asyncpg.Record | None) -> Row | None:
    row = row_or_none(record)
    if row is not None:
        row["reasons"] = json.loads(row["reasons"])
    return row
