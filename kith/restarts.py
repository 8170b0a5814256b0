"""When ``kith up`` starts a process again after it died, and when it gives up on it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RestartPolicy:
    """Backoff between restarts, doubling from ``first_delay_s`` up to ``max_delay_s``.

    A process that died more than ``give_up_after`` times within ``window_s`` is left
    stopped: something is wrong that starting it again will not mend, and a tight loop of
    restarts would bury the log line that says what.
    """

    first_delay_s: float = 0.5
    max_delay_s: float = 30.0
    give_up_after: int = 5
    window_s: float = 120.0

    def delay_s(self, crashes: list[float], now: float) -> float | None:
        """Seconds to wait before the next start, or ``None`` to give up."""
        recent = [moment for moment in crashes if now - moment <= self.window_s]
        if len(recent) > self.give_up_after:
            return None
        doubled: float = self.first_delay_s * 2.0 ** max(0, len(recent) - 1)
        return min(self.max_delay_s, doubled)


@dataclass
class CrashRecord:
    """The moments (monotonic seconds) a process died, and how often it was started again."""

    crashes: list[float] = field(default_factory=list)
    restarts: int = 0
