"""Notices to and from the JSON-like dicts that travel over the link and the API.

``parse_notice(notice.to_json()) == notice`` for every notice. The format is
described in docs/deconfliction.md; every fault names its field path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from redline.domain.clock import format_ts, parse_ts
from redline.errors import _t
from redline.geo.model import (
    MAX_VERTICES,
    ActivityType,
    AltitudeBand,
    AltitudeLimit,
    AltitudeReference,
    AltitudeUnit,
    Buffers,
    CircleVolume,
    CorridorVolume,
    Fault,
    LonLat,
    Notice,
    NoticeState,
    PolygonVolume,
    TimeWindow,
    Volume,
)

JSON = dict[str, Any]
E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")

_NOTICE_KEYS = {
    "id", "party", "version", "activity", "volumes", "altitude", "window",
    "priority", "buffers", "state", "text", "title",
}  # fmt: skip


def _object(value: object, path: str, allowed: set[str]) -> dict[str, object]:
    if not isinstance(value, dict):
        raise Fault(path, _t("expected an object, got {error}", error=type(value).__name__))
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise Fault(
            path,
            _t(
                "unknown field(s) {choices}; expected some of {choices2}",
                choices=", ".join(unknown),
                choices2=", ".join(sorted(allowed)),
            ),
        )
    return value


def _required(obj: dict[str, object], key: str, path: str) -> object:
    if key not in obj:
        raise Fault(_join(path, key), _t("missing"))
    return obj[key]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _number(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Fault(path, _t("expected a number, got {value!r}", value=value))
    return float(value)


def _int(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Fault(path, _t("expected an integer, got {value!r}", value=value))
    return value


def _str(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise Fault(path, _t("expected a string, got {value!r}", value=value))
    return value


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise Fault(path, _t("expected true or false, got {value!r}", value=value))
    return value


def _enum(kind: type[E], value: object, path: str) -> E:
    try:
        if isinstance(value, str):
            return kind(value)
    except ValueError:
        pass
    choices = ", ".join(member.value for member in kind)
    raise Fault(path, _t("{value!r} is not one of {choices}", value=value, choices=choices))


def _build(path: str, make: Callable[[], T]) -> T:
    """Construct a record, prefixing its own fault paths with ``path``."""
    try:
        return make()
    except Fault as fault:
        raise fault.within(path) if path else fault from None


def _position(value: object, path: str) -> LonLat:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise Fault(path, _t("expected [longitude, latitude], got {value!r}", value=value))
    return (_number(value[0], f"{path}[0]"), _number(value[1], f"{path}[1]"))


def _positions(value: object, path: str) -> tuple[LonLat, ...]:
    if not isinstance(value, list | tuple):
        raise Fault(path, _t("expected a list of [longitude, latitude] pairs"))
    if len(value) > MAX_VERTICES + 1:
        raise Fault(
            path,
            _t(
                "{length} points is more than the limit of {MAX_VERTICES}",
                length=len(value),
                MAX_VERTICES=MAX_VERTICES,
            ),
        )
    return tuple(_position(item, f"{path}[{i}]") for i, item in enumerate(value))


def parse_volume(value: object, path: str) -> Volume:
    obj = _object(value, path, {"polygon", "circle", "corridor"})
    if len(obj) != 1:
        raise Fault(path, _t("give exactly one of polygon, circle or corridor"))
    if "polygon" in obj:
        ring = _positions(obj["polygon"], _join(path, "polygon"))
        if len(ring) > 3 and ring[0] == ring[-1]:
            ring = ring[:-1]
        return _build(path, lambda: PolygonVolume(ring))
    if "circle" in obj:
        c = _object(obj["circle"], _join(path, "circle"), {"centre", "radius_m"})
        centre = _position(_required(c, "centre", _join(path, "circle")), _join(path, "circle.centre"))
        radius = _number(_required(c, "radius_m", _join(path, "circle")), _join(path, "circle.radius_m"))
        return _build(path, lambda: CircleVolume(centre, radius))
    c = _object(obj["corridor"], _join(path, "corridor"), {"path", "half_width_m"})
    line = _positions(_required(c, "path", _join(path, "corridor")), _join(path, "corridor.path"))
    width = _number(
        _required(c, "half_width_m", _join(path, "corridor")), _join(path, "corridor.half_width_m")
    )
    return _build(path, lambda: CorridorVolume(line, width))


def volume_to_json(volume: Volume) -> JSON:
    if isinstance(volume, PolygonVolume):
        return {"polygon": [list(p) for p in volume.ring]}
    if isinstance(volume, CircleVolume):
        return {"circle": {"centre": list(volume.centre), "radius_m": volume.radius_m}}
    return {"corridor": {"path": [list(p) for p in volume.path], "half_width_m": volume.half_width_m}}


def parse_limit(value: object, path: str) -> AltitudeLimit:
    obj = _object(value, path, {"value", "unit", "reference"})
    number = _number(_required(obj, "value", path), _join(path, "value"))
    unit = _enum(AltitudeUnit, _required(obj, "unit", path), _join(path, "unit"))
    ref = _enum(AltitudeReference, _required(obj, "reference", path), _join(path, "reference"))
    return _build(path, lambda: AltitudeLimit(number, unit, ref))


def limit_to_json(limit: AltitudeLimit) -> JSON:
    return {"value": limit.value, "unit": limit.unit.value, "reference": limit.reference.value}


def parse_window(value: object, path: str) -> TimeWindow:
    obj = _object(value, path, {"start", "end", "estimated_end", "permanent"})
    start = parse_ts(_required(obj, "start", path), _join(path, "start"))
    raw_end = obj.get("end")
    end = None if raw_end is None else parse_ts(raw_end, _join(path, "end"))
    estimated = _bool(obj.get("estimated_end", False), _join(path, "estimated_end"))
    permanent = _bool(obj.get("permanent", False), _join(path, "permanent"))
    return _build(path, lambda: TimeWindow(start, end, estimated, permanent))


def _ts(moment: datetime | None) -> str | None:
    return None if moment is None else format_ts(moment)


def parse_notice(obj: object) -> Notice:
    """A validated ``Notice`` from its JSON-like dict; ``InputError`` naming the field otherwise."""
    top = _object(obj, "", _NOTICE_KEYS)
    raw_volumes = _required(top, "volumes", "")
    if not isinstance(raw_volumes, list) or not raw_volumes:
        raise Fault("volumes", _t("expected a non-empty list of volumes"))
    volumes = tuple(parse_volume(v, f"volumes[{i}]") for i, v in enumerate(raw_volumes))
    alt = _object(_required(top, "altitude", ""), "altitude", {"lower", "upper"})
    lower = parse_limit(_required(alt, "lower", "altitude"), "altitude.lower")
    upper = parse_limit(_required(alt, "upper", "altitude"), "altitude.upper")
    altitude = _build("altitude", lambda: AltitudeBand(lower, upper))
    window = parse_window(_required(top, "window", ""), "window")
    buf = _object(top.get("buffers", {}), "buffers", {"horizontal_m", "vertical_m", "time_s"})
    buffers = _build(
        "buffers",
        lambda: Buffers(
            _number(buf.get("horizontal_m", 0.0), "buffers.horizontal_m"),
            _number(buf.get("vertical_m", 0.0), "buffers.vertical_m"),
            _number(buf.get("time_s", 0.0), "buffers.time_s"),
        ),
    )
    return Notice(
        id=_str(_required(top, "id", ""), "id"),
        party=_str(_required(top, "party", ""), "party"),
        version=_int(_required(top, "version", ""), "version"),
        activity=_enum(ActivityType, _required(top, "activity", ""), "activity"),
        volumes=volumes,
        altitude=altitude,
        window=window,
        priority=_int(top.get("priority", 0), "priority"),
        buffers=buffers,
        state=_enum(NoticeState, top.get("state", "active"), "state"),
        text=_str(top.get("text", ""), "text"),
        title=_str(top.get("title", ""), "title"),
    )


def notice_to_json(notice: Notice) -> JSON:
    return {
        "id": notice.id,
        "party": notice.party,
        "version": notice.version,
        "activity": notice.activity.value,
        "volumes": [volume_to_json(v) for v in notice.volumes],
        "altitude": {
            "lower": limit_to_json(notice.altitude.lower),
            "upper": limit_to_json(notice.altitude.upper),
        },
        "window": {
            "start": format_ts(notice.window.start),
            "end": _ts(notice.window.end),
            "estimated_end": notice.window.estimated_end,
            "permanent": notice.window.permanent,
        },
        "priority": notice.priority,
        "buffers": {
            "horizontal_m": notice.buffers.horizontal_m,
            "vertical_m": notice.buffers.vertical_m,
            "time_s": notice.buffers.time_s,
        },
        "state": notice.state.value,
        "text": notice.text,
        "title": notice.title,
    }
