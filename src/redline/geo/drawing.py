"""Notices drawn on a web map: rings of points along geodesics, placed across the antimeridian.

The console's map only joins points, so the geodesy happens here: a circle
becomes a ring of points on the WGS84 geodesic circle, a polygon its geodesic
edges densified, a corridor its centre line plus the outline of its
half-width (buffered in an azimuthal equidistant plane centred on the
corridor, where distances from the centre are true, then carried back along
geodesics). Points come as ``[lat, lon]`` pairs (Leaflet's order), rounded to
about a metre, latitudes clamped to the Web Mercator's reach. Longitudes are
unwrapped along each shape, and each notice is shifted by whole turns towards
a reference longitude (the spherical mean of everything shown), so a volume
across the antimeridian draws contiguous and two notices either side of it
draw side by side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from redline.errors import InputError, _t
from redline.geo.model import CircleVolume, CorridorVolume, LonLat, Notice, PolygonVolume, Volume
from redline.geo.shapes import GEOD, project, spherical_mean

CIRCLE_POINTS = 96
EDGE_STEP_M = 25_000.0  # geodesic edges are densified to points at most this far apart
MAX_EDGE_POINTS = 200
MAX_LAT = 85.0  # the map's Web Mercator ends near 85.05 degrees


def reference_longitude(notices: Sequence[Notice]) -> float:
    """The longitude a map of these notices centres on (0 when there are none)."""
    return _reference_lon_of([_anchor(n.volumes[0]) for n in notices])


def drawn_shapes(notice: Notice, reference: float) -> list[dict[str, Any]]:
    """Each volume of a notice as points to join, moved whole turns next to ``reference``."""
    anchor = _anchor(notice.volumes[0])[0]
    target = anchor + 360.0 * _turns(anchor, reference)
    return [_shape(v, target) for v in notice.volumes]


def drawn_point(lon: float, lat: float, reference: float) -> list[float]:
    """One point as ``[lat, lon]``, moved whole turns next to ``reference``."""
    return [_clamp(lat), lon + 360.0 * _turns(lon, reference)]


def _anchor(volume: Volume) -> LonLat:
    if isinstance(volume, CircleVolume):
        return volume.centre
    points = volume.ring if isinstance(volume, PolygonVolume) else volume.path
    lons = np.array([p[0] for p in points], dtype=np.float64)
    lats = np.array([p[1] for p in points], dtype=np.float64)
    return spherical_mean(lons, lats)


def _reference_lon_of(anchors: list[LonLat]) -> float:
    """The longitude the map centres on: the spherical mean of what is shown (0 when nothing is)."""
    if not anchors:
        return 0.0
    lon, _ = spherical_mean(np.array([a[0] for a in anchors]), np.array([a[1] for a in anchors]))
    return lon


def _turns(lon: float, ref: float) -> int:
    """Whole turns to add to ``lon`` to bring it within half a turn of ``ref``."""
    return round((ref - lon) / 360.0)


def _unwrap(lons: np.ndarray[Any, np.dtype[np.float64]]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Each longitude moved by whole turns to within 180 degrees of the one before it."""
    steps = (np.diff(lons) + 180.0) % 360.0 - 180.0
    return np.concatenate([lons[:1], lons[0] + np.cumsum(steps)])


def _clamp(lat: float) -> float:
    return max(-MAX_LAT, min(MAX_LAT, lat))


def _latlngs(lons: Any, lats: Any, target: float) -> list[list[float]]:
    """[lat, lon] pairs for Leaflet: unwrapped, moved whole turns next to ``target``, rounded to ~1 m."""
    unwrapped = _unwrap(np.asarray(lons, dtype=np.float64))
    unwrapped = unwrapped + 360.0 * _turns(float(unwrapped[0]), target)
    pairs = zip(unwrapped, lats, strict=True)
    return [[round(_clamp(float(la)), 5), round(float(lo), 5)] for lo, la in pairs]


def _densify(points: tuple[LonLat, ...], closed: bool) -> tuple[list[float], list[float]]:
    """Points along the geodesic edges between ``points``, at most ``EDGE_STEP_M`` apart."""
    lons: list[float] = []
    lats: list[float] = []
    pairs = list(zip(points, points[1:] + points[:1] if closed else points[1:], strict=False))
    for a, b in pairs:
        lons.append(a[0])
        lats.append(a[1])
        distance = float(GEOD.inv(a[0], a[1], b[0], b[1])[2])
        between = min(MAX_EDGE_POINTS, int(distance // EDGE_STEP_M))
        if between > 0:
            for lon, lat in GEOD.npts(a[0], a[1], b[0], b[1], between):
                lons.append(float(lon))
                lats.append(float(lat))
    if not closed:
        lons.append(points[-1][0])
        lats.append(points[-1][1])
    return lons, lats


def _shape(volume: Volume, target: float) -> dict[str, Any]:
    if isinstance(volume, CircleVolume):
        lon, lat = volume.centre
        az = np.linspace(0.0, 360.0, CIRCLE_POINTS, endpoint=False)
        lons, lats, _ = GEOD.fwd(
            np.full(CIRCLE_POINTS, lon),
            np.full(CIRCLE_POINTS, lat),
            az,
            np.full(CIRCLE_POINTS, volume.radius_m),
        )
        return {"kind": "circle", "radius_m": volume.radius_m, "ring": _latlngs(lons, lats, target)}
    if isinstance(volume, PolygonVolume):
        lons, lats = _densify(volume.ring, closed=True)
        return {"kind": "polygon", "ring": _latlngs(lons, lats, target)}
    return _corridor(volume, target)


def _corridor(volume: CorridorVolume, target: float) -> dict[str, Any]:
    lons, lats = _densify(volume.path, closed=False)
    # The outline of the half-width, drawn in an azimuthal equidistant plane centred on the
    # corridor (where distances from the centre are true), then carried back along geodesics.
    centre = spherical_mean(np.array(lons), np.array(lats))
    xs, ys = project(centre, np.array(lons), np.array(lats))
    outline = shapely.LineString(np.column_stack([xs, ys])).buffer(volume.half_width_m, quad_segs=8)
    ring = np.asarray(outline.exterior.coords)
    n = len(ring)
    az = np.degrees(np.arctan2(ring[:, 0], ring[:, 1]))
    distance = np.hypot(ring[:, 0], ring[:, 1])
    olons, olats, _ = GEOD.fwd(np.full(n, centre[0]), np.full(n, centre[1]), az, distance)
    if not math.isfinite(float(np.sum(olons))):
        raise InputError(_t("a corridor's outline could not be drawn"))
    return {
        "kind": "corridor",
        "half_width_m": volume.half_width_m,
        "path": _latlngs(lons, lats, target),
        "outline": _latlngs(olons, olats, target),
    }
