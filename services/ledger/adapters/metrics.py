"""The ledger's figures, in the process's Prometheus registry (``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter

POSTINGS = Counter(
    "kith_ledger_postings",
    "Postings made from the bookings stream, by the event that made them (a redelivered or"
    " replayed event makes none).",
    ["event_type"],
)
WEBHOOKS = Counter(
    "kith_ledger_webhooks",
    "The payment provider's webhooks by outcome (``refused``: the signature did not verify).",
    ["outcome"],
)
