"""Why a use case refused; the HTTP layer turns each into a problem response."""

from __future__ import annotations


class BookingProblem(Exception):
    """Base of refusals; ``detail`` is safe to show to the caller."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(BookingProblem):
    """No such thing, or not the caller's (the two are not told apart)."""

    status = 404
    title = "Not found"


class Conflict(BookingProblem):
    """The change clashes with the current state (taken, overlapping, expired)."""

    status = 409
    title = "Conflict"


class HoursTaken(Conflict):
    """The helper already holds one of the hours a booking would take (raised by the adapter
    when the database's guard refuses the write)."""

    def __init__(self, detail: str = "the helper already has a booking at that time") -> None:
        super().__init__(detail)


class AlreadyBooked(Conflict):
    """The request, or the offer, is booked already (the database's guard refused a second)."""

    def __init__(self, detail: str = "this visit has already been taken") -> None:
        super().__init__(detail)


class Unauthorized(BookingProblem):
    """No valid credentials."""

    status = 401
    title = "Unauthorized"


class Forbidden(BookingProblem):
    """Valid credentials, wrong role."""

    status = 403
    title = "Forbidden"


class TooMany(BookingProblem):
    """The caller did this too often; ``retry_after_s`` says when they may again."""

    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class Invalid(BookingProblem):
    """A field that passed its shape check breaks a rule; ``field`` names it."""

    status = 422
    title = "Validation failed"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
