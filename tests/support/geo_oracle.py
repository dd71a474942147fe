"""An independent geodesic oracle for the deconfliction engine's tests.

No shapely: the distance between core lines is the least distance from any
vertex of one to any edge of the other (a golden-section search along each
geodesic edge with ``Geod.fwd``/``Geod.inv``, not the engine's projection);
point-in-polygon is a winding number of geodesic azimuths; and two boundaries
that cross are found by testing every pair of chords of boundaries densified
with ``Geod.npts`` (250 m apart by default) in an azimuthal equidistant plane
centred between the volumes, where a chord strays from its geodesic by well
under a millimetre.
"""

from __future__ import annotations

import itertools

import numpy as np
from pyproj import Geod, Proj

from redline.geo import CircleVolume, CorridorVolume, PolygonVolume, Volume

GEOD = Geod(ellps="WGS84")


def _densify(points: list[tuple[float, float]], closed: bool, step_m: float) -> np.ndarray:
    pts = [*points, points[0]] if closed else list(points)
    out: list[tuple[float, float]] = []
    for (lon1, lat1), (lon2, lat2) in itertools.pairwise(pts):
        length = GEOD.inv(lon1, lat1, lon2, lat2)[2]
        n = int(length // step_m)
        out.append((lon1, lat1))
        out.extend(GEOD.npts(lon1, lat1, lon2, lat2, n) if n > 0 else [])
    if not closed:
        out.append(pts[-1])
    return np.array(out, dtype=float)


def core_points(volume: Volume, step_m: float) -> tuple[np.ndarray, float]:
    if isinstance(volume, CircleVolume):
        return np.array([volume.centre], dtype=float), volume.radius_m
    if isinstance(volume, CorridorVolume):
        return _densify(list(volume.path), False, step_m), volume.half_width_m
    return _densify(list(volume.ring), True, step_m), 0.0


def inside(point: tuple[float, float], ring: np.ndarray) -> bool:
    n = len(ring)
    az = np.asarray(GEOD.inv(np.full(n, point[0]), np.full(n, point[1]), ring[:, 0], ring[:, 1])[0])
    turn = np.diff(np.append(az, az[0]))
    turn = (turn + 180.0) % 360.0 - 180.0
    return abs(turn.sum()) > 180.0


def distance(va: Volume, vb: Volume, step_m: float = 2000.0) -> float:
    """Geodesic distance between two volumes (0 if they meet), to about a millimetre."""
    a, ra = core_points(va, step_m)
    b, rb = core_points(vb, step_m)
    if isinstance(vb, PolygonVolume) and any(inside(tuple(p), b) for p in a[:: max(1, len(a) // 20)]):
        return 0.0
    if isinstance(va, PolygonVolume) and any(inside(tuple(p), a) for p in b[:: max(1, len(b) // 20)]):
        return 0.0
    if _boundaries_cross(va, vb, step_m / 8):
        return 0.0
    return max(0.0, _edges_apart(va, vb) - ra - rb)


def _vertices(volume: Volume) -> list[tuple[float, float]]:
    if isinstance(volume, CircleVolume):
        return [volume.centre]
    return list(volume.path if isinstance(volume, CorridorVolume) else volume.ring)


def _edges(volume: Volume) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    if isinstance(volume, CircleVolume):
        return [(volume.centre, volume.centre)]
    if isinstance(volume, CorridorVolume):
        return list(itertools.pairwise(volume.path))
    return list(itertools.pairwise([*volume.ring, volume.ring[0]]))


def _to_edge(point: tuple[float, float], edge: tuple[tuple[float, float], tuple[float, float]]) -> float:
    """Geodesic distance from a point to a geodesic edge: a golden-section search along the edge
    (the distance to the points of a geodesic shorter than half the globe has one minimum)."""
    (lon1, lat1), (lon2, lat2) = edge
    az, _, length = GEOD.inv(lon1, lat1, lon2, lat2)

    def at(t: float) -> float:
        lon, lat, _ = GEOD.fwd(lon1, lat1, az, t)
        return float(GEOD.inv(point[0], point[1], lon, lat)[2])

    lo, hi = 0.0, float(length)
    ratio = (5**0.5 - 1) / 2
    while hi - lo > 1e-4:
        m1, m2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if at(m1) <= at(m2):
            hi = m2
        else:
            lo = m1
    return min(at(0.0), at(float(length)), at((lo + hi) / 2))


def _edges_apart(va: Volume, vb: Volume) -> float:
    """The least distance between the core lines of two volumes that do not cross: between two
    geodesic edges that do not cross, it is reached at a vertex of one of them."""
    return min(
        min(_to_edge(p, e) for p in _vertices(va) for e in _edges(vb)),
        min(_to_edge(p, e) for p in _vertices(vb) for e in _edges(va)),
    )


def _boundaries_cross(va: Volume, vb: Volume, step_m: float) -> bool:
    """Whether the core lines of two volumes (rings or paths; a circle has none) cross."""
    if isinstance(va, CircleVolume) or isinstance(vb, CircleVolume):
        return False
    a, _ = core_points(va, step_m)
    b, _ = core_points(vb, step_m)
    if isinstance(va, PolygonVolume):
        a = np.vstack([a, a[:1]])
    if isinstance(vb, PolygonVolume):
        b = np.vstack([b, b[:1]])
    az, _, gap = GEOD.inv(a[0, 0], a[0, 1], b[0, 0], b[0, 1])
    lon0, lat0, _ = GEOD.fwd(a[0, 0], a[0, 1], az, gap / 2)
    plane = Proj(proj="aeqd", lon_0=lon0, lat_0=lat0, ellps="WGS84")
    pa = np.column_stack(plane(a[:, 0], a[:, 1]))
    pb = np.column_stack(plane(b[:, 0], b[:, 1]))
    q1, q2 = pb[:-1], pb[1:]
    for p1, p2 in itertools.pairwise(pa):
        d1, d2 = _side(q1, q2, p1), _side(q1, q2, p2)
        d3, d4 = _side(p1, p2, q1), _side(p1, p2, q2)
        if np.any((d1 * d2 < 0) & (d3 * d4 < 0)):
            return True
    return False


def _side(o: np.ndarray, e: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Which side of the segment(s) o→e the point(s) p lie on (the sign of the cross product)."""
    ex, ey = e[..., 0] - o[..., 0], e[..., 1] - o[..., 1]
    return ex * (p[..., 1] - o[..., 1]) - ey * (p[..., 0] - o[..., 0])
