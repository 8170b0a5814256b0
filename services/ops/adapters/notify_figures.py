"""What the console shows of notify: notices sent, failed and retried per channel, and the
operators' open tasks, asked of notify's operators' API every few seconds.

Figures, not facts of the neighbourhood: an event on a topic every few seconds would fill
the streams (and every reader of them) with counts that are out of date at once. Notify's
operators' API already answers them, to the operators' token ops holds.
"""

from __future__ import annotations

from typing import Any

import httpx
import structlog

log = structlog.get_logger(__name__)

#: How often the console asks notify.
EVERY_S = 10.0


class NotifyFigures:
    """The latest summary notify gave, or ``None`` while it has not answered.

    Args:
        base_url: Notify's API.
        operator_token: The operators' token.
        transport: httpx's transport (tests pass notify's app through an ASGI transport).
    """

    def __init__(
        self,
        base_url: str,
        operator_token: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {operator_token}"},
            timeout=5.0,
            transport=transport,
            # One ask every ten seconds: a connection kept alive between them would keep
            # notify's idle HTTP server waking every second (``IdleServer``) for nothing.
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self.latest: dict[str, Any] | None = None

    async def refresh(self) -> None:
        """Ask notify again; a notify that does not answer shows as unknown, not as zero."""
        try:
            response = await self._client.get("/v1/operator/notices/summary")
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            if self.latest is not None:
                log.warning("notify's figures are unavailable", error=type(error).__name__)
            self.latest = None
            return
        self.latest = {
            "channels": {
                str(channel): {key: int(figures.get(key, 0)) for key in _KEYS}
                for channel, figures in body.get("channels", {}).items()
            },
            "open_tasks": int(body.get("open_tasks", 0)),
        }

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()


_KEYS = ("sent", "failed", "retried", "pending")
