"""Matching's state, kept in key-value tables (faust tables in the app, dicts in tests).

Every neighbourhood table is keyed by a neighbourhood-scoped key, so all of a neighbourhood's
state lives on the partition its events arrive on. Values are JSON bytes written through
pydantic type adapters built once here.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import TypeAdapter

from services.matching.domain import (
    BookedVisit,
    HelperProfile,
    PartnerService,
    Progress,
    Relationship,
    Standing,
)

T = TypeVar("T")
Table = MutableMapping[Any, Any]


@dataclass(frozen=True, slots=True)
class HelperState:
    """What matching holds about one helper in one neighbourhood.

    Never change one in place (its dicts included): a decoded state is shared by every
    reader of the same stored value. Change a copy (``dataclasses.replace``) and store it.
    """

    profile: HelperProfile | None = None
    free_hours: frozenset[datetime] = frozenset()
    bookings: dict[uuid.UUID, BookedVisit] = field(default_factory=dict)
    #: Visits made to each neighbour, from trust's relationship records.
    visits: dict[uuid.UUID, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SeriesState:
    """What matching holds about one recurring request's series of occurrences.

    Attributes:
        helpers: Helpers booked for an occurrence, first booked first: the first is the
            series' helper, offered every later occurrence first.
        lead: The occurrence being matched while later ones wait for its outcome.
        waiting: Occurrences that arrived while ``lead`` was open and no helper was booked:
            they start once the lead is booked, escalated or cancelled (or their wait ends).
    """

    helpers: tuple[uuid.UUID, ...] = ()
    lead: uuid.UUID | None = None
    waiting: tuple[uuid.UUID, ...] = ()


_HELPER = TypeAdapter(HelperState)
_SERIES = TypeAdapter(SeriesState)
_ROSTER = TypeAdapter(list[uuid.UUID])
_RELATIONSHIPS = TypeAdapter(dict[uuid.UUID, Relationship])
_PROGRESS = TypeAdapter(Progress)
_OPEN = TypeAdapter(dict[uuid.UUID, datetime])
_STANDING = TypeAdapter(Standing)
_PARTNER_SERVICE = TypeAdapter(PartnerService)


def _load(adapter: TypeAdapter[T], raw: Any) -> T:
    """Read a stored value: our JSON bytes, or (when a changelog was read back through a
    JSON codec, as faust does for global tables) the already-parsed document."""
    if isinstance(raw, bytes | bytearray | str):
        return adapter.validate_json(raw)
    return adapter.validate_python(raw)


# Every request reads each helper of its neighbourhood (a state with weeks of free hours) and
# their standing; a value is decoded once, not once per request. Bytes keep their hash, so a
# repeat costs a dictionary lookup.
@functools.lru_cache(maxsize=4096)
def _helper_from(raw: bytes) -> HelperState:
    return _HELPER.validate_json(raw)


@functools.lru_cache(maxsize=4096)
def _standing_from(raw: bytes) -> Standing:
    return _STANDING.validate_json(raw)


def _scoped(neighbourhood: str, entity: uuid.UUID) -> str:
    return f"{neighbourhood}|{entity}"


@dataclass(frozen=True, slots=True)
class MatchingState:
    """Typed access to matching's tables.

    Attributes:
        helpers: ``neighbourhood|person`` -> ``HelperState``.
        roster: ``neighbourhood`` -> the helpers known there (the index a request scans).
        relationships: ``neighbourhood|neighbour`` -> that neighbour's relationships by helper.
        progress: ``neighbourhood|request`` -> the request's way through the cascade.
        open_requests: ``neighbourhood`` -> open request ids and when their round is due.
        standing: ``person`` -> trust's standing (seen by every worker).
        series: ``neighbourhood|series`` -> the series' helpers and waiting occurrences.
        partner_services: ``helper`` -> a partner's service (seen by every worker: services
            are few, and each covers neighbourhoods on any partition).
    """

    helpers: Table
    roster: Table
    relationships: Table
    progress: Table
    open_requests: Table
    standing: Table
    series: Table
    partner_services: Table = field(default_factory=dict)

    def helper(self, neighbourhood: str, person_id: uuid.UUID) -> HelperState:
        """The helper's state, empty when unknown."""
        raw = self.helpers.get(_scoped(neighbourhood, person_id))
        if raw is None:
            return HelperState()
        return _helper_from(raw) if isinstance(raw, bytes) else _load(_HELPER, raw)

    def put_helper(self, neighbourhood: str, person_id: uuid.UUID, state: HelperState) -> None:
        """Store the helper's state, and list them in the neighbourhood's roster."""
        self.helpers[_scoped(neighbourhood, person_id)] = _HELPER.dump_json(state)
        roster = self.roster_of(neighbourhood)
        if state.profile is not None and person_id not in roster:
            self.roster[neighbourhood] = _ROSTER.dump_json([*roster, person_id])

    def roster_of(self, neighbourhood: str) -> list[uuid.UUID]:
        """The helpers with a profile in the neighbourhood."""
        raw = self.roster.get(neighbourhood)
        return [] if raw is None else _load(_ROSTER, raw)

    def relationships_of(
        self, neighbourhood: str, neighbour_id: uuid.UUID
    ) -> dict[uuid.UUID, Relationship]:
        """The neighbour's relationships, by helper."""
        raw = self.relationships.get(_scoped(neighbourhood, neighbour_id))
        return {} if raw is None else _load(_RELATIONSHIPS, raw)

    def put_relationship(self, neighbourhood: str, relationship: Relationship) -> None:
        """Store one pair's record."""
        current = self.relationships_of(neighbourhood, relationship.neighbour_id)
        current[relationship.helper_id] = relationship
        key = _scoped(neighbourhood, relationship.neighbour_id)
        self.relationships[key] = _RELATIONSHIPS.dump_json(current)

    def progress_of(self, neighbourhood: str, request_id: uuid.UUID) -> Progress | None:
        """The request's progress, if matching has seen it."""
        raw = self.progress.get(_scoped(neighbourhood, request_id))
        return None if raw is None else _load(_PROGRESS, raw)

    def put_progress(self, progress: Progress) -> None:
        """Store the request's progress and keep the open-request index in step."""
        request = progress.request
        self.progress[_scoped(request.neighbourhood, request.request_id)] = _PROGRESS.dump_json(
            progress
        )
        open_now = self.open_in(request.neighbourhood)
        if progress.due_at is not None:
            open_now[request.request_id] = progress.due_at
        elif request.request_id not in open_now:
            return
        else:
            del open_now[request.request_id]
        self.open_requests[request.neighbourhood] = _OPEN.dump_json(open_now)

    def open_in(self, neighbourhood: str) -> dict[uuid.UUID, datetime]:
        """Open requests of a neighbourhood and when their current round is due."""
        raw = self.open_requests.get(neighbourhood)
        return {} if raw is None else _load(_OPEN, raw)

    def standing_of(self, person_id: uuid.UUID) -> Standing | None:
        """Trust's standing for a person, if trust has spoken."""
        raw = self.standing.get(str(person_id))
        if raw is None:
            return None
        return _standing_from(raw) if isinstance(raw, bytes) else _load(_STANDING, raw)

    def put_standing(self, person_id: uuid.UUID, standing: Standing) -> None:
        """Store a person's standing."""
        self.standing[str(person_id)] = _STANDING.dump_json(standing)

    def series_of(self, neighbourhood: str, series_id: uuid.UUID) -> SeriesState:
        """The series' state, empty when unknown."""
        raw = self.series.get(_scoped(neighbourhood, series_id))
        return SeriesState() if raw is None else _load(_SERIES, raw)

    def put_series(self, neighbourhood: str, series_id: uuid.UUID, state: SeriesState) -> None:
        """Store the series' state."""
        self.series[_scoped(neighbourhood, series_id)] = _SERIES.dump_json(state)

    def partner_services_all(self) -> list[PartnerService]:
        """Every partner's service, active or not (a handful: read them all per request)."""
        return [_load(_PARTNER_SERVICE, raw) for raw in list(self.partner_services.values())]

    def put_partner_service(self, service: PartnerService) -> None:
        """Store a service as last announced."""
        self.partner_services[str(service.helper_id)] = _PARTNER_SERVICE.dump_json(service)

    @classmethod
    def in_memory(cls) -> MatchingState:
        """State in plain dicts (unit tests)."""
        return cls({}, {}, {}, {}, {}, {}, {})
