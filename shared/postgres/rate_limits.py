"""Rate limits kept in a service's PostgreSQL, so every process of the service shares them.

GCRA (the generic cell rate algorithm): one row per bucket holds the theoretical arrival time
(``tat``) of its next request. A rate of COUNT per SECONDS lets a burst of COUNT through,
then one every SECONDS/COUNT; a refused request changes nothing. The check and the update are
one statement on the bucket's row, so processes racing on a bucket queue on its row lock and
none lets an extra request through. Each service's migrations create the ``rate_limits``
table (``CREATE_TABLE``).

The ``limits`` library was the other choice; its storages are memory, Redis, Memcached,
MongoDB and etcd, none of which Kith runs, and a table beside each service's data needs no
new server.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import asyncpg

#: The table every service's migration creates (kept here to say what the queries expect).
CREATE_TABLE = """
CREATE TABLE rate_limits (
    bucket  text PRIMARY KEY,
    tat     timestamptz NOT NULL
);
CREATE INDEX rate_limits_by_tat ON rate_limits (tat);
"""

_HIT = (
    "INSERT INTO rate_limits AS r (bucket, tat) VALUES ($1, $2::timestamptz + $3::interval)"
    " ON CONFLICT (bucket) DO UPDATE SET tat = greatest(r.tat, $2) + $3::interval"
    " WHERE greatest(r.tat, $2) - $2 <= $4::interval"
    " RETURNING true"
)


class RateLimiter:
    """Counts requests per bucket in the ``rate_limits`` table of ``pool``'s database."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def hit(self, bucket: str, rate: tuple[int, int], now: datetime) -> int | None:
        """Count a request in ``bucket`` at ``rate`` (count, seconds); ``None`` when it may
        go ahead, else how many seconds until one would."""
        count, seconds = rate
        interval = timedelta(seconds=seconds / count)
        tolerance = timedelta(seconds=seconds) - interval
        async with self._pool.acquire() as conn:
            if await conn.fetchval(_HIT, bucket, now, interval, tolerance):
                return None
            tat = await conn.fetchval("SELECT tat FROM rate_limits WHERE bucket = $1", bucket)
        wait = (tat - now - tolerance).total_seconds() if tat is not None else 1.0
        return max(1, math.ceil(wait))

    async def forget_idle(self, now: datetime) -> int:
        """Delete the buckets with nothing left to remember (back to a full burst)."""
        async with self._pool.acquire() as conn:
            status = await conn.execute("DELETE FROM rate_limits WHERE tat < $1", now)
        return int(status.split()[-1])
