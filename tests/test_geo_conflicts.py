"""The conflict rule and ``ConflictIndex``: buffers, touching, amendments, order independence."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pyproj import Geod

from redline.geo import parse_notice
from redline.geo.index import ConflictIndex
from redline.geo.model import Notice

GEOD = Geod(ellps="WGS84")


def notice(nid: str, party: str, centre: tuple[float, float], radius: float, **over: Any) -> Notice:
    obj: dict[str, Any] = {
        "id": nid,
        "party": party,
        "version": 1,
        "activity": "live_fire_exercise",
        "volumes": [{"circle": {"centre": list(centre), "radius_m": radius}}],
        "altitude": {
            "lower": {"value": 0, "unit": "M", "reference": "MSL"},
            "upper": {"value": 3000, "unit": "M", "reference": "MSL"},
        },
        "window": {"start": "2026-03-01T10:00:00Z", "end": "2026-03-01T12:00:00Z"},
    }
    obj.update(over)
    return parse_notice(obj)


def east(lon: float, lat: float, dist: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, 90.0, dist)
    return (float(x), float(y))


def test_overlap_is_a_conflict_and_the_key_is_canonical() -> None:
    index = ConflictIndex()
    assert index.add(notice("b", "moscow", (179.99, 10.0), 5000)) == []
    found = index.add(notice("a", "washington", east(179.99, 10.0, 9000), 5000))
    assert len(found) == 1
    conflict = found[0]
    assert (conflict.notice_a, conflict.notice_b) == ("a", "b")
    assert conflict.key == "a@1~b@1" and conflict.overlap and conflict.separation_m == 0.0
    assert conflict.overlap_area_m2 is not None and 1e6 < conflict.overlap_area_m2 < 1e7
    assert conflict.to_json()["start"] == "2026-03-01T10:00:00.000000Z"
    assert index.conflicts_of("b") == [conflict]


def test_same_party_never_conflicts() -> None:
    index = ConflictIndex()
    index.add(notice("a", "moscow", (0.0, 0.0), 5000))
    assert index.add(notice("b", "moscow", (0.0, 0.0), 5000)) == []


@pytest.mark.parametrize(("gap", "expected"), [(0.01, False), (0.0, True), (-0.01, True)])
def test_touching_counts_and_a_centimetre_gap_does_not(gap: float, expected: bool) -> None:
    index = ConflictIndex()
    index.add(notice("a", "moscow", (30.0, 60.0), 1000))
    found = index.add(notice("b", "washington", east(30.0, 60.0, 3000 + gap), 2000))
    assert bool(found) is expected


def test_conflict_only_because_of_the_horizontal_buffers() -> None:
    index = ConflictIndex()
    index.add(notice("a", "moscow", (30.0, 60.0), 1000, buffers={"horizontal_m": 600}))
    far = notice("b", "washington", east(30.0, 60.0, 4000), 2000, buffers={"horizontal_m": 400})
    (conflict,) = index.add(far)
    assert not conflict.overlap and conflict.separation_m == pytest.approx(1000.0, abs=1e-6)
    nearly = notice("b", "washington", east(30.0, 60.0, 4000.01), 2000, buffers={"horizontal_m": 400})
    assert index.add(nearly) == []


def test_time_buffers_and_permanent_windows() -> None:
    later = {"start": "2026-03-01T12:30:00Z", "end": "2026-03-01T13:00:00Z"}
    index = ConflictIndex()
    index.add(notice("a", "moscow", (0.0, 0.0), 1000, buffers={"time_s": 900}))
    assert index.add(notice("b", "washington", (0.0, 0.0), 1000, window=later)) == []
    (c,) = index.add(notice("b", "washington", (0.0, 0.0), 1000, window=later, buffers={"time_s": 900}))
    assert c.start.isoformat() == "2026-03-01T12:15:00+00:00" and c.end is not None
    forever = {"start": "2026-01-01T00:00:00Z", "permanent": True}
    (c,) = index.add(notice("b", "washington", (0.0, 0.0), 1000, window=forever))
    assert c.end is not None and c.end.isoformat() == "2026-03-01T12:15:00+00:00"


def test_altitude_buffers_and_units() -> None:
    high = {
        "lower": {"value": 110, "unit": "FL", "reference": "STD"},
        "upper": {"value": 200, "unit": "FL", "reference": "STD"},
    }
    index = ConflictIndex()
    index.add(notice("a", "moscow", (0.0, 0.0), 1000))  # up to 3000 m; FL110 = 3352.8 m
    assert index.add(notice("b", "washington", (0.0, 0.0), 1000, altitude=high)) == []
    buffered = notice("b", "washington", (0.0, 0.0), 1000, altitude=high, buffers={"vertical_m": 352.8})
    (c,) = index.add(buffered)
    assert (c.lower_m, c.upper_m) == pytest.approx((3000.0, 3000.0))  # touching bands


def test_amendment_replaces_the_version_and_remove_closes() -> None:
    index = ConflictIndex()
    index.add(notice("a", "moscow", (0.0, 0.0), 1000))
    assert [c.key for c in index.add(notice("b", "washington", (0.0, 0.0), 1000))] == ["a@1~b@1"]
    moved = notice("b", "washington", (1.0, 0.0), 1000, version=2)
    assert index.add(moved) == [] and index.conflicts() == []
    back = notice("b", "washington", (0.0, 0.0), 1000, version=3)
    assert [c.key for c in index.add(back)] == ["a@1~b@3"]
    index.add(notice("b", "washington", (0.0, 0.0), 1000, version=4, state="cancelled"))
    assert index.conflicts() == [] and "b" not in index
    index.add(back)
    index.remove("a")
    assert index.conflicts_of("b") == [] and len(index) == 1


def test_drafts_do_not_conflict() -> None:
    index = ConflictIndex()
    index.add(notice("a", "moscow", (0.0, 0.0), 1000))
    assert index.add(notice("b", "washington", (0.0, 0.0), 1000, state="draft")) == []


def _random_notices(count: int, seed: int) -> list[Notice]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        lon = rng.uniform(178.0, 182.0)
        lon = lon - 360 if lon > 180 else lon
        lat = rng.uniform(-2.0, 2.0)
        over: dict[str, Any] = {"buffers": {"horizontal_m": rng.choice([0, 2000, 10_000])}}
        if rng.random() < 0.5:
            pts = [
                GEOD.fwd(lon, lat, a + rng.uniform(0, 30), rng.uniform(5e3, 40e3))[:2]
                for a in (0, 90, 180, 270)
            ]
            over["volumes"] = [{"polygon": [[float(x), float(y)] for x, y in pts]}]
        out.append(
            notice(
                f"n{i:03d}", rng.choice(["moscow", "washington"]), (lon, lat), rng.uniform(1e3, 4e4), **over
            )
        )
    return out


def test_insertion_order_does_not_matter_and_recheck_agrees() -> None:
    notices = _random_notices(80, seed=7)
    first, second = ConflictIndex(), ConflictIndex()
    for n in notices:
        first.add(n)
    for n in reversed(notices):
        second.add(n)
    assert first.conflicts() == second.conflicts()
    assert len(first.conflicts()) > 10
    bulk = ConflictIndex()
    bulk.load(notices)
    assert bulk.recheck() == first.conflicts()
    assert first.recheck() == second.conflicts()


def _mixed_notices(count: int, seed: int, prefix: str = "m") -> list[Notice]:
    """Circles, polygons, corridors, two-volume notices and permanent windows over a few days."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        lon = rng.uniform(179.0, 181.0)
        lon = lon - 360 if lon > 180 else lon
        lat = rng.uniform(-1.0, 1.0)
        volumes: list[dict[str, Any]] = []
        for _ in range(2 if rng.random() < 0.2 else 1):
            kind = rng.random()
            if kind < 0.4:
                pts = [
                    GEOD.fwd(lon, lat, a + rng.uniform(0, 30), rng.uniform(5e3, 30e3))[:2]
                    for a in (0, 72, 144, 216, 288)
                ]
                volumes.append({"polygon": [[float(x), float(y)] for x, y in pts]})
            elif kind < 0.6:
                end = GEOD.fwd(lon, lat, rng.uniform(0, 360), rng.uniform(10e3, 60e3))[:2]
                path = [[lon, lat], [float(end[0]), float(end[1])]]
                volumes.append({"corridor": {"path": path, "half_width_m": rng.uniform(100, 3000)}})
            else:
                volumes.append({"circle": {"centre": [lon, lat], "radius_m": rng.uniform(1e3, 2e4)}})
            lon, lat = (float(v) for v in GEOD.fwd(lon, lat, rng.uniform(0, 360), 30e3)[:2])
        day = rng.randrange(4)
        hour = rng.randrange(20)
        window: dict[str, Any] = {
            "start": f"2026-03-0{day + 1}T{hour:02d}:00:00Z",
            "end": f"2026-03-0{day + 1}T{hour + rng.randrange(1, 4):02d}:00:00Z",
        }
        if rng.random() < 0.05:
            window = {"start": f"2026-03-0{day + 1}T{hour:02d}:00:00Z", "permanent": True}
        over: dict[str, Any] = {
            "volumes": volumes,
            "window": window,
            "buffers": {"horizontal_m": rng.choice([0, 2000]), "time_s": rng.choice([0, 1800])},
        }
        party = rng.choice(["moscow", "washington", "beijing"])
        out.append(notice(f"{prefix}{i:03d}", party, (lon, lat), 1000, **over))
    return out


