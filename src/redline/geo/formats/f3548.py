"""Notices as ASTM F3548 / InterUSS ``Volume4D`` objects, one per volume.

Export writes ``outline_polygon`` or ``outline_circle``, altitudes in metres
above the WGS84 ellipsoid (``reference: W84, units: M``; our metres, see the
altitude normalisation in docs/deconfliction.md) and RFC 3339 times. F3548
has no corridors: exporting one is an error. Import builds one notice from a
list of volumes that share the altitude band and time window of the first.
"""

from __future__ import annotations

from typing import Any

from redline.domain.clock import format_ts, parse_ts
from redline.geo.model import (
    ActivityType,
    AltitudeBand,
    AltitudeLimit,
    AltitudeReference,
    AltitudeUnit,
    Buffers,
    CircleVolume,
    CorridorVolume,
    Fault,
    Notice,
    PolygonVolume,
    TimeWindow,
    Volume,
)

JSON = dict[str, Any]


def to_volume4d(notice: Notice) -> list[JSON]:
    if notice.window.end is None:
        raise Fault("window.end", "F3548 volumes need an end time; a permanent notice cannot be exported")
    out = []
    for i, volume in enumerate(notice.volumes):
        if isinstance(volume, CorridorVolume):
            raise Fault(f"volumes[{i}]", "F3548 has no corridors; export as GeoJSON or split into polygons")
        shape: JSON
        if isinstance(volume, PolygonVolume):
            shape = {"outline_polygon": {"vertices": [{"lng": lon, "lat": lat} for lon, lat in volume.ring]}}
        else:
            lon, lat = volume.centre
            shape = {
                "outline_circle": {
                    "center": {"lng": lon, "lat": lat},
                    "radius": {"value": volume.radius_m, "units": "M"},
                }
            }
        out.append(
            {
                "volume": {
                    **shape,
                    "altitude_lower": _alt(notice.altitude.lower.metres),
                    "altitude_upper": _alt(notice.altitude.upper.metres),
                },
                "time_start": {"value": format_ts(notice.window.start), "format": "RFC3339"},
                "time_end": {"value": format_ts(notice.window.end), "format": "RFC3339"},
            }
        )
    return out


def _alt(metres: float) -> JSON:
    return {"value": metres, "reference": "W84", "units": "M"}


def from_volume4d(
    volumes: object,
    *,
    notice_id: str,
    party: str,
    activity: ActivityType = ActivityType.UAV_OPERATIONS,
    buffers: Buffers | None = None,
) -> Notice:
    if not isinstance(volumes, list) or not volumes:
        raise Fault("volumes", "expected a non-empty list of Volume4D objects")
    parsed = [_volume(v, f"volumes[{i}]") for i, v in enumerate(volumes)]
    first = volumes[0]
    lower = _limit(_get(first, "volume.altitude_lower", "volumes[0]"), "volumes[0].volume.altitude_lower")
    upper = _limit(_get(first, "volume.altitude_upper", "volumes[0]"), "volumes[0].volume.altitude_upper")
    start = parse_ts(_get(first, "time_start.value", "volumes[0]"), "volumes[0].time_start.value")
    end = parse_ts(_get(first, "time_end.value", "volumes[0]"), "volumes[0].time_end.value")
    return Notice(
        id=notice_id,
        party=party,
        version=1,
        activity=activity,
        volumes=tuple(parsed),
        altitude=AltitudeBand(lower, upper),
        window=TimeWindow(start, end),
        buffers=buffers or Buffers(),
    )


def _get(obj: object, dotted: str, path: str) -> object:
    for key in dotted.split("."):
        if not isinstance(obj, dict) or key not in obj:
            raise Fault(f"{path}.{dotted}", "missing")
        obj = obj[key]
    return obj


def _number(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Fault(path, f"expected a number, got {value!r}")
    return float(value)


def _limit(value: object, path: str) -> AltitudeLimit:
    reference, units = _get(value, "reference", path), _get(value, "units", path)
    if reference != "W84" or units != "M":
        raise Fault(path, f"only reference W84 in units M is supported, not {reference!r} {units!r}")
    metres = _number(_get(value, "value", path), f"{path}.value")
    return AltitudeLimit(metres, AltitudeUnit.M, AltitudeReference.W84)


def _volume(item: object, path: str) -> Volume:
    volume = _get(item, "volume", path)
    assert isinstance(volume, dict)
    try:
        if "outline_polygon" in volume:
            vertices = _get(volume, "outline_polygon.vertices", f"{path}.volume")
            if not isinstance(vertices, list):
                raise Fault(f"{path}.volume.outline_polygon.vertices", "expected a list")
            ring = tuple(
                (_number(_get(v, "lng", f"{path}.vertices[{i}]"), "lng"), _number(_get(v, "lat", ""), "lat"))
                for i, v in enumerate(vertices)
            )
            if len(ring) > 3 and ring[0] == ring[-1]:
                ring = ring[:-1]
            return PolygonVolume(ring)
        if "outline_circle" in volume:
            circle = volume["outline_circle"]
            units = _get(circle, "radius.units", f"{path}.volume.outline_circle")
            if units != "M":
                where = f"{path}.volume.outline_circle.radius.units"
                raise Fault(where, f"{units!r} is not supported; use M")
            centre = (
                _number(_get(circle, "center.lng", f"{path}.volume.outline_circle"), "lng"),
                _number(_get(circle, "center.lat", f"{path}.volume.outline_circle"), "lat"),
            )
            radius = _number(_get(circle, "radius.value", f"{path}.volume.outline_circle"), "radius")
            return CircleVolume(centre, radius)
    except Fault as fault:
        raise fault.within(path) if not fault.path.startswith(path) else fault from None
    raise Fault(f"{path}.volume", "expected outline_polygon or outline_circle")
