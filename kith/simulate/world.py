"""The simulated neighbourhood, planned in full before it runs: who lives where, who offers
which hours, who needs what and when, who arrives, leaves or changes their hours.

Everything here is pure and drawn from one seed, so a run can be repeated. The plan is also
the ground truth the figures are measured against: whether an occurrence *had* an eligible
helper is decided from it, not from what Kith did.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import h3

from kith.seeding import WEEKDAYS
from shared.geo import neighbourhood_of

#: A corner of Hackney, London: the two neighbourhoods whose shared edge everyone lives on.
ORIGIN = (51.5450, -0.0553)
TIME_ZONE = "Europe/London"
SKILLS = ("shopping", "company")
#: Needs start at these local hours (helpers' blocks are 09-13 and 13-17): few distinct
#: hours keep the number of moments the clock stops at, and so the run's length, small.
NEED_HOURS = (10, 14)
_BLOCKS = ((9, 13), (13, 17), (9, 17))
_LONDON = ZoneInfo(TIME_ZONE)


@dataclass(frozen=True)
class Rule:
    """Free every ``weekday`` (0 is Monday) from ``start`` to ``end`` o'clock, local time."""

    weekday: int
    start: int
    end: int

    def as_json(self) -> dict[str, str]:
        """The rule as ``PUT /v1/me/availability`` takes it."""
        return {
            "weekday": WEEKDAYS[self.weekday],
            "start": f"{self.start:02d}:00",
            "end": f"{self.end:02d}:00",
        }


@dataclass(frozen=True)
class HelperPlan:
    """A helper: where they live, what they offer, and when their life changes."""

    label: str
    home: tuple[float, float]
    neighbourhood: str
    skills: tuple[str, ...]
    radius_km: float
    weekly_hour_cap: int
    hours: tuple[Rule, ...]
    arrives_day: int = 0
    leaves_day: int | None = None
    new_hours: tuple[Rule, ...] = ()
    new_hours_day: int | None = None

    def hours_on(self, day: int) -> tuple[Rule, ...]:
        """The weekly rules in force on simulated ``day``."""
        if self.new_hours_day is not None and day >= self.new_hours_day:
            return self.new_hours
        return self.hours

    def active_on(self, day: int) -> bool:
        """Whether the helper has arrived and not left on ``day``."""
        return self.arrives_day <= day and (self.leaves_day is None or day < self.leaves_day)


@dataclass(frozen=True)
class NeedPlan:
    """One ask for help: once (``occurrences`` 1) or weekly, posted on ``post_day``."""

    skill: str
    first_start: datetime
    hours: int
    occurrences: int
    post_day: int

    def starts(self) -> list[datetime]:
        """Each occurrence's start (weekly at the same local time)."""
        local = self.first_start.astimezone(_LONDON)
        return [
            (local + timedelta(weeks=index)).astimezone(UTC) for index in range(self.occurrences)
        ]


@dataclass(frozen=True)
class NeighbourPlan:
    """A neighbour and the help they will ask for."""

    label: str
    home: tuple[float, float]
    neighbourhood: str
    needs: tuple[NeedPlan, ...]


@dataclass(frozen=True)
class Chances:
    """How often people do each thing (per offer, per booking or per visit)."""

    accept: float = 0.8
    ignore: float = 0.1
    helper_cancels: float = 0.05
    neighbour_cancels: float = 0.03
    helper_no_show: float = 0.02
    helper_no_show_unreported: float = 0.01
    neighbour_absent: float = 0.02
    forgets_check_out: float = 0.04
    see_again_no: float = 0.03


@dataclass(frozen=True)
class WorldPlan:
    """The whole neighbourhood over ``weeks`` from ``day_zero`` (midnight UTC of day 0)."""

    seed: int
    weeks: int
    day_zero: datetime
    helpers: tuple[HelperPlan, ...]
    neighbours: tuple[NeighbourPlan, ...]
    concern_day: int | None
    chances: Chances = field(default_factory=Chances)

    @property
    def days(self) -> int:
        """How many days the run covers."""
        return 7 * self.weeks

    def day_of(self, moment: datetime) -> int:
        """The simulated day a moment falls on (day 0 is the first)."""
        return (moment - self.day_zero) // timedelta(days=1)

    def week_of(self, moment: datetime) -> int:
        """The simulated week (0-based) a moment falls in."""
        return self.day_of(moment) // 7

    def at(self, day: int, hour: int) -> datetime:
        """``hour`` o'clock UTC on simulated ``day``."""
        return self.day_zero + timedelta(days=day, hours=hour)

    @property
    def neighbourhoods(self) -> list[str]:
        """The neighbourhood cells people live in."""
        cells = {p.neighbourhood for p in self.helpers} | {p.neighbourhood for p in self.neighbours}
        return sorted(cells)


