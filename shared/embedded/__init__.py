"""The embedded stack: a Tansu broker and a PostgreSQL server on free loopback ports."""

from shared.embedded.broker import EmbeddedBroker
from shared.embedded.database import EmbeddedPostgres
from shared.embedded.ports import PortInUse, free_port, require_free

__all__ = ["EmbeddedBroker", "EmbeddedPostgres", "PortInUse", "free_port", "require_free"]
