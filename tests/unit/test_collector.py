"""Every service paces its garbage collector the same way (``shared.collector``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from shared import collector


@pytest.fixture
def restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored")
def test_tuning_freezes_what_start_up_made_and_collects_young_objects_less_often() -> None:
    before: list[object] = []  # a container: tracked by the collector
    assert any(o is before for o in gc.get_objects())
    collector.tune()

    assert gc.get_threshold() == collector.THRESHOLDS
    assert gc.get_freeze_count() > 0
    # What existed at the tune is out of every later collection's walk...
    assert not any(o is before for o in gc.get_objects())
    # ...and what comes after is collected as usual.
    cycle: list[object] = []
    cycle.append(cycle)
    assert any(o is cycle for o in gc.get_objects())
    del cycle
    assert gc.collect() >= 1
