"""Deconfliction between two real stations: notices shared over the link, identical conflict sets.

Both stations file bursts of notices at the same time; each holds both sides'
notices and finds the conflicts itself. They must end with the same set of
conflicts, equal to what an index built here from the notices finds, and each
conflict must reach the other party as an IMMEDIATE alert needing
acknowledgement. Amendment and cancellation update or close conflicts on both
sides; a restart re-checks everything and changes nothing.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

import pytest

from redline.geo import parse_notice
from redline.geo.index import ConflictIndex
from tests.support.console import ConsoleClient, create_account
from tests.support.records import circle_notice
from tests.support.stations import StationProcess, two_stations, wait_for, wait_until_links_up

BURST = 25


def polygon(lon: float, lat: float, size: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size]]
    ring = [[((x + 180) % 360) - 180, y] for x, y in ring]
    return {**circle_notice(lon, lat, 1), "volumes": [{"polygon": ring}]}


def file(station: StationProcess, body: dict[str, Any]) -> str:
    with station.client() as c:
        r = c.post("/notices", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["notice"]["id"])


def open_conflicts(station: StationProcess) -> set[str]:
    with station.client() as c:
        r = c.get("/conflicts")
    assert r.status_code == 200, r.text
    return {c["key"] for c in r.json()["conflicts"]}


def all_notices(station: StationProcess) -> list[dict[str, Any]]:
    with station.client() as c:
        return list(c.get("/notices").json()["notices"])


def burst(station: StationProcess, seed: int, ids: list[str]) -> None:
    """Notices around the antimeridian in the western Pacific, some bound to overlap."""
    rng = random.Random(seed)
    for _ in range(BURST):
        lon = rng.uniform(178.0, 182.0)
        lon = lon - 360 if lon > 180 else lon
        lat = rng.uniform(10.0, 14.0)
        if rng.random() < 0.5:
            body = circle_notice(
                lon, lat, rng.uniform(5_000, 60_000), buffers={"horizontal_m": rng.choice([0, 2000])}
            )
        else:
            body = polygon(lon, lat, rng.uniform(0.05, 0.5))
        ids.append(file(station, body))


def expected_conflicts(notices: list[dict[str, Any]]) -> set[str]:
    """An index built here, from the notices as the station lists them."""
    index = ConflictIndex()
    for n in notices:
        fields = {k: v for k, v in n.items() if k not in ("updated_at", "updated_by", "ours", "in_force")}
        index.add(parse_notice(fields))
    return {c.key for c in index.conflicts()}


def alerts(station: StationProcess) -> list[dict[str, Any]]:
    with station.client() as c:
        r = c.get("/messages", params={"box": "inbox", "kind": "conflict_alert", "limit": 1000})
    return list(r.json()["messages"])


@pytest.mark.slow
def test_bursts_from_both_sides_end_in_identical_conflict_sets(backend: str, tmp_path: Path) -> None:
    with two_stations(tmp_path, backend, links_up=True) as (w, b):
        ids: dict[str, list[str]] = {"w": [], "b": []}
        threads = [
            threading.Thread(target=burst, args=(w, 1, ids["w"])),
            threading.Thread(target=burst, args=(b, 2, ids["b"])),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert len(ids["w"]) == len(ids["b"]) == BURST

        def settled() -> set[str] | None:
            if len(all_notices(w)) != 2 * BURST or len(all_notices(b)) != 2 * BURST:
                return None
            ours, theirs = open_conflicts(w), open_conflicts(b)
            return ours if ours == theirs else None

        found = wait_for(
            settled,
            timeout=60,
            interval=0.5,
            what="both stations holding every notice and the same conflicts",
        )
        assert found, "the bursts should have produced conflicts"
        assert found == expected_conflicts(all_notices(w)) == expected_conflicts(all_notices(b))
        cross = {
            k for k in found
        }  # every conflict is between the two parties (same-party pairs never conflict)

        # Every conflict reached the other party as an IMMEDIATE alert that needs acknowledgement.
        def alerted(station: StationProcess) -> bool:
            pairs = {
                "~".join(m["conflict"]["pair"])
                for m in alerts(station)
                if m["conflict"]["action"] == "opened"
            }
            return {k.split("@")[0] + "~" + k.split("~")[1].split("@")[0] for k in cross} <= pairs

        wait_for(
            lambda: alerted(w) and alerted(b), timeout=30, interval=0.5, what="conflict alerts on both sides"
        )
        alert = alerts(b)[0]
        assert alert["precedence"] == "IMMEDIATE" and alert["deadline"] is not None
        # The duty officer's console lists the alert and shows the conflict on its page.
        with ConsoleClient(b).login(create_account(b, "li")) as console:
            assert alert["id"] in console.get("/traffic").text
            page = console.get(f"/messages/{alert['id']}").text
            assert "Conflict" in page and alert["conflict"]["pair"][0] in page and "washington" in page
        with b.client() as c:
            assert c.post(f"/messages/{alert['id']}/ack").status_code == 201
        wait_for(
            lambda: w.client().get(f"/messages/{alert['id']}").json()["state"] == "acknowledged", what="ack"
        )

        # Amend one of Washington's conflicting notices far away, cancel one of Beijing's: both sides follow.
        key = sorted(found)[0]
        a_id, b_id = (part.split("@")[0] for part in key.split("~"))
        mine = a_id if a_id in ids["w"] else b_id
        with w.client() as c:
            r = c.post(f"/notices/{mine}/amend", json=circle_notice(-150.0, -40.0, 1000))
            assert r.status_code == 200, r.text
            assert r.json()["notice"]["version"] == 2 and r.json()["notice"]["state"] == "amended"
        theirs = next(k for k in sorted(found) if any(p.split("@")[0] in ids["b"] for p in k.split("~")))
        beijing_id = next(p.split("@")[0] for p in theirs.split("~") if p.split("@")[0] in ids["b"])
        with b.client() as c:
            r = c.post(f"/notices/{beijing_id}/cancel", json={"reason": "exercise called off"})
            assert r.status_code == 200, r.text
            refused = c.post(f"/notices/{mine}/cancel", json={})
            assert refused.status_code == 403  # only the filing party cancels its notice

        def after_changes() -> set[str] | None:
            ours, theirs = open_conflicts(w), open_conflicts(b)
            if ours != theirs or any(mine in k or beijing_id in k for k in ours):
                return None
            return ours

        remaining = wait_for(
            after_changes, timeout=60, interval=0.5, what="amendment and cancellation on both sides"
        )
        assert remaining == expected_conflicts(
            [n for n in all_notices(w) if n["state"] in ("active", "amended")]
        )
        with b.client() as c:
            listed = c.get("/notices", params={"in_force": "false", "party": "beijing"}).json()
            assert any(n["id"] == beijing_id and n["state"] == "cancelled" for n in listed["notices"])

        # A restart re-checks everything from the database and finds exactly the same.
        b.stop()
        b.start()
        wait_until_links_up(w, b)
        assert wait_for(lambda: open_conflicts(b) == remaining, timeout=30, what="the re-check after restart")


@pytest.mark.slow
def test_the_conflict_says_which_activity_gives_way_by_priority(tmp_path: Path) -> None:
    with two_stations(tmp_path, "sqlite", links_up=True) as (w, b):
        exercise = file(w, circle_notice(150.0, 15.0, 20_000, priority=10))
        survey = file(b, circle_notice(150.1, 15.0, 20_000, priority=2))

        def both() -> list[dict[str, Any]] | None:
            found = []
            for station in (w, b):
                with station.client() as c:
                    conflicts = c.get("/conflicts").json()["conflicts"]
                if not conflicts:
                    return None
                found.append({k: conflicts[0][k] for k in ("key", "gives_way", "priority_a", "priority_b")})
            return found if found[0] == found[1] else None

        seen = wait_for(both, what="the conflict on both stations")
        assert seen[0]["gives_way"] == survey != exercise
        # Raising the survey's priority above the exercise's turns it round, on both sides.
        with b.client() as c:
            amended = circle_notice(150.1, 15.0, 20_000, priority=50)
            assert c.post(f"/notices/{survey}/amend", json=amended).status_code == 200
        wait_for(
            lambda: (s := both()) is not None and s[0]["gives_way"] == exercise, what="the amended priority"
        )
