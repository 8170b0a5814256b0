"""Scopes: private streams and never-shown fields cannot be granted; defaults are impersonal."""

from __future__ import annotations

import pytest

from services.partners.domain.scopes import (
    NEVER_FIELDS,
    PERSONAL_FIELDS,
    PUBLIC_TYPES,
    ScopeError,
    default_fields,
    grant,
    reduce,
)
from shared.contracts.topics import ALL_TOPICS


@pytest.mark.parametrize("topic", [t.name for t in ALL_TOPICS if t.private])
def test_a_private_stream_can_never_be_granted(topic: str) -> None:
    with pytest.raises(ScopeError, match="private") as refused:
        grant(read_streams=[topic])
    assert refused.value.field == "scopes.read_streams"


def test_an_unknown_stream_is_refused_by_name() -> None:
    with pytest.raises(ScopeError, match="not a Kith stream"):
        grant(read_streams=["kith.gossip.v1"])


def test_a_field_the_type_lacks_or_no_partner_may_see_is_refused() -> None:
    with pytest.raises(ScopeError, match="no field 'phone'"):
        grant(fields={"help.requested": ["phone"]})
    # A welfare check's note no longer travels at all (version 2 says only has_note).
    with pytest.raises(ScopeError, match="no field 'note'"):
        grant(fields={"welfare.check_requested": ["note"]})
    with pytest.raises(ScopeError, match="public stream"):
        grant(fields={"checkin.submitted": ["booking_id"]})


def test_only_partner_sendable_types_can_be_granted_for_sending() -> None:
    assert grant(send=["vetting.step_recorded"]).send == {"vetting.step_recorded"}
    with pytest.raises(ScopeError, match="cannot be sent"):
        grant(send=["booking.confirmed"])


@pytest.mark.parametrize("kind", sorted(PUBLIC_TYPES))
def test_default_fields_name_no_person_and_nothing_private(kind: str) -> None:
    fields = default_fields(kind)
    assert not fields & PERSONAL_FIELDS
    assert not fields & NEVER_FIELDS


def test_the_default_view_of_a_request_keeps_what_a_council_counts() -> None:
    assert default_fields("help.requested") == {
        "request_id",
        "series_id",
        "occurrence",
        "occurrences",
        "neighbourhood",
        "skill",
        "starts_at",
        "hours",
    }


def test_granted_fields_replace_the_default_and_reduce_drops_never_fields() -> None:
    scopes = grant(read_streams=["kith.requests.v1"], fields={"help.requested": ["neighbour_id"]})
    assert scopes.visible_fields("help.requested") == {"neighbour_id"}
    data = {"neighbour_id": "x", "cell": "y", "note": "z", "home_address": "w"}
    assert reduce(data, {"neighbour_id", "note", "home_address"}) == {"neighbour_id": "x"}


def test_matchings_answer_to_an_operator_names_no_helper_by_default() -> None:
    # Which helpers may take a request, and why others may not, is for operators.
    assert default_fields("candidates.listed") == {"query_id", "request_id", "neighbourhood"}
    assert "reason" not in default_fields("offer.direction_refused")
