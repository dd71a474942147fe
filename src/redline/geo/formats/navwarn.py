"""Navigational warnings (NAVAREA, HYDROPAC/HYDROLANT, coastal warnings) to notices.

A text holds one or more warnings, each starting at a header line such as
``NAVAREA XI 1234/26``, ``HYDROPAC 3456/26(61).`` or ``HAINAN NAV WARNING 0123/26``
(a text without a header is one warning). From each warning:

* the areas: every polygon, circle and corridor written in it (``areas.py``), at least one;
* the time: ``050100Z TO 080900Z DEC 26`` (one window), ``0100Z TO 0900Z DAILY 05 THRU 08 DEC``
  (a daily window: one notice per day, up to ``MAX_DAYS`` days; longer ones become one
  continuous window, and the answer says so), ``0100Z TO 0900Z 05 DEC`` (one day) or
  ``05 THRU 08 DEC`` (whole days). The year is the one written with the date, else the
  header's (``1234/26``), else that of ``CANCEL THIS MSG 080900Z DEC 26``;
* the activity from its words (missile/rocket, gunnery/firing, UAV, air operations, transit);
* heights: ``SFC TO FL300``, ``SURFACE TO 5000FT`` or ``SFC-UNL`` when written; otherwise from
  the surface to ``UNL`` (FL999): a warning to mariners says nothing of the height its
  shells, rockets or aircraft reach, so the whole column above the area is taken.

Every area of a warning is a volume of the same notice (one notice per window).
Errors name the warning, the line and the offending text.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from redline.geo.formats.areas import Imported, activity_from_text, find_areas
from redline.geo.formats.notam import _limit
from redline.geo.model import (
    MAX_TEXT,
    MAX_TITLE,
    AltitudeBand,
    AltitudeLimit,
    AltitudeReference,
    AltitudeUnit,
    Fault,
    Notice,
    TimeWindow,
)

MAX_DAYS = 31
MAX_WINDOWS = 400  # notices from one warning
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MON = r"(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*"
_YEAR = r"(?:\s*(20\d{2}|\d{2})(?![\d:]|\s*(?:Z|UTC)))?"
_HEADER = re.compile(
    r"^[ \t]*((?:NAVAREA\s+[IVXL]+|HYDROPAC|HYDROLANT|HYDROARC|[A-Z][A-Z .]*?"
    r"(?:NAV(?:IGATIONAL)?|COASTAL|NAVTEX|NAVIGATION)\s+WARNINGS?(?:\s+N[OR]\.?)?)\s*(\d{1,4})/(\d{4}|\d{2})\b)",
    re.I | re.MULTILINE,
)
_HHMM = r"(\d{2})(\d{2})\s*(?:Z|UTC)"
_TO = r"\s*(?:TO|THRU|THROUGH|UNTIL|TILL|-)\s*"
_DAYS = rf"(?:FROM\s+)?(\d{{1,2}})(?:\s+{_MON}{_YEAR})?{_TO}(\d{{1,2}})\s+{_MON}{_YEAR}"
_DAILY_A = re.compile(rf"{_HHMM}{_TO}{_HHMM}\s*(?:,\s*)?DAILY\s+{_DAYS}", re.I)
_DAILY_B = re.compile(rf"DAILY\s+{_HHMM}{_TO}{_HHMM}\s*(?:,\s*)?{_DAYS}", re.I)
_DAILY_C = re.compile(rf"{_DAYS}\s*(?:,\s*)?(?:DAILY\s+)?{_HHMM}{_TO}{_HHMM}(?:\s+DAILY)?", re.I)
_DTG = rf"(\d{{2}})(\d{{2}})(\d{{2}})\s*(?:Z|UTC)(?:\s+{_MON}{_YEAR})?"
_SPAN = re.compile(rf"(?:FROM\s+)?{_DTG}{_TO}{_DTG}", re.I)
_ONE_DAY = re.compile(rf"{_HHMM}{_TO}{_HHMM}\s+(?:ON\s+)?(\d{{1,2}})\s+{_MON}{_YEAR}", re.I)
_WHOLE_DAYS = re.compile(_DAYS, re.I)
_CANCEL = re.compile(rf"CANCEL\s+THIS\s+(?:MSG|MESSAGE)\s+{_DTG}", re.I)
_HEIGHTS = re.compile(
    r"(?:SFC|SURFACE|GND|GROUND|SEA\s+LEVEL)\s*(?:-|TO|UP\s+TO)\s*"
    r"(UNL(?:TD|IMITED)?|FL\s*\d{1,3}|\d+(?:\.\d+)?\s*(?:FT|FEET|M|METRES|METERS)(?:\s*(?:AMSL|MSL|AGL))?)",
    re.I,
)

Window = tuple[datetime, datetime]


def split_navwarns(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each warning; a text without a header is one warning."""
    starts = [m.start(1) for m in _HEADER.finditer(text)]
    if not starts:
        return [(1, text)]
    starts[0] = 0  # lines before the first header (a date-time group, routing) belong to it
    return [
        (text.count("\n", 0, a) + 1, text[a:b]) for a, b in zip(starts, [*starts[1:], len(text)], strict=True)
    ]


