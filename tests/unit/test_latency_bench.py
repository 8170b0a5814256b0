"""``kith bench latency``'s long-run and max-rate figures, from made-up samples."""

from __future__ import annotations

from kith.bench.latency import (
    MAX_RATE_P99_MS,
    cpu_at_the_ends,
    holds,
    minute_p50s,
    stage_p50s,
)


def test_the_first_and_last_minutes_are_compared_by_their_medians() -> None:
    # Ten minutes, one request a second: 100 ms at first, 150 ms in the last minute.
    samples = [(float(sent), 0.100 if sent < 540 else 0.150) for sent in range(600)]
    figures = minute_p50s(samples, duration=600)
    assert figures == {
        "p50_first_minute_ms": 100.0,
        "p50_last_minute_ms": 150.0,
        "last_vs_first": 1.5,
    }


def test_the_floors_minutes_have_keys_of_their_own() -> None:
    samples = [(float(sent), 0.020 if sent < 300 else 0.030) for sent in range(600)]
    figures = minute_p50s(samples, duration=600, prefix="floor_")
    assert figures == {
        "floor_p50_first_minute_ms": 20.0,
        "floor_p50_last_minute_ms": 30.0,
        "floor_last_vs_first": 1.5,
    }


async def test_a_run_shorter_than_two_minutes_has_no_first_and_last_minute() -> None:
    samples = [(float(sent), 0.020) for sent in range(60)]
    assert minute_p50s(samples, duration=60) == {}
    assert await cpu_at_the_ends(60) == {}


def test_a_rate_holds_only_without_errors_and_under_the_p99_bound() -> None:
    assert holds(MAX_RATE_P99_MS - 1, errors=0)
    assert not holds(MAX_RATE_P99_MS, errors=0)
    assert not holds(10.0, errors=1)


def test_each_stage_has_its_own_median() -> None:
    spans = [{"outbox": 0.001 * k, "matching": 0.010 * k, "offer_to_row": 0.005} for k in (1, 2, 9)]
    assert stage_p50s(spans) == {"outbox": 2.0, "matching": 20.0, "offer_to_row": 5.0}


def test_the_floor_alone_refuses_a_max_rate_search_before_starting_anything() -> None:
    from typer.testing import CliRunner

    from kith.bench import app

    result = CliRunner().invoke(app, ["latency", "--floor-only", "--max-rate"])

    assert result.exit_code == 2
    assert "--max-rate needs Kith running" in result.output
