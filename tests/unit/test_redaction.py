"""What an erasure takes out of a kept event: names and free texts, and nothing else."""

from __future__ import annotations

import json
import uuid

from shared.contracts.people import PersonProfileChanged
from shared.contracts.redaction import ERASED_TEXT, redacted, redacted_document
from shared.contracts.trust import AsAgreed, CheckInSubmitted, ConcernRaised, RaisedBy, SeeAgain


def test_a_profile_keeps_its_shape_without_the_name() -> None:
    profile = PersonProfileChanged(
        person_id=uuid.uuid4(),
        display_name="Wilhelmina",
        neighbourhood="87195da49ffffff",
        cell="89195da49a3ffff",
        travel_radius_km=3,
        weekly_hour_cap=6,
    )

    data = redacted(profile.model_dump(mode="json"))

    assert data["display_name"] == ERASED_TEXT
    assert {k: v for k, v in data.items() if k != "display_name"} == {
        k: v for k, v in profile.model_dump(mode="json").items() if k != "display_name"
    }
    PersonProfileChanged.model_validate(data)  # still the released contract


def test_free_texts_are_replaced_and_a_nullable_note_emptied() -> None:
    people = {"helper_id": uuid.uuid4(), "neighbour_id": uuid.uuid4()}
    # Stored copies of version 1 events (an outbox row, a webhook body) still hold texts.
    concern = {
        **ConcernRaised(
            concern_id=uuid.uuid4(), about_id=people["helper_id"], raised_by_role=RaisedBy.PERSON
        ).model_dump(mode="json"),
        "summary": "shouted at me",
    }
    checkin = CheckInSubmitted(
        checkin_id=uuid.uuid4(),
        booking_id=uuid.uuid4(),
        author_id=people["neighbour_id"],
        about_id=people["helper_id"],
        neighbourhood="87195da49ffffff",
        see_again=SeeAgain.YES,
        as_agreed=AsAgreed.YES,
        **people,
    ).model_dump(mode="json")
    checkin = {**{k: v for k, v in checkin.items() if k != "has_note"}, "note": "kind visit"}

    assert redacted(concern)["summary"] == ERASED_TEXT
    assert redacted(checkin)["note"] is None
    assert redacted(checkin)["see_again"] == "yes"
    assert redacted({"reason": ""})["reason"] == ERASED_TEXT
    assert redacted({"note": None}) == {"note": None}


def test_a_stored_document_is_rewritten_only_when_its_data_loses_something() -> None:
    named = {"id": "e1", "type": "concern.raised", "data": {"about_id": "p1", "summary": "x"}}
    rewritten = redacted_document(json.dumps(named).encode())

    assert rewritten is not None
    assert json.loads(rewritten) == {**named, "data": {"about_id": "p1", "summary": ERASED_TEXT}}
    assert redacted_document(rewritten) is None, "already redacted: left as it is"
    assert redacted_document(b'{"id": "e2", "data": null}') is None, "no data: left as it is"
    assert redacted_document(b"[1, 2]") is None, "not a document: left as it is"
