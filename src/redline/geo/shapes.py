"""Volumes reduced to cores, sampled along geodesics, projected locally, bounded.

Every volume is a *core* grown by a radius: a circle is its centre grown by the
radius, a corridor its geodesic polyline grown by the half-width, a polygon its
geodesic ring (and inside) grown by nothing. On a surface where the shortest
path realises the distance, the distance between two grown sets is
``max(0, d(core_a, core_b) - r_a - r_b)``, so the engine only ever measures
between points, geodesic polylines and geodesic polygons.

Cores are sampled at arc-length positions along each geodesic edge
(``Geod.fwd`` from the edge's start, exact on the ellipsoid) and projected to an
azimuthal equidistant plane centred where the measuring happens, computed
directly from ``Geod.inv`` (azimuth and distance from the centre), so no PROJ
pipeline is built per pair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod

from redline.errors import _t
from redline.geo.model import CircleVolume, CorridorVolume, Fault, LonLat, PolygonVolume, Volume

GEOD = Geod(ellps="WGS84")
EARTH_RADIUS_M = 6_371_008.8
MAX_REACH_M = 5_000_000.0
# A geodesic chord of length S at distance rho from the projection centre bows by at
# most ~0.09 S^2 (rho + S) / R^2 (measured); we allow 0.25 for safety.
SAGITTA_FACTOR = 0.25
Floats = NDArray[np.float64]


class CoreKind(Enum):
    POINT = "point"
    LINE = "line"
    AREA = "area"


def project(centre: LonLat, lons: Floats, lats: Floats) -> tuple[Floats, Floats]:
    """Azimuthal equidistant coordinates (metres) of points around ``centre``."""
    n = len(lons)
    az, _, dist = GEOD.inv(np.full(n, centre[0]), np.full(n, centre[1]), lons, lats)
    rad = np.radians(np.asarray(az, dtype=np.float64))
    dist = np.asarray(dist, dtype=np.float64)
    return dist * np.sin(rad), dist * np.cos(rad)


def unproject(centre: LonLat, x: float, y: float) -> LonLat:
    lon, lat, _ = GEOD.fwd(centre[0], centre[1], math.degrees(math.atan2(x, y)), math.hypot(x, y))
    return (float(lon), float(lat))


def midpoint(a: LonLat, b: LonLat) -> LonLat:
    az, _, dist = GEOD.inv(a[0], a[1], b[0], b[1])
    lon, lat, _ = GEOD.fwd(a[0], a[1], az, dist / 2)
    return (float(lon), float(lat))


def distance_m(a: LonLat, b: LonLat) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def spherical_mean(lons: Floats, lats: Floats) -> LonLat:
    lam, phi = np.radians(lons), np.radians(lats)
    x, y, z = (np.cos(phi) * np.cos(lam)).sum(), (np.cos(phi) * np.sin(lam)).sum(), np.sin(phi).sum()
    if math.hypot(x, y, z) < 1e-9:
        return (float(lons[0]), float(lats[0]))
    return (math.degrees(math.atan2(y, x)), math.degrees(math.atan2(z, math.hypot(x, y))))


@dataclass
class Samples:
    """Points along a core in order: edge index, arc length from the edge's start, position."""

    edge: NDArray[np.int64]
    s: Floats
    lon: Floats
    lat: Floats


