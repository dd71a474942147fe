"""NOTAM, GeoJSON and F3548 import/export: round trips within stated tolerances, and parse errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from redline.errors import InputError
from redline.geo import CircleVolume, PolygonVolume, parse_notice
from redline.geo.formats.f3548 import from_volume4d, to_volume4d
from redline.geo.formats.geojson import from_geojson, to_geojson
from redline.geo.formats.notam import parse_notam, to_notam
from tests.test_geo_model import notice_dict

SAMPLE = """A1234/26 NOTAMN
Q) ZBPE/QWMLW/IV/BO/W/000/120/4000N11600E005
A) ZBPE B) 2603011000 C) 2603011200 EST
E) LIVE FIRING. 2NM RADIUS CENTRED ON 483052N0092008E.
F) SFC G) FL120
"""


def test_notam_circle_from_item_e() -> None:
    n = parse_notam(SAMPLE, notice_id="n1", party="beijing")
    assert n.volumes[0] == CircleVolume((9 + 20 / 60 + 8 / 3600, 48 + 30 / 60 + 52 / 3600), 2 * 1852.0)
    assert n.activity.value == "live_fire_exercise"
    assert n.window.start == datetime(2026, 3, 1, 10, 0, tzinfo=UTC) and n.window.estimated_end
    assert n.altitude.lower.metres == 0 and n.altitude.upper.metres == pytest.approx(3657.6)


def test_notam_polygon_and_q_line_fallback() -> None:
    poly = SAMPLE.replace(
        "2NM RADIUS CENTRED ON 483052N0092008E", "PSN 4000N11600E - 4010N11610E - 4000N11620E"
    )
    n = parse_notam(poly, notice_id="n1", party="beijing")
    assert isinstance(n.volumes[0], PolygonVolume) and len(n.volumes[0].ring) == 3
    bare = SAMPLE.replace("2NM RADIUS CENTRED ON 483052N0092008E", "GUNFIRE").replace("F) SFC G) FL120\n", "")
    n = parse_notam(bare, notice_id="n1", party="beijing")
    assert n.volumes[0] == CircleVolume((116.0, 40.0), 5 * 1852.0)
    assert n.altitude.upper.metres == pytest.approx(120 * 30.48)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("Q) ZBPE/QWMLW/IV/BO/W/000/120/4000N11600E005", "Q) ZBPE/QWMLW"), "Q): expected 8 fields"),
        (("4000N11600E005", "4000X11600E005"), None),
        (("B) 2603011000", "B) 26030110"), "B): '26030110' is not a time"),
        (("C) 2603011200 EST", "C) 2602011200"), "C): 2026-02-01T12:00:00+00:00 is before the start"),
        (("G) FL120", "G) HIGH"), "G): 'HIGH' is not a limit"),
        (("F) SFC", "F) FL200"), "F): the lower limit"),
        (("G) FL120", "G) FL120 G) FL130"), "item G) appears twice"),
    ],
)
def test_notam_errors_name_the_item(change: tuple[str, str], message: str | None) -> None:
    text = SAMPLE.replace(*change)
    if message is None:  # the Q-line area is only needed without an area in E)
        text = text.replace("2NM RADIUS CENTRED ON 483052N0092008E", "")
        message = "Q) area: '4000X11600E005' is not like"
    with pytest.raises(InputError) as caught:
        parse_notam(text, notice_id="n1", party="beijing")
    assert message in caught.value.message


def test_notam_round_trip_within_a_second_of_arc_and_a_minute() -> None:
    source = parse_notice(
        notice_dict(volumes=[{"circle": {"centre": [-179.5125, -33.25], "radius_m": 9260.0}}], text="")
    )
    back = parse_notam(to_notam(source), notice_id=source.id, party=source.party)
    assert back.volumes[0] == source.volumes[0]
    assert back.altitude == source.altitude and back.window == source.window
    ring = ((179.5, 10.0), (-179.5, 10.0), (-179.5, 11.25))
    poly = parse_notice(notice_dict(volumes=[{"polygon": [list(p) for p in ring]}]))
    again = parse_notam(to_notam(poly), notice_id=poly.id, party=poly.party)
    assert again.volumes[0] == poly.volumes[0]


def test_geojson_round_trip_is_exact() -> None:
    notices = [parse_notice(notice_dict()), parse_notice(notice_dict(id="second", party="moscow"))]
    doc = json.loads(json.dumps(to_geojson(notices)))
    assert len(doc["features"]) == 6
    assert from_geojson(doc) == notices


def test_geojson_errors() -> None:
    doc = to_geojson([parse_notice(notice_dict())])
    doc["features"][1]["geometry"]["type"] = "MultiPoint"
    with pytest.raises(InputError, match=r"features\[1\]\.geometry\.type: 'MultiPoint' is not supported"):
        from_geojson(doc)
    with pytest.raises(InputError, match="FeatureCollection"):
        from_geojson({"type": "Feature"})


def test_f3548_round_trip() -> None:
    source = parse_notice(
        notice_dict(
            volumes=[
                {"polygon": [[179.5, 10.0], [-179.5, 10.0], [-179.5, 11.0]]},
                {"circle": {"centre": [1, 2], "radius_m": 50}},
            ],
            altitude={
                "lower": {"value": 10, "unit": "M", "reference": "W84"},
                "upper": {"value": 120.5, "unit": "M", "reference": "W84"},
            },
            buffers={},
            priority=0,
            text="",
            activity="uav_operations",
        )
    )
    volumes = json.loads(json.dumps(to_volume4d(source)))
    assert volumes[0]["volume"]["altitude_lower"] == {"value": 10.0, "reference": "W84", "units": "M"}
    assert from_volume4d(volumes, notice_id=source.id, party=source.party) == source


def test_f3548_errors() -> None:
    corridor = parse_notice(notice_dict())
    with pytest.raises(InputError, match="F3548 has no corridors"):
        to_volume4d(corridor)
    bad = [
        {
            "volume": {
                "outline_circle": {"center": {"lng": 1, "lat": 2}, "radius": {"value": 5, "units": "FT"}}
            }
        }
    ]
    with pytest.raises(InputError, match=r"volumes\[0\]\.volume\.outline_circle\.radius\.units"):
        from_volume4d(bad, notice_id="x", party="moscow")
