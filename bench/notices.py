"""Notice benchmark: many operator API clients filing activity notices at once, with the conflict
check and the sharing to the peer, on two real stations (TLS, HPKE, Ed25519, SQLite or PostgreSQL).

    python bench/notices.py [--seconds 10] [--clients 32] [--backend sqlite|postgres] [--json FILE]

notices_per_s: ``--clients`` concurrent keep-alive clients (wrk, for the same
reason as bench/link.py) file washington's notices through ``POST
/api/v1/notices`` for ``--seconds``: each one a different 1 km circle on a
grid 0.05 degrees apart (no two overlap), so every filing runs the conflict
check against everything filed so far and is shared with beijing. The clock
runs from the first POST until beijing has stored every notice washington
accepted (read from beijing's database, so the measuring does not load the
stations' APIs).

alert_to_washington_s / alert_to_beijing_s: halfway through the load, the
method of bench/alert.py once: washington files a circle far from the grid,
beijing (once it holds that notice) files an overlapping one; from beijing's
POST until each party has stored the other's conflict alert (the receiving
station's ``delivered_at``). washington's alert to beijing queues in the same
outbox as the load, so it shows what a backlog costs. ``alert_under_load``
says whether both alerts arrived before the load phase ended.

``--profile DIR``: py-spy samples both stations during the load (see bench/hotspots.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.records import circle_notice
from tests.support.stations import StationProcess, two_stations

from figures import report
from hotspots import finish_profiles, start_profiles
from redline.store import schema as t

PAIR_AT = (-60.0, -10.0)  # the deliberate pair: far from the load's grid (100E.., 40S..)


def _lua(token: str) -> str:
    """A wrk script that files a new notice per request, each on its own grid cell."""
    template = json.dumps(circle_notice(111.0, 22.0, 1000, hours=(0, 23)))
    template = template.replace("111.0", "%.4f").replace("22.0", "%.4f")
    assert template.count("%.4f") == 2, template
    return (
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        "counter = 0\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        "  local lon = 100 + (counter % 1000) * 0.05\n"
        "  local lat = -40 + math.floor(counter / 1000) * 0.05\n"
        f"  local body = string.format('{template}', lon, lat)\n"
        "  return wrk.format(nil, nil, nil, body)\n"
        "end\n"
    )


async def _count(station: StationProcess, party: str) -> int:
    store = await station.open_store()
    try:
        rows = await store.database.fetch(
            select(func.count()).select_from(t.notices).where(t.notices.c.party == party)
        )
        return int(rows[0][0])
    finally:
        await store.close()


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.rstrip("Z")).replace(tzinfo=UTC).timestamp()


async def _wait_held(station: StationProcess, notice_id: str, timeout: float) -> None:
    store = await station.open_store()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = await store.database.fetch(select(t.notices.c.id).where(t.notices.c.id == notice_id))
            if rows:
                return
            await asyncio.sleep(0.005)
    finally:
        await store.close()
    raise RuntimeError(f"{station.station_id} never received notice {notice_id} within {timeout}s")


async def _alert_stored_at(station: StationProcess, ids: set[str], timeout: float) -> float:
    """When ``station`` stored (``delivered_at``) an inbound conflict alert for the pair ``ids``."""
    m = t.messages.c
    query = select(m.body, m.delivered_at).where(
        m.direction == "inbound", m.kind == "conflict_alert", m.delivered_at.is_not(None)
    )
    store = await station.open_store()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for body, delivered_at in await store.database.fetch(query):
                if set(json.loads(body)["pair"]) == ids:
                    return _ts(delivered_at)
            await asyncio.sleep(0.005)
    finally:
        await store.close()
    raise RuntimeError(f"no conflict alert for {sorted(ids)} at {station.station_id} within {timeout}s")


def _file(station: StationProcess, notice: dict[str, Any]) -> str:
    with station.client(timeout=60) as c:
        r = c.post("/notices", json=notice)
    r.raise_for_status()
    return str(r.json()["notice"]["id"])


def alert_pair(w: StationProcess, b: StationProcess, timeout: float) -> dict[str, float]:
    """bench/alert.py's round, once: washington files, beijing files an overlapping notice once it
    holds washington's; seconds from beijing's POST until each party holds the other's alert."""
    lon, lat = PAIR_AT
    began = time.time()
    first = _file(w, circle_notice(lon, lat, 10_000, hours=(0, 23)))
    asyncio.run(_wait_held(b, first, timeout))
    shared = time.time()
    start = time.time()
    second = _file(b, circle_notice(lon + 0.05, lat, 10_000, hours=(0, 23)))
    pair = {first, second}
    to_w = asyncio.run(_alert_stored_at(w, pair, timeout)) - start
    to_b = asyncio.run(_alert_stored_at(b, pair, timeout)) - start
    return {
        "pair_first_shared_s": shared - began,
        "alert_to_washington_s": to_w,
        "alert_to_beijing_s": to_b,
        "alerts_done": max(to_w, to_b) + start,
    }


