"""The database's own guards, turned into the domain's refusals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from services.booking.domain.errors import AlreadyBooked, HoursTaken


@contextmanager
def guarded() -> Iterator[None]:
    """Turn the database's refusal of a double booking into the domain's own error, so that
    no service layer needs to know asyncpg or a constraint's name."""
    try:
        yield
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name == "helper_hours_no_overlap":
            raise HoursTaken() from error
        raise AlreadyBooked() from error