class Core:
    """A point, a geodesic polyline or a geodesic polygon, with the radius it is grown by."""

    def __init__(self, kind: CoreKind, lons: Floats, lats: Floats, radius: float) -> None:
        self.kind = kind
        self.lons = lons
        self.lats = lats
        self.radius = radius

    @classmethod
    def restore(
        cls, kind: CoreKind, lons: Floats, lats: Floats, radius: float, anchor: LonLat, reach: float
    ) -> Core:
        """A core rebuilt from stored vertices, with the anchor and reach computed when it was stored."""
        core = cls(kind, lons, lats, radius)
        core.__dict__["anchor"] = anchor
        core.__dict__["reach"] = reach
        return core

    @classmethod
    def of(cls, volume: Volume) -> Core:
        if isinstance(volume, CircleVolume):
            lon, lat = volume.centre
            return cls(CoreKind.POINT, np.array([lon], float), np.array([lat], float), volume.radius_m)
        if isinstance(volume, CorridorVolume):
            pts = np.array(volume.path, dtype=np.float64)
            return cls(CoreKind.LINE, pts[:, 0].copy(), pts[:, 1].copy(), volume.half_width_m)
        pts = np.array(volume.ring, dtype=np.float64)
        return cls(CoreKind.AREA, pts[:, 0].copy(), pts[:, 1].copy(), 0.0)

    @cached_property
    def edges(self) -> tuple[Floats, Floats, Floats, Floats]:
        """Start lon, start lat, forward azimuth and length of every geodesic edge."""
        if self.kind is CoreKind.POINT:
            empty = np.zeros(0)
            return empty, empty, empty, empty
        lon2, lat2 = self.lons[1:], self.lats[1:]
        lon1, lat1 = self.lons[:-1], self.lats[:-1]
        if self.kind is CoreKind.AREA:
            lon2, lat2 = _rolled(self.lons), _rolled(self.lats)
            lon1, lat1 = self.lons, self.lats
        az, _, length = GEOD.inv(lon1, lat1, lon2, lat2)
        return lon1, lat1, np.asarray(az, np.float64), np.asarray(length, np.float64)

    @cached_property
    def anchor(self) -> LonLat:
        if self.kind is CoreKind.POINT:
            return (float(self.lons[0]), float(self.lats[0]))
        return spherical_mean(self.lons, self.lats)

    @property
    def length(self) -> float:
        return float(self.edges[3].sum())

    def base_spacing(self) -> float:
        return max(self.length / 64.0, 1.0)

    def sample(self, spacing: float) -> Samples:
        if self.kind is CoreKind.POINT:
            return Samples(np.zeros(1, np.int64), np.zeros(1, np.float64), self.lons.copy(), self.lats.copy())
        lon0, lat0, az, length = self.edges
        counts = np.maximum(1, np.ceil(length / spacing)).astype(np.int64)
        edge = np.repeat(np.arange(len(length)), counts)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        s = ((np.arange(len(edge)) - starts) * np.repeat(length / counts, counts)).astype(np.float64)
        if self.kind is CoreKind.LINE:
            edge = np.append(edge, len(length) - 1)
            s = np.append(s, length[-1])
        lon, lat, _ = GEOD.fwd(lon0[edge], lat0[edge], az[edge], s)
        return Samples(edge, s, np.asarray(lon, np.float64), np.asarray(lat, np.float64))

    def refine(self, samples: Samples, rho: Floats, window: float, spacing: float) -> Samples:
        """Add samples every ``spacing`` metres on the stretches within ``window`` of the centre.

        ``rho`` is each sample's distance from the centre. Coarse stretches far away stay.
        """
        if self.kind is CoreKind.POINT:
            return samples
        lon0, lat0, az, length = self.edges
        edge, s = samples.edge, samples.s
        if self.kind is CoreKind.AREA:
            nxt_edge, nxt_s, nxt_rho = _rolled(edge), _rolled(s), _rolled(rho)
        else:
            nxt_edge, nxt_s, nxt_rho = edge[1:], s[1:], rho[1:]
            edge, s, rho = edge[:-1], s[:-1], rho[:-1]
        end = np.where(nxt_edge == edge, nxt_s, length[edge])
        span = end - s
        near = (np.minimum(rho, nxt_rho) <= window + span) & (span > spacing)
        if not near.any():
            return samples
        counts = np.minimum(np.ceil(span[near] / spacing).astype(np.int64), 4096)
        new_edge = np.repeat(edge[near], counts - 1)
        offsets = np.cumsum(np.concatenate(([0], counts - 1)))[:-1]
        k = np.arange(len(new_edge)) - np.repeat(offsets, counts - 1) + 1
        new_s = np.repeat(s[near], counts - 1) + k * np.repeat(span[near] / counts, counts - 1)
        lon, lat, _ = GEOD.fwd(lon0[new_edge], lat0[new_edge], az[new_edge], new_s)
        all_edge = np.concatenate((samples.edge, new_edge))
        all_s = np.concatenate((samples.s, new_s))
        order = np.lexsort((all_s, all_edge))
        return Samples(
            all_edge[order],
            all_s[order],
            np.concatenate((samples.lon, np.asarray(lon, np.float64)))[order],
            np.concatenate((samples.lat, np.asarray(lat, np.float64)))[order],
        )

    def shape(self, xs: Floats, ys: Floats) -> shapely.Geometry:
        if self.kind is CoreKind.POINT:
            return shapely.Point(xs[0], ys[0])
        coords = np.column_stack((xs, ys))
        if self.kind is CoreKind.LINE:
            return shapely.LineString(coords)
        return shapely.Polygon(coords)

    @cached_property
    def base_samples(self) -> Samples:
        """``sample(base_spacing())``, computed once (validation, reach and bounds all use it)."""
        return self.sample(self.base_spacing())

    @cached_property
    def base_plane(self) -> tuple[Floats, Floats]:
        """``base_samples`` projected around ``anchor``."""
        samples = self.base_samples
        return project(self.anchor, samples.lon, samples.lat)

    @cached_property
    def reach(self) -> float:
        """An upper bound on the distance from ``anchor`` to any point of the core."""
        if self.kind is CoreKind.POINT:
            return 0.0
        x, y = self.base_plane
        return float(np.hypot(x, y).max()) + self.base_spacing()

    def contains_pole(self, north: bool) -> bool:
        pole = (0.0, 90.0 if north else -90.0)
        # The geodesic to a pole is the meridian arc, at least 110,574 m a degree of latitude:
        # when even that is beyond the reach, the answer is known without measuring it.
        degrees_to_pole = 90.0 - self.anchor[1] if north else 90.0 + self.anchor[1]
        if degrees_to_pole * 110_000.0 > self.reach + self.radius + 1000.0:
            return False
        to_pole = distance_m(self.anchor, pole)
        if to_pole > self.reach + self.radius:
            return False
        if self.kind is not CoreKind.AREA:
            return True  # conservative: only used to widen bounds
        x, y = self.base_plane
        px, py = project(self.anchor, np.array([pole[0]]), np.array([pole[1]]))
        return bool(self.shape(x, y).buffer(self.base_spacing()).contains(shapely.Point(px[0], py[0])))


