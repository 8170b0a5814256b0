"""The present, for every Kith process: the one clock that development and tests can move.

Every service takes the time from :func:`now`. In production it is the system's clock and
cannot be moved. In development and tests (``KITH_CLOCK_FILE`` set, which ``kith up`` does on
its embedded stack) the clock runs ahead of the system's by an offset kept in that file, so
``kith clock advance 7d`` moves every running process a week on at once: months of a
neighbourhood's life pass in minutes through the real processes, broker and database.

The offset only grows: a clock that went back would let a visit end before it began.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import weakref
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asyncinotify import Inotify

__all__ = [
    "ClockNotMovable",
    "MovableClock",
    "SystemClock",
    "advance",
    "install",
    "now",
    "offset",
    "parse_duration",
    "read_offset",
    "sleep",
]


class ClockNotMovable(Exception):
    """Raised when something asks to move a clock that follows real time."""


class SystemClock:
    """Real time: what production runs on."""

    movable = False

    def now(self) -> datetime:
        """The current time in UTC."""
        return datetime.now(UTC)

    def offset(self) -> timedelta:
        """How far ahead of real time this clock runs: never."""
        return timedelta(0)

    async def sleep(self, seconds: float, *, since: timedelta | None = None) -> None:
        """Wait ``seconds`` (real time never moves: ``since`` changes nothing)."""
        await asyncio.sleep(max(0.0, seconds))


@dataclass
class _Seen:
    stamp: tuple[int, int, int]
    offset: timedelta


class MovableClock:
    """Real time plus the offset held in ``path``, read again whenever the file changes.

    A ``stat`` per reading (about a microsecond) is what lets another process move this one's
    clock with no message and no delay: the next reading after ``kith clock advance`` is
    already in the new present.
    """

    movable = True

    #: How often a process whose tasks sleep looks whether the clock moved, where the
    #: system cannot tell it (``_changes``: Linux's inotify tells it at once, with no look).
    #: One look serves every sleeper of the process, however many sweeps it runs.
    watch_every_s = 1.0

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen = _Seen(stamp=(-1, -1, -1), offset=timedelta(0))
        self._watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Watch] = (
            weakref.WeakKeyDictionary()
        )

    def offset(self) -> timedelta:
        """How far ahead of real time the clock runs now."""
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return timedelta(0)
        stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
        if stamp != self._seen.stamp:
            self._seen = _Seen(stamp=stamp, offset=read_offset(self.path))
        return self._seen.offset

    def now(self) -> datetime:
        """The moved present in UTC."""
        return datetime.now(UTC) + self.offset()

    async def sleep(self, seconds: float, *, since: timedelta | None = None) -> None:
        """Wait ``seconds`` of clock time, or less when the clock is moved meanwhile.

        Returning early on a move is the point: a sweep due in a week of clock time must run
        as soon as someone moves the clock a week on, not a real week later. ``since`` is
        the offset the caller last acted on (``offset()``): a move after it and before this
        sleep began (a sleep run as a task of its own begins a turn of the loop later) ends
        the sleep at once, as a move during it would.
        """
        started = self.offset() if since is None else since
        watch = self._watch()
        moved = watch.join()
        try:
            # A move between reading ``started`` and joining the watch is seen here; any
            # later one sets ``moved``.
            if self.offset() != started:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(moved.wait(), timeout=max(0.0, seconds))
        finally:
            watch.leave()

    def _watch(self) -> _Watch:
        loop = asyncio.get_running_loop()
        watch = self._watches.get(loop)
        if watch is None:
            watch = self._watches[loop] = _Watch(self)
        return watch


class _Watch:
    """The one task of an event loop that watches the clock file while anything sleeps, and
    wakes every sleeper when the clock moves."""

    def __init__(self, clock: MovableClock) -> None:
        self._clock = clock
        self._moved = asyncio.Event()
        self._sleepers = 0
        self._task: asyncio.Task[None] | None = None

    def join(self) -> asyncio.Event:
        """Count one more sleeper; return the event set at the next move."""
        self._sleepers += 1
        if self._task is None or self._task.done():
            # Read now, not when the task first runs: a move in between must count.
            seen = self._clock.offset()
            self._task = asyncio.create_task(self._look(seen), name="clock-watch")
        return self._moved

    def leave(self) -> None:
        """Count one sleeper less; with none left, stop looking."""
        self._sleepers -= 1
        if not self._sleepers and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _look(self, seen: timedelta) -> None:
        # Closed as the watch is cancelled, not whenever the collector gets to it: its
        # inotify handle is one of the user's few.
        async with contextlib.aclosing(
            _changes(self._clock.path, self._clock.watch_every_s)
        ) as changes:
            async for _ in changes:
                now = self._clock.offset()
                if now != seen:
                    seen = now
                    moved, self._moved = self._moved, asyncio.Event()
                    moved.set()


async def _changes(path: Path, every_s: float) -> AsyncGenerator[None, None]:
    """Once at once, then each time the file at ``path`` may have changed.

    Linux says so (inotify, on the folder: ``advance`` replaces the file by a rename), so an
    idle process does not wake for the clock at all; elsewhere, or when the folder cannot be
    watched, every ``every_s``.
    """
    try:
        inotify = _watch_folder(path.parent)
    except (ImportError, OSError):
        while True:
            yield
            await asyncio.sleep(every_s)
    with inotify:
        yield  # a move before the watch began
        async for event in inotify:
            if event.name is not None and event.name.name == path.name:
                yield


def _watch_folder(folder: Path) -> Inotify:
    """An inotify handle told of every file written, made or renamed into ``folder``.

    Raises:
        ImportError: Not on Linux (asyncinotify is installed there only).
        OSError: The folder does not exist, or inotify is out of watches.
    """
    from asyncinotify import Inotify, Mask

    inotify = Inotify()
    try:
        inotify.add_watch(folder, Mask.MOVED_TO | Mask.CLOSE_WRITE | Mask.CREATE)
    except OSError:
        inotify.close()
        raise
    return inotify


_clock: SystemClock | MovableClock = SystemClock()


def install(clock_file: Path | None) -> SystemClock | MovableClock:
    """Make this process's clock the movable one in ``clock_file``, or real time for ``None``.

    Each process calls it once, as it starts, from its settings (``KITH_CLOCK_FILE``).
    """
    global _clock
    _clock = SystemClock() if clock_file is None else MovableClock(clock_file)
    return _clock


def now() -> datetime:
    """The present, timezone-aware in UTC, from this process's clock."""
    return _clock.now()


