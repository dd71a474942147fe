"""The geodesic distance between two cores, exact enough to classify a 1 cm gap.

Level 0 projects both cores, sampled along their geodesic edges, into an
azimuthal equidistant plane centred between them and lets shapely find the
distance (0 when they meet) and the nearest points. Distances between the
unprojected nearest points are then measured with ``Geod.inv``. The answer is
uncertain by the bow of the chords between samples (bounded from the spacing
and the distance from the centre) and, at level 0, by the projection's scale
error away from its centre. When a threshold the caller cares about lies within
that uncertainty, the plane is re-centred on the contact, the samples near it
are densified (by 16 each time) and the measure repeated, until the question is
decided or the uncertainty is below 0.1 mm.

Because the plane is a continuous one-to-one map of the region, two cores that
meet on the ellipsoid meet in the plane and vice versa; only the chords
approximate, and near the centre they bow by micrometres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from redline.geo.model import LonLat
from redline.geo.shapes import (
    EARTH_RADIUS_M,
    SAGITTA_FACTOR,
    Core,
    CoreKind,
    Samples,
    distance_m,
    midpoint,
    project,
    unproject,
)

RESOLUTION_M = 1e-4
MAX_LEVELS = 10


@dataclass(frozen=True, slots=True)
class Nearness:
    """Geodesic distance between two cores (0 when they meet), where, and how sure."""

    distance: float
    point_a: LonLat
    point_b: LonLat
    uncertainty: float

    @property
    def where(self) -> LonLat:
        return self.point_a if self.distance == 0 else midpoint(self.point_a, self.point_b)


def _sagitta(spacing: float, rho: float) -> float:
    return SAGITTA_FACTOR * spacing * spacing * (rho + spacing) / EARTH_RADIUS_M**2


def _decided(distance: float, uncertainty: float, thresholds: tuple[float, ...]) -> bool:
    return all(abs(distance - t) > uncertainty for t in thresholds)


def lower_bound(a: Core, b: Core) -> float:
    """A cheap lower bound on the distance between the cores (from their anchors and reaches)."""
    return distance_m(a.anchor, b.anchor) - a.reach - b.reach


def core_distance(a: Core, b: Core, thresholds: tuple[float, ...]) -> Nearness:
    """Distance between ``a`` and ``b``, precise enough to compare with every threshold."""
    if a.kind is CoreKind.POINT and b.kind is CoreKind.POINT:
        pa, pb = a.anchor, b.anchor
        return Nearness(distance_m(pa, pb), pa, pb, 0.0)
    spacing = max(
        a.base_spacing() if a.kind is not CoreKind.POINT else 0.0,
        b.base_spacing() if b.kind is not CoreKind.POINT else 0.0,
    )
    sa, sb = a.base_samples, b.base_samples
    centre = midpoint(a.anchor, b.anchor)
    result = Nearness(math.inf, a.anchor, b.anchor, math.inf)
    for level in range(MAX_LEVELS):
        xa, ya = project(centre, sa.lon, sa.lat)
        xb, yb = project(centre, sb.lon, sb.lat)
        ga, gb = a.shape(xa, ya), b.shape(xb, yb)
        projected = float(ga.distance(gb))
        if projected > 0:
            (xa0, ya0), (xb0, yb0) = shapely.shortest_line(ga, gb).coords
            rho = max(math.hypot(xa0, ya0), math.hypot(xb0, yb0))
            pa, pb = unproject(centre, xa0, ya0), unproject(centre, xb0, yb0)
            distance = distance_m(pa, pb)
        else:
            contact = _contact(ga, gb)
            rho = math.hypot(contact.x, contact.y)
            pa = pb = unproject(centre, contact.x, contact.y)
            distance = 0.0
        uncertainty = 2 * _sagitta(spacing, rho) + 1e-6 + 1e-12 * rho
        if level == 0:
            # Scale error of the plane away from its centre, before re-centring on the contact.
            uncertainty += projected * (rho / EARTH_RADIUS_M) ** 2
        result = Nearness(distance, pa, pb, uncertainty)
        if distance == 0 and _deep(ga, gb, a, b, uncertainty):
            return result
        if _decided(distance, uncertainty, thresholds) or uncertainty < RESOLUTION_M:
            return result
        centre = midpoint(pa, pb) if distance > 0 else pa
        window = projected / 2 + 2 * uncertainty + spacing
        spacing = max(spacing / 16, RESOLUTION_M)
        sa, sb = _refine(a, sa, centre, window, spacing), _refine(b, sb, centre, window, spacing)
    return result


def _refine(core: Core, samples: Samples, centre: LonLat, window: float, spacing: float) -> Samples:
    if core.kind is CoreKind.POINT:
        return samples
    x, y = project(centre, samples.lon, samples.lat)
    return core.refine(samples, np.hypot(x, y), window, spacing)


def _contact(ga: shapely.Geometry, gb: shapely.Geometry) -> shapely.Point:
    """A point where the two projected cores meet (deterministic)."""
    meet = ga.intersection(gb)
    if meet.is_empty:  # touching within rounding: take the nearest point
        return shapely.Point(shapely.shortest_line(ga, gb).coords[0])
    return meet.representative_point()


def _deep(ga: shapely.Geometry, gb: shapely.Geometry, a: Core, b: Core, uncertainty: float) -> bool:
    """The cores meet by more than ``uncertainty``: they would meet wherever the chords truly lie."""
    if a.kind is not CoreKind.AREA or b.kind is not CoreKind.AREA:
        return False
    inner = shapely.buffer(ga.intersection(gb), -uncertainty, quad_segs=2)
    return not inner.is_empty
