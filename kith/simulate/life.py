"""The neighbourhood's weeks: the clock moved from one moment to the next, and at each
moment people do what falls due then, through the API.

Moments are every morning (07:00 UTC: new asks, arrivals, departures, changed hours, the
concern), half an hour before each visit (Kith's due rounds run; helpers look at their
offers again), each visit's start (the occurrence's fate is recorded, the helper checks in)
and end (check-out and the private questions), every evening, and whenever an offer seen in
an inbox lapses (``notified``). Helpers read their inbox at every moment and answer what they
see, once Kith has made the offers it owes then, so offers are answered in the real seconds
between two moves of the clock, as a person glancing at their phone would.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from kith.client import until
from kith.demo import matching_knows_people
from kith.seeding import ApiRefused, approved
from kith.simulate import actors, diagnosis
from kith.simulate.actors import Helper, Neighbour
from kith.simulate.hours import Hours
from kith.simulate.metrics import Occurrence
from kith.simulate.notified import Notified
from kith.simulate.safeguarding import Safeguarding
from kith.simulate.town import nothing
from kith.simulate.visits import Visits
from kith.simulate.world import TIME_ZONE, NeedPlan
from shared import clock

#: Real seconds to wait for matching's first offers of a new ask, or its next round.
_MATCHING_S = 3.0
#: Real seconds for matching's round timer (once a second) to see a moved clock.
_ROUNDS_S = 1.2
#: Real seconds to wait for the services to read the people seeded (a minute was not enough
#: on a 2-core machine with a load average of 25).
_SEEDED_S = 180
_ZONE = ZoneInfo(TIME_ZONE)


class Life(Visits, Safeguarding, Notified):
    """One run of the simulated neighbourhood on a running Kith."""

    async def live(self) -> dict[str, Any]:
        """Seed the neighbourhood, run every moment of every week, and report the figures."""
        started = time.monotonic()
        await self._seed()
        hours = Hours(self.stack.ledger, self.stack.operator_token, self.api, self.world, self.run)
        await hours.set_up()
        for week in range(self.world.weeks):
            self.at(self.world.at(7 * week, 8), hours.give, rank=4)
        for day in range(self.world.days + 2):
            self.at(self.world.at(day, 7), partial(self._morning, day), rank=3)
            self.at(self.world.at(day, 19), nothing, rank=9)
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
            await self.until_owed_offers()
            await self._inbox_round()
            await self.count_offers_seen()
            await self.watch_suspended()
        await self.close_out()
        report = self.ledger.report(time.monotonic() - started)
        report["features"] = self.features.as_json()
        report["hours"] = await hours.report()
        await hours.close()
        report["refused"] = dict(sorted(self.refused.items()))
        report["refused_examples"] = dict(sorted(self.examples.items()))
        evidence = (
            self.ledger.in_range(),
            diagnosis.matching_verdicts(self.stack.log_file),
            {label: helper.person_id for label, helper in self.helpers.items()},
            self.answers,
            {plan.label: plan for plan in self.world.helpers},
            {plan.label: plan.neighbourhood for plan in self.world.neighbours},
            self.mornings,
        )
        report["unserved_why"] = diagnosis.why_not_served(*evidence)
        report["unserved"] = diagnosis.unserved(*evidence)
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
            _SEEDED_S,
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
            _SEEDED_S,
            f"trust to approve {helper.label}",
            every_s=0.1,
        )

    # -- mornings: life changes, new asks --------------------------------------------------

    async def _morning(self, day: int) -> None:
        # Logs are stamped in real time: remember when each simulated day began in it.
        self.mornings.append((clock.wall_now(), day))
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
                await self.attempt("change_hours", actors.change_hours(helper_now, plan.new_hours))
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
            await self.raise_concern()

    async def _leave(self, helper: Helper) -> None:
        """A helper moves away: they step back from the series they are the regular of (where
        the API has it), call off their upcoming visits and offer no more hours."""
        upcoming = await helper.call("GET", "/v1/bookings?when=upcoming&limit=200")
        for booking in upcoming["items"]:
            if booking["side"] == "helper" and booking["status"] == "confirmed":
                # Stepping back or calling off, each of these is asked for again.
                await self.before_asked_again(str(booking["request_id"]))
        if self.features.step_back:
            # Only from the series they took on (a suspension released them from theirs): a
            # visit of another's series is called off.
            for series_id in sorted(set() if helper.suspended else helper.regular_of):
                await self.attempt(
                    "step_back",
                    helper.call(
                        "POST", f"/v1/series/{series_id}/step-back", json={"reason": "moving away"}
                    ),
                )
            upcoming = await helper.call("GET", "/v1/bookings?when=upcoming&limit=200")
        for booking in upcoming["items"]:
            if booking["side"] == "helper" and booking["status"] == "confirmed":
                self.booking_requests[str(booking["booking_id"])] = str(booking["request_id"])
                await self._helper_cancels(helper, str(booking["booking_id"]), "moving away")
        await self.attempt("leave", actors.change_hours(helper, ()))
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
            self.refuse("ask", str(refused))
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
            self.at(
                starts_at - timedelta(minutes=30), partial(self._before_start, starts_at), rank=8
            )
            self.at(starts_at, partial(self.start, occurrence), rank=1)
        return occurrence.request_id

    async def _before_start(self, starts_at: datetime) -> None:
        """Half an hour before visits start: Kith's rounds that fell due as the clock jumped
        here run now (matching looks for them every second), so that a visit nobody took
        reaches operators before its start, as it would in time that flows."""
        if self.rounds_for != starts_at:
            self.rounds_for = starts_at
            await asyncio.sleep(_ROUNDS_S)

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
        # Enough looks for a whole cascade (four rounds by default) within one moment.
        for _ in range(6):
            answered = 0
            present = [h for h in self.helpers.values() if not (h.gone or h.suspended)]
            # Everyone looks at their phone at once; they answer in a fixed order, so that who
            # wins an offer two were sent does not depend on which inbox answered first.
            inboxes = await asyncio.gather(*(actors.open_offers(h) for h in present))
            for helper, offers in zip(present, inboxes, strict=True):
                answered += await self._answer(helper, offers)
            if not answered:
                return
            # A declined round makes matching offer the next helpers at once: read again.
            await asyncio.sleep(0.2)

    async def _answer(self, helper: Helper, offers: list[dict[str, Any]]) -> int:
        answered = 0
        for offer in offers:
            self.note_offer(offer)
            offer_id = str(offer["offer_id"])
            if offer_id in self.decided:
                continue
            self.decided.add(offer_id)
            chances = self.world.chances
            starts_at = datetime.fromisoformat(str(offer["starts_at"]))
            asked = self.ledger.occurrences.get(str(offer["request_id"]))
            draw = self.draw("answer", helper.label, asked.neighbour if asked else "", starts_at)
            answers = self.answers.setdefault(str(offer["request_id"]), {})
            if draw.random() < chances.ignore:
                answers[helper.label] = "let it lapse"
                continue
            answered += 1
            fits = self._fits(helper, starts_at, int(offer["hours"]))
            if fits and draw.random() < chances.accept:
                answers[helper.label] = await self._accept(helper, offer, starts_at)
            else:
                answers[helper.label] = "declined" + ("" if fits else " (outside their hours)")
                await self.attempt("decline", helper.call("POST", f"/v1/offers/{offer_id}/decline"))
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

    async def _accept(self, helper: Helper, offer: dict[str, Any], starts_at: datetime) -> str:
        """Accept; what came of it, in a few words."""
        try:
            asked = self.ledger.occurrences.get(str(offer["request_id"]))
            in_series = asked is not None and asked.series_id is not None
            try:
                booked = await actors.accept(helper, offer, self.features, in_series=in_series)
            except ApiRefused as refused:
                if not (in_series and self.features.accepts_series and refused.status == 409):
                    raise
                # The series cannot be taken on (it has a regular already, say): as a person
                # would, take this visit alone.
                self.answers.setdefault(str(offer["request_id"]), {})[helper.label] = (
                    f"could not take the series on: {refused.detail}"
                )
                booked = await actors.accept(helper, offer, self.features, in_series=False)
        except ApiRefused as refused:
            if refused.status == 409:
                return f"was refused: {refused.detail}"  # taken by someone else, or overlapping
            self.refuse("accept", str(refused))
            return f"accept refused ({refused.status})"
        taken_on = booked.get("series") or {}
        if str(taken_on.get("regular_helper_id")) == helper.person_id:
            helper.regular_of.add(str(taken_on["series_id"]))
        bookings = booked.get("bookings") or [booked]
        for booking in bookings:
            if "booking_id" in booking:
                self._plan_cancellations(
                    helper,
                    str(booking["booking_id"]),
                    str(booking.get("request_id", offer["request_id"])),
                    datetime.fromisoformat(str(booking.get("starts_at", starts_at))),
                )
        return "accepted"

    def _plan_cancellations(
        self, helper: Helper, booking_id: str, request_id: str, starts_at: datetime
    ) -> None:
        chances = self.world.chances
        self.booking_requests[booking_id] = request_id
        occurrence = self.ledger.occurrences.get(request_id)
        if occurrence is None:
            return
        draws = self.draw("cancel", helper.label, occurrence.neighbour, starts_at)
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
        if booking_id in self.booking_requests:
            await self.before_asked_again(self.booking_requests[booking_id])
        try:
            cancelled = await helper.call(
                "POST", f"/v1/bookings/{booking_id}/cancel", json={"reason": reason}
            )
        except ApiRefused as refused:
            self.refuse("helper_cancel", str(refused))
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
            self.refuse("neighbour_cancel", str(refused))
            return
        occurrence.withdrawn = True