def wall_now() -> datetime:
    """The real time, whatever this process's clock says: for what another party compares
    with its own clock (a webhook's signed timestamp) and for stamps matched against logs."""
    return datetime.now(UTC)


def offset() -> timedelta:
    """How far this process's clock runs ahead of real time."""
    return _clock.offset()


async def sleep(seconds: float, *, since: timedelta | None = None) -> None:
    """Wait ``seconds`` of clock time; a movable clock returns early when it is moved (after
    ``since``, an ``offset()`` the caller read, when given)."""
    await _clock.sleep(seconds, since=since)


def read_offset(path: Path) -> timedelta:
    """The offset a clock file holds; a missing or unreadable file is no offset."""
    try:
        seconds = float(json.loads(path.read_text())["offset_s"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return timedelta(0)
    return timedelta(seconds=seconds)


def advance(path: Path, by: timedelta) -> timedelta:
    """Move the clock in ``path`` forward ``by``; return the new offset.

    The file is replaced in one rename, so a process reading it sees the old offset or the
    new one, never half a file.
    """
    if by < timedelta(0):
        raise ValueError("the clock only moves forward")
    moved = read_offset(path) + by
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps({"offset_s": moved.total_seconds()}) + "\n")
    os.replace(partial, path)
    return moved


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)")
_UNIT_S = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """``"7d"``, ``"2w"``, ``"1d12h"``, ``"90m"``, ``"30s"`` as a duration."""
    cleaned = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(cleaned)
    if not cleaned or "".join(f"{n}{u}" for n, u in parts) != cleaned:
        raise ValueError(f"{text!r} is not a duration such as 7d, 2w, 1d12h, 90m or 30s")
    return timedelta(seconds=sum(float(n) * _UNIT_S[u] for n, u in parts))
