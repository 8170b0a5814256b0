"""The console's live state: bounded history, filtered subscribers, and a clean close."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.ops.service_layer.console import QUEUE, Console
from shared.contracts import Envelope, Payload
from shared.contracts.requests import HelpRequestCancelled, HelpRequested
from shared.contracts.skills import Skill
from shared.geo import cell_of, neighbourhood_of_cell
from shared.observed import EventFilter, Observed

AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HERE = neighbourhood_of_cell(cell_of(51.545, -0.0553))
THERE = neighbourhood_of_cell(cell_of(40.4, -3.7))


def cancelled(place: str) -> Observed:
    envelope = Envelope[Payload].wrap(
        HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=place), producer="test"
    )
    return Observed("kith.requests.v1", 0, 0, place.encode(), AT, envelope)


def requested(place: str) -> Observed:
    request = HelpRequested(
        request_id=uuid.uuid4(),
        series_id=uuid.uuid4(),
        occurrence=1,
        occurrences=1,
        neighbour_id=uuid.uuid4(),
        neighbourhood=place,
        cell=cell_of(51.545, -0.0553),
        skill=Skill.COMPANY,
        starts_at=AT + timedelta(days=1),
        hours=1,
    )
    envelope = Envelope[Payload].wrap(request, producer="test", occurred_at=AT)
    return Observed("kith.requests.v1", 0, 0, place.encode(), AT, envelope)


def test_history_is_bounded_and_filtered() -> None:
    console = Console(history=3)
    for place in (HERE, THERE, HERE, THERE, HERE):
        console.take(cancelled(place))
    assert [s.seq for s in console.recent(EventFilter())] == [3, 4, 5]
    assert [s.seq for s in console.recent(EventFilter.of(place=HERE))] == [3, 5]
    assert [s.seq for s in console.recent(EventFilter(), after=4)] == [5]
    assert console.recent(EventFilter(), limit=1)[0].view["type"] == "help.request_cancelled"


def test_subscribers_get_what_passes_their_filter_and_end_on_close() -> None:
    console = Console()
    here = console.subscribe(EventFilter.of(place=HERE))
    everything = console.subscribe(EventFilter())
    console.take(cancelled(THERE))
    shown = console.take(cancelled(HERE))
    assert here.queue.get_nowait() is shown
    assert here.queue.empty()
    assert everything.queue.qsize() == 2
    console.close()
    assert here.queue.get_nowait() is None
    assert console.subscribe(EventFilter()).queue.get_nowait() is None, "closed means closed"


def test_a_subscriber_that_falls_behind_is_dropped_not_waited_for() -> None:
    console = Console()
    slow = console.subscribe(EventFilter())
    for _ in range(QUEUE + 1):
        console.take(cancelled(HERE))
    assert slow.queue.get_nowait() is None, "told to reconnect and catch up from the history"
    console.take(cancelled(HERE))
    assert slow.queue.empty()


def test_the_map_and_a_neighbourhoods_list_count_everyone_waiting_however_many() -> None:
    console = Console(clock=lambda: AT)
    for _ in range(250):
        console.take(requested(HERE))
    there = console.take(requested(THERE))
    assert there.seen.envelope is not None
    asked = there.seen.envelope.data
    assert isinstance(asked, HelpRequested)
    by_cell = {place.cell: place.waiting for place in console.places()}
    assert by_cell == {HERE: 250, THERE: 1}
    assert len(console.waiting()) == 251
    only_there = console.waiting(neighbourhood=THERE)
    assert [row.request_id for row in only_there] == [asked.request_id]
