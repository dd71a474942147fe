"""Activity notices as values: volumes, an altitude band, a time window, buffers.

Every record is a frozen dataclass and validates itself on construction, so a
``Notice`` that exists is a valid one, whether it came from the API, the link or
an imported NOTAM. Faults raise ``InputError`` naming the field path
(``volumes[0].polygon: ...``); the path prefix is added by whoever knows it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from redline.errors import InputError, _t

LonLat = tuple[float, float]

MAX_VERTICES = 10_000
MAX_TEXT = 20_000
MAX_TITLE = 120
FEET = 0.3048
# A flight level is hundreds of feet on the standard pressure datum (1013.25 hPa).
FLIGHT_LEVEL_M = 100 * FEET
_NOTICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_PARTY = re.compile(r"^[a-z][a-z0-9-]{1,31}$")


class ActivityType(StrEnum):
    AIR_OPERATIONS = "air_operations"
    MARITIME_TRANSIT = "maritime_transit"
    LIVE_FIRE_EXERCISE = "live_fire_exercise"
    MISSILE_LAUNCH = "missile_launch"
    UAV_OPERATIONS = "uav_operations"
    OTHER = "other"


class NoticeState(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    AMENDED = "amended"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


# Only these take part in conflict detection.
LIVE_STATES = frozenset({NoticeState.ACTIVE, NoticeState.AMENDED})


class AltitudeUnit(StrEnum):
    M = "M"
    FT = "FT"
    FL = "FL"


class AltitudeReference(StrEnum):
    SFC = "SFC"  # above the surface (ground or sea)
    MSL = "MSL"  # above mean sea level
    W84 = "W84"  # above the WGS84 ellipsoid
    STD = "STD"  # standard pressure datum (flight levels)


class Fault(InputError):
    """An ``InputError`` whose message is a field path and a reason: ``path: reason``.

    The path is the machine's (``volumes[0].polygon``) and stays as it is in every language; the
    reason is marked with ``_t`` so the console translates it.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(_t("{path}: {reason}", path=path, reason=reason) if path else reason)
        self.path = path
        self.reason = reason

    def within(self, prefix: str) -> Fault:
        return Fault(f"{prefix}.{self.path}" if self.path else prefix, self.reason)


