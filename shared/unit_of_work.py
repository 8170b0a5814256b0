"""The one shape of a unit of work, for every service that owns a database.

A use case is handed a ``UnitOfWorkStarter`` and opens what it needs with
``async with start() as uow``: the port inside is the service's own (what its use cases may
read and change), the way in is the same everywhere, so the composition root can hand a real
adapter or a fake to any of them alike.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeVar

#: What the unit of work lets a use case do: a service's own port.
T_co = TypeVar("T_co", covariant=True)


class UnitOfWorkStarter(Protocol[T_co]):
    """Opens one unit of work over a service's own database."""

    def __call__(self) -> AbstractAsyncContextManager[T_co]:
        """A unit of work: what it changed is committed when the block ends without an error,
        and rolled back, all of it, when it ends with one."""
        ...
