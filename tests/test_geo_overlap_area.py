"""The overlap area of a conflict is measured on the ellipsoid, against known areas.

The oracle is independent of the engine's plane: ``Geod.polygon_area_perimeter``
over the corners of geodesic polygons, and a geodesic circle sampled with
``Geod.fwd`` at 0.1 degree steps of azimuth. A planar area in the azimuthal
equidistant plane (what the engine measured before) overstates a 500 km circle
by over 0.1 %, ten times the tolerance here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Geod

from redline.geo import parse_notice
from redline.geo.area import geodesic_area_m2
from redline.geo.conflicts import Conflict, Entry, check_pair
from redline.geo.model import Notice
from redline.geo.shapes import project

GEOD = Geod(ellps="WGS84")


def notice(nid: str, party: str, volume: dict[str, Any], horizontal_m: float = 0.0) -> Notice:
    return parse_notice(
        {
            "id": nid,
            "party": party,
            "version": 1,
            "activity": "air_operations",
            "volumes": [volume],
            "altitude": {
                "lower": {"value": 0, "unit": "M", "reference": "MSL"},
                "upper": {"value": 3000, "unit": "M", "reference": "MSL"},
            },
            "window": {"start": "2026-03-01T10:00:00Z", "end": "2026-03-01T12:00:00Z"},
            "buffers": {"horizontal_m": horizontal_m},
        }
    )


def conflict(a: dict[str, Any], b: dict[str, Any], horizontal_m: float = 0.0) -> Conflict:
    found = check_pair(
        Entry.of(notice("a", "washington", a)), Entry.of(notice("b", "beijing", b, horizontal_m))
    )
    assert found is not None
    return found


def square(lon: float, lat: float, size: float) -> dict[str, Any]:
    return {"polygon": [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size]]}


def polygon_area(corners: list[tuple[float, float]]) -> float:
    lons, lats = zip(*corners, strict=True)
    return abs(float(GEOD.polygon_area_perimeter(lons, lats)[0]))


def circle_area(lon: float, lat: float, radius_m: float) -> float:
    azimuths = np.arange(0.0, 360.0, 0.1)
    n = len(azimuths)
    lons, lats, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), azimuths, np.full(n, radius_m))
    return abs(float(GEOD.polygon_area_perimeter(lons, lats)[0]))


@pytest.mark.parametrize("lat", [0.0, 45.0, 70.0])
def test_identical_squares_overlap_by_the_whole_geodesic_square(lat: float) -> None:
    found = conflict(square(20.0, lat, 1.0), square(20.0, lat, 1.0))
    expected = polygon_area([(20.0, lat), (21.0, lat), (21.0, lat + 1.0), (20.0, lat + 1.0)])
    assert found.overlap and found.separation_m == 0.0
    assert found.overlap_area_m2 == pytest.approx(expected, rel=1e-4)


def test_a_1_degree_square_at_the_equator_is_about_12309_km2() -> None:
    found = conflict(square(0.0, 0.0, 1.0), square(0.0, 0.0, 1.0))
    assert found.overlap_area_m2 is not None
    assert found.overlap_area_m2 / 1e6 == pytest.approx(12_308.8, abs=2.0)


def test_half_overlapping_squares() -> None:
    found = conflict(square(100.0, 30.0, 1.0), square(100.5, 30.0, 1.0))
    expected = polygon_area([(100.5, 30.0), (101.0, 30.0), (101.0, 31.0), (100.5, 31.0)])
    assert found.overlap_area_m2 == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("lat", [10.0, 60.0])
def test_a_circle_inside_a_larger_square_overlaps_by_the_geodesic_circle(lat: float) -> None:
    circle = {"circle": {"centre": [10.0, lat], "radius_m": 50_000.0}}
    found = conflict(square(8.0, lat - 2.0, 4.0), circle)
    assert found.overlap_area_m2 == pytest.approx(circle_area(10.0, lat, 50_000.0), rel=5e-4)


def test_the_plane_alone_would_overstate_a_large_area() -> None:
    """Why the area goes back to the ellipsoid: the azimuthal plane's own area is off by over 0.1 %."""
    radius = 500_000.0
    azimuths = np.arange(0.0, 360.0, 0.1)
    n = len(azimuths)
    lons, lats, _ = GEOD.fwd(np.full(n, 0.0), np.full(n, 45.0), azimuths, np.full(n, radius))
    x, y = project((5.0, 45.0), lons, lats)  # a plane centred off the circle, as for an overlap
    shape = shapely.Polygon(np.column_stack([x, y]))
    truth = circle_area(0.0, 45.0, radius)
    assert abs(shape.area - truth) / truth > 1e-3
    assert geodesic_area_m2(shape, (5.0, 45.0)) == pytest.approx(truth, rel=1e-4)


def test_near_but_apart_gives_a_separation_and_no_area() -> None:
    found = conflict(square(0.0, 0.0, 1.0), square(1.01, 0.0, 1.0), horizontal_m=5_000.0)
    assert not found.overlap and found.overlap_area_m2 is None
    assert found.separation_m == pytest.approx(0.01 * 111_319.5, rel=1e-3)
