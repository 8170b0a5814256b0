"""Reading a partner's feed: Kith's envelope, with only the fields the partner may see.

A feed event's payload may lack fields the partner's scopes leave out, so it is checked
field by field against its contract; ``payload_as`` gives the full typed payload when
every field of the contract is present (as it is for offers made to a partner's service).
"""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Annotated, Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from shared.contracts import Payload, UndecodableEvent
from shared.contracts.registry import PAYLOADS, UPCASTERS

P = TypeVar("P", bound=Payload)


class IncompleteEvent(ValueError):
    """The event is not of the type asked for, or the feed left out fields it needs."""


class _Header(BaseModel):
    """The envelope around a feed event's data (Kith's envelope, unchanged)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: uuid.UUID
    type: str
    version: int = Field(ge=1)
    occurred_at: AwareDatetime
    producer: str
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    trace: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One event from the partner's feed.

    Attributes:
        event_id: Kith's id of the event: the same on a redelivery, so use it to dedupe.
        type: The contract's type name, e.g. ``offer.made``.
        version: The contract version the data was upcast to.
        occurred_at: When it happened (UTC).
        correlation_id: Shared by every event of one action.
        causation_id: The event that caused it.
        contract: The payload class of the type.
        data: The fields the partner may see, each checked against the contract.
    """

    event_id: uuid.UUID
    type: str
    version: int
    occurred_at: datetime
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None
    contract: builtins.type[Payload]
    data: Mapping[str, Any]

    def payload(self) -> Payload | None:
        """The whole typed payload, or None when the feed left out a required field."""
        try:
            return self.contract.model_validate(dict(self.data))
        except ValidationError:
            return None

    def payload_as(self, contract: builtins.type[P]) -> P:
        """The whole payload as ``contract``; ``IncompleteEvent`` if it is not one."""
        if self.contract is not contract:
            raise IncompleteEvent(f"{self.type} is not {contract.TYPE}")
        try:
            return contract.model_validate(dict(self.data))
        except ValidationError as error:
            raise IncompleteEvent(f"{self.type} lacks fields: {error}") from error


@cache
def _field_adapter(contract: type[Payload], name: str) -> TypeAdapter[Any]:
    field = contract.model_fields[name]
    annotated: Any = (
        Annotated[(field.annotation, *field.metadata)] if field.metadata else (field.annotation)
    )
    return TypeAdapter(annotated)


def read_feed_message(value: bytes | None) -> FeedEvent:
    """Decode one feed message; ``UndecodableEvent`` names what is wrong."""
    if value is None:
        raise UndecodableEvent("empty message value")
    try:
        header = _Header.model_validate(json.loads(value))
    except (ValueError, ValidationError) as error:
        raise UndecodableEvent(f"not a Kith feed event: {error}") from error
    kind, version, data = header.type, header.version, header.data
    while (kind, version) in UPCASTERS:
        version, upcast = UPCASTERS[(kind, version)]
        data = upcast(data)
    contract = PAYLOADS.get((kind, version))
    if contract is None:
        raise UndecodableEvent(f"unknown event type {kind!r} version {version}")
    checked: dict[str, Any] = {}
    for name, raw in data.items():
        if name not in contract.model_fields:
            raise UndecodableEvent(f"{kind} has no field {name!r}")
        try:
            checked[name] = _field_adapter(contract, name).validate_python(raw)
        except ValidationError as error:
            raise UndecodableEvent(f"{name}: {error.errors()[0]['msg']}") from error
    return FeedEvent(
        event_id=header.event_id,
        type=kind,
        version=version,
        occurred_at=header.occurred_at,
        correlation_id=header.correlation_id,
        causation_id=header.causation_id,
        contract=contract,
        data=checked,
    )
