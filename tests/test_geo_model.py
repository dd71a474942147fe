"""Notices: the JSON dict round trip and one test per validation fault, each naming its field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.errors import InputError
from redline.geo import AltitudeLimit, AltitudeReference, AltitudeUnit, parse_notice


def notice_dict(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "0123456789abcdef0123456789abcdef",
        "party": "washington",
        "version": 1,
        "activity": "air_operations",
        "volumes": [
            {"polygon": [[179.5, 10.0], [-179.5, 10.0], [-179.5, 11.0], [179.5, 11.0]]},
            {"circle": {"centre": [0.0, 89.9], "radius_m": 50_000.0}},
            {"corridor": {"path": [[0.0, 0.0], [1.0, 1.0], [2.0, 1.0]], "half_width_m": 1852.0}},
        ],
        "altitude": {
            "lower": {"value": 0, "unit": "M", "reference": "SFC"},
            "upper": {"value": 120, "unit": "FL", "reference": "STD"},
        },
        "window": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T06:00:00Z"},
        "priority": 2,
        "buffers": {"horizontal_m": 5000, "vertical_m": 300, "time_s": 900},
        "state": "active",
        "text": "Exercise BLUE FALCON",
    }
    base.update(changes)
    return base


def test_round_trip_through_the_dict() -> None:
    notice = parse_notice(notice_dict())
    assert parse_notice(notice.to_json()) == notice
    assert notice.altitude.upper.metres == pytest.approx(120 * 100 * 0.3048)
    assert notice.is_live


def test_permanent_notice_has_no_end() -> None:
    notice = parse_notice(notice_dict(window={"start": "2026-01-01T00:00:00Z", "permanent": True}))
    assert notice.window.end is None
    assert parse_notice(notice.to_json()) == notice


def test_a_closing_vertex_is_dropped() -> None:
    ring = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
    notice = parse_notice(notice_dict(volumes=[{"polygon": ring}]))
    assert len(notice.volumes[0].ring) == 3  # type: ignore[union-attr]


def test_altitude_units_normalise_to_metres() -> None:
    assert AltitudeLimit(1000, AltitudeUnit.FT, AltitudeReference.MSL).metres == pytest.approx(304.8)
    assert AltitudeLimit(50, AltitudeUnit.FL, AltitudeReference.STD).metres == pytest.approx(1524.0)
    assert AltitudeLimit(250, AltitudeUnit.M, AltitudeReference.W84).metres == 250


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    obj = notice_dict()
    target: Any = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return obj


BIG_RING = [[(i % 100) * 0.001, (i // 100) * 0.001 + (i % 2) * 0.0001] for i in range(10_001)]

FAULTS = [
    (
        ["volumes"],
        [{"polygon": [[0, 0], [1, 1], [1, 0], [0, 1]]}],
        "volumes[0].polygon: the ring intersects itself",
    ),
    (["volumes"], [{"polygon": [[0, 0], [0.01, 0]] * 5001}], "volumes[0].polygon: 10002 points is more than"),
    (["volumes"], [{"polygon": [[0, 0], [1, 0]]}], "volumes[0].polygon: a polygon needs at least 3"),
    (["volumes"], [{"polygon": [[0, 0], [1, 0], [1, 0], [0, 1]]}], "volumes[0].polygon[2]: repeats"),
    (["volumes"], [{"polygon": [[0, 0], [181, 0], [1, 1]]}], "volumes[0].polygon[1]: longitude 181.0"),
    (["volumes"], [{"polygon": [[0, 0], [1, 91], [1, 1]]}], "volumes[0].polygon[1]: latitude 91.0"),
    (["volumes"], [{"polygon": [[0, 0], [1, float("nan")], [1, 1]]}], "volumes[0].polygon[1]: nan is not"),
    (["volumes"], [{"circle": {"centre": [0, 0], "radius_m": 0}}], "volumes[0].circle.radius_m: the radius"),
    (["volumes"], [{"circle": {"centre": [0, 0], "radius_m": -5}}], "volumes[0].circle.radius_m"),
    (["volumes"], [{"circle": {"centre": [0, 0], "radius_m": float("inf")}}], "volumes[0].circle.radius_m"),
    (["volumes"], [{"circle": {"centre": [0, 0], "radius_m": 6e6}}], "volumes[0].circle.radius_m: 6000000"),
    (["volumes"], [{"circle": {"centre": [0, 0]}}], "volumes[0].circle.radius_m: missing"),
    (
        ["volumes"],
        [{"corridor": {"path": [[0, 0]], "half_width_m": 5}}],
        "volumes[0].corridor.path: a corridor",
    ),
    (["volumes"], [{"corridor": {"path": [[0, 0], [1, 1]], "half_width_m": 0}}], "corridor.half_width_m"),
    (["volumes"], [{"square": []}], "volumes[0]: unknown field(s) square"),
    (["volumes"], [], "volumes: expected a non-empty list"),
    (["volumes"], [{"polygon": [[-60, -30], [60, -30], [0, 60]]}], "volumes[0].polygon: reaches more than"),
    (["window", "end"], "2025-12-31T00:00:00Z", "window.end: 2025-12-31T00:00:00+00:00 is before the start"),
    (["window", "end"], None, "window.end: missing; give an end time or set permanent true"),
    (["window", "start"], "2026-01-01 00:00", "window.start: expected a UTC timestamp"),
    (["altitude", "lower", "unit"], "YD", "altitude.lower.unit: 'YD' is not one of M, FT, FL"),
    (["altitude", "lower", "reference"], "AGL", "altitude.lower.reference: 'AGL' is not one of"),
    (["altitude", "lower", "value"], 20000, "altitude.lower: the lower limit (20000.0 m) is above"),
    (["altitude", "lower", "value"], float("inf"), "altitude.lower.value: inf is not a finite number"),
    (["altitude", "upper", "reference"], "MSL", "altitude.upper.reference: flight levels"),
    (["buffers", "time_s"], -1, "buffers.time_s: a buffer cannot be negative"),
    (["activity"], "picnic", "activity: 'picnic' is not one of"),
    (["state"], "pending", "state: 'pending' is not one of"),
    (["version"], 0, "version: 0 is not a version number"),
    (["party"], "Washington DC", "party: 'Washington DC' is not a station id"),
    (["id"], "", "id: '' is not a notice id"),
    (["extra"], 1, "unknown field(s) extra"),
]


@pytest.mark.parametrize(
    ("path", "value", "message"), FAULTS, ids=[f[2].split(":")[0] + str(i) for i, f in enumerate(FAULTS)]
)
def test_each_fault_names_its_field(path: list[Any], value: Any, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_notice(_with(path, value))
    assert message in caught.value.message


def test_not_an_object() -> None:
    with pytest.raises(InputError, match="expected an object"):
        parse_notice([1, 2])


def test_more_than_ten_thousand_vertices() -> None:
    with pytest.raises(InputError, match=r"volumes\[0\]\.polygon: 10001 vertices is more than the limit"):
        parse_notice(notice_dict(volumes=[{"polygon": BIG_RING}]))


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=60, deadline=None)
@given(
    lon=st.floats(-180, 180),
    lat=st.floats(-89, 89),
    radius=st.floats(1, 1e6),
    lower=st.floats(-500, 1e4),
    thick=st.floats(0, 1e4),
    buf=st.floats(0, 1e5),
)
def test_round_trip_property(
    lon: float, lat: float, radius: float, lower: float, thick: float, buf: float
) -> None:
    obj = notice_dict(
        volumes=[{"circle": {"centre": [lon, lat], "radius_m": radius}}],
        altitude={
            "lower": {"value": lower, "unit": "FT", "reference": "MSL"},
            "upper": {"value": lower + thick, "unit": "FT", "reference": "MSL"},
        },
        buffers={"horizontal_m": buf, "vertical_m": buf, "time_s": buf},
    )
    notice = parse_notice(copy.deepcopy(obj))
    assert parse_notice(notice.to_json()) == notice
