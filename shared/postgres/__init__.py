"""PostgreSQL plumbing every service with a database shares: pools, migrations, an outbox
written in the same transaction as each change, its relay, an inbox for idempotency, and
a LISTEN that outlives its connection."""

from shared.postgres.database import close_pool, connect_pool, ensure_database
from shared.postgres.inbox import first_delivery
from shared.postgres.listen import ChannelListener
from shared.postgres.migrations import apply_migrations
from shared.postgres.outbox import (
    RELAY_LOCK_ID,
    OutboxRelay,
    add_to_outbox,
    add_tombstones,
    change_with_events,
    outbox_row,
)
from shared.postgres.relay_bell import OUTBOX_CHANNEL, RelayBell, wake_relay

__all__ = [
    "OUTBOX_CHANNEL",
    "RELAY_LOCK_ID",
    "ChannelListener",
    "OutboxRelay",
    "RelayBell",
    "add_to_outbox",
    "add_tombstones",
    "apply_migrations",
    "change_with_events",
    "close_pool",
    "connect_pool",
    "ensure_database",
    "first_delivery",
    "outbox_row",
    "wake_relay",
]
