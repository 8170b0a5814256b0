"""Coarse places: H3 cells stand in for homes on every topic."""

from __future__ import annotations

import functools
import math

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


def is_neighbourhood(cell: str) -> bool:
    """Whether ``cell`` is a valid H3 cell at the neighbourhood resolution."""
    return bool(h3.is_valid_cell(cell)) and h3.get_resolution(cell) == NEIGHBOURHOOD_RESOLUTION


def centre_of(cell: str) -> tuple[float, float]:
    """The centre of a cell, as (lat, lng): a neighbourhood's centre is in that neighbourhood
    (H3's centre child nests in its parent)."""
    lat, lng = h3.cell_to_latlng(cell)
    return float(lat), float(lng)


def boundary(cell: str) -> list[tuple[float, float]]:
    """The corners of ``cell``'s hexagon, as (lat, lng) pairs."""
    return [(float(lat), float(lng)) for lat, lng in h3.cell_to_boundary(cell)]


def neighbourhood_of_cell(cell: str) -> str:
    """The neighbourhood that contains a street-level cell."""
    return str(h3.cell_to_parent(cell, NEIGHBOURHOOD_RESOLUTION))


def distance_km(cell_a: str, cell_b: str) -> float:
    """Straight-line distance between the centres of two cells."""
    return float(h3.great_circle_distance(_centre(cell_a), _centre(cell_b)))


#: Matching measures a request's street to each helper's a few hundred times per request,
#: over a city's few thousand streets: a cached centre costs a seventh of H3's answer.
@functools.lru_cache(maxsize=32_768)
def _centre(cell: str) -> tuple[float, float]:
    lat, lng = h3.cell_to_latlng(cell)
    return lat, lng


#: No street cell lies farther than this from its neighbourhood cell's centre (measured:
#: 1.38 km at most over the globe; kept generous, as it only spares exact checks).
_STREET_FROM_CENTRE_KM = 2.0
#: Adjacent neighbourhood cells' centres are never nearer than this (measured: 1.77 km).
_NEIGHBOURHOOD_SPACING_KM = 1.7


@functools.lru_cache(maxsize=4096)
def neighbourhoods_within(cell: str, radius_km: float) -> frozenset[str]:
    """Every neighbourhood holding a street cell within ``radius_km`` of ``cell``.

    A helper living at ``cell`` may be offered the requests of exactly these neighbourhoods
    (a request's distance is measured between street cells), so matching files the helper in
    each of them. The helper's own neighbourhood is always one. Exact: a neighbourhood whose
    centre is in reach holds its centre child there; one on the rim is checked street cell by
    street cell.
    """
    home = neighbourhood_of_cell(cell)
    origin = h3.cell_to_latlng(cell)
    reach = radius_km + _STREET_FROM_CENTRE_KM
    rings = math.ceil((reach + _STREET_FROM_CENTRE_KM) / _NEIGHBOURHOOD_SPACING_KM)
    found = {home}
    for candidate in h3.grid_disk(home, rings):
        centre_km = h3.great_circle_distance(origin, h3.cell_to_latlng(candidate))
        if centre_km <= radius_km or (
            centre_km <= reach
            and any(
                h3.great_circle_distance(origin, h3.cell_to_latlng(street)) <= radius_km
                for street in h3.cell_to_children(candidate, STREET_RESOLUTION)
            )
        ):
            found.add(str(candidate))
    return frozenset(found)
