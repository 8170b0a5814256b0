"""Every service runs through ``shared.lifecycle.serve``: a dead background task ends it."""

from __future__ import annotations

import asyncio
import signal
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from shared.embedded.ports import free_port
from shared.lifecycle import BackgroundTaskEnded, asgi_server, serve, server_config
from shared.settings import Settings
from tests.support import eventually


class FakeService:
    """A service whose one background task runs ``work``."""

    def __init__(self, work: asyncio.Event, *, fail: bool = True) -> None:
        self._work = work
        self._fail = fail
        self._tasks: list[asyncio.Task[None]] = []
        self.started = self.stopped = False
        self.is_ready = asyncio.Event()

    async def _relay(self) -> None:
        await self._work.wait()
        if self._fail:
            raise ConnectionError("the broker went away")

    async def start(self) -> None:
        self.started = True
        self._tasks = [asyncio.create_task(self._relay(), name="fake-relay")]

    async def ready(self) -> None:
        await self.is_ready.wait()

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        return list(self._tasks)

    async def stop(self) -> None:
        self.stopped = True
        for task in self._tasks:
            task.cancel()


async def _until_exists(path: Path) -> None:
    async def exists() -> bool:
        return path.exists()  # noqa: ASYNC240 (a stat, in a test)

    await eventually(exists, timeout_s=5, interval_s=0.001, what=f"{path} written")


def _settings(tmp_path: Path) -> Settings:
    return Settings(ready_file=tmp_path / "ready")


async def test_a_background_task_that_fails_ends_the_process_with_a_log_line(
    tmp_path: Path,
) -> None:
    die = asyncio.Event()
    service = FakeService(die)
    service.is_ready.set()
    stop = asyncio.Event()
    settings = _settings(tmp_path)
    serving = asyncio.create_task(serve(service, settings, stop, name="fake"))
    await _until_exists(tmp_path / "ready")
    with capture_logs() as logs:
        die.set()
        with pytest.raises(BackgroundTaskEnded, match="fake-relay") as raised:
            await asyncio.wait_for(serving, timeout=5)
    assert isinstance(raised.value.__cause__, ConnectionError)
    assert service.stopped
    ended = [line for line in logs if "background task ended" in line["event"]]
    assert ended
    assert ended[0]["task"] == "fake-relay"
    assert ended[0]["log_level"] == "error"
    assert "broker went away" in ended[0]["error"]


async def test_a_task_that_returns_before_stop_also_ends_the_process(tmp_path: Path) -> None:
    done = asyncio.Event()
    done.set()
    service = FakeService(done, fail=False)
    with pytest.raises(BackgroundTaskEnded):
        await asyncio.wait_for(serve(service, _settings(tmp_path), asyncio.Event(), name="f"), 5)
    # It ended before the service was ready: never marked ready.
    assert not (tmp_path / "ready").exists()
    assert service.stopped


async def test_stop_ends_serving_cleanly_after_ready(tmp_path: Path) -> None:
    service = FakeService(asyncio.Event())
    stop = asyncio.Event()
    settings = _settings(tmp_path)
    serving = asyncio.create_task(serve(service, settings, stop, name="fake", ready_detail="x"))

    async def started() -> bool:
        return service.started

    await eventually(started, timeout_s=5, interval_s=0.001, what="the service started")
    assert not (tmp_path / "ready").exists()  # not before the service says so
    service.is_ready.set()
    await _until_exists(tmp_path / "ready")
    assert (tmp_path / "ready").read_text() == "x"
    stop.set()
    await asyncio.wait_for(serving, timeout=5)
    assert service.started
    assert service.stopped


@pytest.mark.parametrize("told", ["exit", "signal"])
async def test_the_http_server_answers_with_a_date_and_exits_without_waiting_out_its_tick(
    told: str,
) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    server = asgi_server(app, "127.0.0.1", free_port())
    server.tick_s = 3600  # exit must not wait for the next tick
    serving = asyncio.create_task(server.serve())

    async def started() -> bool:
        assert not serving.done(), "uvicorn failed to start"
        return bool(server.started)

    await eventually(started, timeout_s=10, what="uvicorn listening")
    port = server.servers[0].sockets[0].getsockname()[1]
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/")
    assert response.status_code == 204
    assert "date" in response.headers
    if told == "exit":
        server.exit()
    else:  # uvicorn's own signal handler, where a server installs it
        server.handle_exit(signal.SIGTERM, None)
    await asyncio.wait_for(serving, timeout=10)


async def test_an_idle_server_sleeps_until_a_connection_opens_and_dates_its_first_answer_afresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    server = asgi_server(app, "127.0.0.1", free_port())
    serving = asyncio.create_task(server.serve())

    async def started() -> bool:
        assert not serving.done(), "uvicorn failed to start"
        return bool(server.started)

    await eventually(started, timeout_s=10, what="uvicorn listening")
    assert server.next_tick_s() is None, "with nobody connected the main loop does not tick"
    # A day passes while nobody is connected: the first answer must not carry the Date of
    # the last tick.
    a_day_later = time.time() + 86400
    monkeypatch.setattr("shared.lifecycle.time.time", lambda: a_day_later)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/")
            assert server.next_tick_s() == server.tick_s, "connected, it ticks again"
        assert response.headers["date"] == formatdate(a_day_later, usegmt=True)
    finally:
        server.should_exit = True  # as uvicorn's own code sets it: wakes the idle loop too
        await asyncio.wait_for(serving, timeout=10)


def test_a_server_keeps_an_idle_connection_longer_than_its_clients_pool_does() -> None:
    """Were the two equal, a client could send on a connection the server was closing that
    instant and read nothing back: seen as the console's proxy answering 502."""
    clients_keep = httpx.Limits().keepalive_expiry  # what a client's pool keeps, by default
    assert clients_keep is not None
    assert asgi_server(None, "127.0.0.1", 0).config.timeout_keep_alive > clients_keep
    assert server_config(None, "127.0.0.1", 0, lifespan="on").timeout_keep_alive > clients_keep
