"""A synthetic neighbourhood for one week: helpers, neighbours, needs, and who would say yes.

Everything is drawn from one seeded RNG, and each (request, helper) pair's answer is drawn
from its own seed, so every strategy replayed over the same world meets the same answers.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from services.matching.domain import HelperProfile, HelperView, Relationship, Standing
from services.matching.domain.model import hours_of
from shared.contracts.requests import HelpRequested
from shared.contracts.skills import Skill
from shared.contracts.trust import RelationshipStage
from shared.geo import cell_of, distance_km, neighbourhood_of_cell

#: A Monday: the simulated week starts here.
WEEK_START = datetime(2031, 3, 3, tzinfo=UTC)
_CENTRE = (51.5, -0.1)
_SKILLS = (Skill.SHOPPING, Skill.COMPANY, Skill.LIFT, Skill.REPAIRS, Skill.GARDENING)
_APPROVED_UNTIL = WEEK_START + timedelta(days=365)


@dataclass(frozen=True, slots=True)
class Shape:
    """The knobs of a synthetic week.

    Attributes:
        neighbours: People asking for help.
        helpers: Vetted helpers.
        recurring_share: Share of neighbours with a weekly recurring need (and a regular).
        one_offs: One-off requests in the week, per neighbour.
        decline: Chance a helper declines (or lets lapse) an offer.
        regular_decline: Chance a regular declines their own neighbour's occurrence.
        no_show: Chance a booked helper does not turn up.
        away: Chance a regular is away (not free) for this week's occurrence.
        met: Chance a neighbour has met one more helper they both want to see again.
        newcomers: Share of helpers new to Kith.
        regular_among: A regular is one of this many nearest able helpers: regulars grew out
            of earlier weeks' matching, which offers nearby helpers first.
        seed: The RNG seed.
    """

    neighbours: int = 120
    helpers: int = 40
    recurring_share: float = 0.4
    one_offs: float = 0.6
    decline: float = 0.2
    regular_decline: float = 0.04
    no_show: float = 0.02
    away: float = 0.1
    met: float = 0.3
    newcomers: float = 0.1
    regular_among: int = 3
    seed: int = 7


@dataclass(slots=True)
class SimHelper:
    """A helper of the synthetic neighbourhood (mutable while the world is built)."""

    index: int
    profile: HelperProfile
    free_hours: set[datetime]
    newcomer: bool


@dataclass(frozen=True, slots=True)
class Need:
    """One request of the week, when it is posted, and its regular helper if it recurs."""

    index: int
    request: HelpRequested
    posted_at: datetime
    regular_id: uuid.UUID | None = None


@dataclass(slots=True)
class World:
    """The neighbourhood and its week of needs.

    Its homes spread over several H3 neighbourhood cells, on both sides of their edges: each
    person is filed in the cell of their own home (``neighbourhood_of_cell``), as booking
    files them, so a helper a street away across an edge is found only by distance.
    """

    shape: Shape
    helpers: list[SimHelper]
    needs: list[Need]
    relationships: list[Relationship] = field(default_factory=list)
    #: Each neighbour's home (street cell).
    homes: dict[uuid.UUID, str] = field(default_factory=dict)
    pairs: dict[tuple[uuid.UUID, uuid.UUID], Relationship] = field(default_factory=dict)
    visits: dict[uuid.UUID, int] = field(default_factory=dict)
    by_id: dict[uuid.UUID, SimHelper] = field(default_factory=dict)

    def index(self) -> None:
        """Build the look-ups once the world is drawn."""
        self.pairs = {(r.helper_id, r.neighbour_id): r for r in self.relationships}
        self.visits = {}
        for r in self.pairs.values():
            self.visits[r.helper_id] = self.visits.get(r.helper_id, 0) + r.visits
        self.by_id = {h.profile.person_id: h for h in self.helpers}

    def standing(self, helper: SimHelper) -> Standing:
        """Trust's standing: every simulated helper is vetted for the skills they offer."""
        return Standing(False, dict.fromkeys(helper.profile.skills, _APPROVED_UNTIL))

    def relationship(self, helper_id: uuid.UUID, neighbour_id: uuid.UUID) -> Relationship | None:
        """The pair's record, if any."""
        return self.pairs.get((helper_id, neighbour_id))

    def visits_ever(self, helper_id: uuid.UUID) -> int:
        """Visits the helper made before the week (0 for a newcomer)."""
        return self.visits.get(helper_id, 0)

    def view(self, helper: SimHelper, request: HelpRequested) -> HelperView:
        """The helper as matching would see them before the week (no bookings yet)."""
        return HelperView(
            profile=helper.profile,
            free_hours=frozenset(helper.free_hours),
            standing=self.standing(helper),
            relationship=self.relationship(helper.profile.person_id, request.neighbour_id),
            visits_ever=self.visits_ever(helper.profile.person_id),
        )

    def accepts(self, need: Need, helper_id: uuid.UUID) -> bool:
        """Whether this helper would say yes to this request (the same for every strategy)."""
        chance = self.shape.regular_decline if helper_id == need.regular_id else self.shape.decline
        return _draw(self.shape.seed, "accept", need.index, helper_id) >= chance

    def shows_up(self, need: Need, helper_id: uuid.UUID) -> bool:
        """Whether this helper, once booked for this request, turns up."""
        return _draw(self.shape.seed, "show", need.index, helper_id) >= self.shape.no_show

    def travel_km(self, need: Need, helper_id: uuid.UUID) -> float:
        """One way from the helper's cell to the neighbour's."""
        return distance_km(self.by_id[helper_id].profile.cell, need.request.cell)


