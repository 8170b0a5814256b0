"""Booking's SQL for offers: those matching made, their answers, and locking one to accept."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.booking.adapters.guards import guarded
from services.booking.adapters.notices import NOTICE_CHANNEL
from services.booking.adapters.people_queries import row_or_none
from services.booking.adapters.review_queries import held_for_review
from services.booking.domain.visits import VISIT_FIELDS
from services.booking.service_layer.records import Row
from shared.contracts import Envelope
from shared.contracts.codec import OpenEnvelope
from shared.postgres import outbox_row, wake_relay


class OfferQueries:
    """Offer queries; mixed into ``Repository``, on its connection."""

    conn: asyncpg.Connection

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
        """An offer (what an accept reads of it) with its request and its helper's
        suspension, both rows locked.

        One round trip. The request row is locked first (its CTE emits, and so locks, it
        before the outer query can lock the offer), so accepts of different offers of one
        request take turns and never deadlock. Columns of the request are prefixed ``r_``;
        ``partner_service`` says the helper is a partner's service, ``referred_by`` the partner
        who referred the neighbour (or None). None when the offer or
        its request does not exist.
        """
        return row_or_none(await self.conn.fetchrow(_LOCK_FOR_ACCEPT, offer_id))

    async def book_open_offer(
        self,
        offer_id: uuid.UUID,
        helper_id: uuid.UUID,
        now: datetime,
        accepted: str,
        withdrawn: str,
        request_status: str,
        *,
        booking_id: uuid.UUID,
        event: OpenEnvelope,
        bookable: Sequence[str],
        booking_status: str,
    ) -> Row | None:
        """Book the helper's offer in ONE statement with no transaction around it, if it is
        open and bookable once locked; the booking, or None when it wrote nothing.

        The statement locks the request, then the offer (as ``lock_for_accept`` does), and
        writes only when the request is bookable, the offer the helper's, open and
        unexpired, and the helper neither suspended nor held for review. It books what the
        locked rows say, so nothing read before can be stale, and writes ``event``'s
        ``BookingConfirmed`` from them too. When anything is in the way it writes nothing;
        the caller then takes the locking path, which says what. The unique indexes guard it
        as they guard ``book``.

        Raises:
            AlreadyBooked: The request is booked already (``bookings_one_active_per_request``).
            HoursTaken: The helper holds one of these hours (``helper_hours_no_overlap``).
        """
        with guarded():
            row = await self.conn.fetchrow(
                # The end depends on the transaction the statement runs in (``wake_relay``).
                f"{_BOOK_OPEN_OFFER}{wake_relay()}, {_BOOKED_COLUMNS} FROM b",
                offer_id,
                helper_id,
                now,
                list(bookable),
                booking_id,
                booking_status,
                accepted,
                withdrawn,
                request_status,
                event.event_id,
                event.topic,
                event.type,
                event.head,
                event.tail,
            )
        return None if row is None else {column: row[column] for column in _BOOKED}

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
        with guarded():
            await self.conn.execute(
                f"WITH {_accept_writes(tuple(booking))}{wake_relay()}",
                *_write_arguments(booking, hours, accepted, withdrawn, request_status, envelope),
            )


#: The offer's request, by the offer's id (``$1``), as both ways of accepting find it.
_REQUEST_OF_OFFER = "(SELECT request_id FROM offers WHERE offer_id = $1)"
#: Whether the helper of offer ``o`` may take no visit now: suspended by trust or held for
#: review.
_HELPER_PAUSED = (
    "coalesce((SELECT s.suspended FROM standing s WHERE s.person_id = o.helper_id), false)"
    f" OR {held_for_review('o.helper_id')}"
)
#: Whether the helper of offer ``o`` is a partner's service, whose hours are not one
#: person's to hold.
_PARTNER_SERVICE = (
    "coalesce((SELECT p.kind = 'partner_service' FROM people p"
    " WHERE p.person_id = o.helper_id), false)"
)
#: The partner who referred the neighbour of request ``r``, if one did.
_REFERRED_BY = (
    "(SELECT p.partner_id FROM people p WHERE p.person_id = r.neighbour_id AND p.kind = 'referred')"
)


def _offers_and_request(accepted: int, withdrawn: int, request_status: int) -> str:
    """The CTEs that mark booking ``b``'s offer accepted and its request's other open
    offers withdrawn (``o``), then its request booked (``u``), taking the three statuses at
    those parameter numbers."""
    return (
        " o AS (UPDATE offers SET status = CASE WHEN offers.offer_id = b.offer_id"
        f" THEN ${accepted} ELSE ${withdrawn} END FROM b WHERE offers.request_id = b.request_id"
        " AND (offers.offer_id = b.offer_id OR offers.status = 'open')),"
        f" u AS (UPDATE requests SET status = ${request_status} FROM b"
        " WHERE requests.request_id = b.request_id),"
    )


@functools.cache
def _accept_writes(columns: tuple[str, ...]) -> str:
    """The CTEs that write an accept (``b`` the booking, then its hours,
    the offers, the request and the event), taking ``$1``.. the booking's ``columns`` and
    then the rest of ``_write_arguments``."""
    n = len(columns)
    marks = ", ".join(f"${index}" for index in range(1, n + 1))
    return (
        f"b AS (INSERT INTO bookings ({', '.join(columns)}) SELECT {marks}"
        " RETURNING booking_id, helper_id, request_id, offer_id),"
        " h AS (INSERT INTO helper_hours (helper_id, hour, booking_id)"
        f" SELECT b.helper_id, hour, b.booking_id FROM b, unnest(${n + 1}::timestamptz[])"
        " AS hour),"
        f"{_offers_and_request(n + 2, n + 3, n + 4)}"
        " e AS (INSERT INTO outbox (event_id, topic, key, type, envelope)"
        f" SELECT ${n + 5}, ${n + 6}, ${n + 7}, ${n + 8}, ${n + 9} FROM b)"
    )


def _write_arguments(
    booking: Row,
    hours: list[datetime],
    accepted: str,
    withdrawn: str,
    request_status: str,
    envelope: Envelope[Any],
) -> list[Any]:
    """``_accept_writes``' arguments, in its order."""
    return [*booking.values(), hours, accepted, withdrawn, request_status, *outbox_row(envelope)]


