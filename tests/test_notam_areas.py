"""Areas read from NOTAM item E) and from navigational warnings, against texts written for this test.

Each text below is made up in the shape of real military-exercise NOTAMs and NAVAREA/coastal
warnings (bounded areas, circles, corridors, several areas, daily windows), with the volumes,
heights, windows and activity it must give. The Q-line circle is used only when E) has no area.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redline.errors import InputError
from redline.geo import CircleVolume, CorridorVolume, PolygonVolume
from redline.geo.formats.areas import Imported
from redline.geo.formats.navwarn import parse_navwarns
from redline.geo.formats.notam import read_notam

NM = 1852.0


def dm(deg: float, minutes: float = 0.0, seconds: float = 0.0) -> float:
    sign = -1 if deg < 0 else 1
    return sign * (abs(deg) + minutes / 60 + seconds / 3600)


def t(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Case:
    name: str
    fmt: str
    text: str
    volumes: list[Any]
    band: tuple[tuple[float, str, str], tuple[float, str, str]]
    windows: list[tuple[datetime, datetime]]
    activity: str
    source: str
    notes: list[str] = field(default_factory=list)


SFC = (0.0, "M", "SFC")
UNL = (999.0, "FL", "STD")
ISSUE_RING = [
    (dm(111, 30), dm(18, 30)),
    (dm(112), dm(18, 45)),
    (dm(112, 15), dm(18)),
    (dm(111, 20), dm(17, 50)),
]

CASES = [
    Case(
        "issue-bounded-area",
        "notam",
        """A0417/26 NOTAMN
Q) ZJSA/QRDCA/IV/BO/W/000/350/1830N11130E025
A) ZJSA B) 2612050100 C) 2612080900
E) MILITARY EXERCISE WI AREA BOUNDED BY: N183000E1113000-N184500E1120000-N180000E1121500-
N175000E1112000 BACK TO START.
F) SFC G) FL350
""",
        [PolygonVolume(tuple(ISSUE_RING))],
        (SFC, (350.0, "FL", "STD")),
        [(t(5, 1), t(8, 9))],
        "other",
        "item_e",
    ),
    Case(
        "circle-radius-of",
        "notam",
        """B0212/26 NOTAMN
Q) RJJJ/QWMLW/IV/BO/W/000/050/3500N13900E012
A) RJJJ B) 2612100000 C) 2612101200 EST
E) GUN FIRING WI 10NM RADIUS OF 3500N13900E.
F) GND G) 5000FT AMSL
""",
        [CircleVolume((139.0, 35.0), 10 * NM)],
        (SFC, (5000.0, "FT", "MSL")),
        [(t(10, 0), t(10, 12))],
        "live_fire_exercise",
        "item_e",
    ),
    Case(
        "two-lettered-areas-seconds-closing-repeat",
        "notam",
        """C1001/26 NOTAMN
Q) ZGZU/QRTCA/IV/BO/W/000/200/2130N11430E030
A) ZGZU B) 2612150000 C) 2612152359
E) TEMPORARY RESTRICTED AREAS ACTIVATED FOR MIL EXER:
AREA A: 212010N 1141520E - 213005N 1143000E - 211500N 1143530E - 212010N 1141520E.
AREA B: 214500N 1144000E - 215030N 1145010E - 214000N 1145500E.
F) SFC G) FL200
""",
        [
            PolygonVolume(
                (
                    (dm(114, 15, 20), dm(21, 20, 10)),
                    (dm(114, 30), dm(21, 30, 5)),
                    (dm(114, 35, 30), dm(21, 15)),
                )
            ),
            PolygonVolume(
                ((dm(114, 40), dm(21, 45)), (dm(114, 50, 10), dm(21, 50, 30)), (dm(114, 55), dm(21, 40)))
            ),
        ],
        (SFC, (200.0, "FL", "STD")),
        [(t(15, 0), t(15, 23, 59))],
        "other",
        "item_e",
        ["item E) holds 2 areas: one notice with 2 volumes"],
    ),
    Case(
        "numbered-circle-km-and-polygon-point-of-origin",
        "notam",
        """A2290/26 NOTAMN
