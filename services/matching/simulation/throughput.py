"""How fast one worker matches requests in cities of 10k to 1M helpers at the same density.

The city is compact: a helper is a few bytes in arrays (a profile template and a street
cell), and matching's tables are read-only mappings over those arrays that hand out the very
JSON bytes the faust tables would hold. The timed path is the real one: ``Matcher.handle`` of
a ``HelpRequested`` (reading the neighbourhood's roster and helpers, eligibility, ranking,
the first round, storing the progress).
"""

from __future__ import annotations

import math
import random
import time
import uuid
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import h3
from pydantic import TypeAdapter

from services.matching.domain import HelperProfile, Policy, Standing
from services.matching.handlers import Matcher
from services.matching.simulation.world import WEEK_START
from services.matching.state import HelperState, MatchingState
from shared.contracts import Envelope, Payload
from shared.contracts.requests import HelpRequested
from shared.contracts.skills import Skill
from shared.geo import NEIGHBOURHOOD_RESOLUTION, STREET_RESOLUTION, neighbourhood_of

_TEMPLATES = 64
_PLACEHOLDER_ID = uuid.UUID(int=0xFEEDFACE)
_PLACEHOLDER_CELL = "8f0000000000000"
_SKILLS = tuple(Skill)
_APPROVED = datetime(2099, 1, 1, tzinfo=WEEK_START.tzinfo)


def _person(index: int) -> uuid.UUID:
    return uuid.UUID(int=index + 1)


class _Helpers(Mapping[str, bytes]):
    """``neighbourhood|person`` -> the helper's stored JSON, from the compact arrays."""

    def __init__(self, city: City) -> None:
        self.city = city

    def __getitem__(self, key: str) -> bytes:
        neighbourhood, _, person = key.partition("|")
        index = uuid.UUID(person).int - 1
        city = self.city
        if not 0 <= index < city.size or city.neighbourhoods[index // city.density] != (
            neighbourhood
        ):
            raise KeyError(key)
        cell = city.children(neighbourhood)[city.cells[index]]
        template = city.templates[city.kinds[index]]
        return template.replace(str(_PLACEHOLDER_ID).encode(), person.encode()).replace(
            _PLACEHOLDER_CELL.encode(), cell.encode()
        )

    def __iter__(self) -> Iterator[str]:
        raise NotImplementedError("a city is never listed whole")

    def __len__(self) -> int:
        return self.city.size


class _Standing(Mapping[str, bytes]):
    """Every helper of the city is vetted for every skill."""

    def __init__(self, city: City, document: bytes) -> None:
        self.city = city
        self.document = document

    def __getitem__(self, key: str) -> bytes:
        if not 0 < uuid.UUID(key).int <= self.city.size:
            raise KeyError(key)
        return self.document

    def __iter__(self) -> Iterator[str]:
        raise NotImplementedError("a city is never listed whole")

    def __len__(self) -> int:
        return self.city.size


@dataclass(slots=True)
class City:
    """``size`` helpers, ``density`` to a neighbourhood, in a disc of H3 neighbourhoods."""

    size: int
    density: int
    neighbourhoods: list[str]
    kinds: array[int]
    cells: array[int]
    templates: list[bytes]
    rosters: dict[str, bytes]
    hours: list[datetime]
    _children: dict[str, list[str]]

    def children(self, neighbourhood: str) -> list[str]:
        """The street cells of a neighbourhood (cached: only visited ones are computed)."""
        known = self._children.get(neighbourhood)
        if known is None:
            known = sorted(h3.cell_to_children(neighbourhood, STREET_RESOLUTION))
            self._children[neighbourhood] = known
        return known

    def state(self) -> MatchingState:
        """Matching's tables over the city: read-only helpers, real dicts for what changes."""
        standing = Standing(False, dict.fromkeys(_SKILLS, _APPROVED))
        tables: dict[str, Any] = {
            "helpers": _Helpers(self),
            "roster": self.rosters,
            "relationships": {},
            "progress": {},
            "open_requests": {},
            "standing": _Standing(self, TypeAdapter(Standing).dump_json(standing)),
            "series": {},
        }
        return MatchingState(**tables)


def build_city(size: int, *, density: int = 50, seed: int = 11) -> City:
    """A city of ``size`` helpers; a few bytes each, built in about a second per million."""
    helper_json, roster_json = TypeAdapter(HelperState), TypeAdapter(list[uuid.UUID])
    rng = random.Random(seed)
    count = math.ceil(size / density)
    centre = neighbourhood_of(51.5, -0.1)
    rings = 0
    while 3 * rings * (rings + 1) + 1 < count:
        rings += 1
    neighbourhoods = sorted(h3.grid_disk(centre, rings))[:count]
    assert all(h3.get_resolution(n) == NEIGHBOURHOOD_RESOLUTION for n in neighbourhoods[:1])
    hours = [WEEK_START + timedelta(days=d, hours=h) for d in range(7) for h in range(8, 20)]
    templates: list[bytes] = []
    for _ in range(_TEMPLATES):
        start = rng.randrange(0, len(hours) - 40)
        profile = HelperProfile(
            person_id=_PLACEHOLDER_ID,
            display_name="Helper",
            cell=_PLACEHOLDER_CELL,
            skills=frozenset(rng.sample(_SKILLS, 3)),
            travel_radius_km=rng.uniform(2.0, 4.0),
            weekly_hour_cap=rng.randint(4, 12),
        )
        state = HelperState(profile=profile, free_hours=frozenset(hours[start : start + 40]))
        templates.append(helper_json.dump_json(state))
    kinds = array("H", rng.choices(range(_TEMPLATES), k=size))
    cells = array("B", rng.choices(range(49), k=size))
    rosters = {
        n: roster_json.dump_json(
            [_person(i) for i in range(k * density, min(size, (k + 1) * density))]
        )
        for k, n in enumerate(neighbourhoods)
    }
    return City(size, density, neighbourhoods, kinds, cells, templates, rosters, hours, {})


def matched_per_second(city: City, policy: Policy, *, requests: int = 2000, seed: int = 5) -> float:
    """Requests one worker takes through its first round per second (wall clock)."""
    matcher = Matcher(city.state(), policy)
    rng = random.Random(seed)
    envelopes: list[Envelope[Payload]] = []
    for _ in range(requests):
        neighbourhood = rng.choice(city.neighbourhoods)
        asked = HelpRequested(
            request_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            series_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            occurrence=1,
            occurrences=1,
            neighbour_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            neighbourhood=neighbourhood,
            cell=rng.choice(city.children(neighbourhood)),
            skill=rng.choice(_SKILLS),
            starts_at=rng.choice(city.hours),
            hours=rng.choice((1, 2)),
        )
        envelopes.append(Envelope.wrap(asked, producer="bench"))
    now = WEEK_START - timedelta(days=1)
    began = time.perf_counter()
    for envelope in envelopes:
        matcher.handle(envelope, 0, now)
    return requests / (time.perf_counter() - began)
