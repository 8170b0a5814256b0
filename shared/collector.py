"""The garbage collector tuned for services that make and drop objects by the thousand.

Every event a service handles decodes documents into objects that live a few milliseconds
(a matching request decodes the state of a hundred helpers), and most of them are freed by
their reference counts alone. CPython's default (a young collection every 700 allocations,
a full one every 100 young ones, subject to its own 25 % rule) then ran so often that
matching spent up to a third of a request's CPU in the collector, most of it in full collections
walking every object the process imported. Collecting young objects every 50,000 allocations
(and older ones as rarely) and freezing what start-up made (modules, schemas, settings:
never garbage) out of full collections removes most of that and keeps the cost of a request
the same whatever else the process holds.
"""

from __future__ import annotations

import gc

#: Allocations between young collections; then young and middle collections between older.
THRESHOLDS = (50_000, 20, 20)


def tune() -> None:
    """Collect what start-up left behind, freeze the rest, and set ``THRESHOLDS``."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
