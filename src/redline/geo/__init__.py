"""The deconfliction engine: activity notices, geodesic conflict detection, formats.

Pure: no I/O, no storage, no network. ``model`` holds the notice records (each
validates itself), ``codec`` their JSON dicts, ``shapes`` reduces volumes to
cores (point, geodesic polyline, geodesic polygon) with a radius and bounds
them, ``nearness`` measures the geodesic distance between cores exactly
(iterated local azimuthal-equidistant projections refined with ``Geod``),
``conflicts`` applies the rule (time, altitude, horizontal, with buffers) to a
pair, and ``index.ConflictIndex`` keeps every live notice in STRtrees over
buffered lon/lat bounds, with time and altitude prefilters in numpy arrays.
``formats`` imports and exports ICAO NOTAM text, GeoJSON and ASTM F3548
volumes. ``drawing`` turns notices into points a web map joins. See
docs/deconfliction.md.
"""

from redline.geo.codec import parse_notice
from redline.geo.drawing import drawn_point, drawn_shapes, reference_longitude
from redline.geo.model import (
    ActivityType,
    AltitudeBand,
    AltitudeLimit,
    AltitudeReference,
    AltitudeUnit,
    Buffers,
    CircleVolume,
    CorridorVolume,
    Notice,
    NoticeState,
    PolygonVolume,
    TimeWindow,
    Volume,
)

__all__ = [
    "ActivityType",
    "AltitudeBand",
    "AltitudeLimit",
    "AltitudeReference",
    "AltitudeUnit",
    "Buffers",
    "CircleVolume",
    "CorridorVolume",
    "Notice",
    "NoticeState",
    "PolygonVolume",
    "TimeWindow",
    "Volume",
    "drawn_point",
    "drawn_shapes",
    "parse_notice",
    "reference_longitude",
]
