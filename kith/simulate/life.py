"""The neighbourhood's weeks: the clock moved from one moment to the next, and at each
moment people do what falls due then, through the API.

Moments are every morning (07:00 UTC: new asks, arrivals, departures, changed hours, the
concern), two hours before each visit (helpers look at their offers again), each visit's
start (the occurrence's fate is recorded, the helper checks in) and end (check-out and the
private questions), and every evening. Helpers read their inbox at every moment and answer
what they see, so offers are answered in the real seconds between two moves of the clock,
as a person glancing at their phone would.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from kith.client import ApiError, until
from kith.demo import matching_knows_people
from kith.seeding import Api, ApiRefused, approved
from kith.simulate import actors, diagnosis
from kith.simulate.actors import Features, Helper, Neighbour
from kith.simulate.metrics import Ledger, Occurrence
from kith.simulate.stack import SimStack
from kith.simulate.world import TIME_ZONE, NeedPlan, WorldPlan, eligible_helpers, why_unserved
from shared import clock

#: Real seconds given to the services after the clock reaches a visit's start, so that
#: their timed sweeps (which look at the clock at least once a second) have run before the
#: occurrence's fate is read.
_SETTLE_S = 0.5
#: Real seconds to wait for matching's first offers of a new ask, or its next round.
_MATCHING_S = 3.0
#: Real seconds a visit left open at the end is watched for Kith to close it.
_CLOSE_OUT_S = 10.0
_ZONE = ZoneInfo(TIME_ZONE)

Action = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Fate:
    """What happens at a booked visit."""

    kind: str  # "visit", "neighbour_absent", "helper_no_show", "unreported", "no_check_out"


class Life:
    """One run of the simulated neighbourhood on a running Kith."""

    def __init__(
        self,
        stack: SimStack,
        api: Api,
        world: WorldPlan,
        *,
        say: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.stack = stack
        self.api = api
        self.world = world
        self.say = say
        self.run = uuid.uuid4().hex[:6]
        self.ledger = Ledger(world.weeks)
        self.features = Features()
        self.helpers: dict[str, Helper] = {}
        self.by_person: dict[str, Helper] = {}
        self.neighbours: dict[str, Neighbour] = {}
        self.suspended: set[str] = set()
        self.watched: Helper | None = None
        self.decided: set[str] = set()
        self.refused: Counter[str] = Counter()
        self.examples: dict[str, str] = {}
        self._agenda: list[tuple[datetime, int, int, Action]] = []
        self._order = itertools.count()
        self._pending_concern = False
        self.booking_requests: dict[str, str] = {}
        self.mornings: list[tuple[datetime, int]] = []

    def _draw(self, *key: object) -> random.Random:
        """A person's own chance for one decision, drawn from the seed and what it is about.

        Not one stream of draws for the run: offers reach helpers in an order the platform's
        timing decides, and the same choice must come out the same whatever the order.
        """
        return random.Random("|".join(str(part) for part in (self.world.seed, *key)))

    # -- the agenda ---------------------------------------------------------------------

    def at(self, moment: datetime, action: Action, *, rank: int = 5) -> None:
        """Do ``action`` at ``moment`` (lower ``rank`` first among one moment's actions)."""
        heapq.heappush(self._agenda, (moment, rank, next(self._order), action))

    async def live(self) -> dict[str, Any]:
        """Seed the neighbourhood, run every moment of every week, and report the figures."""
        started = time.monotonic()
        await self._seed()
        for day in range(self.world.days + 2):
            self.at(self.world.at(day, 7), partial(self._morning, day), rank=3)
            self.at(self.world.at(day, 19), _nothing, rank=9)
        last_week = -1
        while self._agenda:
            moment = self._agenda[0][0]
            week = self.world.week_of(moment)
            if week != last_week and 0 <= week < self.world.weeks:
                self.say(f"week {week + 1} of {self.world.weeks}")
                last_week = week
            await self._move_to(moment)
            while self._agenda and self._agenda[0][0] == moment:
                _, _, _, action = heapq.heappop(self._agenda)
                await action()
            await self._inbox_round()
            await self._watch_suspended()
        await self._close_out()
        report = self.ledger.report(time.monotonic() - started)
        report["features"] = self.features.as_json()
        report["refused"] = dict(sorted(self.refused.items()))
        report["refused_examples"] = dict(sorted(self.examples.items()))
        report["unserved_why"] = diagnosis.why_not_served(
            self.ledger.in_range(),
            diagnosis.matching_verdicts(self.stack.log_file),
            {label: helper.person_id for label, helper in self.helpers.items()},
            {plan.label: plan for plan in self.world.helpers},
            {plan.label: plan.neighbourhood for plan in self.world.neighbours},
            self.mornings,
        )
        report["world"] = {
            "seed": self.world.seed,
            "helpers": len(self.world.helpers),
            "neighbours": len(self.world.neighbours),
            "neighbourhoods": self.world.neighbourhoods,
        }
        return report

    async def _move_to(self, moment: datetime) -> None:
        ahead = moment - clock.now()
        if ahead > timedelta(0):
            clock.advance(self.stack.clock_file, ahead)

    # -- seeding --------------------------------------------------------------------------

    async def _seed(self) -> None:
        self.features = await actors.detect_features(self.api)
        first = [plan for plan in self.world.helpers if plan.arrives_day == 0]
        helpers = await asyncio.gather(
            *(
                actors.sign_up_helper(self.api, self.stack.operator_token, plan, self.run)
                for plan in first
            )
        )
        for helper in helpers:
            self._welcome(helper)
        neighbours = await asyncio.gather(
            *(actors.sign_up_neighbour(self.api, plan, self.run) for plan in self.world.neighbours)
        )
        self.neighbours = {n.label: n for n in neighbours}
        for helper in helpers:
            await self._until_approved(helper)
        await until(
            partial(matching_knows_people, self.stack.bootstrap),
            60,
            "matching to read the people, their hours and approvals",
            every_s=0.2,
        )

    def _welcome(self, helper: Helper) -> None:
        self.helpers[helper.label] = helper
        self.by_person[helper.person_id] = helper

    async def _until_approved(self, helper: Helper) -> None:
        assert helper.plan is not None
        await until(
            partial(
                approved, self.api, self.stack.operator_token, helper.person, helper.plan.skills[0]
            ),
            60,
            f"trust to approve {helper.label}",
            every_s=0.1,
        )

    # -- mornings: life changes, new asks --------------------------------------------------

    async def _morning(self, day: int) -> None:
        # Logs are stamped in real time: remember when each simulated day began in it.
        self.mornings.append((datetime.now(UTC), day))
        for plan in self.world.helpers:
            if plan.arrives_day == day and day > 0:
                helper = await actors.sign_up_helper(
                    self.api, self.stack.operator_token, plan, self.run
                )
                self._welcome(helper)
                await self._until_approved(helper)
            helper_now = self.helpers.get(plan.label)
            if helper_now is None or helper_now.gone:
                continue
            if plan.leaves_day == day:
                await self._leave(helper_now)
            elif plan.new_hours_day == day:
                await self._attempt("change_hours", actors.change_hours(helper_now, plan.new_hours))
        asked: list[str] = []
        for neighbour in self.neighbours.values():
            assert neighbour.plan is not None
            for index, need in enumerate(neighbour.plan.needs):
                if need.post_day == day:
                    asked += await self._ask(neighbour, need, index)
        for neighbour in self.neighbours.values():
            if neighbour.series:
                await self._discover(neighbour)
        if asked:
            await self._until_offered(asked)
        if (
            self.world.concern_day is not None
            and day >= self.world.concern_day
            and (day == self.world.concern_day or self._pending_concern)
        ):
            await self._raise_concern()

    async def _leave(self, helper: Helper) -> None:
        """A helper moves away: they call off their upcoming visits and offer no more hours."""
        upcoming = await helper.call("GET", "/v1/bookings?when=upcoming&limit=200")
        for booking in upcoming["items"]:
            if booking["side"] == "helper" and booking["status"] == "confirmed":
                self.booking_requests[str(booking["booking_id"])] = str(booking["request_id"])
                await self._helper_cancels(helper, str(booking["booking_id"]), "moving away")
        await self._attempt("leave", actors.change_hours(helper, ()))
        helper.gone = True

    async def _ask(self, neighbour: Neighbour, need: NeedPlan, index: int) -> list[str]:
        now = clock.now()
        starts = [start for start in need.starts() if start > now + timedelta(hours=1)]
        if not starts:
            return []
        try:
            created = await actors.ask(
                neighbour,
                need.skill,
                starts[0],
                need.hours,
                len(starts),
                key=f"ask-{neighbour.label}-{index}-{self.run}",
            )
        except ApiRefused as refused:
            self._refused("ask", str(refused))
            return []
        series = str(created["series_id"]) if len(starts) > 1 else None
        if series is not None:
            neighbour.series.append(series)
        return [
            self._register(neighbour, item, series, need.skill, need.hours)
            for item in created["occurrences"]
        ]

    def _register(
        self, neighbour: Neighbour, item: dict[str, Any], series: str | None, skill: str, hours: int
    ) -> str:
        """Count an occurrence Kith made, and come back at its start."""
        starts_at = datetime.fromisoformat(str(item["starts_at"]))
        occurrence = Occurrence(
            request_id=str(item["request_id"]),
            series_id=series,
            index=int(item.get("occurrence") or 0),
            neighbour=neighbour.label,
            skill=skill,
            starts_at=starts_at,
            hours=hours,
            week=self.world.week_of(starts_at),
        )
        self.ledger.asked(occurrence)
        if occurrence.week < self.world.weeks:
            self.at(starts_at - timedelta(hours=2), _nothing, rank=8)
            self.at(starts_at, partial(self._start, occurrence), rank=1)
        return occurrence.request_id

    async def _discover(self, neighbour: Neighbour) -> None:
        """Occurrences of the neighbour's series that Kith made since (a series rolls forward
        by itself where Kith makes occurrences only some weeks ahead)."""
        cursor: str | None = None
        while True:
            page = await neighbour.call(
                "GET", "/v1/requests?limit=200" + (f"&cursor={cursor}" if cursor else "")
            )
            for item in page["items"]:
                series = str(item.get("series_id"))
                if series in neighbour.series and str(item["request_id"]) not in (
                    self.ledger.occurrences
                ):
                    self._register(neighbour, item, series, str(item["skill"]), int(item["hours"]))
            cursor = page.get("next_cursor")
            if not cursor:
                return

    async def _until_offered(self, request_ids: list[str]) -> None:
        """Wait (a little) until matching has offered, or given up on, each new ask."""
        deadline = time.monotonic() + _MATCHING_S
        waiting = list(request_ids)
        while waiting and time.monotonic() < deadline:
            occurrence = self.ledger.occurrences[waiting[0]]
            neighbour = self.neighbours[occurrence.neighbour]
            found = await neighbour.call("GET", f"/v1/requests/{occurrence.request_id}")
            if found["status"] != "open" or found.get("offers_made", 0) > 0:
                waiting.pop(0)
            else:
                await asyncio.sleep(0.05)

    # -- helpers answering offers -----------------------------------------------------------

    async def _inbox_round(self) -> None:
        for _ in range(3):
            answered = 0
            for helper in list(self.helpers.values()):
                if helper.gone or helper.suspended:
                    continue
                answered += await self._answer(helper)
            if not answered:
                return
            # A declined round makes matching offer the next helpers at once: read again.
            await asyncio.sleep(0.2)

    async def _answer(self, helper: Helper) -> int:
        answered = 0
        for offer in await actors.open_offers(helper):
            offer_id = str(offer["offer_id"])
            if offer_id in self.decided:
                continue
            self.decided.add(offer_id)
            chances = self.world.chances
            starts_at = datetime.fromisoformat(str(offer["starts_at"]))
            asked = self.ledger.occurrences.get(str(offer["request_id"]))
            draw = self._draw("answer", helper.label, asked.neighbour if asked else "", starts_at)
            if draw.random() < chances.ignore:
                continue
            answered += 1
            if self._fits(helper, starts_at, int(offer["hours"])) and (
                draw.random() < chances.accept
            ):
                await self._accept(helper, offer, starts_at)
            else:
                await self._attempt(
                    "decline", helper.call("POST", f"/v1/offers/{offer_id}/decline")
                )
        return answered

    def _fits(self, helper: Helper, starts_at: datetime, hours: int) -> bool:
        """Whether the offer falls in the helper's own hours (they decline what does not)."""
        assert helper.plan is not None
        local = starts_at.astimezone(_ZONE)
        day = self.world.day_of(starts_at)
        return any(
            rule.weekday == local.weekday()
            and rule.start <= local.hour
            and local.hour + hours <= rule.end
            for rule in helper.plan.hours_on(day)
        )

    async def _accept(self, helper: Helper, offer: dict[str, Any], starts_at: datetime) -> None:
        try:
            asked = self.ledger.occurrences.get(str(offer["request_id"]))
            in_series = asked is not None and asked.series_id is not None
            booked = await actors.accept(helper, offer, self.features, in_series=in_series)
        except ApiRefused as refused:
            if refused.status == 409:
                return  # someone else was quicker, or it overlaps: as in life
            self._refused("accept", str(refused))
            return
        bookings = booked.get("bookings") or [booked]
        for booking in bookings:
            if "booking_id" in booking:
                self._plan_cancellations(
                    helper,
                    str(booking["booking_id"]),
                    str(booking.get("request_id", offer["request_id"])),
                    datetime.fromisoformat(str(booking.get("starts_at", starts_at))),
                )

    def _plan_cancellations(
        self, helper: Helper, booking_id: str, request_id: str, starts_at: datetime
    ) -> None:
        chances = self.world.chances
        self.booking_requests[booking_id] = request_id
        occurrence = self.ledger.occurrences.get(request_id)
        if occurrence is None:
            return
        draws = self._draw("cancel", helper.label, occurrence.neighbour, starts_at)
        before = timedelta(hours=draws.choice((3, 6, 20, 30, 48)))
        when = max(clock.now() + timedelta(hours=1), starts_at - before)
        when = when.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        if when >= starts_at:
            return
        draw = draws.random()
        if draw < chances.helper_cancels:
            self.at(when, partial(self._helper_cancels, helper, booking_id, "something came up"))
        elif draw < chances.helper_cancels + chances.neighbour_cancels:
            neighbour = self.neighbours[occurrence.neighbour]
            self.at(when, partial(self._neighbour_cancels, neighbour, booking_id, occurrence))

    async def _helper_cancels(self, helper: Helper, booking_id: str, reason: str) -> None:
        if helper.suspended:
            return
        try:
            cancelled = await helper.call(
                "POST", f"/v1/bookings/{booking_id}/cancel", json={"reason": reason}
            )
        except ApiRefused as refused:
            self._refused("helper_cancel", str(refused))
            return
        request_id = self.booking_requests.get(booking_id, str(cancelled.get("request_id", "")))
        if request_id in self.ledger.occurrences:
            self.ledger.occurrences[request_id].helper_cancelled = True

    async def _neighbour_cancels(
        self, neighbour: Neighbour, booking_id: str, occurrence: Occurrence
    ) -> None:
        try:
            await neighbour.call(
                "POST", f"/v1/bookings/{booking_id}/cancel", json={"reason": "not needed now"}
            )
        except ApiRefused as refused:
            self._refused("neighbour_cancel", str(refused))
            return
        occurrence.withdrawn = True

    # -- visits -------------------------------------------------------------------------------

    async def _start(self, occurrence: Occurrence) -> None:
        """The start has come: record what Kith made of the occurrence; the visit begins."""
        if occurrence.withdrawn:
            occurrence.settled = True
            return
        await asyncio.sleep(_SETTLE_S)
        neighbour = self.neighbours[occurrence.neighbour]
        assert neighbour.plan is not None
        helpers = eligible_helpers(
            self.world,
            neighbour.plan,
            occurrence.skill,
            occurrence.starts_at,
            occurrence.hours,
            suspended=self.suspended,
        )
        occurrence.eligible = bool(helpers)
        occurrence.eligible_helpers = tuple(helper.label for helper in helpers)
        found = await neighbour.call("GET", f"/v1/requests/{occurrence.request_id}")
        mine = await neighbour.call("GET", "/v1/bookings?limit=200")
        bookings = [b for b in mine["items"] if str(b["request_id"]) == occurrence.request_id]
        if any(b["status"] == "cancelled" for b in bookings):
            occurrence.helper_cancelled = True
        live = [b for b in bookings if b["status"] != "cancelled"]
        occurrence.settled = True
        if found["status"] == "cancelled" and not live:
            occurrence.withdrawn = True
            return
        if live:
            booking = live[0]
            helper_id = str(booking["helper"]["person_id"])
            helper = self.by_person.get(helper_id)
            self.ledger.served(
                occurrence, helper.label if helper else helper_id, str(booking["booking_id"])
            )
            if helper is not None:
                await self._visit(helper, neighbour, occurrence, str(booking["booking_id"]))
            return
        occurrence.told = found["status"] in self.features.operator_statuses or (
            await self._on_operators_list(occurrence.request_id)
        )
        occurrence.stranded = not occurrence.told
        if helpers:
            occurrence.unserved_cause = why_unserved(
                neighbour.plan,
                helpers,
                helper_cancelled=occurrence.helper_cancelled,
                told=occurrence.told,
            )

    async def _on_operators_list(self, request_id: str) -> bool:
        for status in self.features.operator_statuses:
            cursor: str | None = None
            while True:
                path = f"/v1/operator/requests?status={status}&limit=200"
                page = await self.api.call(
                    "GET",
                    path + (f"&cursor={cursor}" if cursor else ""),
                    token=self.stack.operator_token,
                )
                if any(str(item["request_id"]) == request_id for item in page["items"]):
                    return True
                cursor = page.get("next_cursor")
                if not cursor:
                    break
        return False

    async def _visit(
        self, helper: Helper, neighbour: Neighbour, occurrence: Occurrence, booking_id: str
    ) -> None:
        if helper.suspended or helper.gone:
            return
        chances = self.world.chances
        draw = self._draw("visit", occurrence.neighbour, occurrence.starts_at).random()
        edges = itertools.accumulate(
            (
                chances.neighbour_absent,
                chances.helper_no_show,
                chances.helper_no_show_unreported,
                chances.forgets_check_out,
            )
        )
        kinds = ("neighbour_absent", "helper_no_show", "unreported", "no_check_out")
        fate = next((kind for kind, edge in zip(kinds, edges, strict=True) if draw < edge), "visit")
        end = occurrence.starts_at + timedelta(hours=occurrence.hours)
        if fate == "neighbour_absent":
            occurrence.no_show = True
            await self._attempt(
                "no_show",
                helper.call(
                    "POST",
                    f"/v1/bookings/{booking_id}/no-show",
                    json={"note": "no answer at the door"},
                ),
            )
        elif fate in {"helper_no_show", "unreported"}:
            occurrence.no_show = True
            if fate == "helper_no_show":
                self.at(
                    end,
                    partial(
                        self._attempt_later,
                        "no_show",
                        neighbour,
                        f"/v1/bookings/{booking_id}/no-show",
                        {"note": "nobody came"},
                    ),
                    rank=2,
                )
        else:
            await self._attempt(
                "check_in", helper.call("POST", f"/v1/bookings/{booking_id}/check-in")
            )
            if fate == "visit":
                self.at(end, partial(self._end, helper, neighbour, booking_id, occurrence), rank=2)

    async def _end(
        self, helper: Helper, neighbour: Neighbour, booking_id: str, occurrence: Occurrence
    ) -> None:
        if not await self._attempt(
            "check_out", helper.call("POST", f"/v1/bookings/{booking_id}/check-out")
        ):
            return
        for person in (helper, neighbour):
            draw = self._draw("again", person.label, occurrence.starts_at).random()
            see_again = "no" if draw < self.world.chances.see_again_no else "yes"
            await self._attempt(
                "check_in_questions",
                person.call(
                    "POST",
                    f"/v1/bookings/{booking_id}/check-ins",
                    json={"see_again": see_again, "as_agreed": "yes"},
                    key=f"checkin-{booking_id}-{person.person_id}",
                ),
            )

    async def _attempt_later(
        self, kind: str, actor: actors.Actor, path: str, body: dict[str, Any]
    ) -> None:
        await self._attempt(kind, actor.call("POST", path, json=body))

    # -- safeguarding ---------------------------------------------------------------------------

    async def _raise_concern(self) -> None:
        """A neighbour raises a concern about the helper of their next visit."""
        self._pending_concern = True
        now = clock.now()
        for neighbour in self.neighbours.values():
            mine = await neighbour.call("GET", "/v1/bookings?when=upcoming&limit=200")
            for booking in mine["items"]:
                helper = self.by_person.get(str(booking["helper"]["person_id"]))
                starts_at = datetime.fromisoformat(str(booking["starts_at"]))
                if (
                    booking["status"] != "confirmed"
                    or helper is None
                    or helper.gone
                    or starts_at - now > timedelta(hours=40)
                ):
                    continue
                await neighbour.call(
                    "POST",
                    "/v1/concerns",
                    json={
                        "about_id": helper.person_id,
                        "booking_id": str(booking["booking_id"]),
                        "summary": "They were rude and I felt unsafe.",
                    },
                )
                self._pending_concern = False
                helper.suspended = True
                self.suspended.add(helper.label)
                self.say(f"a concern is raised about {helper.label}")
                try:
                    await until(
                        partial(self._shown_suspended, helper),
                        30,
                        "trust's suspension to reach booking",
                        every_s=0.1,
                    )
                except ApiError as error:
                    self._refused("suspension", str(error))
                self.watched = helper
                return

    async def _shown_suspended(self, helper: Helper) -> bool:
        found = await self.api.call(
            "GET", f"/v1/operator/people/{helper.person_id}", token=self.stack.operator_token
        )
        return bool((found.get("standing") or {}).get("suspended"))

    async def _watch_suspended(self) -> None:
        """As the suspended helper: is any work offered, any address shown?"""
        helper = self.watched
        if helper is None:
            return
        week = self.world.week_of(clock.now())
        for offer in await actors.open_offers(helper):
            if self.ledger.violation(week, f"offer:{offer['offer_id']}"):
                self.say(f"violation: {helper.label} was offered {offer['offer_id']}")
        upcoming = await helper.call("GET", "/v1/bookings?when=upcoming&limit=200")
        for booking in upcoming["items"]:
            if booking["side"] != "helper" or booking["status"] != "confirmed":
                continue
            shown = await helper.call("GET", f"/v1/bookings/{booking['booking_id']}")
            neighbour = shown.get("neighbour") or {}
            shown_where = neighbour.get("address") or neighbour.get("contact")
            if shown_where and self.ledger.violation(week, f"address:{booking['booking_id']}"):
                self.say(f"violation: {helper.label} was shown an address")

    # -- the end --------------------------------------------------------------------------

    async def _close_out(self) -> None:
        """Once the last visit is days past: which visits did nobody ever close?

        Kith's closing sweeps run when they see the moved clock, in real seconds: a visit still
        open is looked at again for a few seconds before it counts as left open.
        """
        open_ones = [o for o in self.ledger.in_range() if o.booking_id is not None]
        deadline = time.monotonic() + _CLOSE_OUT_S
        while open_ones:
            still = []
            for occurrence in open_ones:
                neighbour = self.neighbours[occurrence.neighbour]
                booking = await neighbour.call("GET", f"/v1/bookings/{occurrence.booking_id}")
                if booking["status"] in {"confirmed", "checked_in"}:
                    still.append(occurrence)
            open_ones = still
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        for occurrence in open_ones:
            occurrence.left_open = True

    async def _attempt(self, kind: str, call: Awaitable[object]) -> bool:
        """Make a call a person would make; a refusal is counted by kind, not fatal."""
        try:
            await call
        except ApiRefused as refused:
            self._refused(kind, str(refused))
            return False
        except ApiError as error:
            self._refused(kind, str(error))
            return False
        return True

    def _refused(self, kind: str, message: str) -> None:
        self.refused[kind] += 1
        self.examples.setdefault(kind, message[:300])


async def _nothing() -> None:
    """A moment when only the inbox is read."""
