"""Which channels a notice goes on: what the person chose, and what they can be reached on.

Email is the default where there is an address; someone who gave a phone and no email gets
everything by text message; a person who subscribed a browser to web push gets pushes too.
A choice that cannot be honoured (text messages chosen, no phone given) falls back to the
default rather than telling nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.notify.domain.notices import Channel

_KNOWN = frozenset(channel.value for channel in Channel if channel is not Channel.ANY)


@dataclass(frozen=True, slots=True)
class Reach:
    """What a person can be reached on, from their contact details."""

    email: bool
    phone: bool
    push: bool = False

    def has(self, channel: Channel) -> bool:
        """Whether ``channel`` reaches them."""
        return {Channel.EMAIL: self.email, Channel.SMS: self.phone, Channel.PUSH: self.push}.get(
            channel, False
        )

    @property
    def default(self) -> list[Channel]:
        """Email where there is an address, else a text message where there is a phone; and
        a push to the browsers they subscribed, if any (subscribing is asking for it)."""
        first = [Channel.EMAIL] if self.email else [Channel.SMS] if self.phone else []
        return first + ([Channel.PUSH] if self.push else [])


@dataclass(frozen=True, slots=True)
class Route:
    """The channels of one notice, or why there are none."""

    channels: list[Channel]
    #: ``"off"``: the person turned this kind off; ``"unreachable"``: no channel reaches them.
    none_because: str | None = None


def route(chosen: Sequence[str] | None, reach: Reach, *, safety: bool) -> Route:
    """The channels of a notice of a kind the person chose ``chosen`` for (``None``: left
    out, so the default). A safety notice cannot be turned off."""
    if chosen is not None and not chosen and not safety:
        return Route([], "off")
    picked = [Channel(c) for c in chosen or () if c in _KNOWN]
    channels = [c for c in picked if reach.has(c)] or reach.default
    return Route(channels) if channels else Route([], "unreachable")
