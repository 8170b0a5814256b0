"""The operators' view of Kith, rebuilt from the streams: pure code, no Kafka, no HTTP."""

from services.ops.domain.ledger import Booked, Ledger, OpenConcern, RequestTrack
from services.ops.domain.panels import Figures, Spread, Waiting, figures, open_concerns, waiting

__all__ = [
    "Booked",
    "Figures",
    "Ledger",
    "OpenConcern",
    "RequestTrack",
    "Spread",
    "Waiting",
    "figures",
    "open_concerns",
    "waiting",
]
