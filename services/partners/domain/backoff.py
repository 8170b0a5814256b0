"""When to try a failed webhook delivery again."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff, capped, with jitter.

    The jitter spreads the retries of many deliveries that failed together (an endpoint that
    was down) so they do not all hit the endpoint again in the same instant.
    """

    base_s: float
    cap_s: float
    max_attempts: int

    def delay_s(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        Between half and all of ``min(cap, base * 2^(attempt-1))``: never zero, never more
        than the cap.
        """
        ceiling = min(self.cap_s, self.base_s * 2.0 ** min(attempt - 1, 62))
        jitter: float = (rng or random).random()
        return ceiling * (0.5 + 0.5 * jitter)

    def gives_up_after(self, attempt: int) -> bool:
        """Whether attempt number ``attempt`` was the last one allowed."""
        return attempt >= self.max_attempts
