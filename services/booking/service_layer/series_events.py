"""The event that tells matching of a series' arrangement."""

from __future__ import annotations

from services.booking.service_layer.records import Row
from shared.contracts.requests import SeriesChanged


def series_changed(series: Row) -> SeriesChanged:
    """Who is the series' regular and who stepped back; ``series`` carries the neighbour's
    ``neighbourhood`` besides its stored columns."""
    return SeriesChanged(
        series_id=series["series_id"],
        neighbour_id=series["neighbour_id"],
        neighbourhood=series["neighbourhood"],
        regular_helper_id=series["regular_helper_id"],
        stepped_back_helper_ids=list(series["stepped_back"]),
        active=series["status"] == "active",
    )
