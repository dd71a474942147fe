"""An independent geodesic oracle for the deconfliction engine's tests.

No projection and no shapely: boundaries are densified with ``Geod.npts``
(not the engine's ``Geod.fwd`` arc stepping), distances are brute-force minima
of ``Geod.inv`` over point clouds, refined around the best pair, and
point-in-polygon is a winding number of geodesic azimuths.
"""

from __future__ import annotations

import itertools

import numpy as np
from pyproj import Geod

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


def _cloud_min(a: np.ndarray, b: np.ndarray) -> tuple[float, int, int]:
    best = (np.inf, 0, 0)
    for i, (lon, lat) in enumerate(a):
        d = np.asarray(GEOD.inv(np.full(len(b), lon), np.full(len(b), lat), b[:, 0], b[:, 1])[2])
        j = int(np.argmin(d))
        if d[j] < best[0]:
            best = (float(d[j]), i, j)
    return best


def distance(va: Volume, vb: Volume, step_m: float = 2000.0) -> float:
    """Geodesic distance between two volumes (0 if they meet), to about a metre."""
    a, ra = core_points(va, step_m)
    b, rb = core_points(vb, step_m)
    if isinstance(vb, PolygonVolume) and any(inside(tuple(p), b) for p in a[:: max(1, len(a) // 20)]):
        return 0.0
    if isinstance(va, PolygonVolume) and any(inside(tuple(p), a) for p in b[:: max(1, len(b) // 20)]):
        return 0.0
    best, i, j = _cloud_min(a, b)
    # Refine around the best pair: its neighbouring stretches, densified 40 times finer, twice.
    for step in (step_m / 40, step_m / 1600, 1.0):
        a, b = _local(a, i, step), _local(b, j, step)
        found, i, j = _cloud_min(a, b)
        best = min(best, found)
    return max(0.0, best - ra - rb)


def _local(pts: np.ndarray, i: int, step_m: float) -> np.ndarray:
    if len(pts) == 1:
        return pts
    lo, hi = max(i - 1, 0), min(i + 1, len(pts) - 1)
    return _densify([tuple(pts[lo]), tuple(pts[i]), tuple(pts[hi])], False, step_m)
