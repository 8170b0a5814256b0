"""A call into the consumer thread's loop from faust's wakes that loop at once.

aiokafka's consumer lives on the thread's loop: resuming a partition resolves a future its
fetch routine waits on. Resolved from another thread, the loop sleeping in ``select`` did not
see it until its next timer, up to the routine's idle sleep.
"""

from __future__ import annotations

import asyncio
import threading
import time

from services.matching.driver import on_loop

#: The loop's own timeout: far longer than the test lets it take to notice.
_SLEEP_S = 30.0


def test_a_future_resolved_from_another_thread_wakes_its_loop_at_once() -> None:
    loop = asyncio.new_event_loop()
    waiting = threading.Event()
    woke_after: list[float] = []
    future: asyncio.Future[None] = loop.create_future()

    async def wait() -> None:
        waiting.set()
        began = time.monotonic()
        await asyncio.wait({future}, timeout=_SLEEP_S)
        woke_after.append(time.monotonic() - began)

    thread = threading.Thread(target=loop.run_until_complete, args=(wait(),), daemon=True)
    thread.start()
    try:
        assert waiting.wait(5)
        on_loop(loop, future.set_result, None)
        thread.join(5)
        assert not thread.is_alive(), "the loop slept through the call"
        assert woke_after[0] < 5
    finally:
        if thread.is_alive():
            loop.call_soon_threadsafe(future.cancel)
            thread.join(_SLEEP_S)
        loop.close()


async def test_a_call_from_the_loops_own_thread_runs_at_once() -> None:
    seen: list[int] = []
    on_loop(asyncio.get_running_loop(), seen.append, 1)
    assert seen == [1], "on its own loop the call is made there and then"
