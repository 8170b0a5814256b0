"""The envelope every Kith event travels in, and the base class of event payloads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared import clock


class Payload(BaseModel):
    """Base of every event payload.

    Subclasses set ``TYPE`` (a dotted, past-tense name such as ``booking.confirmed``) and
    ``VERSION``. A payload never changes shape once released: a change is a new version with
    an upcaster from the old one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1


class TraceContext(BaseModel):
    """W3C trace context carried from the HTTP request that caused the event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    traceparent: str | None = Field(default=None, max_length=55)
    tracestate: str | None = Field(default=None, max_length=512)


P = TypeVar("P", bound=Payload)


def new_id() -> uuid.UUID:
    """A fresh random identifier."""
    return uuid.uuid4()


def utc_now() -> datetime:
    """The present, timezone-aware in UTC, from the process's clock (``shared.clock``)."""
    return clock.now()


class Envelope(BaseModel, Generic[P]):
    """One event on the wire: who said what, when, and in answer to what.

    Attributes:
        event_id: Unique per event; consumers use it to apply each event once.
        type: The payload's type name.
        version: The payload's contract version.
        occurred_at: When the change happened, in UTC.
        producer: The service (or partner) that published the event.
        correlation_id: Shared by every event of one user action, across services.
        causation_id: The event (or request) that directly caused this one.
        trace: W3C trace context.
        data: The payload.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: uuid.UUID = Field(default_factory=new_id)
    type: str
    version: int = Field(ge=1)
    occurred_at: AwareDatetime = Field(default_factory=utc_now)
    producer: str = Field(min_length=1, max_length=64)
    correlation_id: uuid.UUID = Field(default_factory=new_id)
    causation_id: uuid.UUID | None = None
    trace: TraceContext = Field(default_factory=TraceContext)
    data: P

    @classmethod
    def wrap(
        cls,
        data: P,
        *,
        producer: str,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Envelope[P]:
        """Put a payload in a new envelope, filling type and version from its class."""
        fields: dict[str, Any] = {
            "type": data.TYPE,
            "version": data.VERSION,
            "producer": producer,
            "data": data,
        }
        if correlation_id is not None:
            fields["correlation_id"] = correlation_id
        if causation_id is not None:
            fields["causation_id"] = causation_id
        if occurred_at is not None:
            fields["occurred_at"] = occurred_at
        if event_id is not None:
            fields["event_id"] = event_id
        return Envelope[P](**fields)

    def caused(self, data: P, *, producer: str) -> Envelope[P]:
        """A follow-up event: same correlation, caused by this one."""
        return Envelope.wrap(
            data,
            producer=producer,
            correlation_id=self.correlation_id,
            causation_id=self.event_id,
        )
