"""How a transaction that wrote events wakes the outbox relay once it commits.

A NOTIFY is not free: PostgreSQL queues a transaction's notifications under one lock for the
whole server while the transaction commits, so every committing transaction that sent one
takes its turn. Booking's accepts, 32 connections at a time, each sending one, ran at 0.40
of ``kith bench booking --in-process``'s raw ceiling; without it (the relay polling every
10 ms instead), at 0.51.

So a process that runs its own relay rings it directly once a transaction that wrote to
the outbox has committed (``RelayBell.after_commit`` around the transaction), and its
statements send no NOTIFY. A statement written where no relay of the process will hear of
it (a command, a process without a relay, or outside ``after_commit``) still sends one.
Another process's relay, when it holds the publishing lock, is told by the relay that
found the lock taken (``OutboxRelay``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass

#: The channel relays listen on; a commit that wrote to the outbox and rang no relay of its
#: own process notifies it.
OUTBOX_CHANNEL = "kith_outbox"

#: Ends a statement that wrote to the outbox: a NOTIFY, delivered only if it commits.
_NOTIFY = f" SELECT pg_notify('{OUTBOX_CHANNEL}', '')"
#: Ends it instead when the process's relay is rung after the commit.
_QUIET = " SELECT 1"


@dataclass(slots=True)
class _Transaction:
    rings: bool
    """Whether a relay of this process is rung when the transaction commits."""
    wrote: bool = False


_open: ContextVar[_Transaction | None] = ContextVar("kith_outbox_transaction", default=None)


def wake_relay() -> str:
    """The end of a statement that writes to the outbox: nothing but ``SELECT 1`` when the
    transaction it runs in rings this process's relay as it commits, a NOTIFY otherwise."""
    transaction = _open.get()
    if transaction is None or not transaction.rings:
        return _NOTIFY
    transaction.wrote = True
    return _QUIET


class RelayBell:
    """Rings the outbox relay of this process (``attach``) after a transaction that wrote
    events commits: one per process, shared by its units of work and its relay."""

    def __init__(self) -> None:
        self._ring: Callable[[], None] | None = None

    def attach(self, ring: Callable[[], None]) -> None:
        """Wake the relay with ``ring`` while it runs."""
        self._ring = ring

    def detach(self) -> None:
        """The relay has stopped: statements NOTIFY again, for other processes' relays."""
        self._ring = None

    @asynccontextmanager
    async def after_commit(self) -> AsyncIterator[None]:
        """Around a transaction (or a single statement outside one): when it ends, ring the
        relay if it wrote events.

        Inside another ``after_commit`` of the same task it does nothing: the enclosing
        block rings when it ends. It rings after an error too, as a statement of the block
        may have committed on a connection of its own; a needless ring costs the relay one
        look at the outbox.
        """
        if _open.get() is not None:
            yield
            return
        transaction = _Transaction(rings=self._ring is not None)
        token = _open.set(transaction)
        try:
            yield
        finally:
            _open.reset(token)
            if transaction.wrote and self._ring is not None:
                self._ring()
