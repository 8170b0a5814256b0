"""The roster sieve names exactly the helpers the roster's entries do not rule out."""

from __future__ import annotations

import base64
import json
import uuid
from array import array

import h3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from services.matching import roster as rosters
from services.matching.roster import RosterEntry
from services.matching.sieve import RosterSieve
from services.matching.state import MatchingState
from shared.contracts.skills import Skill
from shared.geo import distance_km
from tests.unit.matching.factories import HOME, NEIGHBOURHOOD

#: Street cells up to about 3 km from HOME: some in a helper's reach, some not.
STREETS = sorted(h3.grid_disk(HOME, 8))
FARTHEST = max(STREETS, key=lambda street: distance_km(HOME, street))
#: Rosters as an older matching stored them: entries by id.
ENTRIES = TypeAdapter(dict[uuid.UUID, RosterEntry | None])

entries = st.one_of(
    st.none(),
    st.builds(
        RosterEntry,
        st.frozensets(st.sampled_from(Skill), min_size=1, max_size=4),
        st.sampled_from(STREETS),
        st.floats(min_value=0.5, max_value=4.0),
    ),
)
any_roster = st.dictionaries(st.uuids(), entries, max_size=40)


def by_entries(
    roster: dict[uuid.UUID, RosterEntry | None], skill: Skill, cell: str
) -> list[uuid.UUID]:
    """The rule as the entries state it, read one by one."""
    return [
        person
        for person, entry in roster.items()
        if entry is None
        or (skill in entry.skills and distance_km(entry.cell, cell) <= entry.travel_radius_km)
    ]


@settings(max_examples=200, deadline=None)
@given(any_roster, st.sampled_from(Skill), st.sampled_from(STREETS))
def test_the_sieve_keeps_the_entries_rule_and_the_roster_order(
    roster: dict[uuid.UUID, RosterEntry | None], skill: Skill, cell: str
) -> None:
    expected = by_entries(roster, skill, cell)
    for stored in (rosters.encode(roster), ENTRIES.dump_json(roster)):
        assert list(RosterSieve.of(stored).candidates(skill, cell)) == expected
        # Read back through faust's JSON codec, a roster arrives as the parsed document.
        assert list(RosterSieve.of(json.loads(stored)).candidates(skill, cell)) == expected


@settings(max_examples=200, deadline=None)
@given(any_roster)
def test_a_stored_roster_reads_back_entry_for_entry_in_order(
    roster: dict[uuid.UUID, RosterEntry | None],
) -> None:
    stored = rosters.encode(roster)

    assert json.loads(stored)["roster"] == rosters.VERSION
    assert list(rosters.decode(stored).items()) == list(roster.items())
    assert list(rosters.decode(ENTRIES.dump_json(roster)).items()) == list(roster.items())


def test_a_roster_of_skills_this_matching_does_not_know_keeps_those_it_knows() -> None:
    helper = uuid.uuid4()
    document = json.loads(rosters.encode({helper: RosterEntry(frozenset({Skill.LIFT}), HOME, 2.0)}))
    # Written by a later matching that knew one more skill, first in its list.
    document["names"] = ["astronomy", *document["names"]]
    document["masks"] = base64.b64encode(array("I", [0b11]).tobytes()).decode()

    assert rosters.decode(document) == {helper: RosterEntry(frozenset({Skill.SHOPPING}), HOME, 2.0)}
    assert list(RosterSieve.of(document).candidates(Skill.SHOPPING, HOME)) == [helper]
    assert list(RosterSieve.of(document).candidates(Skill.LIFT, HOME)) == []


def test_a_roster_whose_columns_disagree_is_refused() -> None:
    stored = json.loads(rosters.encode({uuid.uuid4(): None, uuid.uuid4(): None}))
    no_cells = {**stored, "cells": ""}
    # Seven doubles for two helpers: one too many, whichever helper it belongs to.
    extra = {**stored, "places": base64.b64encode(array("d", [0.0] * 7).tobytes()).decode()}

    for document in (no_cells, extra):
        with pytest.raises(ValueError, match="columns differ"):
            rosters.decode(document)


def test_a_roster_of_ids_only_names_every_helper_for_any_request() -> None:
    old = [uuid.uuid4(), uuid.uuid4()]
    state = MatchingState.in_memory()
    state.roster[NEIGHBOURHOOD] = json.dumps([str(person) for person in old]).encode()

    assert list(state.candidates(NEIGHBOURHOOD, Skill.LIFT, HOME)) == old
    assert list(state.candidates("8a195da49b7ffff", Skill.LIFT, HOME)) == [], "no roster"


def test_a_changed_roster_is_sieved_afresh() -> None:
    helper = uuid.uuid4()
    state = MatchingState.in_memory()
    far = FARTHEST
    assert 0.5 < distance_km(HOME, far) < 4.0
    state.roster[NEIGHBOURHOOD] = rosters.encode(
        {helper: RosterEntry(frozenset({Skill.LIFT}), HOME, 0.5)}
    )
    assert list(state.candidates(NEIGHBOURHOOD, Skill.LIFT, far)) == []

    state.roster[NEIGHBOURHOOD] = rosters.encode(
        {helper: RosterEntry(frozenset({Skill.LIFT}), HOME, 4.0)}
    )
    assert list(state.candidates(NEIGHBOURHOOD, Skill.LIFT, far)) == [helper]