Q) ZBPE/QWMLW/IV/BO/W/000/100/3930N11740E020
A) ZBPE B) 2612200600 C) 2612201000
E) LIVE FIRING WILL TAKE PLACE IN THE FLW AREAS:
1. WI 5KM RADIUS CENTERED ON 393000N1174000E.
2. 3945N11750E TO 3950N11800E TO 3940N11805E TO POINT OF ORIGIN.
F) SFC G) 10000FT AMSL
""",
        [
            CircleVolume((dm(117, 40), dm(39, 30)), 5000.0),
            PolygonVolume(((dm(117, 50), dm(39, 45)), (dm(118), dm(39, 50)), (dm(118, 5), dm(39, 40)))),
        ],
        (SFC, (10000.0, "FT", "MSL")),
        [(t(20, 6), t(20, 10))],
        "live_fire_exercise",
        "item_e",
        ["item E) holds 2 areas: one notice with 2 volumes"],
    ),
    Case(
        "corridor-either-side",
        "notam",
        """A3111/26 NOTAMN
Q) ZSHA/QRTCA/IV/BO/W/100/250/3035N12300E040
A) ZSHA B) 2612220000 C) 2612220400
E) MIL ACFT TRANSIT 5NM EITHER SIDE OF LINE JOINING 3010N12200E-3030N12300E-3100N12400E.
F) FL100 G) FL250
""",
        [CorridorVolume(((122.0, dm(30, 10)), (123.0, dm(30, 30)), (124.0, 31.0)), 5 * NM)],
        ((100.0, "FL", "STD"), (250.0, "FL", "STD")),
        [(t(22, 0), t(22, 4))],
        "maritime_transit",  # "TRANSIT" in E); the Q-code RT.. says nothing of the activity
        "item_e",
    ),
    Case(
        "corridor-along-line-width",
        "notam",
        """A3120/26 NOTAMN
Q) ZSHA/QWULW/IV/BO/W/000/999/3100N12130E015
A) ZSHA B) 2612230100 C) 2612230500
E) UAS OPS ALONG LINE JOINING N310000E1211500 - N310500E1214500 WIDTH 4NM.
F) 1500FT AGL G) UNL
""",
        [CorridorVolume(((dm(121, 15), 31.0), (dm(121, 45), dm(31, 5))), 2 * NM)],
        ((1500.0, "FT", "SFC"), UNL),
        [(t(23, 1), t(23, 5))],
        "uav_operations",
        "item_e",
    ),
    Case(
        "decimals-and-southern-western-hemispheres",
        "notam",
        """A0099/26 NOTAMN
Q) SCEZ/QRDCA/IV/BO/W/000/150/3330S07045W010
A) SCEZ B) 2612011200 C) 2612011800
E) DANGER AREA ACT: 333000.50S0704000.25W - 3335.5S07050.5W - 334000S0704500W.
F) SFC G) FL150
""",
        [
            PolygonVolume(
                (
                    (-dm(70, 40, 0.25), -dm(33, 30, 0.5)),
                    (-dm(70, 50.5), -dm(33, 35.5)),
                    (-dm(70, 45), -dm(33, 40)),
                )
            )
        ],
        (SFC, (150.0, "FL", "STD")),
        [(t(1, 12), t(1, 18))],
        "other",
        "item_e",
    ),
    Case(
        "no-area-in-e-uses-q-line",
        "notam",
        """A0500/26 NOTAMN
Q) ZJSA/QRDCA/IV/BO/W/000/350/1830N11130E025
A) ZJSA B) 2612050100 C) 2612080900
E) AIRSPACE RESERVED FOR MILITARY EXERCISE. ACFT AVOID.
""",
        [CircleVolume((111.5, 18.5), 25 * NM)],
        (SFC_FL := ((0.0, "FL", "STD"), (350.0, "FL", "STD"))),
        [(t(5, 1), t(8, 9))],
        "other",
        "q_line",
    ),
    Case(
        "reference-point-only-uses-q-line",
        "notam",
        """A0501/26 NOTAMN
Q) ZBPE/QWULW/IV/BO/W/000/010/4004N11635E003
A) ZBPE B) 2612110000 C) 2612110600
E) UAV OPS WITHIN AERODROME BOUNDARY, ARP 400400N1163500E.
F) SFC G) 1000FT AGL
""",
        [CircleVolume((dm(116, 35), dm(40, 4)), 3 * NM)],
        (SFC, (1000.0, "FT", "SFC")),
        [(t(11, 0), t(11, 6))],
        "uav_operations",
        "q_line",
    ),
    Case(
        "radius-in-metres",
        "notam",
        """A0777/26 NOTAMN
