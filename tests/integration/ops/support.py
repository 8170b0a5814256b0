"""The operators' console run in-process on a free port, and events to show it."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from services.ops.bootstrap import OpsRuntime
from shared.contracts import Envelope, utc_now
from shared.contracts.requests import HelpRequested
from shared.contracts.skills import Skill
from shared.embedded import free_port
from shared.geo import cell_of, neighbourhood_of_cell
from shared.lifecycle import asgi_server
from shared.settings import Settings
from tests.support import eventually


@dataclass(frozen=True)
class RunningConsole:
    """Where the console answers, its operators' token, and its state."""

    url: str
    token: str
    runtime: OpsRuntime

    def check_running(self) -> None:
        """Fail with the feed's (or another task's) own error if it has ended: a console
        whose feed died answers on, blind to new events."""
        for task in self.runtime.tasks:
            if task.done():
                task.result()
                raise AssertionError(f"the console's {task.get_name()} ended")


@asynccontextmanager
async def running_console(
    settings: Settings, *, own_database: bool = False
) -> AsyncIterator[RunningConsole]:
    """Start the console's feed and HTTP server in this loop; stop both on exit.

    ``own_database`` gives it a fresh database, so its rate limits start from nothing.
    """
    assert settings.operator_token is not None
    token = settings.operator_token.get_secret_value()
    database_url = None
    if own_database:
        parts = urlsplit(settings.database_for("ops"))
        database_url = urlunsplit(parts._replace(path=f"/kith_ops_{uuid.uuid4().hex[:12]}"))
    if settings.notify_url is None:
        # No notify here: a port nothing listens on, never another Kith's notify on 8003.
        settings = settings.model_copy(update={"notify_url": f"http://127.0.0.1:{free_port()}"})
    runtime = OpsRuntime(settings, database_url=database_url)
    await runtime.start()
    port = free_port()
    server = asgi_server(runtime.app(), "127.0.0.1", port)
    serving = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started or serving.done()

    try:
        await eventually(started, what="the console listening")
        assert not serving.done(), "the console's server did not start"
        yield RunningConsole(f"http://127.0.0.1:{port}", token, runtime)
    finally:
        runtime.console.close()
        server.should_exit = True
        await serving
        await runtime.stop()


def somewhere() -> tuple[str, str]:
    """A random street cell and its neighbourhood, so each test reads only its own events."""
    cell = cell_of(random.uniform(-60, 60), random.uniform(-170, 170))
    return cell, neighbourhood_of_cell(cell)


def help_requested(
    cell: str, neighbourhood: str, *, occurrence: int = 1, series_id: uuid.UUID | None = None
) -> Envelope[HelpRequested]:
    """A fresh request for tomorrow in ``neighbourhood``."""
    starts = (utc_now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    return Envelope.wrap(
        HelpRequested(
            request_id=uuid.uuid4(),
            series_id=series_id or uuid.uuid4(),
            occurrence=occurrence,
            occurrences=max(occurrence, 1),
            neighbour_id=uuid.uuid4(),
            neighbourhood=neighbourhood,
            cell=cell,
            skill=Skill.SHOPPING,
            starts_at=starts,
            hours=1,
        ),
        producer="test",
    )
