"""Visits: at an occurrence's start, what Kith made of it is recorded and the visit begins;
at its end the helper checks out and both answer the private questions; once the run is
over, which visits nobody ever closed.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import timedelta
from functools import partial
from typing import Any

from kith.simulate import actors
from kith.simulate.actors import Helper, Neighbour
from kith.simulate.metrics import Occurrence
from kith.simulate.town import Town
from kith.simulate.world import eligible_helpers, why_unserved

#: Real seconds given to the services after the clock reaches a visit's start, so that
#: their timed sweeps (which look at the clock at least once a second) have run before the
#: occurrence's fate is read.
SETTLE_S = 0.5
#: Real seconds a visit left open at the end is watched for Kith to close it.
_CLOSE_OUT_S = 10.0


class Visits(Town):
    """The visit-time part of a run."""

    async def start(self, occurrence: Occurrence) -> None:
        """The start has come: record what Kith made of the occurrence; the visit begins."""
        if occurrence.withdrawn:
            occurrence.settled = True
            return
        if self.settled_for != occurrence.starts_at:
            # Once for all the visits starting at this moment.
            await asyncio.sleep(SETTLE_S)
            self.settled_for = occurrence.starts_at
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
        draw = self.draw("visit", occurrence.neighbour, occurrence.starts_at).random()
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
            await self.attempt(
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
            await self.attempt(
                "check_in", helper.call("POST", f"/v1/bookings/{booking_id}/check-in")
            )
            if fate == "visit":
                self.at(end, partial(self._end, helper, neighbour, booking_id, occurrence), rank=2)

    async def _end(
        self, helper: Helper, neighbour: Neighbour, booking_id: str, occurrence: Occurrence
    ) -> None:
        if not await self.attempt(
            "check_out", helper.call("POST", f"/v1/bookings/{booking_id}/check-out")
        ):
            return
        for person in (helper, neighbour):
            draw = self.draw("again", person.label, occurrence.starts_at).random()
            see_again = "no" if draw < self.world.chances.see_again_no else "yes"
            await self.attempt(
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
        await self.attempt(kind, actor.call("POST", path, json=body))

    async def close_out(self) -> None:
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
