"""``kith bench latency``'s two-hop floor on the test broker, at a tiny size."""

from __future__ import annotations

from kith.bench.floor import two_hop_floor
from tests.conftest import Stack


async def test_the_two_hop_floor_carries_every_message_and_prints_its_figures(
    stack: Stack,
) -> None:
    samples: list[tuple[float, float]] = []
    figures = await two_hop_floor(stack.settings(), rate=50, duration=1, samples=samples)

    assert figures["floor_lost"] == 0
    assert 0 < figures["floor_p50_ms"] <= figures["floor_p99_ms"]
    # Each message's send time (one every 20 ms) and its latency, for the minutes' medians.
    assert sorted(sent for sent, _ in samples) == [index / 50 for index in range(50)]
    assert all(latency > 0 for _, latency in samples)