def parse_navwarns(text: str, *, party: str, new_id: Callable[[], str]) -> list[Imported]:
    found: list[Imported] = []
    for i, (line, part) in enumerate(split_navwarns(text)):
        try:
            found.extend(parse_navwarn(part, party=party, new_id=new_id, first_line=line))
        except Fault as fault:
            raise Fault(f"warning {i + 1}", str(fault)) from None
    return found


def parse_navwarn(text: str, *, party: str, new_id: Callable[[], str], first_line: int = 1) -> list[Imported]:
    """One warning as one notice per time window, every area a volume."""

    breaks = [i for i, ch in enumerate(text) if ch == "\n"]

    def line_of(at: int) -> str:
        return f"line {first_line + bisect.bisect_left(breaks, at)}"

    header = _HEADER.search(text)
    title = " ".join(header.group(1).split()) if header else ""
    default_year = _year(header.group(3)) if header else None
    cancel = _CANCEL.search(text)
    if default_year is None and cancel and cancel.group(5):
        default_year = _year(cancel.group(5))
    body = (
        text if cancel is None else text[: cancel.start()] + " " * len(cancel.group(0)) + text[cancel.end() :]
    )
    volumes = tuple(find_areas(body, line_of))
    if not volumes:
        raise Fault(
            line_of(header.end() if header else 0),
            "no area found: give 3 or more points (e.g. 18-30.00N 111-30.00E, ...), "
            "'WITHIN 5NM OF <point>' or 'nNM EITHER SIDE OF LINE JOINING <points>'",
        )
    windows, notes, phrases = _windows(body, default_year, line_of)
    if not windows and cancel is not None:
        raise Fault(
            line_of(cancel.start()),
            "a cancellation time but no activity window (e.g. 050100Z TO 080900Z DEC 26)",
        )
    if not windows:
        raise Fault(
            line_of(0),
            "no time window found: expected e.g. '050100Z TO 080900Z DEC 26' or "
            "'0100Z TO 0900Z DAILY 05 THRU 08 DEC'",
        )
    heights = _HEIGHTS.search(body)
    lower = AltitudeLimit(0.0, AltitudeUnit.M, AltitudeReference.SFC)
    if heights:
        raw = heights.group(1).upper().replace("FEET", "FT").replace("METRES", "M").replace("METERS", "M")
        upper = _limit(raw, f"{line_of(heights.start())} {heights.group(0)!r}")
    else:
        upper = AltitudeLimit(999.0, AltitudeUnit.FL, AltitudeReference.STD)
        notes.append("no heights given: surface to UNL (FL999)")
    try:
        band = AltitudeBand(lower, upper)
    except Fault as fault:
        raise Fault(line_of(heights.start() if heights else 0), fault.reason) from None
    if len(windows) > MAX_WINDOWS:
        raise Fault(
            line_of(0), f"{len(windows)} time windows; one warning files at most {MAX_WINDOWS} notices"
        )
    if phrases > 1:
        notes.append(f"{phrases} times given: one notice per window, each with every area")
    if len(volumes) > 1:
        notes.append(f"{len(volumes)} areas: each notice has {len(volumes)} volumes")
    activity = activity_from_text(body)
    words = " ".join(text.split())[:MAX_TEXT]
    found = []
    for start, end in windows:
        notice = Notice(
            id=new_id(),
            party=party,
            version=1,
            activity=activity,
            volumes=volumes,
            altitude=band,
            window=TimeWindow(start, end),
            text=words,
            title=title[:MAX_TITLE],
        )
        found.append(Imported(notice, "text", len(volumes), tuple(notes)))
    return found


def _year(text: str | None) -> int | None:
    if not text:
        return None
    value = int(text)
    return value if value >= 100 else 2000 + value


def _month(name: str) -> int:
    return _MONTHS.index(name[:3].upper()) + 1


def _month_before(day: datetime) -> tuple[int, str]:
    return (day.year - 1, "DEC") if day.month == 1 else (day.year, _MONTHS[day.month - 2])