def _draw(seed: int, what: str, need: int, helper_id: uuid.UUID) -> float:
    return random.Random(f"{seed}:{what}:{need}:{helper_id}").random()


def _point(rng: random.Random, spread_km: float) -> str:
    lat = _CENTRE[0] + rng.uniform(-spread_km, spread_km) / 111.0
    lng = _CENTRE[1] + rng.uniform(-spread_km, spread_km) / 69.0
    return cell_of(lat, lng)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def build_world(shape: Shape) -> World:
    """Draw a neighbourhood and its week of needs from ``shape.seed``."""
    rng = random.Random(shape.seed)
    helpers = [_helper(rng, index, shape) for index in range(shape.helpers)]
    world = World(shape, helpers, [])
    neighbours = [(_uuid(rng), _point(rng, 1.2)) for _ in range(shape.neighbours)]
    world.homes = dict(neighbours)
    established = [h for h in helpers if not h.newcomer]
    for neighbour_id, _ in neighbours:
        if established and rng.random() < shape.met:
            met = rng.choice(established)
            world.relationships.append(
                Relationship(
                    met.profile.person_id,
                    neighbour_id,
                    RelationshipStage.PAUSED,
                    rng.randint(1, 3),
                    both_want_again=True,
                    matchable=True,
                )
            )
    for neighbour_id, cell in neighbours:
        if rng.random() < shape.recurring_share:
            _recurring(rng, world, neighbour_id, cell)
    for _ in range(round(shape.one_offs * shape.neighbours)):
        neighbour_id, cell = rng.choice(neighbours)
        starts_at = _slot(rng)
        posted_at = starts_at - timedelta(hours=rng.uniform(4, 72))
        request = _request(rng, world, neighbour_id, cell, rng.choice(_SKILLS), starts_at)
        world.needs.append(Need(len(world.needs), request, posted_at))
    world.needs.sort(key=lambda n: (n.posted_at, n.index))
    # A helper takes on no more regulars than their weekly cap allows.
    for helper in helpers:
        regular_hours = sum(
            n.request.hours for n in world.needs if n.regular_id == helper.profile.person_id
        )
        if regular_hours + 2 > helper.profile.weekly_hour_cap:
            helper.profile = replace(helper.profile, weekly_hour_cap=regular_hours + 2)
    world.index()
    return world


def _helper(rng: random.Random, index: int, shape: Shape) -> SimHelper:
    free: set[datetime] = set()
    for day in rng.sample(range(7), rng.randint(3, 5)):
        start = rng.randint(8, 15)
        for hour in range(start, start + rng.randint(3, 6)):
            free.add(WEEK_START + timedelta(days=day, hours=hour))
    profile = HelperProfile(
        person_id=uuid.UUID(int=index + 1),
        display_name=f"Helper {index}",
        cell=_point(rng, 1.5),
        skills=frozenset(rng.sample(_SKILLS, rng.randint(1, 3))),
        travel_radius_km=rng.uniform(2.5, 4.0),
        weekly_hour_cap=rng.randint(4, 12),
    )
    return SimHelper(index, profile, free, rng.random() < shape.newcomers)


def _slot(rng: random.Random) -> datetime:
    return WEEK_START + timedelta(days=rng.randrange(7), hours=rng.randint(8, 18))


def _request(
    rng: random.Random,
    world: World,
    neighbour_id: uuid.UUID,
    cell: str,
    skill: Skill,
    starts_at: datetime,
    *,
    occurrence: int = 1,
    occurrences: int = 1,
) -> HelpRequested:
    return HelpRequested(
        request_id=_uuid(rng),
        series_id=_uuid(rng),
        occurrence=occurrence,
        occurrences=occurrences,
        neighbour_id=neighbour_id,
        neighbourhood=neighbourhood_of_cell(cell),
        cell=cell,
        skill=skill,
        starts_at=starts_at,
        hours=rng.choice((1, 1, 2)),
    )


def _recurring(rng: random.Random, world: World, neighbour_id: uuid.UUID, cell: str) -> None:
    """A weekly need met by a regular helper in earlier weeks; this week's occurrence."""
    skill = rng.choice(_SKILLS)
    starts_at = _slot(rng)
    request = _request(
        rng,
        world,
        neighbour_id,
        cell,
        skill,
        starts_at,
        occurrence=rng.randint(2, 12),
        occurrences=12,
    )
    able = [
        h
        for h in world.helpers
        if not h.newcomer
        and skill in h.profile.skills
        and distance_km(h.profile.cell, cell) <= h.profile.travel_radius_km
    ]
    able.sort(key=lambda h: distance_km(h.profile.cell, cell))
    regular = rng.choice(able[: world.shape.regular_among]) if able else None
    wanted = hours_of(starts_at, request.hours)
    if regular is not None:
        if rng.random() < world.shape.away:
            regular.free_hours.difference_update(wanted)
        else:
            regular.free_hours.update(wanted)
        world.relationships.append(
            Relationship(
                regular.profile.person_id,
                neighbour_id,
                RelationshipStage.REGULAR,
                rng.randint(2, 12),
                both_want_again=True,
                matchable=True,
            )
        )
    # Recurring occurrences are all posted at the start of the series: before the week.
    posted_at = WEEK_START - timedelta(days=7)
    regular_id = regular.profile.person_id if regular is not None else None
    world.needs.append(Need(len(world.needs), request, posted_at, regular_id))
