"""Safeguarding: half way through, a neighbour raises a concern about the helper of their
next visit; from then on the simulation looks, as that helper, for work offered or an
address shown.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from kith.client import ApiError, until
from kith.simulate import actors
from kith.simulate.actors import Helper
from kith.simulate.town import Town
from shared import clock


class Safeguarding(Town):
    """The concern and the watch on the suspended helper."""

    async def raise_concern(self) -> None:
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
                    self.refuse("suspension", str(error))
                self.watched = helper
                return

    async def _shown_suspended(self, helper: Helper) -> bool:
        found = await self.api.call(
            "GET", f"/v1/operator/people/{helper.person_id}", token=self.stack.operator_token
        )
        return bool((found.get("standing") or {}).get("suspended"))

    async def watch_suspended(self) -> None:
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
