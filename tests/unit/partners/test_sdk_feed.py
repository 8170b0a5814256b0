"""The SDK reads a feed event with fields left out, and types it when it is whole."""

from __future__ import annotations

import json
import uuid

import pytest

from kith_partner import FeedEvent, IncompleteEvent, read_feed_message
from shared.contracts import Envelope, UndecodableEvent
from shared.contracts.requests import HelpRequested, OfferMade
from tests.unit.partners.support import help_requested, offer_made


def _feed_bytes(envelope: Envelope[HelpRequested] | Envelope[OfferMade], keep: set[str]) -> bytes:
    document = json.loads(envelope.model_dump_json(serialize_as_any=True))
    document["data"] = {k: v for k, v in document["data"].items() if k in keep}
    return json.dumps(document).encode()


def test_a_reduced_event_is_read_with_its_fields_checked_but_is_not_whole() -> None:
    envelope = Envelope.wrap(help_requested(), producer="booking")
    event = read_feed_message(_feed_bytes(envelope, {"request_id", "skill", "hours"}))
    assert isinstance(event, FeedEvent)
    assert event.event_id == envelope.event_id
    assert event.contract is HelpRequested
    assert event.data["hours"] == 1
    assert event.payload() is None
    with pytest.raises(IncompleteEvent):
        event.payload_as(HelpRequested)


def test_a_whole_event_is_typed() -> None:
    offer = offer_made(uuid.uuid4())
    envelope = Envelope.wrap(offer, producer="matching")
    event = read_feed_message(_feed_bytes(envelope, set(OfferMade.model_fields)))
    assert event.payload_as(OfferMade) == offer
    with pytest.raises(IncompleteEvent, match=r"is not help\.requested"):
        event.payload_as(HelpRequested)


def test_a_field_that_breaks_its_contract_is_refused() -> None:
    envelope = Envelope.wrap(help_requested(), producer="booking")
    document = json.loads(_feed_bytes(envelope, {"hours"}))
    document["data"]["hours"] = 99
    with pytest.raises(UndecodableEvent, match="hours"):
        read_feed_message(json.dumps(document).encode())
