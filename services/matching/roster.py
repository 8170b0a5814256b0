"""A neighbourhood's roster as stored: who is filed there, laid out to be read cheaply.

Every request reads its neighbourhood's roster (500 to 600 helpers in a dense city), and in a
city of a million helpers nearly every read is the first of that roster in a while. Stored as
an entry per helper (``{"<id>": {"skills": [...], "cell": ..., "travel_radius_km": ...}}``),
a cold read spent about 5 ms building thousands of objects it then threw away. Stored as
columns instead (ids and street cells each one comma-joined string, skills a bitmask per
helper, and each home's centre and radius packed doubles), a cold read parses five strings
and decodes two base64 blocks, and the sieve (``sieve``) works on them directly: no H3 look-up
per helper either, since the centres are already there.

Older matchings stored the entries by id, and before that a list of ids; both are still read.
"""

from __future__ import annotations

import base64
import math
import sys
import uuid
from array import array
from dataclasses import dataclass
from typing import Any

import pydantic_core
from pydantic import TypeAdapter

from services.matching.domain import HelperProfile
from shared.contracts.skills import Skill
from shared.geo import centre_of

#: The stored layout's version, the document's ``"roster"`` field.
VERSION = 3
#: A helper filed by an older matching, which kept ids only: offered for any skill.
_EVERY_SKILL = 0xFFFFFFFF
_NAMES = [skill.value for skill in Skill]
#: A mask is an unsigned 32-bit integer: a skill past the 32nd needs a wider column.
assert len(_NAMES) <= 32


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """What a neighbourhood's roster keeps of each helper filed there: enough to pass over
    most helpers for a request without reading (decoding) their whole state."""

    skills: frozenset[Skill]
    cell: str
    travel_radius_km: float

    @classmethod
    def of(cls, profile: HelperProfile) -> RosterEntry:
        """The entry of a helper with ``profile``."""
        return cls(profile.skills, profile.cell, profile.travel_radius_km)


#: The helpers filed in a neighbourhood, in roster order (``None``: filed with an id only).
Roster = dict[uuid.UUID, RosterEntry | None]
_OLDER = TypeAdapter(list[uuid.UUID] | dict[uuid.UUID, RosterEntry | None])


@dataclass(frozen=True, slots=True)
class Columns:
    """A roster column by column, in roster order.

    Attributes:
        ids: Each helper's id, as text.
        cells: Each helper's home street cell (``""``: filed with an id only).
        masks: Each helper's skills, bit ``i`` standing for ``names[i]``.
        places: Three doubles a helper: their home's centre (latitude, longitude) and their
            travel radius in km (``nan`` for one filed with an id only).
        names: The skills the bits stand for, as stored (a later matching may know more).
    """

    ids: list[str]
    cells: list[str]
    masks: array[int]
    places: array[float]
    names: list[str]

    @classmethod
    def of(cls, roster: Roster) -> Columns:
        """The columns of a roster."""
        masks, places = array("I"), array("d")
        for entry in roster.values():
            if entry is None:
                masks.append(_EVERY_SKILL)
                places.extend((math.nan, math.nan, math.nan))
                continue
            masks.append(sum(1 << _NAMES.index(skill.value) for skill in entry.skills))
            places.extend((*centre_of(entry.cell), entry.travel_radius_km))
        cells = ["" if entry is None else entry.cell for entry in roster.values()]
        return cls([str(person) for person in roster], cells, masks, places, list(_NAMES))

    def entries(self) -> Roster:
        """The roster the columns hold, entry by entry."""
        known = {i: Skill(name) for i, name in enumerate(self.names) if name in _NAMES}
        roster: Roster = {}
        for i, person in enumerate(self.ids):
            cell, mask = self.cells[i], self.masks[i]
            if not cell:
                roster[uuid.UUID(person)] = None
                continue
            skills = frozenset(skill for bit, skill in known.items() if mask >> bit & 1)
            roster[uuid.UUID(person)] = RosterEntry(skills, cell, self.places[3 * i + 2])
        return roster


def encode(roster: Roster) -> bytes:
    """The roster as stored (version 3: columns)."""
    columns = Columns.of(roster)
    document = {
        "roster": VERSION,
        "names": columns.names,
        "ids": ",".join(columns.ids),
        "cells": ",".join(columns.cells),
        "masks": _packed(columns.masks),
        "places": _packed(columns.places),
    }
    return pydantic_core.to_json(document)


def columns(raw: Any) -> Columns:
    """A stored roster's columns: from JSON bytes or, read back through faust's JSON codec,
    the parsed document; in any layout matching has stored."""
    stored = pydantic_core.from_json(raw) if isinstance(raw, bytes | bytearray | str) else raw
    if not (isinstance(stored, dict) and stored.get("roster") == VERSION):
        older = _OLDER.validate_python(stored)
        return Columns.of(dict.fromkeys(older) if isinstance(older, list) else older)
    ids = stored["ids"].split(",") if stored["ids"] else []
    cells = stored["cells"].split(",") if ids else []
    masks, places = _unpacked("I", stored["masks"]), _unpacked("d", stored["places"])
    if not (len(ids) == len(cells) == len(masks) and len(places) == 3 * len(ids)):
        raise ValueError(f"a roster's columns differ in length ({len(ids)} ids)")
    return Columns(ids, cells, masks, places, list(stored["names"]))


def decode(raw: Any) -> Roster:
    """A stored roster, entry by entry."""
    return columns(raw).entries()


def _packed(values: array[Any]) -> str:
    if sys.byteorder == "big":  # stored little-endian, wherever it was written
        values = array(values.typecode, values)
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


def _unpacked(typecode: str, text: str) -> array[Any]:
    values = array(typecode, base64.b64decode(text))
    if sys.byteorder == "big":
        values.byteswap()
    return values