def _date(year: int | None, month: str, day: str, hhmm: tuple[str, str], where: str, raw: str) -> datetime:
    if year is None:
        raise Fault(
            where, f"{raw!r}: no year; write it (DEC 26) or start the warning with its number (1234/26)"
        )
    hour, minute = int(hhmm[0]), int(hhmm[1])
    if hour == 24 and minute == 0:
        return _date(year, month, day, ("00", "00"), where, raw) + timedelta(days=1)
    try:
        return datetime(year, _month(month), int(day), hour, minute, tzinfo=UTC)
    except ValueError as exc:
        raise Fault(where, f"{raw!r}: not a valid date and time ({exc})") from None


def _windows(
    body: str, year: int | None, line_of: Callable[[int], str]
) -> tuple[list[Window], list[str], int]:
    """Every window written in ``body``; each match is blanked so that its parts are not read twice."""
    text = body
    windows: list[Window] = []
    notes: list[str] = []
    phrases = 0

    def blank(m: re.Match[str]) -> None:
        nonlocal text, phrases
        phrases += 1
        text = text[: m.start()] + " " * (m.end() - m.start()) + text[m.end() :]

    for pattern in (_DAILY_A, _DAILY_B, _DAILY_C):
        for m in list(pattern.finditer(text)):
            g = m.groups()
            if pattern is _DAILY_C:
                days, hours = g[:6], g[6:10]
            else:
                hours, days = g[:4], g[4:10]
            where, raw = line_of(m.start()), " ".join(m.group(0).split())
            first_day, first_mon, first_year, last_day, last_mon, last_year = days
            y_last = _year(last_year) or year
            y_first = _year(first_year) or (
                y_last - 1 if y_last and first_mon and _month(first_mon) > _month(last_mon) else y_last
            )
            last = _date(y_last, last_mon, last_day, ("00", "00"), where, raw)
            if first_mon is None and int(first_day) > int(last_day):  # "28 THRU 02 JAN": from December
                y_first, first_mon = _month_before(last)
            first = _date(y_first, first_mon or last_mon, first_day, ("00", "00"), where, raw)
            if last < first:
                raise Fault(where, f"{raw!r}: the last day is before the first")
            on = timedelta(hours=int(hours[0]), minutes=int(hours[1]))
            off = timedelta(hours=int(hours[2]), minutes=int(hours[3]))
            if off <= on:
                off += timedelta(days=1)  # "2200Z TO 0200Z DAILY": each window ends the next day
            count = (last - first).days + 1
            if count > MAX_DAYS:
                windows.append((first + on, last + off))
                notes.append(f"{raw!r}: a daily window over {count} days, filed as one continuous window")
            else:
                windows.extend(
                    (first + timedelta(days=d) + on, first + timedelta(days=d) + off) for d in range(count)
                )
                if count > 1:
                    notes.append(f"{raw!r}: a daily window, filed as one notice per day ({count})")
            blank(m)
    for m in list(_SPAN.finditer(text)):
        g = m.groups()
        where, raw = line_of(m.start()), " ".join(m.group(0).split())
        end_mon, end_year = g[8], _year(g[9]) or year
        start_year = _year(g[4]) or end_year
        start_mon = g[3] or end_mon
        if start_mon is None:
            raise Fault(where, f"{raw!r}: no month (write e.g. 050100Z TO 080900Z DEC 26)")
        start = _date(start_year, start_mon, g[0], (g[1], g[2]), where, raw)
        end = _date(end_year, end_mon or start_mon, g[5], (g[6], g[7]), where, raw)
        if end < start and g[3] is None:  # "302200Z TO 010400Z DEC 26": from November
            start = _date(*_month_before(end), g[0], (g[1], g[2]), where, raw)
        if end < start:
            raise Fault(where, f"{raw!r}: the end is before the start")
        windows.append((start, end))
        blank(m)
    for m in list(_ONE_DAY.finditer(text)):
        where, raw = line_of(m.start()), " ".join(m.group(0).split())
        g = m.groups()
        day = _date(_year(g[6]) or year, g[5], g[4], ("00", "00"), where, raw)
        on = timedelta(hours=int(g[0]), minutes=int(g[1]))
        off = timedelta(hours=int(g[2]), minutes=int(g[3]))
        windows.append((day + on, day + off + (timedelta(days=1) if off <= on else timedelta())))
        blank(m)
    for m in list(_WHOLE_DAYS.finditer(text)):
        where, raw = line_of(m.start()), " ".join(m.group(0).split())
        g = m.groups()
        y_last = _year(g[5]) or year
        first = _date(_year(g[2]) or y_last, g[1] or g[4], g[0], ("00", "00"), where, raw)
        last = _date(y_last, g[4], g[3], ("00", "00"), where, raw)
        if last < first:
            raise Fault(where, f"{raw!r}: the last day is before the first")
        windows.append((first, last + timedelta(days=1)))
        notes.append(f"{raw!r}: no hours given, whole days taken")
        blank(m)
    return windows, notes, phrases
