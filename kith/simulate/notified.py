"""Offers Kith makes while the clock jumps: a person is told of each, and looks.

In flowing time a helper's phone tells them of a new offer, and they glance at it within
minutes. The simulation moves the clock from moment to moment instead, and helpers read their
inbox at each moment: an offer Kith makes a little after the helpers looked (matching's next
round once the last one lapsed at a jump of the clock, the visit a helper just called off
offered again) would lapse unseen at the next jump, hours later, although in real time
everyone would have had its fifteen minutes to answer. Matching's reaction takes real
milliseconds to seconds, more on a busy machine: how many visits were refilled must not
depend on how busy the machine was.

So the clock also stops when an offer seen in an inbox lapses (as a person's phone would
buzz with the next round a quarter of an hour later, not at the next visit), and before
helpers look at a moment, the simulation waits (a little) for the offers Kith owes then: for
every request whose round it saw lapse, or which an action of this moment asked for again,
until the neighbour's view of it shows more offers made, or it is no longer open (booked, or
with operators). It waits on what the API shows, never on a fixed time.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kith.simulate.town import Town, nothing
from shared import clock

#: Real seconds to wait for matching to make the offers a lapse or a new ask calls for.
_OWED_S = 3.0
#: The clock stops this long after an offer lapses: matching's round has ended by then.
_PAST_LAPSE = timedelta(seconds=1)


@dataclass
class _Watched:
    """A request with offers out: how many were made, and when the latest lapses."""

    offers_made: int
    lapses_at: datetime | None
    #: Asked for again by an action of this moment: new offers are owed now.
    asked_again: bool = False


class Notified(Town):
    """Waiting for the offers Kith owes at a moment, before helpers look."""

    def note_offer(self, offer: dict[str, Any]) -> None:
        """An open offer seen in a helper's inbox."""
        request_id = str(offer["request_id"])
        expires_at = datetime.fromisoformat(str(offer["expires_at"]))
        self._seen[request_id] = max(expires_at, self._seen.get(request_id, expires_at))

    async def count_offers_seen(self) -> None:
        """After helpers looked: how many offers each request seen has had so far; the clock
        will stop when the latest lapses."""
        seen, self._seen = self._seen, {}
        for request_id, lapses_at in seen.items():
            made = await self._offers_made(request_id)
            if made is None:
                self._watched.pop(request_id, None)
                continue
            self._watched[request_id] = _Watched(made, lapses_at)
            occurrence = self.ledger.occurrences[request_id]
            moment = lapses_at + _PAST_LAPSE
            if moment < occurrence.starts_at and moment not in self._lapse_moments:
                self._lapse_moments.add(moment)
                self.at(moment, nothing, rank=9)

    async def before_asked_again(self, request_id: str) -> None:
        """Call before an action that asks for the request again (a helper calls it off)."""
        made = await self._offers_made(request_id, open_only=False)
        if made is not None:
            self._watched[request_id] = _Watched(made, None, asked_again=True)

    async def until_owed_offers(self) -> None:
        """Wait until Kith has made the offers owed now (or given each request up)."""
        now = clock.now()
        owed = [
            (request_id, watched)
            for request_id, watched in self._watched.items()
            if watched.asked_again or (watched.lapses_at is not None and watched.lapses_at <= now)
        ]
        for request_id, _ in owed:
            del self._watched[request_id]
        await asyncio.gather(*(self._until_more(key, watched.offers_made) for key, watched in owed))

    async def _until_more(self, request_id: str, made_before: int) -> None:
        deadline = time.monotonic() + _OWED_S
        while time.monotonic() < deadline:
            made = await self._offers_made(request_id)
            if made is None or made > made_before:
                return
            await asyncio.sleep(0.05)

    async def _offers_made(self, request_id: str, *, open_only: bool = True) -> int | None:
        """Offers made so far of a request of the run; ``None`` once it is not open (or not
        the run's, or started)."""
        occurrence = self.ledger.occurrences.get(request_id)
        if occurrence is None or occurrence.starts_at <= clock.now():
            return None
        neighbour = self.neighbours[occurrence.neighbour]
        found = await neighbour.call("GET", f"/v1/requests/{request_id}")
        if open_only and found["status"] != "open":
            return None
        return int(found.get("offers_made", 0))
