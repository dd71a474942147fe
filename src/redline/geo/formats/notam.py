"""ICAO NOTAM text (Q-line and items A-G) to and from notices.

The areas come from item E (every polygon, circle and corridor written there,
see ``areas.py``: one notice with one volume per area); only when E) defines
no area, from the Q-line circle (centre to the minute, radius in whole NM).
``read_notam`` says which (``geometry_source``). Limits in F) and G): ``SFC``, ``GND``, ``UNL``
(taken as FL999), ``FL120``, ``1000FT AMSL``, ``500FT AGL``, ``300M AMSL``;
without F) and G) the Q-line's flight levels are used. B) and C) are
``YYMMDDHHMM`` UTC; C) may end in ``EST`` or be ``PERM``.

Export keeps positions to the second of arc (about 30 m), radii to the metre
and times to the minute; ``W84`` heights are written as ``AMSL``.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from redline.geo.formats.areas import Imported, activity_from_text, find_areas
from redline.geo.model import (
    MAX_TEXT,
    ActivityType,
    AltitudeBand,
    AltitudeLimit,
    AltitudeReference,
    AltitudeUnit,
    Buffers,
    CircleVolume,
    Fault,
    LonLat,
    Notice,
    PolygonVolume,
    TimeWindow,
)
from redline.geo.shapes import Core

NM = 1852.0
_ITEM = re.compile(r"(?:^|\s)([QABCDEFG])\)\s*")
_Q_AREA = re.compile(r"^(\d{4})([NS])(\d{5})([EW])(\d{3})$")
_HEIGHT = re.compile(r"^(\d+(?:\.\d+)?)\s*(FT|M)\s*(AMSL|MSL|AGL|SFC)?$")
_ACTIVITY = {"WM": ActivityType.LIVE_FIRE_EXERCISE, "WU": ActivityType.UAV_OPERATIONS,
             "WA": ActivityType.AIR_OPERATIONS, "WE": ActivityType.AIR_OPERATIONS}  # fmt: skip


def parse_notam(text: str, *, notice_id: str, party: str, buffers: Buffers | None = None) -> Notice:
    return read_notam(text, notice_id=notice_id, party=party, buffers=buffers).notice


def read_notam(text: str, *, notice_id: str, party: str, buffers: Buffers | None = None) -> Imported:
    """One NOTAM as a notice with every area of item E) as a volume (or the Q-line circle)."""
    items = _items(text)
    q = items.get("Q")
    if q is None:
        raise Fault("Q)", "missing; a NOTAM needs its qualifier line")
    fields = [f.strip() for f in q.split("/")]
    if len(fields) != 8:
        raise Fault("Q)", f"expected 8 fields separated by '/', got {len(fields)}: {q!r}")
    code = fields[1]
    activity = _ACTIVITY.get(code[1:3], ActivityType.OTHER) if len(code) == 5 else ActivityType.OTHER
    e_text = items.get("E", "")
    if activity is ActivityType.OTHER:
        activity = activity_from_text(e_text)
    volumes = tuple(find_areas(e_text, lambda _at: "E)"))
    source = "item_e" if volumes else "q_line"
    if not volumes:
        volumes = (_q_circle(fields[7]),)
    lower = _limit(items["F"], "F)") if "F" in items else _flight_level(fields[5], "Q) lower")
    upper = _limit(items["G"], "G)") if "G" in items else _flight_level(fields[6], "Q) upper")
    start = _time(items.get("B"), "B)")
    raw_end = (items.get("C") or "").strip()
    if not raw_end:
        raise Fault("C)", "missing; give YYMMDDHHMM or PERM")
    try:
        band = AltitudeBand(lower, upper)
    except Fault as fault:
        raise Fault("F)", fault.reason) from None
    if raw_end.upper() == "PERM":
        window = TimeWindow(start, None, permanent=True)
    else:
        estimated = raw_end.upper().endswith("EST")
        end = _time(raw_end[:-3] if estimated else raw_end, "C)")
        try:
            window = TimeWindow(start, end, estimated_end=estimated)
        except Fault as fault:
            raise Fault("C)", fault.reason) from None
    notice = Notice(
        id=notice_id,
        party=party,
        version=1,
        activity=activity,
        volumes=volumes,
        altitude=band,
        window=window,
        buffers=buffers or Buffers(),
        text=e_text.strip()[:MAX_TEXT],
    )
    notes = []
    if len(volumes) > 1:
        notes.append(f"item E) holds {len(volumes)} areas: one notice with {len(volumes)} volumes")
    if items.get("D"):  # a schedule within B)-C): the notice holds one window, so the whole span
        notes.append(f"item D) {items['D'][:60]!r} not applied: the whole B) to C) window is taken")
    return Imported(notice, source, len(volumes), tuple(notes))


def _items(text: str) -> dict[str, str]:
    marks = list(_ITEM.finditer(text))
    if not marks:
        raise Fault("line 1", "no NOTAM items (Q) A) B) C) E) ...) found")
    items = {}
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        stop = following.start() if following is not None else len(text)
        if mark.group(1) in items:
            line = text.count("\n", 0, mark.start()) + 1
            raise Fault(f"line {line}", f"item {mark.group(1)}) appears twice; one NOTAM per text")
        items[mark.group(1)] = " ".join(text[mark.end() : stop].split())
    return items


def _degrees(d: str, m: str, s: str | None, hemi: str) -> float:
    value = int(d) + int(m) / 60 + (float(s) if s else 0.0) / 3600
    return -value if hemi in "SW" else value


def _q_circle(area: str) -> CircleVolume:
    match = _Q_AREA.match(area)
    if match is None:
        raise Fault("Q) area", f"{area!r} is not like 4000N11600E005 (lat, lon, radius in NM)")
    lat_s, ns, lon_s, ew, radius = match.groups()
    lat = _degrees(lat_s[:2], lat_s[2:], None, ns)
    lon = _degrees(lon_s[:3], lon_s[3:], None, ew)
    try:
        return CircleVolume((lon, lat), int(radius) * NM)
    except Fault as fault:
        raise Fault("Q) area", fault.reason) from None


def _flight_level(value: str, where: str) -> AltitudeLimit:
    if not value.isdigit():
        raise Fault(where, f"{value!r} is not a flight level (3 digits)")
    return AltitudeLimit(float(value), AltitudeUnit.FL, AltitudeReference.STD)


def _limit(value: str, where: str) -> AltitudeLimit:
    text = value.strip().upper()
    if text in ("SFC", "GND"):
        return AltitudeLimit(0.0, AltitudeUnit.M, AltitudeReference.SFC)
    if text in ("UNL", "UNLTD", "UNLIMITED"):
        return AltitudeLimit(999.0, AltitudeUnit.FL, AltitudeReference.STD)
    if text.startswith("FL"):
        return _flight_level(text[2:].strip(), where)
    match = _HEIGHT.match(text)
    if match is None:
        raise Fault(where, f"{value!r} is not a limit like SFC, FL120, 1000FT AMSL, 500FT AGL or UNL")
    number, unit, ref = match.groups()
    reference = AltitudeReference.SFC if ref in ("AGL", "SFC") else AltitudeReference.MSL
    return AltitudeLimit(float(number), AltitudeUnit(unit), reference)


def _time(value: str | None, where: str) -> datetime:
    text = (value or "").strip()
    if not re.fullmatch(r"\d{10}", text):
        raise Fault(where, f"{text!r} is not a time like 2603011000 (YYMMDDHHMM, UTC)")
    try:
        return datetime.strptime(text, "%y%m%d%H%M").replace(tzinfo=UTC)
    except ValueError:
        raise Fault(where, f"{text!r} is not a valid date and time") from None


# -- export -------------------------------------------------------------------


def _dms(value: float, width: int, hemis: str) -> str:
    hemi = hemis[0] if value >= 0 else hemis[1]
    seconds = round(abs(value) * 3600)
    d, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{d:0{width}d}{m:02d}{s:02d}{hemi}"


def _position(point: LonLat) -> str:
    return _dms(point[1], 2, "NS") + _dms(point[0], 3, "EW")


def _minutes(value: float, width: int, hemis: str) -> str:
    hemi = hemis[0] if value >= 0 else hemis[1]
    minutes = round(abs(value) * 60)
    return f"{minutes // 60:0{width}d}{minutes % 60:02d}{hemi}"


def _limit_text(limit: AltitudeLimit) -> str:
    if limit.unit is AltitudeUnit.FL:
        return "UNL" if limit.value >= 999 else f"FL{limit.value:03.0f}"
    if limit.value == 0 and limit.reference is AltitudeReference.SFC:
        return "SFC"
    ref = "AGL" if limit.reference is AltitudeReference.SFC else "AMSL"
    return f"{limit.value:g}{limit.unit.value} {ref}"


def to_notam(notice: Notice, *, fir: str = "XXXX", series: str = "A0001/26") -> str:
    if len(notice.volumes) != 1 or not isinstance(notice.volumes[0], CircleVolume | PolygonVolume):
        raise Fault("volumes", "a NOTAM carries one circle or polygon; export corridors as GeoJSON")
    volume = notice.volumes[0]
    core = Core.of(volume)
    centre, reach = core.anchor, core.reach + core.radius
    if isinstance(volume, CircleVolume):
        area = f"{volume.radius_m / NM:.4f}".rstrip("0").rstrip(".")
        area_text = f"{area}NM RADIUS CENTRED ON {_position(volume.centre)}"
    else:
        ring = [*volume.ring, volume.ring[0]]
        area_text = "PSN " + " - ".join(_position(p) for p in ring)
    fl_low = max(0, math.floor(notice.altitude.lower.metres / 30.48))
    fl_high = min(999, math.ceil(notice.altitude.upper.metres / 30.48))
    q_area = (
        _minutes(centre[1], 2, "NS") + _minutes(centre[0], 3, "EW") + f"{min(999, math.ceil(reach / NM)):03d}"
    )
    window = notice.window
    end = (
        "PERM"
        if window.end is None
        else window.end.strftime("%y%m%d%H%M") + (" EST" if window.estimated_end else "")
    )
    lines = [
        f"{series} NOTAMN",
        f"Q) {fir}/QRTCA/IV/BO/W/{fl_low:03d}/{fl_high:03d}/{q_area}",
        f"A) {fir} B) {window.start.strftime('%y%m%d%H%M')} C) {end}",
        f"E) {notice.text + ' ' if notice.text else ''}{area_text}.",
        f"F) {_limit_text(notice.altitude.lower)} G) {_limit_text(notice.altitude.upper)}",
    ]
    return "\n".join(lines) + "\n"
