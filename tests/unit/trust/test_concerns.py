"""A concern is resolved once, and only for the person it is about."""

from __future__ import annotations

import uuid

import pytest

from services.trust.domain.concerns import Concern, resolution_applies
from shared.contracts.trust import ConcernOutcome


def test_an_open_concern_takes_its_resolution() -> None:
    concern = Concern(concern_id=uuid.uuid4(), about_id=uuid.uuid4())
    assert concern.is_open
    assert resolution_applies(concern, concern.about_id)


def test_a_resolved_concern_ignores_a_second_resolution() -> None:
    concern = Concern(uuid.uuid4(), uuid.uuid4(), outcome=ConcernOutcome.REINSTATE)
    assert not concern.is_open
    assert not resolution_applies(concern, concern.about_id)


def test_a_resolution_about_someone_else_is_an_error() -> None:
    concern = Concern(concern_id=uuid.uuid4(), about_id=uuid.uuid4())
    with pytest.raises(ValueError, match="is not about"):
        resolution_applies(concern, uuid.uuid4())
