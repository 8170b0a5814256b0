"""Coarse places: H3 cells stand in for homes on every topic."""

from __future__ import annotations

import h3

#: About 5 km² a cell: a neighbourhood, the unit matching partitions its state by.
NEIGHBOURHOOD_RESOLUTION = 7
#: About 0.1 km² a cell: near enough to measure travel, too coarse to find a door.
STREET_RESOLUTION = 9


def neighbourhood_of(lat: float, lng: float) -> str:
    """The neighbourhood cell of a point: the one that contains its street cell.

    Not the point's own cell at the coarser resolution: H3 cells do not nest exactly, so a
    street cell near a neighbourhood's edge can hold points of two neighbourhoods. Everything
    that knows only a street cell (a partner's referral, the console's filter) finds the
    neighbourhood by its parent, so people are filed the same way.
    """
    return neighbourhood_of_cell(cell_of(lat, lng))


def cell_of(lat: float, lng: float) -> str:
    """The street-level cell of a point."""
    return str(h3.latlng_to_cell(lat, lng, STREET_RESOLUTION))


def neighbourhood_of_cell(cell: str) -> str:
    """The neighbourhood that contains a street-level cell."""
    return str(h3.cell_to_parent(cell, NEIGHBOURHOOD_RESOLUTION))


def distance_km(cell_a: str, cell_b: str) -> float:
    """Straight-line distance between the centres of two cells."""
    return float(h3.great_circle_distance(h3.cell_to_latlng(cell_a), h3.cell_to_latlng(cell_b)))
