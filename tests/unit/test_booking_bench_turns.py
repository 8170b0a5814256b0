"""``kith bench booking`` times Kith's accepts and the raw ceiling's in turns: every offer is
accepted in exactly one turn, and the turns' timings add up."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kith.bench.raw_accept import Timed, turn_of


@given(items=st.lists(st.integers(), max_size=200), turns=st.integers(min_value=1, max_value=9))
def test_the_turns_share_out_every_item_once_in_order(items: list[int], turns: int) -> None:
    shares = [turn_of(items, turn, turns) for turn in range(turns)]

    assert [item for share in shares for item in share] == items
    assert max(map(len, shares)) - min(map(len, shares)) <= 1, "even shares"


def test_turns_add_up_to_the_figures_of_the_whole() -> None:
    whole = Timed()
    whole.add(Timed(latencies_ms=[10.0, 20.0], seconds=1.0, errors=1))
    whole.add(Timed(latencies_ms=[30.0, 40.0], seconds=1.0))

    figures = whole.figures()

    assert figures["accepts"] == 4
    assert figures["seconds"] == 2.0
    assert figures["accepts_per_s"] == 2.0
    assert figures["max_ms"] == 40.0
    assert figures["errors"] == 1
    assert 20.0 <= figures["p50_ms"] <= 30.0