def _incremental(notices: list[Notice]) -> list[Any]:
    """Every conflict found by filing the notices one by one (none is ever closed here)."""
    index = ConflictIndex()
    found = {}
    for n in notices:
        for c in index.add(n):
            found[c.key] = c
    return sorted(found.values(), key=lambda c: c.key)


def test_recheck_is_the_union_of_incremental_filings() -> None:
    notices = _mixed_notices(150, seed=11)
    expected = _incremental(notices)
    assert len(expected) > 20
    bulk = ConflictIndex()
    bulk.load(notices)
    assert bulk.recheck() == expected
    shuffled = list(notices)
    random.Random(3).shuffle(shuffled)
    assert _incremental(shuffled) == expected
    again = ConflictIndex()
    again.load(shuffled)
    assert again.recheck() == expected


def test_permanent_notices_are_rechecked_against_everything() -> None:
    notices = _mixed_notices(150, seed=5)
    permanent = [n for n in notices if n.window.permanent]
    assert permanent
    bulk = ConflictIndex()
    bulk.load(notices)
    found = bulk.recheck()
    assert found == _incremental(notices)
    assert any(n.id in c.pair for c in found for n in permanent)


def test_dead_slots_are_compacted_without_changing_conflicts(monkeypatch: pytest.MonkeyPatch) -> None:
    import redline.geo.index as index_module

    monkeypatch.setattr(index_module, "_MIN_TAIL", 4)
    notices = _mixed_notices(120, seed=9)
    index = ConflictIndex()
    for n in notices:
        index.add(n)
    for n in notices[::2]:
        index.remove(n.id)
    moved = [
        notice(n.id, n.party, (179.5, 0.0), 20_000, version=2) for n in notices[1::4]
    ]  # amendments leave dead slots behind too
    for n in moved:
        index.add(n)
    survivors = {n.id: n for n in notices[1::2]} | {n.id: n for n in moved}
    assert index._dead < 30  # compacted on the way
    assert len(index) == len(survivors) and all(i in index for i in survivors)
    fresh = ConflictIndex()
    fresh.load(survivors.values())
    assert index.conflicts() == fresh.recheck()
    assert index.recheck() == fresh.conflicts()
    for nid in survivors:
        assert index.conflicts_of(nid) == fresh.conflicts_of(nid)
