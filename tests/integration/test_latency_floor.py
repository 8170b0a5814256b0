"""``kith bench latency``'s two-hop floor on the test broker, at a tiny size, and alone
(``--floor-only``)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from kith.bench import app
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


def test_the_floor_alone_runs_from_the_command_line_on_the_named_broker(stack: Stack) -> None:
    # Its own broker unless the settings name one: here, the test broker.
    result = CliRunner().invoke(
        app,
        ["latency", "--floor-only", "--rate=50", "--duration=1", "--json"],
        env={"KITH_KAFKA_BOOTSTRAP": stack.bootstrap, "KITH_DATABASE_URL": stack.database_url},
    )

    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["benchmark"] == "latency_floor"
    assert figures["requests"] == 50
    assert figures["floor_lost"] == 0
    assert 0 < figures["floor_p50_ms"] <= figures["floor_p99_ms"]
