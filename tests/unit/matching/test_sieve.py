"""The roster sieve names exactly the helpers the roster's entries do not rule out."""

from __future__ import annotations

import json
import uuid

import h3
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from services.matching.sieve import RosterSieve
from services.matching.state import MatchingState, RosterEntry
from shared.contracts.skills import Skill
from shared.geo import distance_km
from tests.unit.matching.factories import HOME, NEIGHBOURHOOD

#: Street cells up to about 3 km from HOME: some in a helper's reach, some not.
STREETS = sorted(h3.grid_disk(HOME, 8))
FARTHEST = max(STREETS, key=lambda street: distance_km(HOME, street))
#: Rosters as matching stores them.
ROSTER = TypeAdapter(dict[uuid.UUID, RosterEntry | None])

entries = st.one_of(
    st.none(),
    st.builds(
        RosterEntry,
        st.frozensets(st.sampled_from(Skill), min_size=1, max_size=4),
        st.sampled_from(STREETS),
        st.floats(min_value=0.5, max_value=4.0),
    ),
)
rosters = st.dictionaries(st.uuids(), entries, max_size=40)


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
@given(rosters, st.sampled_from(Skill), st.sampled_from(STREETS))
def test_the_sieve_keeps_the_entries_rule_and_the_roster_order(
    roster: dict[uuid.UUID, RosterEntry | None], skill: Skill, cell: str
) -> None:
    stored = ROSTER.dump_json(roster)

    assert list(RosterSieve.of(stored).candidates(skill, cell)) == by_entries(roster, skill, cell)
    # Read back through faust's JSON codec, a roster arrives as the parsed document.
    parsed = RosterSieve.of(json.loads(stored))
    assert list(parsed.candidates(skill, cell)) == by_entries(roster, skill, cell)


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
    state.roster[NEIGHBOURHOOD] = ROSTER.dump_json(
        {helper: RosterEntry(frozenset({Skill.LIFT}), HOME, 0.5)}
    )
    assert list(state.candidates(NEIGHBOURHOOD, Skill.LIFT, far)) == []

    state.roster[NEIGHBOURHOOD] = ROSTER.dump_json(
        {helper: RosterEntry(frozenset({Skill.LIFT}), HOME, 4.0)}
    )
    assert list(state.candidates(NEIGHBOURHOOD, Skill.LIFT, far)) == [helper]
