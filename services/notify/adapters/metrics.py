"""Notify's figures per channel, in the process's Prometheus registry (``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

NOTICES = Counter(
    "kith_notices",
    "Tries of a notice by channel and result: sent, retried, failed, dropped, deferred.",
    ["channel", "result"],
)
SEND_SECONDS = Histogram(
    "kith_notice_send_seconds",
    "Time one send took: asking booking for the contact, rendering, the server accepting.",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
LATE_SECONDS = Histogram(
    "kith_notice_late_seconds",
    "From when a notice fell due to when the server accepted it (retries and quiet hours"
    " included).",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0),
)
