"""Areas written out in free text: NOTAM item E) and navigational warnings.

Points, in the forms found in real notices (case does not matter):

* compact, hemisphere after: ``1830N11130E``, ``183000N 1113000E``, ``183000.5N1113000.25E``
  (4/5 digits: degrees and minutes, a decimal part is of minutes; 6/7 digits: with seconds,
  a decimal part is of seconds);
* compact, hemisphere before: ``N183000E1113000``, ``N1830 E11130``;
* dashed (navigational warnings): ``18-30.00N 111-30.00E``, ``18-30N 111-30E``,
  ``18-30-15N 111-30-15E``, and ``18\u00b030.5'N 111\u00b030.5'E``.

Shapes:

* a polygon: 3 or more points in a row, joined only by spaces, ``-``, ``,``, ``/``, ``TO``,
  ``THEN`` or ``AND``; a run ends at ``BACK TO START``, ``TO POINT OF ORIGIN`` (and the like),
  at any other word (``AREA B:``, ``2.``) or at ``;``; a closing repeat of the first point is
  dropped;
* a circle: ``WI 10NM RADIUS OF <p>``, ``5KM RADIUS CENTRED ON <p>``, ``RADIUS 2NM CENTERED ON PSN <p>``,
  ``CIRCLE RADIUS 5NM CENTRE <p>``, ``WITHIN A RADIUS OF 10NM FROM <p>``, ``WITHIN 3 MILES OF <p>``
  or ``<p> RADIUS 5NM`` (NM, MILES = nautical miles, KM, M); one centre per radius;
* a corridor: ``5NM EITHER SIDE OF LINE JOINING <p1> - <p2> ...`` (half-width 5 NM), or
  ``ALONG LINE JOINING <p1> - <p2> ... WIDTH 10NM`` / ``10NM WIDE`` (full width 10 NM).

One or two points that belong to no shape (a reference point, an aerodrome) are ignored;
``BOUNDED BY`` followed by fewer than 3 points is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from redline.geo.model import (
    ActivityType,
    CircleVolume,
    CorridorVolume,
    Fault,
    LonLat,
    Notice,
    PolygonVolume,
    Volume,
)

NM = 1852.0
NEAR = 160  # characters before and after a run of points searched for what shape it is
Locate = Callable[[int], str]

_COMPACT_AFTER = re.compile(
    r"(?<![\w.])(\d{4}|\d{6})(\.\d+)?\s?([NS])[\s,/]*(\d{5}|\d{7})(\.\d+)?\s?([EW])(?![A-Z0-9])", re.I
)
_COMPACT_BEFORE = re.compile(
    r"(?<![A-Z0-9])([NS])\s?(\d{4}|\d{6})(\.\d+)?[\s,/]*([EW])\s?(\d{5}|\d{7})(\.\d+)?(?![\d.]*\d)", re.I
)
_PART = r"(\d{1,3})(?:-|\u00b0\s?)(\d{1,2}(?:\.\d+)?)['\u2032]?(?:-(\d{1,2}(?:\.\d+)?)[\"\u2033]?)?"
_DASHED = re.compile(rf"(?<![\w.]){_PART}\s?([NS])[\s,/]*{_PART}\s?([EW])(?![A-Z0-9])", re.I)

_UNIT = r"(NAUTICAL\s+MILES?|NMI|NM|MILES?|KILOMET(?:RE|ER)S?|KM|MET(?:RE|ER)S?|M)"
_NUM = r"(\d+(?:\.\d+)?)"
_SEP = re.compile(r"[\s,/\-\u2013\u2014]*(?:(?:TO|THEN|THENCE|AND)\b[\s,/\-\u2013\u2014]*)*", re.I)
_CLOSE = re.compile(
    r"(?:BACK\s+TO\s+(?:THE\s+)?(?:START|BEGINNING|ORIGIN|FIRST\s+POINT|STARTING\s+POINT)"
    r"|TO\s+(?:THE\s+)?(?:POINT\s+OF\s+ORIGIN|START(?:ING)?\s+POINT|FIRST\s+POINT|BEGINNING))",
    re.I,
)
_RADIUS_BEFORE = re.compile(
    rf"(?:{_NUM}\s*{_UNIT}\s+(?:RADIUS\s+)?|RADIUS\s+(?:OF\s+)?{_NUM}\s*{_UNIT}\s+)"
    r"(?:CENT(?:RED|ERED|RE|ER)(?:\s+(?:ON|AT))?|ON|AT|OF|AROUND|FROM)\s*:?\s*"
    r"(?:(?:PSN|POSITION|POINT)\s*:?\s*)?$",
    re.I,
)
_RADIUS_AFTER = re.compile(rf"^\s*,?\s*\(?\s*(?:WITH\s+)?(?:A\s+)?RADIUS\s+(?:OF\s+)?{_NUM}\s*{_UNIT}", re.I)
_LINE = (
    r"(?:ALONG\s+)?(?:THE\s+|A\s+)?(?:LINE|ROUTE|TRACK)\s+(?:JOINING|BTN|BETWEEN|CONNECTING|FM|FROM)\s*:?\s*$"
)
_EITHER_SIDE = re.compile(
    rf"{_NUM}\s*{_UNIT}\s+(?:ON\s+)?(?:EITHER|EACH|BOTH)\s+SIDES?\s+OF\s+(?:THE\s+|A\s+)?"
    r"(?:LINE|ROUTE|TRACK)\s+(?:JOINING|BTN|BETWEEN|CONNECTING|FM|FROM)?\s*:?\s*$",
    re.I,
)
_ALONG = re.compile(_LINE, re.I)
_WIDTH_BEFORE = re.compile(rf"(?:WIDTH|WID)\s*(?:OF\s+)?:?\s*{_NUM}\s*{_UNIT}|{_NUM}\s*{_UNIT}\s+WIDE", re.I)
_WIDTH_AFTER = re.compile(
    rf"^[\s,.;(]*(?:(?:WIDTH|WID)\s*(?:OF\s+)?:?\s*{_NUM}\s*{_UNIT}|{_NUM}\s*{_UNIT}\s+WIDE)", re.I
)
_BOUNDED = re.compile(r"BOUNDED\s+BY\s*(?:(?:LINES?\s+)?JOINING\s*)?:?\s*$", re.I)


@dataclass(frozen=True, slots=True)
class Point:
    start: int
    end: int
    raw: str
    lonlat: LonLat


def _metres(number: str, unit: str) -> float:
    u = unit.upper()
    scale = 1000.0 if u.startswith("K") else NM if u.startswith("N") or u.startswith("MI") else 1.0
    return float(number) * scale


def _angle(raw: str, deg: str, minutes: str, seconds: str | None, limit: int) -> float:
    value_m = float(minutes)
    value_s = float(seconds) if seconds else 0.0
    if value_m >= 60 or value_s >= 60:
        raise Fault("", f"{raw!r}: minutes and seconds must be under 60")
    value = int(deg) + value_m / 60 + value_s / 3600
    if value > limit:
        raise Fault("", f"{raw!r}: {value:g} degrees is beyond {limit}")
    return value


def _compact(raw: str, digits: str, frac: str | None, width: int, limit: int) -> float:
    deg, rest = digits[:width], digits[width:]
    if len(rest) == 2:
        return _angle(raw, deg, rest + (frac or ""), None, limit)
    return _angle(raw, deg, rest[:2], rest[2:] + (frac or ""), limit)


def _signed(value: float, hemi: str) -> float:
    return -value if hemi.upper() in "SW" else value


def find_points(text: str, locate: Locate) -> list[Point]:
    """Every point in ``text``, in order; a malformed one (minutes of 75) raises ``Fault``."""
    found: list[Point] = []
    for pattern, read in (
        (_COMPACT_AFTER, _read_after),
        (_COMPACT_BEFORE, _read_before),
        (_DASHED, _read_dashed),
    ):
        for m in pattern.finditer(text):
            try:
                found.append(Point(m.start(), m.end(), m.group(0), read(m)))
            except Fault as fault:  # where it is only when it is wrong: locating costs a scan
                raise Fault(locate(m.start()), fault.reason) from None
    found.sort(key=lambda p: p.start)
    kept: list[Point] = []
    for point in found:
        if not kept or point.start >= kept[-1].end:
            kept.append(point)
    return kept


def _read_after(m: re.Match[str]) -> LonLat:
    raw = m.group(0)
    lat = _compact(raw, m.group(1), m.group(2), 2, 90)
    lon = _compact(raw, m.group(4), m.group(5), 3, 180)
    return (_signed(lon, m.group(6)), _signed(lat, m.group(3)))


def _read_before(m: re.Match[str]) -> LonLat:
    raw = m.group(0)
    lat = _compact(raw, m.group(2), m.group(3), 2, 90)
    lon = _compact(raw, m.group(5), m.group(6), 3, 180)
    return (_signed(lon, m.group(4)), _signed(lat, m.group(1)))


def _read_dashed(m: re.Match[str]) -> LonLat:
    raw, g = m.group(0), m.groups()
    lat = _angle(raw, g[0], g[1], g[2], 90)
    lon = _angle(raw, g[4], g[5], g[6], 180)
    return (_signed(lon, g[7]), _signed(lat, g[3]))


def _runs(text: str, points: list[Point]) -> list[list[Point]]:
    runs: list[list[Point]] = []
    for point in points:
        if runs:
            gap = text[runs[-1][-1].end : point.start]
            if _SEP.fullmatch(gap) and not _CLOSE.search(gap):
                runs[-1].append(point)
                continue
        runs.append([point])
    return runs


def _checked(volume: Volume) -> Volume:
    from redline.geo.shapes import check_volume_geometry

    check_volume_geometry(volume)
    return volume


def find_areas(text: str, locate: Locate) -> list[Volume]:
    """The areas written in ``text``, in order; ``locate(offset)`` names where an error is."""
    runs = _runs(text, find_points(text, locate))
    areas: list[Volume] = []
    previous_end = 0
    for i, run in enumerate(runs):
        # Only the words next to a run describe it; the bounds keep the searches linear.
        lead = text[max(previous_end, run[0].start - NEAR) : run[0].start]
        next_start = runs[i + 1][0].start if i + 1 < len(runs) else len(text)
        tail = text[run[-1].end : min(next_start, run[-1].end + NEAR)]
        previous_end = run[-1].end
        try:
            areas.extend(_shape(run, lead, tail))
        except Fault as fault:
            raise Fault(f"{locate(run[0].start)} {run[0].raw!r}", str(fault)) from None
    return areas


def _shape(run: list[Point], lead: str, tail: str) -> list[Volume]:
    coords = [p.lonlat for p in run]
    radius = _RADIUS_BEFORE.search(lead)
    if radius:
        number, unit = (radius.group(1), radius.group(2)) if radius.group(1) else radius.group(3, 4)
        if len(coords) > 1:
            raise Fault("", f"a radius with {len(coords)} points in a row; give one centre per circle")
        return [_checked(CircleVolume(coords[0], _metres(number, unit)))]
    side = _EITHER_SIDE.search(lead)
    if side:
        return [_corridor(coords, _metres(side.group(1), side.group(2)))]
    if _ALONG.search(lead):
        width = _WIDTH_AFTER.match(tail) or _last(_WIDTH_BEFORE, lead)
        if width is None:
            raise Fault("", "a line with no width: add e.g. 'WIDTH 10NM' or use '5NM EITHER SIDE OF LINE'")
        number, unit = (width.group(1), width.group(2)) if width.group(1) else width.group(3, 4)
        return [_corridor(coords, _metres(number, unit) / 2)]
    if len(coords) > 3 and coords[0] == coords[-1]:
        coords = coords[:-1]
    if len(coords) >= 3:
        return [_checked(PolygonVolume(tuple(coords)))]
    after = _RADIUS_AFTER.match(tail)
    if after and len(coords) == 1:
        return [_checked(CircleVolume(coords[0], _metres(after.group(1), after.group(2))))]
    if _BOUNDED.search(lead):
        raise Fault("", f"an area bounded by {len(coords)} point(s); a polygon needs at least 3")
    return []


def _last(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    found = None
    for found in pattern.finditer(text):  # noqa: B007 - the last one is wanted
        pass
    return found


def _corridor(coords: list[LonLat], half_width: float) -> Volume:
    if len(coords) < 2:
        raise Fault("", "a line needs at least 2 points")
    return _checked(CorridorVolume(tuple(coords), half_width))


@dataclass(frozen=True, slots=True)
class Imported:
    """One notice read from a text, with where its geometry came from.

    ``geometry_source``: ``item_e`` (the areas written in a NOTAM's item E), ``q_line`` (a NOTAM
    whose E) defines no area: the Q-line's coarse circle), ``text`` (a navigational warning's
    coordinates) or the format name for GeoJSON and F3548. ``areas`` is the number of volumes;
    ``notes`` say what was approximated (a daily window filed as one notice per day, ...).
    """

    notice: Notice
    geometry_source: str
    areas: int
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.notice.id,
            "geometry_source": self.geometry_source,
            "areas": self.areas,
            "notes": list(self.notes),
        }


_ACTIVITY_WORDS: tuple[tuple[re.Pattern[str], ActivityType], ...] = (
    (
        re.compile(r"\bMISSILE|\bROCKET|\bSPACE\s+(?:LAUNCH|DEBRIS)|\bLAUNCH", re.I),
        ActivityType.MISSILE_LAUNCH,
    ),
    (
        re.compile(
            r"\bGUNNERY|\bGUN\s*FIR|\bFIRING|\bLIVE\s+FIRE|\bFIRING\s+EXERCISE|\bBOMBING|\bDEMOLITION", re.I
        ),
        ActivityType.LIVE_FIRE_EXERCISE,
    ),
    (re.compile(r"\bUAV|\bUAS\b|\bUNMANNED|\bDRONE|\bRPAS?\b", re.I), ActivityType.UAV_OPERATIONS),
    (
        re.compile(r"\bAIR\s+(?:OPS|OPERATIONS|EXERCISE)|\bFLIGHT\s+OPERATIONS|\bAERIAL", re.I),
        ActivityType.AIR_OPERATIONS,
    ),
    (re.compile(r"\bTRANSIT|\bCONVOY|\bTOW(?:ING|S)?\b", re.I), ActivityType.MARITIME_TRANSIT),
)


def activity_from_text(text: str) -> ActivityType:
    """The activity named in a text: missiles and rockets first, then gunfire, UAVs, air, transit."""
    for pattern, activity in _ACTIVITY_WORDS:
        if pattern.search(text):
            return activity
    return ActivityType.OTHER