def _rolled(values: NDArray[Any]) -> NDArray[Any]:
    """``np.roll(values, -1)``, without its overhead on small arrays."""
    return np.concatenate((values[1:], values[:1]))


def lon_interval(lons: Floats) -> tuple[float, float]:
    """The shortest interval of longitudes (west, east) covering all; west > east when it wraps."""
    ordered = np.sort(np.asarray(lons, np.float64))
    gaps = np.diff(np.concatenate((ordered, [ordered[0] + 360.0])))
    i = int(np.argmax(gaps))
    west = float(ordered[(i + 1) % len(ordered)])
    east = float(ordered[i])
    return west, east


def bounds_of(core: Core, grow_m: float) -> list[tuple[float, float, float, float]]:
    """Lon/lat boxes covering the core grown by its radius and ``grow_m``; split at the antimeridian."""
    grow = core.radius + grow_m
    if core.kind is CoreKind.POINT:
        lons, lats = core.lons, core.lats
        spacing = 0.0
    else:
        spacing = min(core.base_spacing(), 20_000.0)
        samples = core.base_samples if spacing == core.base_spacing() else core.sample(spacing)
        lons, lats = samples.lon, samples.lat
    # Margin for the bow of geodesics between samples and for rounding.
    margin = grow * 1.001 + spacing * 0.01 + 1.0
    dlat = margin / 110_000.0
    south, north = float(lats.min()) - dlat, float(lats.max()) + dlat
    polar_n = north >= 89.9 or core.contains_pole(True)
    polar_s = south <= -89.9 or core.contains_pole(False)
    south, north = (-90.0 if polar_s else south), (90.0 if polar_n else north)
    if polar_n or polar_s:
        return [(-180.0, south, 180.0, north)]
    dlon = margin / (111_000.0 * math.cos(math.radians(max(abs(south), abs(north)))))
    west, east = lon_interval(lons)
    width = (east - west) % 360.0 + 2 * dlon
    if width >= 360.0:
        return [(-180.0, south, 180.0, north)]
    west, east = west - dlon, east + dlon
    west = (west + 180.0) % 360.0 - 180.0
    east = (east + 180.0) % 360.0 - 180.0
    if west <= east:
        return [(west, south, east, north)]
    return [(west, south, 180.0, north), (-180.0, south, east, north)]