Q) ZBPE/QWULW/IV/BO/W/000/005/3945N11620E001
A) ZBPE B) 2612120800 C) 2612121000
E) UNMANNED ACFT OPS RADIUS 500M CENTRED ON 394512N1162030E.
F) SFC G) 150M AGL
""",
        [CircleVolume((dm(116, 20, 30), dm(39, 45, 12)), 500.0)],
        (SFC, (150.0, "M", "SFC")),
        [(t(12, 8), t(12, 10))],
        "uav_operations",
        "item_e",
    ),
    Case(
        "schedule-in-item-d-prefix-minutes",
        "notam",
        """A0910/26 NOTAMN
Q) ZSHA/QWMLW/IV/BO/W/000/080/3000N12200E005
A) ZSHA B) 2612140100 C) 2612160900
D) DAILY 0100-0900
E) FIRING WI 3NM RADIUS CENTRED ON N3000 E12200.
F) SFC G) FL080
""",
        [CircleVolume((122.0, 30.0), 3 * NM)],
        (SFC, (80.0, "FL", "STD")),
        [(t(14, 1), t(16, 9))],
        "live_fire_exercise",
        "item_e",
        ["item D) 'DAILY 0100-0900' not applied: the whole B) to C) window is taken"],
    ),
    Case(
        "navarea-two-windows-one-area",
        "navwarn",
        """NAVAREA XI 1402/26
YELLOW SEA.
SUBMARINE EXERCISES WITHIN 5NM OF 36-00.0N 123-00.0E:
A. 050100Z TO 050500Z DEC 26.
B. 060100Z TO 060500Z DEC 26.
""",
        [CircleVolume((123.0, 36.0), 5 * NM)],
        (SFC, UNL),
        [(t(5, 1), t(5, 5)), (t(6, 1), t(6, 5))],
        "other",
        "text",
        [
            "no heights given: surface to UNL (FL999)",
            "2 times given: one notice per window, each with every area",
        ],
    ),
    Case(
        "navarea-daily-window",
        "navwarn",
        """NAVAREA XI 1234/26
SOUTH CHINA SEA.
1. GUNNERY EXERCISES AND MISSILE FIRING 0100Z TO 0900Z DAILY 05 THRU 08 DEC
   IN AREA BOUNDED BY 18-30.00N 111-30.00E, 18-45.00N 112-00.00E,
   18-00.00N 112-15.00E, 17-50.00N 111-20.00E.
2. CANCEL THIS MSG 080900Z DEC 26.
""",
        [PolygonVolume(tuple(ISSUE_RING))],
        (SFC, UNL),
        [(t(d, 1), t(d, 9)) for d in (5, 6, 7, 8)],
        "missile_launch",
        "text",
        [
            "'0100Z TO 0900Z DAILY 05 THRU 08 DEC': a daily window, filed as one notice per day (4)",
            "no heights given: surface to UNL (FL999)",
        ],
    ),
    Case(
        "hydropac-circle-span-heights",
        "navwarn",
        """HYDROPAC 3456/26(81).
JAPAN.
HONSHU.
DNC 13.
1. ROCKET LAUNCHING 050100Z TO 071500Z DEC 26
   WITHIN 2 MILES OF 35-00.00N 139-00.00E, SFC TO FL600.
2. CANCEL THIS MSG 071600Z DEC 26.
""",
        [CircleVolume((139.0, 35.0), 2 * NM)],
        (SFC, (600.0, "FL", "STD")),
        [(t(5, 1), t(7, 15))],
        "missile_launch",
        "text",
    ),
    Case(
        "coastal-two-areas-one-day",
        "navwarn",
        """HAINAN NAV WARNING 0123/26
LIVE FIRING 1200Z TO 1600Z 10 DEC 26 IN AREAS BOUNDED BY:
A. 19-10N 108-30E, 19-20N 108-30E, 19-20N 108-40E, 19-10N 108-40E.
B. 19-30.5N 108-45.5E, 19-40.5N 108-45.5E, 19-35.0N 108-55.0E.
VESSELS ARE ADVISED TO KEEP CLEAR.
""",
        [
            PolygonVolume(
                (
                    (dm(108, 30), dm(19, 10)),
                    (dm(108, 30), dm(19, 20)),
                    (dm(108, 40), dm(19, 20)),
                    (dm(108, 40), dm(19, 10)),
                )
            ),
            PolygonVolume(
                ((dm(108, 45.5), dm(19, 30.5)), (dm(108, 45.5), dm(19, 40.5)), (dm(108, 55), dm(19, 35)))
            ),
        ],
        (SFC, UNL),
        [(t(10, 12), t(10, 16))],
        "live_fire_exercise",
        "text",
        ["no heights given: surface to UNL (FL999)", "2 areas: each notice has 2 volumes"],
    ),
    Case(
        "coastal-corridor-whole-days",
        "navwarn",
        """GUANGDONG NAV WARNING 0456/26
