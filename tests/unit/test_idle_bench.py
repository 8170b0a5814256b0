"""``kith bench idle``'s figures: each part's share of a core, from two readings."""

from __future__ import annotations

import subprocess
import sys

from kith.bench.idle import cpu_by_process, idle_figures


def test_each_part_is_its_cpu_time_over_the_wall_time_and_a_newcomer_counts_from_zero() -> None:
    before = {(1, 0.0): ("broker", 1.0), (2, 0.0): ("postgres", 2.0), (9, 0.0): ("gone", 5.0)}
    after = {
        (1, 0.0): ("broker", 1.5),
        (2, 0.0): ("postgres", 2.2),
        (3, 5.0): ("postgres", 0.3),  # a backend started meanwhile
    }

    figures = idle_figures(before, after, wall_s=10.0)

    assert figures["processes"] == {"broker": 0.05, "postgres": 0.05}
    assert figures["cpu_share"] == 0.1


def test_the_processes_it_started_are_read_by_name() -> None:
    # A child that waits on its input until the test is done with it.
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    with child:
        try:
            names = {pid: name for (pid, _), (name, _) in cpu_by_process().items()}
        finally:
            child.kill()
    assert names[child.pid].startswith("python")
