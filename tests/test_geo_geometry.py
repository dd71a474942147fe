"""Geodesic distances between volumes: against an independent oracle, and at the hard places."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from redline.geo import CircleVolume, CorridorVolume, PolygonVolume, Volume
from redline.geo.nearness import core_distance
from redline.geo.shapes import Core, bounds_of
from tests.support import geo_oracle

GEOD = Geod(ellps="WGS84")


def separation(a: Volume, b: Volume) -> float:
    ca, cb = Core.of(a), Core.of(b)
    touch = ca.radius + cb.radius
    return max(0.0, core_distance(ca, cb, (touch,)).distance - touch)


def moved(lon: float, lat: float, az: float, dist: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, az, dist)
    return (float(x), float(y))


def polygon_around(lon: float, lat: float, size_m: float, sides: int, turn: float) -> PolygonVolume:
    return PolygonVolume(tuple(moved(lon, lat, turn + i * 360 / sides, size_m) for i in range(sides)))


@st.composite
def volumes_near(draw: st.DrawFn, lon: float, lat: float) -> Volume:
    az = draw(st.floats(0, 360))
    dist = draw(st.floats(0, 150_000))
    centre = moved(lon, lat, az, dist)
    kind = draw(st.sampled_from(["circle", "polygon", "corridor"]))
    size = draw(st.floats(500, 60_000))
    if kind == "circle":
        return CircleVolume(centre, size)
    if kind == "polygon":
        return polygon_around(*centre, size, draw(st.integers(3, 7)), draw(st.floats(0, 360)))
    end = moved(*centre, draw(st.floats(0, 360)), size * 2)
    return CorridorVolume((centre, end), draw(st.floats(10, 5000)))


PLACES = st.sampled_from([(10.0, 45.0), (179.9, -5.0), (-179.95, 60.0), (45.0, 89.5), (120.0, -88.9)])


EXAMPLES = int(os.environ.get("REDLINE_GEO_EXAMPLES", "40"))  # e.g. 4000 for a stress run by hand


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), place=PLACES)
def test_distance_matches_the_oracle(data: st.DataObject, place: tuple[float, float]) -> None:
    a = data.draw(volumes_near(*place))
    b = data.draw(volumes_near(*place))
    engine = separation(a, b)
    oracle = geo_oracle.distance(a, b)
    # The oracle searches each edge to a tenth of a millimetre: the two agree to within a centimetre.
    assert engine == pytest.approx(oracle, abs=0.01)


def test_symmetric_and_deterministic() -> None:
    a = polygon_around(179.9, 10.0, 30_000, 5, 10)
    b = CorridorVolume((moved(179.9, 10.0, 80, 40_000), moved(179.9, 10.0, 100, 90_000)), 200)
    assert separation(a, b) == separation(a, b)
    assert separation(a, b) == pytest.approx(separation(b, a), abs=1e-4)


# -- 1 cm either way ------------------------------------------------------------


def edge_probe(ring: PolygonVolume, outward_m: float) -> tuple[tuple[float, float], float]:
    """A point ``outward_m`` off the middle of the ring's first edge (negative: inside), and
    the azimuth pointing outwards there."""
    (lon1, lat1), (lon2, lat2) = ring.ring[0], ring.ring[1]
    az, _, length = GEOD.inv(lon1, lat1, lon2, lat2)
    mlon, mlat, back = GEOD.fwd(lon1, lat1, az, length / 2)
    forward = back + 180.0
    # Vertices go clockwise (azimuths increase), so the outside is to the left of each edge.
    lon, lat, back_there = GEOD.fwd(mlon, mlat, forward - 90.0, outward_m)
    there = back_there + 180.0 if outward_m >= 0 else back_there
    return (float(lon), float(lat)), (forward - 90.0 if outward_m == 0 else there)


@pytest.mark.parametrize("place", [(10.0, 45.0), (180.0, 0.0), (0.0, 89.7), (-179.999, -60.0)])
@pytest.mark.parametrize("offset", [0.01, -0.01, 0.0])
def test_a_centimetre_between_polygons(place: tuple[float, float], offset: float) -> None:
    big = polygon_around(*place, 40_000, 6, 0)
    tip, outward = edge_probe(big, offset)
    other = PolygonVolume((tip, moved(*tip, outward - 20, 30_000), moved(*tip, outward + 20, 30_000)))
    got = separation(big, other)
    if offset > 0:
        assert got == pytest.approx(0.01, abs=1e-3)
    else:
        assert got == 0.0


@pytest.mark.parametrize("offset", [0.01, -0.01])
def test_a_centimetre_between_a_circle_and_a_corridor(offset: float) -> None:
    path = (moved(179.99, 30.0, 200, 50_000), moved(179.99, 30.0, 20, 50_000))
    centre = moved(179.99, 30.0, 20 + 90, 1000 + 2000 + offset)  # square off the path at its middle
    got = separation(CorridorVolume(path, 1000), CircleVolume(centre, 2000))
    assert got == (pytest.approx(0.01, abs=1e-3) if offset > 0 else 0.0)


def test_circles_around_the_pole() -> None:
    polar = CircleVolume((0.0, 89.9), 50_000)  # contains the pole
    across = CircleVolume((180.0, 89.9), 10_000)  # 22.2 km away over the pole
    assert separation(polar, across) == 0.0
    assert bounds_of(Core.of(polar), 0) == [(-180.0, pytest.approx(89.45, abs=0.01), 180.0, 90.0)]


def test_polygon_across_the_antimeridian() -> None:
    box = PolygonVolume(((179.0, -1.0), (-179.0, -1.0), (-179.0, 1.0), (179.0, 1.0)))
    inside = CircleVolume((180.0, 0.0), 100)
    beyond = CircleVolume((-178.0, 0.0), 100)
    assert separation(box, inside) == 0.0
    assert separation(box, beyond) == pytest.approx(111_319.49 - 100, abs=1.0)
    boxes = bounds_of(Core.of(box), 0)
    assert len(boxes) == 2 and boxes[0][2] == 180.0 and boxes[1][0] == -180.0


def test_polygon_around_the_pole_contains_it() -> None:
    cap = PolygonVolume(((0.0, 85.0), (90.0, 85.0), (180.0, 85.0), (-90.0, 85.0)))
    pole = CircleVolume((33.0, 90.0), 1.0)
    assert separation(cap, pole) == 0.0
    assert bounds_of(Core.of(cap), 0)[0][3] == 90.0


def test_large_volumes_thousands_of_km_apart() -> None:
    a = polygon_around(140.0, 20.0, 1_500_000, 8, 0)
    b = polygon_around(-150.0, 20.0, 1_500_000, 8, 0)
    assert separation(a, b) == pytest.approx(geo_oracle.distance(a, b, step_m=50_000), abs=1.5)


def test_indexing_reuses_the_core_that_validated_the_very_same_volume() -> None:
    from redline.geo.shapes import check_volume_geometry, core_of

    volume = polygon_around(10.0, 45.0, 20_000, 5, 0)  # validated on construction
    twin = polygon_around(10.0, 45.0, 20_000, 5, 0)
    core = core_of(volume)
    assert core.reach == Core.of(volume).reach and core.anchor == Core.of(volume).anchor
    assert core_of(volume) is not core  # used once, then computed afresh
    check_volume_geometry(twin)
    assert core_of(twin).reach == core.reach


@settings(max_examples=300, deadline=None)
@given(lon=st.floats(-180, 180), lat=st.floats(-90, 90), size=st.floats(100, 4_000_000))
def test_the_pole_shortcut_only_skips_poles_out_of_reach(lon: float, lat: float, size: float) -> None:
    core = Core.of(CircleVolume((lon, lat), size))
    for north in (True, False):
        degrees_to_pole = 90.0 - core.anchor[1] if north else 90.0 + core.anchor[1]
        if degrees_to_pole * 110_000.0 > core.reach + core.radius + 1000.0:  # the shortcut in contains_pole
            assert GEOD.inv(*core.anchor, 0.0, 90.0 if north else -90.0)[2] > core.reach + core.radius
            assert not core.contains_pole(north)