TOWING OPERATIONS 12 THRU 14 DEC 26
3 NM EITHER SIDE OF A LINE JOINING 20-10.0N 110-15.0E, 20-40.0N 110-45.0E, 21-00.0N 111-00.0E.
""",
        [CorridorVolume(((dm(110, 15), dm(20, 10)), (dm(110, 45), dm(20, 40)), (111.0, 21.0)), 3 * NM)],
        (SFC, UNL),
        [(t(12, 0), t(15, 0))],
        "maritime_transit",
        "text",
        ["'12 THRU 14 DEC 26': no hours given, whole days taken", "no heights given: surface to UNL (FL999)"],
    ),
    Case(
        "navarea-month-wrap-dms-points",
        "navwarn",
        """NAVAREA XI 1300/26
EAST CHINA SEA.
MILITARY EXERCISES 302200Z TO 010400Z DEC 26 IN AREA
30-10-30N 124-05-15E, 30-20-00N 124-30-00E, 30-00-45N 124-40-00E.
SURFACE TO 3000 FT.
""",
        [
            PolygonVolume(
                ((dm(124, 5, 15), dm(30, 10, 30)), (dm(124, 30), dm(30, 20)), (dm(124, 40), dm(30, 0, 45)))
            )
        ],
        (SFC, (3000.0, "FT", "MSL")),
        [(t(30, 22, month=11), t(1, 4))],
        "other",
        "text",
    ),
]


NAVAREA = next(i for i, c in enumerate(CASES) if c.name == "navarea-daily-window")


def _read(case: Case) -> list[Imported]:
    if case.fmt == "notam":
        return [read_notam(case.text, notice_id="n1", party="beijing")]
    ids = (f"n{i}" for i in itertools.count(1))
    return parse_navwarns(case.text, party="beijing", new_id=lambda: next(ids))


def _same_volume(got: Any, want: Any) -> None:
    assert type(got) is type(want)
    if isinstance(want, CircleVolume):
        assert got.centre == pytest.approx(want.centre, abs=1e-6)
        assert got.radius_m == pytest.approx(want.radius_m, abs=1e-6)
    elif isinstance(want, PolygonVolume):
        assert len(got.ring) == len(want.ring)
        for a, b in zip(got.ring, want.ring, strict=True):
            assert a == pytest.approx(b, abs=1e-6)
    else:
        assert len(got.path) == len(want.path)
        for a, b in zip(got.path, want.path, strict=True):
            assert a == pytest.approx(b, abs=1e-6)
        assert got.half_width_m == pytest.approx(want.half_width_m, abs=1e-6)


def test_the_collection_is_large_enough() -> None:
    assert len(CASES) >= 12
    assert {c.source for c in CASES} == {"item_e", "q_line", "text"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_text_gives_its_volumes(case: Case) -> None:
    imported = _read(case)
    assert [(i.notice.window.start, i.notice.window.end) for i in imported] == case.windows
    for item in imported:
        notice = item.notice
        assert item.geometry_source == case.source
        assert item.areas == len(case.volumes) == len(notice.volumes)
        for got, want in zip(notice.volumes, case.volumes, strict=True):
            _same_volume(got, want)
        band = tuple(
            (lim.value, lim.unit.value, lim.reference.value)
            for lim in (notice.altitude.lower, notice.altitude.upper)
        )
        assert band == case.band
        assert notice.activity.value == case.activity
        assert list(item.notes) == case.notes


@pytest.mark.parametrize(
    ("words", "volume"),
    [
        ("A CIRCLE RADIUS 5NM CENTRE 3500N13900E", CircleVolume((139.0, 35.0), 5 * NM)),
        ("WITHIN A RADIUS OF 10NM FROM 3500N13900E", CircleVolume((139.0, 35.0), 10 * NM)),
        ("WI 2NM RADIUS CENTRED ON PSN 3500N13900E", CircleVolume((139.0, 35.0), 2 * NM)),
        ("PSN 350030N1390030E RADIUS 1.5KM", CircleVolume((dm(139, 0, 30), dm(35, 0, 30)), 1500.0)),
        ("IN AREA WITHIN 1.5 MILES RADIUS OF 35-00N 139-00E", CircleVolume((139.0, 35.0), 1.5 * NM)),
        (
            "10NM WIDE CORRIDOR ALONG LINE JOINING 3500N13900E 3600N14000E",
            CorridorVolume(((139.0, 35.0), (140.0, 36.0)), 5 * NM),
        ),
        (
            "AREA BOUNDED BY LINES JOINING 350000N1390000E 360000N1400000E 350000N1400000E",
            PolygonVolume(((139.0, 35.0), (140.0, 36.0), (140.0, 35.0))),
        ),
        (
            "WI AN AREA BOUNDED BY 3500N13900E, 3600N14000E, 3500N14000E AND 3500N13900E",
            PolygonVolume(((139.0, 35.0), (140.0, 36.0), (140.0, 35.0))),
        ),
    ],
)
def test_other_phrasings_of_an_area(words: str, volume: Any) -> None:
    text = CASES[0].text.replace(CASES[0].text.split("E) ")[1].split("\nF)")[0], words)
    imported = read_notam(text, notice_id="n1", party="beijing")
    assert imported.geometry_source == "item_e" and len(imported.notice.volumes) == 1
    _same_volume(imported.notice.volumes[0], volume)


def test_a_lone_position_is_not_an_area_but_a_radius_needs_one_centre() -> None:
    crane = CASES[0].text.replace("WI AREA BOUNDED BY:", "CRANE PSN 1830N11130E. WI AREA BOUNDED BY:")
    assert len(read_notam(crane, notice_id="n1", party="beijing").notice.volumes) == 1
    two = CASES[0].text.replace("WI AREA BOUNDED BY:", "WI 5NM RADIUS OF 1830N11130E 1900N11200E.")
    with pytest.raises(InputError, match=r"E\) '1830N11130E': a radius with 2 points in a row"):
        read_notam(two, notice_id="n1", party="beijing")


def test_q_line_only_when_e_has_no_area() -> None:
    """The same NOTAM with and without its bounded area: the Q-line circle comes back only without."""
    with_area = CASES[0].text
    without = with_area.replace(
        "WI AREA BOUNDED BY: N183000E1113000-N184500E1120000-N180000E1121500-\nN175000E1112000 BACK TO START",
        "IN THE AREA OF SANYA",
    )
    assert read_notam(with_area, notice_id="n1", party="beijing").geometry_source == "item_e"
    fallback = read_notam(without, notice_id="n1", party="beijing")
    assert fallback.geometry_source == "q_line"
    assert fallback.notice.volumes == (CircleVolume((111.5, 18.5), 25 * NM),)


@pytest.mark.parametrize(
    ("fmt", "change", "message"),
    [
        (
            "notam",
            ("N184500E1120000", "N187500E1120000"),
            "E): 'N187500E1120000': minutes and seconds must be under 60",
        ),
        ("notam", ("N184500E1120000", "N184500E1920000"), "beyond 180"),
        (
            "notam",
            (
                "N183000E1113000-N184500E1120000-N180000E1121500-\nN175000E1112000",
                "N183000E1113000-N184500E1120000",
            ),
            "E) 'N183000E1113000': an area bounded by 2 point(s); a polygon needs at least 3",
        ),
        (
            "notam",
            (
                "N183000E1113000-N184500E1120000-N180000E1121500-\nN175000E1112000",
                "N183000E1113000-N180000E1121500-N184500E1120000-N175000E1112000",
            ),
            "the ring intersects itself",
        ),
        ("notam", ("WI AREA BOUNDED BY:", "ALONG LINE JOINING"), "a line with no width"),
        (
            "navwarn",
            ("18-45.00N 112-00.00E", "18-45.00N 112-61.00E"),
            "warning 1: line 4: '18-45.00N 112-61.00E': minutes",
        ),
        (
            "navwarn",
            ("0100Z TO 0900Z DAILY 05 THRU 08 DEC", "DAILY"),
            "line 6: a cancellation time but no activity",
        ),
        ("navwarn", ("05 THRU 08 DEC", "08 DEC THRU 05 DEC"), "the last day is before the first"),
        ("navwarn", ("NAVAREA XI 1234/26", "NAVAREA XI"), None),
    ],
)
def test_errors_say_what_and_where(fmt: str, change: tuple[str, str], message: str | None) -> None:
    case = CASES[0] if fmt == "notam" else CASES[NAVAREA]
    text = case.text.replace(*change)
    assert text != case.text
    if message is None:  # no header and no year on the cancellation: the dates have no year
        text = text.replace("080900Z DEC 26", "080900Z DEC")
        message = "no year"
    with pytest.raises(InputError) as caught:
        _read(Case(case.name, fmt, text, [], case.band, [], "", ""))
    assert message in caught.value.message, caught.value.message


def test_a_warning_without_time_or_area_is_refused() -> None:
    text = (
        CASES[NAVAREA].text.replace("0100Z TO 0900Z DAILY 05 THRU 08 DEC", "").replace("CANCEL THIS MSG", "")
    )
    with pytest.raises(InputError, match="warning 1: line 1: no time window found"):
        parse_navwarns(text, party="beijing", new_id=lambda: "n1")
    text = CASES[NAVAREA + 1].text.replace("WITHIN 2 MILES OF 35-00.00N 139-00.00E", "OFF NOJIMA ZAKI")
    with pytest.raises(InputError, match="warning 1: line 1: no area found"):
        parse_navwarns(text, party="beijing", new_id=lambda: "n1")


def test_large_inputs_stay_fast_and_bounded() -> None:
    """Long runs of digits or points are read in linear time; a warning files at most 400 notices."""
    digits = CASES[0].text.replace("MILITARY EXERCISE", "1" * 200_000)
    assert read_notam(digits, notice_id="n1", party="beijing").geometry_source == "item_e"
    many = "NAVAREA XI 0001/26\nWITHIN 2NM OF 18-30N 111-30E\n" + "0100Z TO 0900Z DAILY 01 THRU 31 DEC\n" * 20
    with pytest.raises(InputError, match="620 time windows; one warning files at most 400 notices"):
        parse_navwarns(many, party="beijing", new_id=lambda: "n1")


def test_several_warnings_in_one_text_and_their_numbers() -> None:
    text = CASES[NAVAREA + 1].text + "\n" + CASES[NAVAREA + 2].text
    imported = parse_navwarns(text, party="beijing", new_id=iter(["a", "b"]).__next__)
    assert [i.notice.title for i in imported] == ["HYDROPAC 3456/26", "HAINAN NAV WARNING 0123/26"]
    broken = text.replace("19-30.5N", "19-90.5N")
    with pytest.raises(InputError, match=r"warning 2: line 12: '19-90.5N 108-45.5E': minutes"):
        parse_navwarns(broken, party="beijing", new_id=iter(["a", "b"]).__next__)


FRAGMENTS = [
    "WI", "AREA", "BOUNDED BY:", "BACK TO START", "TO POINT OF ORIGIN", "RADIUS", "10NM", "5KM", "500M",
    "CENTRED ON", "OF", "EITHER SIDE OF LINE JOINING", "ALONG LINE JOINING", "WIDTH", "-", ",", ".",
    "N183000E1113000", "183000N1113000E", "1830N11130E", "18-30.00N 111-30.00E", "99-99.99N 999-99.99E",
    "N9999E99999", "0100Z TO 0900Z", "DAILY", "05 THRU 08 DEC", "050100Z TO 080900Z DEC 26", "DEC", "26",
    "CANCEL THIS MSG 080900Z DEC 26", "SFC TO FL600", "SURFACE TO 99999999999999 FT", "AREA A:", "1.", "2.",
    "0000Z TO 2400Z 31 FEB", "29 THRU 02 JAN",
]  # fmt: skip


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=12), max_size=30), st.booleans())
def test_no_text_crashes_the_parsers(words: list[str], notam: bool) -> None:
    body = " ".join(words)
    try:
        if notam:
            read_notam(
                f"A0001/26 NOTAMN\nQ) ZJSA/QRDCA/IV/BO/W/000/350/1830N11130E025\n"
                f"A) ZJSA B) 2612050100 C) 2612080900\nE) {body}\nF) SFC G) UNL\n",
                notice_id="n1",
                party="beijing",
            )
        else:
            ids = (f"n{i}" for i in itertools.count())
            parse_navwarns(f"NAVAREA XI 0001/26\n{body}", party="beijing", new_id=lambda: next(ids))
    except InputError:
        pass
