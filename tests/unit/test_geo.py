"""Places: a street cell lies in exactly one neighbourhood, whichever way it is reached."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.geo import (
    cell_of,
    distance_km,
    neighbourhood_of,
    neighbourhood_of_cell,
    neighbourhoods_within,
)

_LAT = st.floats(min_value=-80, max_value=80, allow_nan=False)
_LNG = st.floats(min_value=-180, max_value=180, allow_nan=False)


@given(_LAT, _LNG)
def test_a_home_is_in_the_neighbourhood_of_its_street_cell(lat: float, lng: float) -> None:
    # Booking files a person under neighbourhood_of(home); a partner's referral names only the
    # street cell. Both must land in the same neighbourhood, or matching (which partitions by
    # neighbourhood) would never put two people of one street together.
    assert neighbourhood_of(lat, lng) == neighbourhood_of_cell(cell_of(lat, lng))


def test_two_homes_in_one_street_cell_share_a_neighbourhood_near_a_boundary() -> None:
    # A res-9 cell straddling a res-7 boundary: the point's own res-7 cell differs from the
    # street cell's parent here (found by search; H3 cells do not nest exactly).
    lat, lng = _straddling_point()
    assert neighbourhood_of(lat, lng) == neighbourhood_of_cell(cell_of(lat, lng))


def _straddling_point() -> tuple[float, float]:
    import h3

    from shared.geo import NEIGHBOURHOOD_RESOLUTION

    step = 0.0003
    for i in range(20_000):
        lat, lng = 51.0 + (i // 200) * step, -1.0 + (i % 200) * step
        own = h3.latlng_to_cell(lat, lng, NEIGHBOURHOOD_RESOLUTION)
        if own != neighbourhood_of_cell(cell_of(lat, lng)):
            return lat, lng
    raise AssertionError("no straddling street cell in the search area")


_RADIUS = st.floats(min_value=0, max_value=6, allow_nan=False)


@given(st.floats(min_value=50, max_value=56), st.floats(min_value=-4, max_value=1), _RADIUS)
def test_neighbourhoods_within_reach_are_those_holding_a_street_in_reach(
    lat: float, lng: float, radius_km: float
) -> None:
    # Matching files a helper in these neighbourhoods and nowhere else: one left out would
    # never offer its requests to a helper near enough; one too many only costs memory.
    import h3

    home = cell_of(lat, lng)
    streets = h3.grid_disk(home, int(radius_km / 0.3) + 3)
    expected = {neighbourhood_of_cell(s) for s in streets if distance_km(home, s) <= radius_km}
    assert neighbourhoods_within(home, radius_km) == expected | {neighbourhood_of_cell(home)}


def test_a_few_hundred_metres_can_reach_across_a_neighbourhood_edge() -> None:
    lat, lng = 51.5, -0.1
    east = lng
    while neighbourhood_of(lat, east) == neighbourhood_of(lat, lng):
        east += 0.0002
    here, there = cell_of(lat, east - 0.003), cell_of(lat, east + 0.003)
    assert neighbourhood_of_cell(here) != neighbourhood_of_cell(there)
    assert distance_km(here, there) < 0.6
    assert neighbourhood_of_cell(there) in neighbourhoods_within(here, 0.6)
    assert neighbourhood_of_cell(there) not in neighbourhoods_within(here, 0.0)
