"""Deliver queued webhooks: signed, retried with backoff, in order per key, every try logged."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

import structlog

from services.partners.domain.backoff import Backoff
from services.partners.service_layer.ports import PartnersUnitOfWork, WebhookSender
from services.partners.service_layer.records import WebhookJob
from services.partners.service_layer.signing import signature_headers
from shared import clock
from shared.unit_of_work import UnitOfWorkStarter

log = structlog.get_logger(__name__)

#: The event's type, for a receiver that routes before it parses.
EVENT_TYPE_HEADER = "Kith-Event-Type"


def signed_headers(job: WebhookJob, *, now: datetime | None = None) -> dict[str, str]:
    """The headers of one attempt; each attempt is signed afresh with its own timestamp.

    The webhook id is the event id, the same on every attempt, so a receiver drops repeats.
    """
    # The wall clock, not the movable one: the receiver compares it with its own clock.
    moment = clock.wall_now() if now is None else now
    return {
        "Content-Type": "application/json",
        EVENT_TYPE_HEADER: job.type,
        **signature_headers(job.secrets, str(job.event_id), moment, job.body),
    }


class WebhookDispatcher:
    """Claims due deliveries and posts them, until ``stop``.

    Woken by ``wake`` (deliveries queued in this process, or a NOTIFY from another), and
    otherwise when the next retry is due, or after ``poll_s`` at the latest.
    """

    def __init__(
        self,
        start: UnitOfWorkStarter[PartnersUnitOfWork],
        sender: WebhookSender,
        backoff: Backoff,
        *,
        timeout_s: float,
        poll_s: float = 1.0,
        batch: int = 50,
    ) -> None:
        self._start = start
        self._sender = sender
        self._backoff = backoff
        # A lease longer than an attempt can take: a worker that dies mid-attempt frees
        # its deliveries for another once the lease lapses.
        self._lease = timedelta(seconds=timeout_s * 2 + 5)
        self._poll_s = poll_s
        self._batch = batch
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.attempted = 0

    def wake(self) -> None:
        """Look for due deliveries now."""
        self._wake.set()

    def stop(self) -> None:
        """Return from ``run`` after the attempts in hand."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Deliver until stopped; a failure is logged and retried after a pause."""
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                done = await self.deliver_due()
            except Exception as error:  # the database or the network: try again shortly
                if self._stopping.is_set():
                    return
                log.warning("webhook dispatcher retrying", error=repr(error))
                done = 0
            if done >= self._batch:
                continue
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=await self._idle_s())

    async def _idle_s(self) -> float:
        try:
            async with self._start() as uow:
                due = await uow.next_webhook_due()
        except Exception as error:  # the database is away: look again after the usual pause
            log.warning("webhook dispatcher retrying", error=repr(error))
            return self._poll_s
        if due is None:
            return self._poll_s
        return min(self._poll_s, max(0.0, (due - clock.now()).total_seconds()) + 0.005)

    async def deliver_due(self) -> int:
        """Attempt every due delivery once (different keys at the same time); how many."""
        # The leases commit before any attempt: a post may take up to the timeout.
        async with self._start() as uow:
            jobs = await uow.claim_webhooks(self._batch, self._lease, clock.now())
        if jobs:
            await asyncio.gather(*(self._attempt(job) for job in jobs))
        return len(jobs)

    async def _attempt(self, job: WebhookJob) -> None:
        status: int | None = None
        error: str | None = None
        try:
            status = await self._sender.post(job.url, job.body, signed_headers(job))
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except Exception as failure:  # any transport failure is a failed attempt, retried
            error = repr(failure)[:500]
        self.attempted += 1
        retry_at: datetime | None = None
        if error is None:
            outcome = "delivered"
        elif self._backoff.gives_up_after(job.attempt):
            log.warning("webhook abandoned", event_id=str(job.event_id), error=error)
            outcome = "abandoned"
        else:
            outcome = "retrying"
            retry_at = clock.now() + timedelta(seconds=self._backoff.delay_s(job.attempt))
        async with self._start() as uow:
            await uow.finish_attempt(
                job, outcome=outcome, status_code=status, error=error, next_attempt_at=retry_at
            )
