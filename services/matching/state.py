"""Matching's state, kept in key-value tables (faust tables in the app, dicts in tests).

Every neighbourhood table is keyed by a neighbourhood-scoped key, so all of a neighbourhood's
state lives on the partition its events arrive on. Values are JSON bytes written through
pydantic type adapters built once here.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Container, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter

from services.matching import roster as rosters
from services.matching.domain import (
    BookedVisit,
    HelperProfile,
    PartnerService,
    Progress,
    Relationship,
    Standing,
)
from services.matching.roster import Roster, RosterEntry
from services.matching.sieve import RosterSieve
from shared.contracts.skills import Skill
from shared.weekly_hours import WeeklyHours

T = TypeVar("T")
Table = MutableMapping[Any, Any]


@dataclass(frozen=True, slots=True)
class HelperState:
    """What matching holds about one helper in one neighbourhood.

    Never change one in place (its dicts included): a decoded state is shared by every
    reader of the same stored value (``_Decoded``). Change a copy (``dataclasses.replace``)
    and store it.
    """

    profile: HelperProfile | None = None
    #: Hours from a version 1 availability event (a 28-day list), until ``weekly`` arrives.
    free_hours: frozenset[datetime] = frozenset()
    #: The helper's weekly rules (version 2): free hours for any date, no horizon.
    weekly: WeeklyHours | None = None
    bookings: dict[uuid.UUID, BookedVisit] = field(default_factory=dict)
    #: Visits made to each neighbour, from trust's relationship records.
    visits: dict[uuid.UUID, int] = field(default_factory=dict)
    #: Hours held for a request asking the helper first, by request (``Hold``).
    holds: dict[uuid.UUID, BookedVisit] = field(default_factory=dict)
    #: The helper's ledger sequence number this state was filed at (``filing``).
    seq: int = 0


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One helper's whole state, wherever they live, and where copies of it are filed.

    Attributes:
        state: The helper's state (``seq`` counts the facts taken).
        home: The neighbourhood booking files the helper under.
        filed: The neighbourhoods holding a copy.
    """

    state: HelperState = field(default_factory=HelperState)
    home: str | None = None
    filed: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SeriesState:
    """What matching holds about one recurring request's series of occurrences.

    Attributes:
        helpers: Helpers booked for an occurrence, first booked first: the first is the
            series' helper, offered every later occurrence first.
        lead: The occurrence being matched while later ones wait for its outcome.
        waiting: Occurrences that arrived while ``lead`` was open and no helper was booked:
            they start once the lead is booked, escalated or cancelled (or their wait ends).
        regular: The helper who took the whole series on (``SeriesChanged``), if any.
        stepped_back: Helpers who stepped back from the series, or whom the neighbour
            stepped back from: offered none of its occurrences again.
    """

    helpers: tuple[uuid.UUID, ...] = ()
    lead: uuid.UUID | None = None
    waiting: tuple[uuid.UUID, ...] = ()
    regular: uuid.UUID | None = None
    stepped_back: tuple[uuid.UUID, ...] = ()


_HELPER = TypeAdapter(HelperState)
_SERIES = TypeAdapter(SeriesState)
_LEDGER = TypeAdapter(LedgerEntry)
_RELATIONSHIPS = TypeAdapter(dict[uuid.UUID, Relationship])
_PROGRESS = TypeAdapter(Progress)
_IDS = TypeAdapter(list[uuid.UUID])
# A document, not a bare JSON string: faust reads a changelog's values back through its JSON
# codec, and a string would not survive that (``_load`` takes the parsed document).
_DUE = TypeAdapter(dict[str, datetime])
_STANDING = TypeAdapter(Standing)
_PARTNER_SERVICE = TypeAdapter(PartnerService)


def _load(adapter: TypeAdapter[T], raw: Any) -> T:
    """Read a stored value: our JSON bytes, or (when a changelog was read back through a
    JSON codec, as faust does for global tables) the already-parsed document."""
    if isinstance(raw, bytes | bytearray | str):
        return adapter.validate_json(raw)
    return adapter.validate_python(raw)


