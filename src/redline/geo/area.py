"""Areas on the WGS84 ellipsoid of shapes built in a local azimuthal plane.

``conflicts`` intersects two notices' volumes in an azimuthal equidistant plane
centred on their overlap (``shapes.project``): distances from the centre are
true there, but areas are not (the scale across the radial direction grows
with the distance), so measuring the intersection in the plane overstates it.
Here the intersection's rings are densified in the plane, taken back to the
ellipsoid point by point (``Geod.fwd`` from the centre, exact), and measured
with ``Geod.polygon_area_perimeter`` (Karney's algorithm), holes subtracted.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from redline.geo.model import LonLat
from redline.geo.shapes import GEOD

# Points along the rings before they go back to the ellipsoid, at most 1/32 of the shape's
# extent apart: the image of a straight plane segment of length s at distance d from the centre
# strays from the geodesic between its ends by about s²·d/(8R²), well under a metre for shapes of
# hundreds of kilometres (the tests hold areas to 0.01 %). Finer costs time at every conflict.
MAX_SEGMENT_FRACTION = 1 / 32
MIN_SEGMENT_M = 10.0


def geodesic_area_m2(shape: shapely.Geometry, centre: LonLat) -> float:
    """Ellipsoidal area (m²) of a planar ``shape`` given in the azimuthal plane around ``centre``."""
    if shape.is_empty:
        return 0.0
    xmin, ymin, xmax, ymax = shape.bounds
    step = max(MIN_SEGMENT_M, math.hypot(xmax - xmin, ymax - ymin) * MAX_SEGMENT_FRACTION)
    dense = shapely.segmentize(shape, step)
    total = 0.0
    for polygon in shapely.get_parts(dense):
        if not isinstance(polygon, shapely.Polygon):
            continue  # points and lines where the volumes only touch have no area
        total += _ring_area(polygon.exterior, centre)
        total -= sum(_ring_area(ring, centre) for ring in polygon.interiors)
    return total


def _ring_area(ring: shapely.LinearRing, centre: LonLat) -> float:
    xy = np.asarray(ring.coords, dtype=np.float64)[:-1]
    n = len(xy)
    azimuths = np.degrees(np.arctan2(xy[:, 0], xy[:, 1]))
    lons, lats, _ = GEOD.fwd(
        np.full(n, centre[0]), np.full(n, centre[1]), azimuths, np.hypot(xy[:, 0], xy[:, 1])
    )
    area, _ = GEOD.polygon_area_perimeter(lons, lats)
    return abs(float(area))
