"""Conflict alert latency: two real stations on loopback, each filing one of two overlapping notices.

    python bench/alert.py [--rounds 20] [--json FILE]

Each round, washington files a 10 km circle and waits until beijing holds it;
then beijing files an overlapping circle (the clock starts as its POST is sent).
alert_to_washington_s: until washington has stored beijing's conflict alert
(beijing found the conflict while filing, and alerted over the link).
alert_to_beijing_s: until beijing has stored washington's alert (washington
received the notice over the link, found the conflict itself, and alerted back).
Times are the receiving station's ``delivered_at`` (one machine, one clock).
The product asks that both parties be alerted within a second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.stations import StationProcess, two_stations

from figures import report


def _notice(lon: float) -> dict[str, Any]:
    return {
        "activity": "air_operations",
        "volumes": [{"circle": {"centre": [lon, 10.0], "radius_m": 10_000}}],
        "altitude": {
            "lower": {"value": 0, "unit": "M", "reference": "MSL"},
            "upper": {"value": 120, "unit": "FL", "reference": "STD"},
        },
        "window": {"start": "2031-01-01T00:00:00Z", "end": "2031-01-02T00:00:00Z"},
    }


def _file(station: StationProcess, lon: float) -> str:
    with station.client() as c:
        r = c.post("/notices", json=_notice(lon))
    r.raise_for_status()
    return str(r.json()["notice"]["id"])


def _alert_stored_at(station: StationProcess, ids: set[str], timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    with station.client() as c:
        while time.monotonic() < deadline:
            box = c.get("/messages", params={"box": "inbox", "kind": "conflict_alert", "limit": 50}).json()
            for m in box["messages"]:
                if set(m["conflict"]["pair"]) == ids:
                    stamp = m["delivered_at"]  # an inbound message's: when this station stored it
                    return datetime.fromisoformat(stamp.rstrip("Z")).replace(tzinfo=UTC).timestamp()
            time.sleep(0.005)
    raise RuntimeError(f"no conflict alert for {sorted(ids)} at {station.station_id} within {timeout}s")


def _held_by(station: StationProcess, notice_id: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    with station.client() as c:
        while time.monotonic() < deadline:
            if c.get(f"/notices/{notice_id}").status_code == 200:
                return
            time.sleep(0.005)
    raise RuntimeError(f"{station.station_id} never received notice {notice_id}")


def measure(w: StationProcess, b: StationProcess, rounds: int) -> tuple[list[float], list[float]]:
    to_w, to_b = [], []
    for i in range(rounds):
        lon = 100.0 + i  # each round's pair far from every other
        first = _file(w, lon)
        _held_by(b, first)
        start = time.time()
        second = _file(b, lon + 0.05)
        to_w.append(_alert_stored_at(w, {first, second}) - start)
        to_b.append(_alert_stored_at(b, {first, second}) - start)
    return to_w, to_b


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20, help="pairs of notices (default 20)")
    parser.add_argument("--json", help="write the figures to this file as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="redline-alert-") as tmp:
        try:
            with two_stations(Path(tmp), links_up=True) as (w, b):
                to_w, to_b = measure(w, b, args.rounds)
        except (RuntimeError, httpx.HTTPError) as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
    report(
        {
            "alert_to_washington_s": round(statistics.median(to_w), 4),
            "alert_to_washington_max_s": round(max(to_w), 4),
            "alert_to_beijing_s": round(statistics.median(to_b), 4),
            "alert_to_beijing_max_s": round(max(to_b), 4),
            "rounds": args.rounds,
        },
        args.json,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
