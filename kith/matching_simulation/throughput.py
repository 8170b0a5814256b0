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

from kith.matching_simulation.world import WEEK_START
from services.matching import roster
from services.matching.domain import HelperProfile, Policy, Standing
from services.matching.handlers import Matcher
from services.matching.roster import RosterEntry
from services.matching.state import HelperState, MatchingState
from shared.contracts import Envelope, Payload
from shared.contracts.requests import HelpRequested
from shared.contracts.skills import Skill
from shared.geo import NEIGHBOURHOOD_RESOLUTION, STREET_RESOLUTION, neighbourhood_of

_TEMPLATES = 64
_PLACEHOLDER_ID = uuid.UUID(int=0xFEEDFACE)
_PLACEHOLDER_CELL = "8f0000000000000"
_SKILLS = tuple(Skill)
_EARTH_KM = 6371.0088
#: Rings of neighbourhoods a helper's radius (4 km at most) can reach from their home.
_REACH_RINGS = 2
_APPROVED = datetime(2099, 1, 1, tzinfo=WEEK_START.tzinfo)


def _person(index: int) -> uuid.UUID:
    return uuid.UUID(int=index + 1)


class _Helpers(Mapping[str, bytes]):
    """``neighbourhood|person`` -> the helper's stored JSON, from the compact arrays: the
    same copy in every neighbourhood the helper is filed in."""

    def __init__(self, city: City) -> None:
        self.city = city

    def __getitem__(self, key: str) -> bytes:
        _, _, person = key.partition("|")
        index = uuid.UUID(person).int - 1
        city = self.city
        if not 0 <= index < city.size:
            raise KeyError(key)
        template = city.templates[city.kinds[index]]
        return template.replace(str(_PLACEHOLDER_ID).encode(), person.encode()).replace(
            _PLACEHOLDER_CELL.encode(), city.cell_of(index).encode()
        )

    def __iter__(self) -> Iterator[str]:
        raise NotImplementedError("a city is never listed whole")

    def __len__(self) -> int:
        return self.city.size


class _Rosters(Mapping[str, bytes]):
    """``neighbourhood`` -> the helpers filed there: every helper of the city whose travel
    radius reaches one of its streets, wherever they live (as ``filing`` files them).
    Worked out on first reading, once per neighbourhood (``City.file``)."""

    def __init__(self, city: City) -> None:
        self.city = city
        self.filed: dict[str, bytes] = {}

    def __getitem__(self, neighbourhood: str) -> bytes:
        known = self.filed.get(neighbourhood)
        if known is None:
            known = roster.encode(self.city.filed_in(neighbourhood))
            self.filed[neighbourhood] = known
        return known

    def __iter__(self) -> Iterator[str]:
        return iter(self.filed)

    def __len__(self) -> int:
        return len(self.filed)


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
    skills: list[frozenset[Skill]]
    radii: list[float]
    hours: list[datetime]
    _children: dict[str, list[str]]
    _index: dict[str, int]
    rosters: _Rosters | None = None

    def cell_of(self, index: int) -> str:
        """The street cell helper ``index`` lives in."""
        home = self.neighbourhoods[index // self.density]
        return self.children(home)[self.cells[index]]

    def filed_in(self, neighbourhood: str) -> dict[uuid.UUID, RosterEntry | None]:
        """Every helper whose radius reaches a street of ``neighbourhood``: those living
        two rings of neighbourhoods around it, each checked against its street cells (a
        radius of 4 km reaches no farther)."""
        import numpy as np  # type: ignore[import-untyped,import-not-found,unused-ignore]

        streets = np.radians([h3.cell_to_latlng(c) for c in self.children(neighbourhood)])
        filed: dict[uuid.UUID, RosterEntry | None] = {}
        for home in sorted(h3.grid_disk(neighbourhood, _REACH_RINGS)):
            k = self._index.get(home)
            if k is None:
                continue
            people = range(k * self.density, min(self.size, (k + 1) * self.density))
            places = np.radians([h3.cell_to_latlng(self.cell_of(i)) for i in people])
            # Haversine, every helper against every street: the nearest street decides.
            dlat = places[:, None, 0] - streets[None, :, 0]
            dlng = places[:, None, 1] - streets[None, :, 1]
            a = (
                np.sin(dlat / 2) ** 2
                + np.cos(places[:, None, 0]) * np.cos(streets[None, :, 0]) * np.sin(dlng / 2) ** 2
            )
            nearest_km = (2 * _EARTH_KM * np.arcsin(np.sqrt(a))).min(axis=1)
            for i, km in zip(people, nearest_km, strict=True):
                kind = self.kinds[i]
                if km <= self.radii[kind]:
                    entry = RosterEntry(self.skills[kind], self.cell_of(i), self.radii[kind])
                    filed[_person(i)] = entry
        return filed

    def inland(self) -> list[str]:
        """The neighbourhoods with every home within reach (two rings) inside the city: at
        its density all around. One at the edge has about 440 helpers filed instead of 590,
        and 93 of the 200 neighbourhoods of a city of 10k helpers are at its edge, which made
        it look cheaper than a large city for a reason that is not its size."""
        inside = [
            n
            for n in self.neighbourhoods
            if all(m in self._index for m in h3.grid_disk(n, _REACH_RINGS))
        ]
        return inside or self.neighbourhoods

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
            "roster": self.rosters if self.rosters is not None else _Rosters(self),
            "relationships": {},
            "progress": {},
            "open_requests": {},
            "standing": _Standing(self, TypeAdapter(Standing).dump_json(standing)),
            "series": {},
        }
        return MatchingState(**tables)