def day_zero_after(moment: datetime) -> datetime:
    """Midnight UTC of the first Monday after ``moment``: a run always starts on a Monday, so
    that one seed gives the same weeks (whose needs and hours fall on weekdays) on any date."""
    midnight = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(days=7 - midnight.weekday())


def plan_world(
    seed: int, weeks: int, day_zero: datetime, *, helpers: int = 12, neighbours: int = 16
) -> WorldPlan:
    """A seeded neighbourhood of ``helpers`` and ``neighbours`` for ``weeks`` from ``day_zero``.

    Homes lie within a few hundred metres of the edge between two neighbourhood cells, on
    both sides of it, so that every helper is within travel distance of every neighbour
    whichever cell each is filed under. Two helpers arrive during the run, one leaves, two
    change their hours, and one concern is raised half way through.
    """
    rng = random.Random(seed)
    days = 7 * weeks
    sides = _two_sides()
    helper_plans = [_helper(rng, index, sides[index % 2], days) for index in range(helpers)]
    if helpers >= 4:
        # Life happens to some of them: spread over the run so that even two weeks see it.
        late = [round(days * 0.25), round(days * 0.5)]
        for offset, day in enumerate(late):
            index = helpers - 1 - offset
            helper_plans[index] = replace(helper_plans[index], arrives_day=max(1, day))
        helper_plans[0] = replace(helper_plans[0], leaves_day=max(2, round(days * 0.6)))
        for offset, share in enumerate((0.3, 0.7)):
            index = 1 + offset
            helper_plans[index] = replace(
                helper_plans[index],
                new_hours=_hours(rng),
                new_hours_day=max(1, round(days * share)),
            )
    neighbour_plans = [
        _neighbour(rng, index, sides[index % 2], day_zero, weeks) for index in range(neighbours)
    ]
    return WorldPlan(
        seed=seed,
        weeks=weeks,
        day_zero=day_zero,
        helpers=tuple(helper_plans),
        neighbours=tuple(neighbour_plans),
        concern_day=max(1, days // 2) if weeks >= 1 else None,
    )


def eligible_helpers(
    world: WorldPlan,
    neighbour: NeighbourPlan,
    skill: str,
    start: datetime,
    hours: int,
    *,
    suspended: set[str],
) -> list[HelperPlan]:
    """The helpers who could have come, by the plan: arrived and not left, vetted (all
    are), not ``suspended`` (labels), offering ``skill`` at those hours by their own weekly
    hours, and living within their travel radius of the neighbour.

    Other bookings of the helper are not considered: the world is sized so that helpers'
    weekly caps and hours leave room, and the first-come order of accepts is Kith's to make.
    """
    day = world.day_of(start)
    local = start.astimezone(_LONDON)
    found = []
    for helper in world.helpers:
        if helper.label in suspended or not helper.active_on(day) or skill not in helper.skills:
            continue
        if distance_km(helper.home, neighbour.home) > helper.radius_km:
            continue
        if any(
            rule.weekday == local.weekday()
            and rule.start <= local.hour
            and local.hour + hours <= rule.end
            for rule in helper.hours_on(day)
        ):
            found.append(helper)
    return found


def had_eligible_helper(
    world: WorldPlan,
    neighbour: NeighbourPlan,
    skill: str,
    start: datetime,
    hours: int,
    *,
    suspended: set[str],
) -> bool:
    """Whether some helper could have come (see ``eligible_helpers``)."""
    return bool(eligible_helpers(world, neighbour, skill, start, hours, suspended=suspended))


def why_unserved(
    neighbour: NeighbourPlan,
    helpers: list[HelperPlan],
    *,
    helper_cancelled: bool,
    told: bool,
) -> str:
    """A first guess at why an occurrence with eligible ``helpers`` was not served, from what
    the plan knows (the cause is confirmed in the services' logs):

    * ``helper_cancelled``: its helper called it off and nobody took it again;
    * ``other_cell_only``: every eligible helper lives in the other neighbourhood cell;
    * ``escalated``: operators were told, with none of the above;
    * ``not_taken``: still open at its start (offers declined, ignored or expired).
    """
    if helper_cancelled:
        return "helper_cancelled"
    if all(h.neighbourhood != neighbour.neighbourhood for h in helpers):
        return "other_cell_only"
    return "escalated" if told else "not_taken"


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two points."""
    return float(h3.great_circle_distance(a, b))


def _two_sides() -> tuple[tuple[str, tuple[float, float]], tuple[str, tuple[float, float]]]:
    """Two neighbouring cells and the midpoint of their centres (a point on their edge)."""
    home_cell = neighbourhood_of(*ORIGIN)
    other = sorted(str(cell) for cell in h3.grid_ring(home_cell, 1))[0]
    a, b = h3.cell_to_latlng(home_cell), h3.cell_to_latlng(other)
    edge = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    return (home_cell, edge), (other, edge)


def _home(rng: random.Random, side: tuple[str, tuple[float, float]]) -> tuple[float, float]:
    """A home within about 600 m of the edge, on the given side of it."""
    cell, edge = side
    while True:
        home = edge[0] + rng.uniform(-0.005, 0.005), edge[1] + rng.uniform(-0.008, 0.008)
        if neighbourhood_of(*home) == cell:
            return home


def _hours(rng: random.Random) -> tuple[Rule, ...]:
    """Three to five weekdays (Monday to Saturday), each a morning, an afternoon or both."""
    days = sorted(rng.sample(range(6), rng.randint(3, 5)))
    return tuple(Rule(day, *rng.choice(_BLOCKS)) for day in days)


def _helper(
    rng: random.Random, index: int, side: tuple[str, tuple[float, float]], days: int
) -> HelperPlan:
    home = _home(rng, side)
    return HelperPlan(
        label=f"helper-{index:02d}",
        home=home,
        neighbourhood=neighbourhood_of(*home),
        skills=SKILLS if rng.random() < 0.7 else (rng.choice(SKILLS),),
        radius_km=3.0,
        weekly_hour_cap=10,
        hours=_hours(rng),
    )


def _neighbour(
    rng: random.Random,
    index: int,
    side: tuple[str, tuple[float, float]],
    day_zero: datetime,
    weeks: int,
) -> NeighbourPlan:
    """Most neighbours want the same hour every week; the others ask now and then."""
    home = _home(rng, side)
    days = 7 * weeks
    needs: list[NeedPlan] = []
    if index % 3 != 2:
        # A weekly need, from the first week (some start a little later), to the end.
        post_day = 0 if rng.random() < 0.75 else rng.randint(1, max(1, days // 3))
        first_day = post_day + rng.randint(1, 6)
        count = math.ceil((days - first_day) / 7)
        if count >= 1:
            needs.append(
                NeedPlan(
                    skill=rng.choice(SKILLS),
                    first_start=_local_start(day_zero, first_day, rng.choice(NEED_HOURS)),
                    hours=rng.choice((1, 1, 2)),
                    occurrences=count,
                    post_day=post_day,
                )
            )
    else:
        # One-off needs: about one a week, asked one to six days ahead.
        for post_day in range(days):
            if rng.random() < 1 / 7:
                start_day = post_day + rng.randint(1, 6)
                if start_day < days:
                    needs.append(
                        NeedPlan(
                            skill=rng.choice(SKILLS),
                            first_start=_local_start(day_zero, start_day, rng.choice(NEED_HOURS)),
                            hours=1,
                            occurrences=1,
                            post_day=post_day,
                        )
                    )
    return NeighbourPlan(
        label=f"neighbour-{index:02d}",
        home=home,
        neighbourhood=neighbourhood_of(*home),
        needs=tuple(needs),
    )


def _local_start(day_zero: datetime, day: int, hour: int) -> datetime:
    """``hour`` o'clock London time on simulated ``day``, in UTC."""
    on: date = (day_zero + timedelta(days=day)).date()
    local = datetime(on.year, on.month, on.day, hour, tzinfo=_LONDON)
    return local.astimezone(UTC)