#: What ``book_open_offer`` writes and returns of the booking it makes: the booking's id
#: first and its status last, the rest as the locked offer and request say.
_BOOKED = (*VISIT_FIELDS, "offer_id", "status")
_BOOKED_COLUMNS = ", ".join(f"b.{column}" for column in _BOOKED)

#: ``BookingConfirmed``'s data, field by field, from ``book_open_offer``'s rows: ``b`` the
#: booking, ``ok`` the offer with its request (a test holds it to the contract's fields and
#: to the codec's JSON). A visit starts on a whole hour, written in UTC as the codec writes
#: it: PostgreSQL's own JSON would give the session's time zone.
CONFIRMED_DATA = {
    **{field: f"b.{field}" for field in VISIT_FIELDS},
    "starts_at": """to_char(b.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')""",
    "offer_id": "b.offer_id",
    "referred_by": "ok.referred_by",
}

#: ``book_open_offer``'s statement but its end. ``r`` locks the offer's request if it is
#: bookable, ``ok`` then the offer if it is the helper's, open and unexpired and the helper
#: free to take it, with whether the helper is a partner's service and the partner who
#: referred the neighbour. The writes are ``_accept_writes``' (``book``) but from those rows;
#: the event's key is its neighbourhood (``kith.bookings.v1`` is keyed so), its data
#: ``CONFIRMED_DATA``.
_BOOK_OPEN_OFFER = (
    "WITH r AS MATERIALIZED (SELECT request_id, neighbour_id, neighbourhood, skill,"
    f" starts_at, hours FROM requests WHERE request_id = {_REQUEST_OF_OFFER}"
    " AND status = ANY($4::text[]) FOR UPDATE),"
    " ok AS MATERIALIZED (SELECT o.offer_id, o.helper_id, r.*,"
    f" {_PARTNER_SERVICE} AS partner_service, {_REFERRED_BY} AS referred_by"
    " FROM r JOIN offers o ON o.request_id = r.request_id"
    " WHERE o.offer_id = $1 AND o.helper_id = $2 AND o.status = 'open' AND o.expires_at > $3"
    f" AND NOT ({_HELPER_PAUSED}) FOR UPDATE OF o),"
    f" b AS (INSERT INTO bookings ({', '.join(_BOOKED)})"
    f" SELECT $5, {', '.join(_BOOKED[1:-1])}, $6 FROM ok RETURNING {', '.join(_BOOKED)}),"
    " h AS (INSERT INTO helper_hours (helper_id, hour, booking_id)"
    " SELECT b.helper_id, b.starts_at + make_interval(hours => n), b.booking_id"
    " FROM b, ok, generate_series(0, b.hours - 1) AS n WHERE NOT ok.partner_service),"
    f"{_offers_and_request(7, 8, 9)}"
    " e AS (INSERT INTO outbox (event_id, topic, key, type, envelope)"
    " SELECT $10, $11, convert_to(b.neighbourhood, 'UTF8'), $12,"
    " convert_to($13 || json_build_object("
    + ", ".join(f"'{field}', {column}" for field, column in CONFIRMED_DATA.items())
    + ")::text || $14, 'UTF8') FROM b, ok)"
)

#: What accepting an offer needs to know of it (not its reasons, which an accept never reads
#: and would decode), of its request, its helper and its neighbour, locking the request and
#: then the offer.
_LOCK_FOR_ACCEPT = (
    f"WITH r AS MATERIALIZED (SELECT * FROM requests WHERE request_id = {_REQUEST_OF_OFFER}"
    " FOR UPDATE)"
    " SELECT o.offer_id, o.request_id, o.helper_id, o.neighbour_id, o.status, o.expires_at,"
    " r.status AS r_status, r.neighbourhood AS r_neighbourhood,"
    " r.skill AS r_skill, r.starts_at AS r_starts_at, r.hours AS r_hours,"
    " r.series_id AS r_series_id, r.occurrence AS r_occurrence,"
    f" {_HELPER_PAUSED} AS suspended, {_PARTNER_SERVICE} AS partner_service,"
    f" {_REFERRED_BY} AS referred_by"
    " FROM r JOIN offers o ON o.request_id = r.request_id"
    " WHERE o.offer_id = $1 FOR UPDATE OF o"
)


def _offer(record: asyncpg.Record | None) -> Row | None:
    row = row_or_none(record)
    if row is not None:
        row["reasons"] = json.loads(row["reasons"])
    return row
