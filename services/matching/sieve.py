"""A neighbourhood's roster read for one purpose: which helpers a request may concern.

Every request reads its neighbourhood's roster: every helper whose radius reaches one of its
streets, 500 to 600 of them in a dense city, each with skills, street and radius. Decoding
that into ``RosterEntry`` objects (a UUID, a frozenset of skills and a float apiece) cost a
cold read 1.5 ms, plus the garbage collector's passes over the hundreds of thousands of
objects a full cache holds, and in a city of a million helpers nearly every read is cold.
The sieve keeps, per skill, three flat columns (ids, street cells, radii) of plain strings
and floats, built in one pass over the parsed JSON: a cold read costs about a third of a
decode and holds a few dozen objects the collector has to visit instead of thousands.
"""

from __future__ import annotations

import uuid
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pydantic_core

from shared.contracts.skills import Skill
from shared.geo import distance_km

_SKILLS = tuple(skill.value for skill in Skill)


@dataclass(frozen=True, slots=True)
class _Column:
    """The helpers filed with one skill, in roster order. A cell of ``""`` marks a helper
    filed by an older matching, which kept ids only: nothing is known of them here."""

    ids: list[str]
    cells: list[str]
    radii: array[float]


@dataclass(frozen=True, slots=True)
class RosterSieve:
    """A roster by skill: ``candidates`` names the helpers a request may concern."""

    by_skill: dict[str, _Column]

    @classmethod
    def of(cls, raw: Any) -> RosterSieve:
        """From the roster as stored: JSON bytes (or, read back through faust's JSON codec,
        the parsed document), entries by id or, from an older matching, a list of ids."""
        stored = pydantic_core.from_json(raw) if isinstance(raw, bytes | bytearray | str) else raw
        by_skill = {skill: _Column([], [], array("d")) for skill in _SKILLS}
        entries = stored.items() if isinstance(stored, dict) else ((i, None) for i in stored)
        for person, entry in entries:
            if entry is None:
                for every in by_skill.values():
                    every.ids.append(person)
                    every.cells.append("")
                    every.radii.append(0.0)
                continue
            for skill in entry["skills"]:
                column = by_skill.get(skill)
                if column is not None:
                    column.ids.append(person)
                    column.cells.append(entry["cell"])
                    column.radii.append(entry["travel_radius_km"])
        return cls(by_skill)

    def candidates(self, skill: Skill, cell: str) -> Iterator[uuid.UUID]:
        """The helpers filed here who offer ``skill`` and whose radius reaches ``cell`` (and
        any filed without an entry), in roster order: the rest cannot be offered the
        request, so their whole state is never read."""
        column = self.by_skill.get(skill.value)
        if column is None:
            return
        for person, home, radius in zip(column.ids, column.cells, column.radii, strict=True):
            if not home or distance_km(home, cell) <= radius:
                yield uuid.UUID(person)