def build_city(size: int, *, density: int = 50, seed: int = 11) -> City:
    """A city of ``size`` helpers; a few bytes each, built in about a second per million."""
    helper_json = TypeAdapter(HelperState)
    rng = random.Random(seed)
    count = math.ceil(size / density)
    centre = neighbourhood_of(51.5, -0.1)
    rings = 0
    while 3 * rings * (rings + 1) + 1 < count:
        rings += 1
    # Ring by ring from the centre: a disc, its unfilled outer ring the only ragged edge.
    by_ring = sorted(h3.grid_disk(centre, rings), key=lambda n: (h3.grid_distance(centre, n), n))
    neighbourhoods = by_ring[:count]
    assert all(h3.get_resolution(n) == NEIGHBOURHOOD_RESOLUTION for n in neighbourhoods[:1])
    hours = [WEEK_START + timedelta(days=d, hours=h) for d in range(7) for h in range(8, 20)]
    templates: list[bytes] = []
    skills: list[frozenset[Skill]] = []
    radii: list[float] = []
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
        skills.append(profile.skills)
        radii.append(profile.travel_radius_km)
    kinds = array("H", rng.choices(range(_TEMPLATES), k=size))
    cells = array("B", rng.choices(range(49), k=size))
    index = {n: k for k, n in enumerate(neighbourhoods)}
    city = City(
        size, density, neighbourhoods, kinds, cells, templates, skills, radii, hours, {}, index
    )
    city.rosters = _Rosters(city)
    return city


def timed_matching(
    city: City, policy: Policy, *, requests: int = 2000, seed: int = 5
) -> tuple[float, float]:
    """Requests one worker takes through its first round per second of wall clock, and per
    second of this process's CPU: the steadier figure on a machine shared with other work,
    which takes wall time but not CPU time from the path."""
    return timed_cities([city], policy, requests=requests, seed=seed, rounds=1)[0]


def timed_cities(
    cities: list[City], policy: Policy, *, requests: int = 2000, seed: int = 5, rounds: int = 8
) -> list[tuple[float, float]]:
    """``timed_matching`` of each city, their requests taken in turns: a share of each
    city's in turn, ``rounds`` times over. A busy spell on a shared machine, or the process
    growing as it goes, then weighs on every city alike instead of on whichever came last."""
    matchers = [Matcher(city.state(), policy) for city in cities]
    batches = [_requests(city, requests, seed) for city in cities]
    now = WEEK_START - timedelta(days=1)
    wall = [0.0] * len(cities)
    cpu = [0.0] * len(cities)
    for round_ in range(rounds):
        for k, (matcher, batch) in enumerate(zip(matchers, batches, strict=True)):
            share = batch[round_ * len(batch) // rounds : (round_ + 1) * len(batch) // rounds]
            began, began_cpu = time.perf_counter(), time.process_time()
            for envelope in share:
                matcher.handle(envelope, 0, now)
            cpu[k] += time.process_time() - began_cpu
            wall[k] += time.perf_counter() - began
    return [(requests / w, requests / max(c, 1e-6)) for w, c in zip(wall, cpu, strict=True)]


def _requests(city: City, count: int, seed: int) -> list[Envelope[Payload]]:
    """``count`` requests in the city's inland neighbourhoods, their rosters filed already:
    the timed path reads a roster, it does not build one."""
    rng = random.Random(seed)
    envelopes: list[Envelope[Payload]] = []
    inland = city.inland()
    rosters = city.rosters if city.rosters is not None else _Rosters(city)
    for _ in range(count):
        neighbourhood = rng.choice(inland)
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
        rosters[neighbourhood]  # filed now, before any clock starts
        envelopes.append(Envelope.wrap(asked, producer="bench"))
    return envelopes
