"""``kith bench matching``: matching's quality against the offline optimum, and its speed.

Pure: a synthetic week replayed through matching's real handlers (no broker, no database),
compared with a nearest-free-helper greedy baseline and the offline optimum (scipy), then the
real per-request path timed in cities of 10k to 1M helpers at one local density.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time

import typer

from kith.bench import app

_SIZES = "10000,100000,1000000"


@app.command("matching")
def matching(
    neighbours: int = typer.Option(300, help="Neighbours in the simulated neighbourhood."),
    helpers: int = typer.Option(100, help="Helpers in the simulated neighbourhood."),
    seed: int = typer.Option(7, help="Seed of the synthetic week."),
    sizes: str = typer.Option(_SIZES, help="City sizes (helpers) to time, comma-separated."),
    density: int = typer.Option(50, help="Helpers per neighbourhood in the timed cities."),
    requests: int = typer.Option(2000, help="Requests timed per city size."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Serve a simulated week three ways and time matching at city scale."""
    from kith.matching_simulation.compare import compare
    from kith.matching_simulation.throughput import build_city, timed_cities
    from kith.matching_simulation.world import Shape
    from services.matching.app import policy_from
    from shared import collector
    from shared.settings import Settings

    if importlib.util.find_spec("scipy") is None:
        typer.secho("kith bench matching needs scipy (the offline optimum)", err=True)
        raise typer.Exit(2)
    collector.tune()  # as matching's own process runs (``lifecycle.prepare_process``)
    policy = policy_from(Settings())
    week = compare(Shape(neighbours=neighbours, helpers=helpers, seed=seed), policy)
    cities = []
    for size in (int(s) for s in sizes.split(",") if s.strip()):
        began = time.perf_counter()
        cities.append(build_city(size, density=density))
        print(
            f"city of {size} helpers built in {time.perf_counter() - began:.2f} s", file=sys.stderr
        )
    rates: dict[str, float] = {}
    cpu_rates: dict[str, float] = {}
    timed = timed_cities(cities, policy, requests=requests)
    for city, (wall, cpu) in zip(cities, timed, strict=True):
        rates[str(city.size)], cpu_rates[str(city.size)] = round(wall, 1), round(cpu, 1)
    summary = {
        **week.summary(),
        "requests": week.requests,
        "matched_per_s": rates,
        "matched_per_cpu_s": cpu_rates,
        # Flat cost: the smallest city's rate over the largest's, per CPU second (1.0 is flat).
        "smallest_vs_largest": (
            round(cpu_rates[min(cpu_rates, key=int)] / cpu_rates[max(cpu_rates, key=int)], 2)
            if cpu_rates
            else None
        ),
    }
    if as_json:
        print(json.dumps(summary))
        return
    rows: list[tuple[object, ...]] = [
        ("", "matching", "greedy", "optimum"),
        ("served", week.matching.served, week.greedy.served, week.optimum.served),
        (
            "travel km",
            f"{week.matching.travel_km:.1f}",
            f"{week.greedy.travel_km:.1f}",
            f"{week.optimum.travel_km:.1f}",
        ),
        (
            "hours Gini",
            *(f"{f.hours_gini:.2f}" for f in (week.matching, week.greedy, week.optimum)),
        ),
    ]
    print(
        f"A simulated week of {week.requests} requests ({neighbours} neighbours, {helpers} helpers)"
    )
    for row in rows:
        print("  " + "".join(f"{cell!s:>12}" for cell in row))
    print(f"served vs optimum   {summary['served_vs_optimum']:.3f}   (target >= 0.99)")
    print(f"travel vs optimum   {summary['travel_vs_optimum']:.3f}   (target <= 1.10)")
    continuity = week.matching.continuity
    shown = "-" if continuity is None else f"{continuity:.3f}"
    print(f"continuity          {shown}   (target >= 0.95)")
    median = week.matching.median_match_s
    print(f"median time to match {'-' if median is None else f'{median / 60:.1f} min'} (simulated)")
    for city_size, rate in rates.items():
        print(
            f"matched per second, {int(city_size):>9,} helpers in the city: {rate:,.0f}"
            f" ({cpu_rates[city_size]:,.0f} per CPU second)"
        )
    print(f"smallest city vs largest, per CPU second: {summary['smallest_vs_largest']} (flat: 1)")
