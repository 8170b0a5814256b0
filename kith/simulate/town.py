"""What every part of a simulated run shares: the Kith it runs on, the people, the agenda of
moments to come, the ledger of what happened, and how a person's choices are drawn.
"""

from __future__ import annotations

import heapq
import itertools
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from kith.client import ApiError
from kith.seeding import Api, ApiRefused
from kith.simulate.actors import Features, Helper, Neighbour
from kith.simulate.metrics import Ledger
from kith.simulate.stack import SimStack
from kith.simulate.world import WorldPlan

Action = Callable[[], Awaitable[None]]


class Town:
    """One run's shared state; ``Life`` and its parts (visits, safeguarding) act on it."""

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
        self.settled_for: datetime | None = None
        self.rounds_for: datetime | None = None
        #: What each helper did with the offer of each request: request id, label, answer.
        self.answers: dict[str, dict[str, str]] = {}
        #: Requests with offers out seen at this moment, and when their latest lapses.
        self._seen: dict[str, datetime] = {}
        #: Requests whose next offers the run waits for (``Notified``), by request id.
        self._watched: dict[str, Any] = {}
        #: Moments the clock stops at because an offer seen lapses then.
        self._lapse_moments: set[datetime] = set()

    def at(self, moment: datetime, action: Action, *, rank: int = 5) -> None:
        """Do ``action`` at ``moment`` (lower ``rank`` first among one moment's actions)."""
        heapq.heappush(self._agenda, (moment, rank, next(self._order), action))

    def draw(self, *key: object) -> random.Random:
        """A person's own chance for one decision, drawn from the seed and what it is about.

        Not one stream of draws for the run: offers reach helpers in an order the platform's
        timing decides, and the same choice must come out the same whatever the order.
        """
        return random.Random("|".join(str(part) for part in (self.world.seed, *key)))

    async def attempt(self, kind: str, call: Awaitable[object]) -> bool:
        """Make a call a person would make; a refusal is counted by kind, not fatal."""
        try:
            await call
        except ApiRefused as refused:
            self.refuse(kind, str(refused))
            return False
        except ApiError as error:
            self.refuse(kind, str(error))
            return False
        return True

    def refuse(self, kind: str, message: str) -> None:
        self.refused[kind] += 1
        self.examples.setdefault(kind, message[:300])


async def nothing() -> None:
    """A moment when only the inbox is read."""