# Cores of recently validated volume objects (by identity), so that indexing a notice right after
# parsing it reuses the samples, anchor and reach instead of computing them again.
_VALIDATED: dict[int, tuple[Volume, Core]] = {}
_VALIDATED_MAX = 256


def core_of(volume: Volume) -> Core:
    """``Core.of(volume)``, reusing the core that validated this very object if it is still cached."""
    hit = _VALIDATED.pop(id(volume), None)
    if hit is not None and hit[0] is volume:
        return hit[1]
    return Core.of(volume)


def _remember(volume: Volume, core: Core) -> None:
    _VALIDATED[id(volume)] = (volume, core)
    while len(_VALIDATED) > _VALIDATED_MAX:
        try:
            del _VALIDATED[next(iter(_VALIDATED))]
        except (KeyError, RuntimeError, StopIteration):  # another thread got there first
            break


def check_volume_geometry(volume: Volume) -> None:
    """Faults a geodesic check finds: size beyond the engine's reach, a self-intersecting ring."""
    core = Core.of(volume)
    _check_core(volume, core)
    _remember(volume, core)


def _check_core(volume: Volume, core: Core) -> None:
    if isinstance(volume, CircleVolume):
        if volume.radius_m > MAX_REACH_M:
            raise Fault(
                "circle.radius_m",
                _t(
                    "{radius_m:.0f} m is more than the limit of {MAX_REACH_M:.0f} m",
                    radius_m=volume.radius_m,
                    MAX_REACH_M=MAX_REACH_M,
                ),
            )
        return
    name = "corridor.path" if isinstance(volume, CorridorVolume) else "polygon"
    points = volume.path if isinstance(volume, CorridorVolume) else volume.ring
    for i in range(len(points) - 1):
        if points[i] == points[i + 1]:
            raise Fault(
                f"{name}[{i + 1}]", _t("repeats the previous point {value}; remove it", value=points[i])
            )
    if isinstance(volume, PolygonVolume) and points[0] == points[-1]:
        raise Fault(f"{name}[{len(points) - 1}]", _t("repeats the first point; the ring closes itself"))
    if core.reach + core.radius > MAX_REACH_M:
        raise Fault(
            name, _t("reaches more than {value:.0f} km from its centre; split it", value=MAX_REACH_M / 1000)
        )
    if isinstance(volume, PolygonVolume):
        x, y = core.base_plane
        ring = shapely.LinearRing(np.column_stack((x, y)))
        if not ring.is_simple:
            where = _self_intersection(ring)
            lon, lat = unproject(core.anchor, where[0], where[1])
            raise Fault(name, _t("the ring intersects itself at {value}", value=_format_position(lon, lat)))


def _self_intersection(ring: shapely.LinearRing) -> tuple[float, float]:
    reason = shapely.is_valid_reason(shapely.Polygon(ring))
    if "[" in reason:
        nums = reason[reason.index("[") + 1 : reason.index("]")].split()
        return float(nums[0]), float(nums[1])
    coords = np.asarray(ring.coords)
    return float(coords[0, 0]), float(coords[0, 1])


def _format_position(lon: float, lat: float) -> str:
    return f"{abs(lat):.6f}{'N' if lat >= 0 else 'S'} {abs(lon):.6f}{'E' if lon >= 0 else 'W'}"
