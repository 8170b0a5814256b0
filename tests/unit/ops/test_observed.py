"""How operators' tools see a message: headline, withheld notes, filters, dead letters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from shared.contracts import Envelope, Payload
from shared.contracts.requests import HelpRequested, RequestUnmatched
from shared.contracts.skills import Skill
from shared.contracts.trust import AsAgreed, CheckInSubmitted, SeeAgain
from shared.geo import cell_of, neighbourhood_of_cell
from shared.observed import EventFilter, Observed, Refusal, stream_of

CELL = cell_of(51.545, -0.0553)
NEIGHBOURHOOD = neighbourhood_of_cell(CELL)
AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def observed(payload: Payload | None, topic: str = "kith.requests.v1", **extra: object) -> Observed:
    envelope = Envelope.wrap(payload, producer="test") if payload is not None else None
    return Observed(
        topic=topic,
        partition=0,
        offset=7,
        key=b"k",
        timestamp=AT,
        envelope=envelope,
        **extra,  # type: ignore[arg-type]
    )


def request(neighbour: uuid.UUID | None = None) -> HelpRequested:
    return HelpRequested(
        request_id=uuid.UUID("1a2b3c4d-0000-4000-8000-000000000001"),
        series_id=uuid.uuid4(),
        occurrence=1,
        occurrences=1,
        neighbour_id=neighbour or uuid.uuid4(),
        neighbourhood=NEIGHBOURHOOD,
        cell=CELL,
        skill=Skill.SHOPPING,
        starts_at=AT,
        hours=2,
    )


def checkin(note: str | None) -> CheckInSubmitted:
    helper, neighbour = uuid.uuid4(), uuid.uuid4()
    return CheckInSubmitted(
        checkin_id=uuid.uuid4(),
        booking_id=uuid.uuid4(),
        author_id=neighbour,
        about_id=helper,
        helper_id=helper,
        neighbour_id=neighbour,
        neighbourhood=NEIGHBOURHOOD,
        see_again=SeeAgain.NO,
        as_agreed=AsAgreed.YES,
        has_note=note is not None,
    )


def test_stream_names_are_the_middle_of_topic_names() -> None:
    assert stream_of("kith.requests.v1") == "requests"
    assert stream_of("kith.partners.inbox.v1") == "partners.inbox"
    assert stream_of("something-else") == "something-else"


def test_headline_shows_short_ids_then_key_fields() -> None:
    line = observed(request()).headline()
    assert line.startswith("req:1a2b3c4d nbr:")
    assert "skill=shopping" in line
    assert "starts_at=2026-11-23T10:00" in line
    assert "hours=2" in line


def test_a_check_in_shows_its_answers_and_whether_there_is_a_note() -> None:
    seen = observed(checkin("he was rude to me"), topic="kith.checkins.v1")
    assert seen.public_data() is not None
    assert seen.public_data()["has_note"] is True  # type: ignore[index]
    assert "note" not in seen.public_data()  # type: ignore[operator]
    assert "see_again=no" in seen.headline()
    assert observed(checkin(None)).public_data()["has_note"] is False  # type: ignore[index]


def test_long_lists_are_cut_for_the_screen() -> None:
    tried = [uuid.uuid4() for _ in range(5)]
    unmatched = RequestUnmatched(
        request_id=uuid.uuid4(),
        neighbour_id=uuid.uuid4(),
        neighbourhood=NEIGHBOURHOOD,
        skill=Skill.SHOPPING,
        starts_at=AT,
        rounds=2,
        tried_helper_ids=tried,
        reason="nobody free",
    )
    seen = observed(unmatched, topic="kith.offers.v1")
    cut = seen.public_data(max_items=2)
    assert cut is not None
    assert cut["tried_helper_ids"] == [str(tried[0]), str(tried[1]), "… and 3 more"]
    assert len(seen.public_data()["tried_helper_ids"]) == 5  # type: ignore[index]
    assert seen.people >= {str(helper) for helper in tried}


def test_junk_and_dead_letters_say_what_they_are() -> None:
    junk = observed(None, problem="not JSON: Expecting value")
    assert junk.type == "undecodable"
    assert junk.headline() == "not JSON: Expecting value"
    assert junk.public_envelope() is None
    assert junk.at == AT
    letter = observed(
        request(),
        topic="kith.deadletter.v1",
        refusal=Refusal("rejected by handler: no", "kith.requests.v1", 3, 42, "booking"),
    )
    assert letter.type == "dead_letter"
    assert letter.headline() == (
        "booking refused help.requested from requests@3/42: rejected by handler: no"
    )


def test_filter_by_stream_type_place_and_person() -> None:
    neighbour = uuid.uuid4()
    seen = observed(request(neighbour))
    assert EventFilter().matches(seen)
    assert EventFilter.of(streams=["offers, requests"]).matches(seen)
    assert EventFilter.of(streams=["kith.requests.v1"]).matches(seen)
    assert not EventFilter.of(streams=["offers"]).matches(seen)
    assert EventFilter.of(types=["help.*"]).matches(seen)
    assert not EventFilter.of(types=["booking.*"]).matches(seen)
    assert EventFilter.of(place=NEIGHBOURHOOD).matches(seen)
    assert EventFilter.of(place=CELL).matches(seen)
    assert not EventFilter.of(place=cell_of(40.0, -3.7)).matches(seen)
    assert EventFilter.of(person=str(neighbour)[:8].upper()).matches(seen)
    assert not EventFilter.of(person=str(uuid.uuid4())).matches(seen)
    assert not EventFilter.of(place=NEIGHBOURHOOD).matches(observed(None, problem="junk"))
