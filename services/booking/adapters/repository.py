"""Booking's SQL: every query the use cases need, on one connection.

Each aggregate's queries are a mixin in a module of its own (``*_queries.py``); the
``Repository`` puts them on one connection, whose transaction the caller owns.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from services.booking.adapters.account_link_queries import AccountLinkQueries
from services.booking.adapters.assisted_queries import AssistedQueries
from services.booking.adapters.booking_queries import BookingQueries
from services.booking.adapters.candidate_queries import CandidateQueries
from services.booking.adapters.erasure_queries import ErasureQueries
from services.booking.adapters.flag_queries import FlagQueries
from services.booking.adapters.health_queries import HealthQueries
from services.booking.adapters.notification_queries import NotificationQueries
from services.booking.adapters.offer_queries import OfferQueries
from services.booking.adapters.operator_queries import OperatorQueries
from services.booking.adapters.partner_queries import PartnerQueries
from services.booking.adapters.people_queries import PeopleQueries
from services.booking.adapters.pipeline_queries import PipelineQueries
from services.booking.adapters.relationship_queries import RelationshipQueries
from services.booking.adapters.request_queries import RequestQueries
from services.booking.adapters.review_queries import ReviewQueries
from services.booking.adapters.safeguarding_queries import SafeguardingQueries
from services.booking.adapters.series_queries import SeriesQueries
from services.booking.adapters.visit_queries import VisitQueries
from shared.contracts import Envelope
from shared.postgres import (
    add_to_outbox,
    first_delivery,
)


class Repository(
    RequestQueries,
    OfferQueries,
    BookingQueries,
    RelationshipQueries,
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