class _Decoded(Generic[T]):
    """Values decoded once per stored value, by table key.

    Every request reads each helper of its neighbourhood (a state with weeks of free hours)
    and their standing. A table hands back the very bytes object it holds until the value
    changes, so a repeat read costs a lookup and an identity check; a changed value (another
    object) is decoded afresh. Bounded: emptied when full.
    """

    def __init__(self, decode: TypeAdapter[T] | Callable[[Any], T], limit: int = 1024) -> None:
        self._decode: Callable[[Any], T] = (
            functools.partial(_load, decode) if isinstance(decode, TypeAdapter) else decode
        )
        self._limit = limit
        self._by_key: dict[str, tuple[object, T]] = {}

    def load(self, key: str, raw: Any) -> T:
        seen = self._by_key.get(key)
        if seen is not None and seen[0] is raw:
            return seen[1]
        value = self._decode(raw)
        if len(self._by_key) >= self._limit:
            self._by_key.clear()
        self._by_key[key] = (raw, value)
        return value

    def load_all(self, items: Iterable[tuple[str, Any]]) -> list[tuple[str, T]]:
        """Every value of a table read whole, keeping exactly these for the next read (no
        limit): a table scanned every second decodes only what changed since."""
        loaded: dict[str, tuple[object, T]] = {}
        for key, raw in items:
            seen = self._by_key.get(key)
            value = seen[1] if seen is not None and seen[0] is raw else self._decode(raw)
            loaded[key] = (raw, value)
        self._by_key = loaded
        return [(key, value) for key, (_, value) in loaded.items()]


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
        open_requests: ``neighbourhood|request`` -> when the open request's round is due
            (one entry each: a busy neighbourhood's many open requests cost nothing per event).
        standing: ``person`` -> trust's standing (seen by every worker).
        series: ``neighbourhood|series`` -> the series' helpers and waiting occurrences.
        partner_services: ``helper`` -> a partner's service (seen by every worker: services
            are few, and each covers neighbourhoods on any partition).
        ledger: ``helper`` -> the helper's whole state and where copies of it are filed
            (partitioned by helper, on the facts topic's partitions: see ``filing``).
        unmatched: ``neighbourhood`` -> its escalated requests, tried again when its supply
            changes (few: only requests operators hold).
    """

    helpers: Table
    roster: Table
    relationships: Table
    progress: Table
    open_requests: Table
    standing: Table
    series: Table
    partner_services: Table = field(default_factory=dict)
    ledger: Table = field(default_factory=dict)
    unmatched: Table = field(default_factory=dict)
    _helpers_read: _Decoded[HelperState] = field(
        default_factory=lambda: _Decoded(_HELPER), init=False, repr=False, compare=False
    )
    _standing_read: _Decoded[Standing] = field(
        default_factory=lambda: _Decoded(_STANDING), init=False, repr=False, compare=False
    )
    _roster_read: _Decoded[Roster] = field(
        default_factory=lambda: _Decoded(rosters.decode), init=False, repr=False, compare=False
    )
    _sieve_read: _Decoded[RosterSieve] = field(
        default_factory=lambda: _Decoded(RosterSieve.of), init=False, repr=False, compare=False
    )
    _open_read: _Decoded[dict[str, datetime]] = field(
        default_factory=lambda: _Decoded(_DUE), init=False, repr=False, compare=False
    )

    def helper(self, neighbourhood: str, person_id: uuid.UUID) -> HelperState:
        """The helper's state, empty when unknown."""
        key = _scoped(neighbourhood, person_id)
        raw = self.helpers.get(key)
        return HelperState() if raw is None else self._helpers_read.load(key, raw)

    def put_helper(self, neighbourhood: str, person_id: uuid.UUID, state: HelperState) -> None:
        """Store the helper's state, and list them in the neighbourhood's roster while they
        have a profile there (a helper unfiled from it has none)."""
        self.helpers[_scoped(neighbourhood, person_id)] = _HELPER.dump_json(state)
        roster = self.roster_index(neighbourhood)
        if state.profile is not None:
            entry = RosterEntry.of(state.profile)
            if person_id not in roster or roster[person_id] != entry:
                self._put_roster(neighbourhood, {**roster, person_id: entry})
        elif person_id in roster:
            self._put_roster(neighbourhood, {p: e for p, e in roster.items() if p != person_id})

    def ledger_entry(self, person_id: uuid.UUID) -> LedgerEntry:
        """The helper's ledger entry, empty when unknown."""
        raw = self.ledger.get(str(person_id))
        return LedgerEntry() if raw is None else _load(_LEDGER, raw)

    def put_ledger_entry(self, person_id: uuid.UUID, entry: LedgerEntry) -> None:
        """Store the helper's ledger entry."""
        self.ledger[str(person_id)] = _LEDGER.dump_json(entry)

    def forget_ledger_entry(self, person_id: uuid.UUID) -> None:
        """Forget a person's ledger entry (their account was deleted)."""
        if str(person_id) in self.ledger:
            del self.ledger[str(person_id)]  # a faust table writes a tombstone

    def forget_helper(self, neighbourhood: str, person_id: uuid.UUID) -> None:
        """Forget a person (their account was deleted): state and place in the roster."""
        key = _scoped(neighbourhood, person_id)
        if key in self.helpers:
            del self.helpers[key]  # a faust table writes a tombstone to its changelog
        roster = self.roster_index(neighbourhood)
        if person_id in roster:
            self._put_roster(neighbourhood, {p: e for p, e in roster.items() if p != person_id})

    def roster_of(self, neighbourhood: str) -> list[uuid.UUID]:
        """The helpers with a profile in the neighbourhood."""
        return list(self.roster_index(neighbourhood))

    def roster_index(self, neighbourhood: str) -> Roster:
        """The helpers filed in the neighbourhood, each with what rules most of them out of a
        request without reading their whole state (``None`` for one filed by an older
        matching, which listed ids only)."""
        raw = self.roster.get(neighbourhood)
        if raw is None:
            return {}
        return dict(self._roster_read.load(neighbourhood, raw))

    def candidates(self, neighbourhood: str, skill: Skill, cell: str) -> Iterator[uuid.UUID]:
        """The helpers filed in the neighbourhood who offer ``skill`` and whose radius
        reaches ``cell``, from the roster alone (``RosterSieve``), in roster order."""
        raw = self.roster.get(neighbourhood)
        if raw is None:
            return iter(())
        return self._sieve_read.load(neighbourhood, raw).candidates(skill, cell)

    def _put_roster(self, neighbourhood: str, roster: Roster) -> None:
        self.roster[neighbourhood] = rosters.encode(roster)

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
        key = _scoped(request.neighbourhood, request.request_id)
        self.progress[key] = _PROGRESS.dump_json(progress)
        if progress.due_at is not None:
            self.open_requests[key] = _DUE.dump_json({"due_at": progress.due_at})
        elif key in self.open_requests:
            del self.open_requests[key]

    def due_by(self, now: datetime) -> list[tuple[str, uuid.UUID]]:
        """``(neighbourhood, request)`` of each open request whose round is due by ``now``.

        Asked every second of every open request: each entry is decoded once per change
        (thousands of open requests took tens of milliseconds a tick, stalling the streams).
        """
        due = []
        for key, entry in self._open_read.load_all(list(self.open_requests.items())):
            if entry["due_at"] <= now:
                neighbourhood, _, request_id = str(key).rpartition("|")
                due.append((neighbourhood, uuid.UUID(request_id)))
        return due

    def standing_of(self, person_id: uuid.UUID) -> Standing | None:
        """Trust's standing for a person, if trust has spoken."""
        key = str(person_id)
        raw = self.standing.get(key)
        return None if raw is None else self._standing_read.load(key, raw)

    def put_standing(self, person_id: uuid.UUID, standing: Standing) -> None:
        """Store a person's standing."""
        self.standing[str(person_id)] = _STANDING.dump_json(standing)

    def forget_standing(self, person_id: uuid.UUID) -> None:
        """Forget a person's standing (trust tombstoned it)."""
        if str(person_id) in self.standing:
            del self.standing[str(person_id)]

    def series_of(self, neighbourhood: str, series_id: uuid.UUID) -> SeriesState:
        """The series' state, empty when unknown."""
        raw = self.series.get(_scoped(neighbourhood, series_id))
        return SeriesState() if raw is None else _load(_SERIES, raw)

    def put_series(self, neighbourhood: str, series_id: uuid.UUID, state: SeriesState) -> None:
        """Store the series' state."""
        self.series[_scoped(neighbourhood, series_id)] = _SERIES.dump_json(state)

    def unmatched_in(self, neighbourhood: str) -> list[uuid.UUID]:
        """The neighbourhood's escalated requests, oldest escalation first."""
        raw = self.unmatched.get(neighbourhood)
        return [] if raw is None else _load(_IDS, raw)

    def put_unmatched(self, neighbourhood: str, request_ids: list[uuid.UUID]) -> None:
        """Replace the neighbourhood's escalated requests (none: the entry goes)."""
        if request_ids:
            self.unmatched[neighbourhood] = _IDS.dump_json(request_ids)
        elif neighbourhood in self.unmatched:
            del self.unmatched[neighbourhood]

    def partner_services_all(self) -> list[PartnerService]:
        """Every partner's service, active or not (a handful: read them all per request)."""
        return [_load(_PARTNER_SERVICE, raw) for raw in list(self.partner_services.values())]

    def put_partner_service(self, service: PartnerService) -> None:
        """Store a service as last announced."""
        self.partner_services[str(service.helper_id)] = _PARTNER_SERVICE.dump_json(service)

    @staticmethod
    def offered_hours(helper: HelperState) -> Container[datetime]:
        """The hours the helper offers: their weekly rules, else a version 1 list."""
        return helper.weekly if helper.weekly is not None else helper.free_hours

    @classmethod
    def in_memory(cls) -> MatchingState:
        """State in plain dicts (unit tests)."""
        return cls({}, {}, {}, {}, {}, {}, {})
