"""The conflict rule for a pair of notices, and the ``Conflict`` record both stations derive.

Two live notices of different parties conflict when all three hold, each with
closed intervals (touching counts):

- time: their windows, each grown by its own time buffer, overlap;
- altitude: their bands (in metres), each grown by its own vertical buffer, overlap;
- horizontal: some volume of one is within ``h_a + h_b`` metres (geodesic) of
  some volume of the other, ``h`` being each notice's horizontal buffer.

The pair is always evaluated with the smaller id first, so the result (every
float of it) does not depend on which station, or which insertion order, asked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import shapely

from redline.domain.clock import format_ts
from redline.geo.area import geodesic_area_m2
from redline.geo.model import LonLat, Notice
from redline.geo.nearness import Nearness, core_distance, lower_bound
from redline.geo.shapes import Core, project

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FOREVER = 2**62  # microseconds: "no end"
# Touching counts; "touching" allows for the rounding of a geodesic computed twice.
TOUCH_M = 1e-6
# Segments per quarter circle where a circle or corridor end is drawn for the overlap area:
# the polygon's area falls short of the circle's by under 0.02 %.
QUAD_SEGS = 48


def to_us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True, slots=True, eq=False)
class Entry:
    """What the index keeps of a notice: enough to check it, compactly."""

    id: str
    party: str
    version: int
    live: bool
    start_us: int
    end_us: int  # FOREVER when permanent
    time_buffer_us: int
    lower_m: float
    upper_m: float
    vertical_m: float
    horizontal_m: float
    cores: tuple[Core, ...]

    @classmethod
    def of(cls, notice: Notice) -> Entry:
        window, buffers = notice.window, notice.buffers
        return cls(
            id=notice.id,
            party=notice.party,
            version=notice.version,
            live=notice.is_live,
            start_us=to_us(window.start),
            end_us=FOREVER if window.end is None else to_us(window.end),
            time_buffer_us=math.ceil(buffers.time_s * 1e6),
            lower_m=notice.altitude.lower.metres,
            upper_m=notice.altitude.upper.metres,
            vertical_m=buffers.vertical_m,
            horizontal_m=buffers.horizontal_m,
            cores=tuple(Core.of(v) for v in notice.volumes),
        )


@dataclass(frozen=True, slots=True)
class Conflict:
    notice_a: str  # the smaller id
    version_a: int
    notice_b: str
    version_b: int
    where: LonLat  # inside the overlap, or midway across the closest gap
    overlap: bool  # the volumes themselves meet (not only their buffers)
    separation_m: float  # geodesic distance between the volumes, 0 when they overlap
    overlap_area_m2: float | None  # area (on the ellipsoid) where the volumes overlap
    start: datetime  # the overlap of the windows grown by their time buffers
    end: datetime | None  # None: both permanent
    lower_m: float  # the overlap of the bands grown by their vertical buffers
    upper_m: float

    @property
    def key(self) -> str:
        """Stable across stations: the two notices and versions, smaller id first."""
        return f"{self.notice_a}@{self.version_a}~{self.notice_b}@{self.version_b}"

    @property
    def pair(self) -> tuple[str, str]:
        return (self.notice_a, self.notice_b)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "notice_a": self.notice_a,
            "version_a": self.version_a,
            "notice_b": self.notice_b,
            "version_b": self.version_b,
            "where": list(self.where),
            "overlap": self.overlap,
            "separation_m": self.separation_m,
            "overlap_area_m2": self.overlap_area_m2,
            "start": format_ts(self.start),
            "end": None if self.end is None else format_ts(self.end),
            "lower_m": self.lower_m,
            "upper_m": self.upper_m,
        }


def may_conflict(a: Entry, b: Entry) -> bool:
    """Everything but the horizontal test (cheap)."""
    if a.party == b.party or not (a.live and b.live):
        return False
    if a.start_us - a.time_buffer_us > b.end_us + b.time_buffer_us:
        return False
    if b.start_us - b.time_buffer_us > a.end_us + a.time_buffer_us:
        return False
    return a.lower_m - a.vertical_m <= b.upper_m + b.vertical_m + TOUCH_M and (
        b.lower_m - b.vertical_m <= a.upper_m + a.vertical_m + TOUCH_M
    )


def check_pair(first: Entry, second: Entry) -> Conflict | None:
    """The conflict between two entries, or None."""
    a, b = (first, second) if first.id < second.id else (second, first)
    if not may_conflict(a, b):
        return None
    allowance = a.horizontal_m + b.horizontal_m
    best: tuple[float, Nearness, Core, Core] | None = None
    for core_a in a.cores:
        for core_b in b.cores:
            touch = core_a.radius + core_b.radius
            if lower_bound(core_a, core_b) > touch + allowance + 1.0:
                continue
            near = core_distance(core_a, core_b, (touch, touch + allowance))
            separation = 0.0 if near.distance <= touch + TOUCH_M else near.distance - touch
            if near.distance <= touch + allowance + TOUCH_M and (best is None or separation < best[0]):
                best = (separation, near, core_a, core_b)
    if best is None:
        return None
    separation, near, core_a, core_b = best
    where = near.where
    overlap = separation == 0.0
    area = _overlap_area(a.cores, b.cores, where) if overlap else None
    start = max(a.start_us - a.time_buffer_us, b.start_us - b.time_buffer_us)
    end = min(a.end_us + a.time_buffer_us, b.end_us + b.time_buffer_us)
    return Conflict(
        notice_a=a.id,
        version_a=a.version,
        notice_b=b.id,
        version_b=b.version,
        where=where,
        overlap=overlap,
        separation_m=separation,
        overlap_area_m2=area,
        start=from_us(start),
        end=None if end >= FOREVER else from_us(end),
        lower_m=max(a.lower_m - a.vertical_m, b.lower_m - b.vertical_m),
        upper_m=min(a.upper_m + a.vertical_m, b.upper_m + b.vertical_m),
    )


def _overlap_area(cores_a: tuple[Core, ...], cores_b: tuple[Core, ...], centre: LonLat) -> float:
    """Area (m²) of the overlap: intersected in an azimuthal plane centred on it, measured on WGS84."""
    area_a = shapely.union_all([_grown(core, centre) for core in cores_a])
    area_b = shapely.union_all([_grown(core, centre) for core in cores_b])
    return round(geodesic_area_m2(area_a.intersection(area_b), centre), 1)


def _grown(core: Core, centre: LonLat) -> shapely.Geometry:
    samples = core.base_samples  # sampled at base_spacing(), which is at least 1 m
    x, y = project(centre, samples.lon, samples.lat)
    shape = core.shape(np.asarray(x), np.asarray(y))
    return shape.buffer(core.radius, quad_segs=QUAD_SEGS) if core.radius > 0 else shape
