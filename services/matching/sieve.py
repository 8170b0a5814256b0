"""A neighbourhood's roster read for one purpose: which helpers a request may concern.

Every request reads its neighbourhood's roster: every helper whose radius reaches one of its
streets, 500 to 600 of them in a dense city. The sieve works on the roster's stored columns
(``roster``) as they are: a skill is a bit test and a distance is measured from the stored
centre of the helper's home, so a request makes no object for a helper it passes over, and
reading a roster for the first time costs little more than reading it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import h3

from services.matching.roster import Columns, columns
from shared.contracts.skills import Skill
from shared.geo import centre_of


@dataclass(frozen=True, slots=True)
class RosterSieve:
    """A roster's columns: ``candidates`` names the helpers a request may concern."""

    columns: Columns
    bits: dict[str, int]

    @classmethod
    def of(cls, raw: Any) -> RosterSieve:
        """From the roster as stored (``roster.columns`` reads every layout)."""
        read = columns(raw)
        return cls(read, {name: 1 << i for i, name in enumerate(read.names)})

    def candidates(self, skill: Skill, cell: str) -> Iterator[uuid.UUID]:
        """The helpers filed here who offer ``skill`` and whose radius reaches ``cell`` (and
        any filed without an entry), in roster order: the rest cannot be offered the
        request, so their whole state is never read. The distance is H3's, between the same
        two centres ``shared.geo.distance_km`` measures, so the rule is exactly eligibility's."""
        bit = self.bits.get(skill.value, 0)
        read = self.columns
        places, cells, distance = read.places, read.cells, h3.great_circle_distance
        here = centre_of(cell)
        for i, mask in enumerate(read.masks):
            if not cells[i]:  # filed by an older matching, with an id only
                yield uuid.UUID(read.ids[i])
            elif mask & bit:
                at = 3 * i
                if distance((places[at], places[at + 1]), here) <= places[at + 2]:
                    yield uuid.UUID(read.ids[i])