def measure(
    w: StationProcess,
    b: StationProcess,
    seconds: int,
    clients: int,
    work: Path,
    timeout: float,
    profile: Path | None = None,
) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench/notices.py needs wrk for the load: apt-get install -y wrk (make bench does)")
    script = work / "notices.lua"
    script.write_text(_lua(w.token))
    spies = start_profiles([w, b], seconds, profile) if profile else []
    start = time.time()
    load = subprocess.Popen(
        [wrk, "-t1", f"-c{clients}", f"-d{seconds}s", "-s", str(script), f"{w.api_url}/notices"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(seconds / 2)
        pair = alert_pair(w, b, timeout)
    finally:
        out, err = load.communicate(timeout=seconds + 120)
    load_ended = time.time()
    finish_profiles(spies)
    if load.returncode != 0:
        raise RuntimeError(f"wrk failed ({load.returncode}): {err}")
    if "Non-2xx" in out:
        raise RuntimeError(f"some POSTs failed:\n{out}")
    filed = asyncio.run(_count(w, "washington"))
    deadline = time.monotonic() + timeout
    while (held := asyncio.run(_count(b, "washington"))) < filed:
        if time.monotonic() > deadline:
            raise RuntimeError(f"beijing holds {held} of washington's {filed} notices after {timeout}s")
        time.sleep(0.02)
    elapsed = time.time() - start
    print(
        f"  wrk: {filed} notices filed in {load_ended - start:.2f}s, all held by beijing after {elapsed:.2f}s"
    )
    return {
        "notices_per_s": round(filed / elapsed, 1),
        "notices": filed,
        "accepted_per_s": round(filed / (load_ended - start), 1),
        "alert_to_washington_s": round(pair["alert_to_washington_s"], 4),
        "alert_to_beijing_s": round(pair["alert_to_beijing_s"], 4),
        "pair_first_shared_s": round(pair["pair_first_shared_s"], 4),
        "alert_under_load": pair["alerts_done"] <= load_ended,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10, help="length of the load phase (default 10)")
    parser.add_argument(
        "--clients", type=int, default=32, help="concurrent keep-alive API clients (default 32)"
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds to wait for the peer or an alert before failing (default 300)",
    )
    parser.add_argument("--json", help="write the figures to this file as JSON")
    parser.add_argument(
        "--profile", type=Path, help="sample both stations with py-spy during the load into this directory"
    )
    args = parser.parse_args()
    for name in ("seconds", "clients", "timeout"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name}: must be positive, not {getattr(args, name)}")
    with tempfile.TemporaryDirectory(prefix="redline-notices-") as tmp:
        root = Path(tmp)
        try:
            settings = {"washington": {"api_rate_limit": 0}}
            with two_stations(root, args.backend, links_up=True, settings=settings) as (w, b):
                figures = measure(w, b, args.seconds, args.clients, root, args.timeout, args.profile)
        except (RuntimeError, httpx.HTTPError) as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
    report(
        {
            "backend": args.backend,
            "date": datetime.now().astimezone().isoformat(timespec="seconds"),
            **figures,
            "clients": args.clients,
            "seconds": args.seconds,
        },
        args.json,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