def check_finite(value: float, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Fault(path, _t("{value!r} is not a finite number", value=value))
    return float(value)


def check_position(point: LonLat, path: str) -> None:
    lon, lat = point
    check_finite(lon, path)
    check_finite(lat, path)
    if not -180.0 <= lon <= 180.0:
        raise Fault(
            path, _t("longitude {lon} is out of range; use -180..180 degrees (east positive)", lon=lon)
        )
    if not -90.0 <= lat <= 90.0:
        raise Fault(path, _t("latitude {lat} is out of range; use -90..90 degrees (north positive)", lat=lat))


def _check_distance(value: float, path: str, what: str) -> None:
    check_finite(value, path)
    if value <= 0:
        raise Fault(path, _t("{what} must be greater than 0 metres, not {value}", what=what, value=value))


@dataclass(frozen=True, slots=True)
class CircleVolume:
    """Every point within ``radius_m`` (geodesic distance) of ``centre`` (lon, lat)."""

    centre: LonLat
    radius_m: float

    def __post_init__(self) -> None:
        check_position(self.centre, "circle.centre")
        _check_distance(self.radius_m, "circle.radius_m", _t("the radius"))


@dataclass(frozen=True, slots=True)
class CorridorVolume:
    """Every point within ``half_width_m`` of the geodesic polyline ``path``."""

    path: tuple[LonLat, ...]
    half_width_m: float

    def __post_init__(self) -> None:
        if len(self.path) < 2:
            raise Fault("corridor.path", _t("a corridor needs at least 2 points"))
        if len(self.path) > MAX_VERTICES:
            raise Fault(
                "corridor.path",
                _t(
                    "{length} points is more than the limit of {MAX_VERTICES}",
                    length=len(self.path),
                    MAX_VERTICES=MAX_VERTICES,
                ),
            )
        for i, point in enumerate(self.path):
            check_position(point, f"corridor.path[{i}]")
        _check_distance(self.half_width_m, "corridor.half_width_m", _t("the half-width"))


@dataclass(frozen=True, slots=True)
class PolygonVolume:
    """The area inside a ring of geodesic edges (the smaller side; no holes).

    ``ring`` is open: the last vertex joins the first; a closing repeat of the
    first vertex is dropped by the parser.
    """

    ring: tuple[LonLat, ...]

    def __post_init__(self) -> None:
        if len(self.ring) < 3:
            raise Fault("polygon", _t("a polygon needs at least 3 distinct vertices"))
        if len(self.ring) > MAX_VERTICES:
            raise Fault(
                "polygon",
                _t(
                    "{length} vertices is more than the limit of {MAX_VERTICES}",
                    length=len(self.ring),
                    MAX_VERTICES=MAX_VERTICES,
                ),
            )
        for i, point in enumerate(self.ring):
            check_position(point, f"polygon[{i}]")


Volume = CircleVolume | CorridorVolume | PolygonVolume


@dataclass(frozen=True, slots=True)
class AltitudeLimit:
    value: float
    unit: AltitudeUnit
    reference: AltitudeReference

    def __post_init__(self) -> None:
        check_finite(self.value, "value")
        if (self.unit is AltitudeUnit.FL) != (self.reference is AltitudeReference.STD):
            raise Fault("reference", _t("flight levels (unit FL) go with reference STD, and only they do"))

    @property
    def metres(self) -> float:
        """Height in metres for comparison: see docs/deconfliction.md, "Altitudes"."""
        if self.unit is AltitudeUnit.FL:
            return self.value * FLIGHT_LEVEL_M
        if self.unit is AltitudeUnit.FT:
            return self.value * FEET
        return self.value


@dataclass(frozen=True, slots=True)
class AltitudeBand:
    lower: AltitudeLimit
    upper: AltitudeLimit

    def __post_init__(self) -> None:
        if self.lower.metres > self.upper.metres:
            raise Fault(
                "lower",
                _t(
                    "the lower limit ({metres:.1f} m) is above the upper limit ({metres2:.1f} m)",
                    metres=self.lower.metres,
                    metres2=self.upper.metres,
                ),
            )


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """UTC window; ``end`` is None exactly when the activity is permanent."""

    start: datetime
    end: datetime | None
    estimated_end: bool = False
    permanent: bool = False

    def __post_init__(self) -> None:
        if self.start.utcoffset() != timedelta(0):
            raise Fault("start", _t("must be a UTC time"))
        if self.permanent:
            if self.end is not None:
                raise Fault(
                    "end", _t("a permanent activity has no end; leave end out or set permanent false")
                )
            if self.estimated_end:
                raise Fault("estimated_end", _t("a permanent activity has no end to estimate"))
            return
        if self.end is None:
            raise Fault("end", _t("missing; give an end time or set permanent true"))
        if self.end.utcoffset() != timedelta(0):
            raise Fault("end", _t("must be a UTC time"))
        if self.end < self.start:
            raise Fault(
                "end",
                _t(
                    "{value} is before the start {value2}",
                    value=self.end.isoformat(),
                    value2=self.start.isoformat(),
                ),
            )


@dataclass(frozen=True, slots=True)
class Buffers:
    """Separation each party asks for around its own activity."""

    horizontal_m: float = 0.0
    vertical_m: float = 0.0
    time_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("horizontal_m", "vertical_m", "time_s"):
            value = check_finite(getattr(self, name), name)
            if value < 0:
                raise Fault(name, _t("a buffer cannot be negative ({value})", value=value))


@dataclass(frozen=True, slots=True)
class Notice:
    id: str
    party: str
    version: int
    activity: ActivityType
    volumes: tuple[Volume, ...]
    altitude: AltitudeBand
    window: TimeWindow
    priority: int = 0
    buffers: Buffers = field(default_factory=Buffers)
    state: NoticeState = NoticeState.ACTIVE
    text: str = ""
    title: str = ""  # what people call the activity, e.g. "Exercise BLUE FALCON"

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _NOTICE_ID.fullmatch(self.id):
            raise Fault(
                "id",
                _t("{id!r} is not a notice id; use 1-64 letters, digits, '.', '_', ':' or '-'", id=self.id),
            )
        if not isinstance(self.party, str) or not _PARTY.fullmatch(self.party):
            raise Fault(
                "party",
                _t("{party!r} is not a station id (2-32 lowercase letters, digits, '-')", party=self.party),
            )
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise Fault(
                "version", _t("{version!r} is not a version number (an integer from 1)", version=self.version)
            )
        if isinstance(self.priority, bool) or not isinstance(self.priority, int) or abs(self.priority) > 1000:
            raise Fault(
                "priority",
                _t("{priority!r} is not a priority (an integer, -1000..1000)", priority=self.priority),
            )
        if not self.volumes:
            raise Fault("volumes", _t("a notice needs at least one volume"))
        if len(self.text) > MAX_TEXT:
            raise Fault(
                "text",
                _t(
                    "{length} characters is more than the limit of {MAX_TEXT}",
                    length=len(self.text),
                    MAX_TEXT=MAX_TEXT,
                ),
            )
        if len(self.title) > MAX_TITLE or "\n" in self.title:
            raise Fault(
                "title", _t("a title is one line of at most {MAX_TITLE} characters", MAX_TITLE=MAX_TITLE)
            )
        # Geometry checks that need geodesics (self-intersection, size) live in geo.shapes.
        from redline.geo.shapes import check_volume_geometry

        for i, volume in enumerate(self.volumes):
            try:
                check_volume_geometry(volume)
            except Fault as fault:
                raise fault.within(f"volumes[{i}]") from None

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES

    def to_json(self) -> dict[str, Any]:
        from redline.geo.codec import notice_to_json

        return notice_to_json(self)
