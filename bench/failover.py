"""Failover and resume benchmark: two real stations on loopback.

    python bench/failover.py [--rounds 10] [--json FILE]

failover_s: beijing's card lists two paths, a primary (a TCP forwarder in
this process, standing for a router) and a backup (its link port directly).
With washington delivering over the primary, the forwarder is cut (listening
socket closed, connections aborted) and a message is posted at once; the
figure is the time from the cut until washington has recorded the signed
receipt for it (necessarily over the backup). The forwarder is then restored
and the benchmark waits for failback before the next round.

resume_s: beijing is killed with SIGKILL, washington posts a message and keeps
retrying for a few seconds, beijing is restarted; the figure is the time from
beijing answering its health check to washington recording the receipt.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.forwarder import TcpForwarder
from tests.support.stations import Placement, StationProcess, free_port, two_stations

from figures import report


def _post(w: StationProcess, text: str) -> str:
    with w.client() as c:
        r = c.post("/messages", json={"to": "beijing", "precedence": "ROUTINE", "text": text})
    r.raise_for_status()
    return str(r.json()["id"])


def _delivered_at(w: StationProcess, message_id: str, timeout: float = 60.0) -> float:
    deadline = time.monotonic() + timeout
    with w.client() as c:
        while time.monotonic() < deadline:
            at = c.get(f"/messages/{message_id}").json()["delivered_at"]
            if at:
                return datetime.fromisoformat(at.rstrip("Z")).replace(tzinfo=UTC).timestamp()
            time.sleep(0.005)
    raise RuntimeError(f"message {message_id} not receipted within {timeout}s")


def _primary_in_use(w: StationProcess, forwarder: TcpForwarder, timeout: float = 60.0) -> None:
    """Post until a delivery has gone through the forwarder again (failback happened)."""
    before = forwarder.bytes_forwarded
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _delivered_at(w, _post(w, "failback probe"))
        with w.client() as c:
            primary = c.get("/links/beijing").json()["paths"][0]
        if forwarder.bytes_forwarded > before and primary["state"] == "up":
            return
        time.sleep(0.2)
    raise RuntimeError("washington never failed back to the primary path")


def measure_failover(w: StationProcess, forwarder: TcpForwarder, rounds: int) -> list[float]:
    figures = []
    for i in range(rounds):
        _primary_in_use(w, forwarder)
        cut = time.time()
        forwarder.stop()
        figures.append(_delivered_at(w, _post(w, f"after cut {i}")) - cut)
        forwarder.start()
    return figures


def measure_resume(w: StationProcess, b: StationProcess, rounds: int, outage: float) -> list[float]:
    figures = []
    for i in range(rounds):
        b.kill9()
        message_id = _post(w, f"while beijing is down {i}")
        time.sleep(outage)  # washington retries, its backoff growing
        b.start()
        up = time.time()
        figures.append(_delivered_at(w, message_id) - up)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=10, help="measurements of each figure (default 10)")
    parser.add_argument("--outage", type=float, default=3.0, help="seconds beijing stays down (default 3)")
    parser.add_argument("--json", help="write the figures to this file as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="redline-failover-") as tmp:
        # beijing's card lists a forwarder first (the path the benchmark cuts), its own link second.
        primary = free_port()
        paths = Placement(
            endpoints=lambda link: [f"https://127.0.0.1:{primary}", f"https://127.0.0.1:{link}"]
        )
        try:
            with two_stations(Path(tmp), start=False, placements={"beijing": paths}) as (w, b):
                forwarder = TcpForwarder(primary, b.link_port)
                forwarder.start()
                try:
                    w.start()
                    b.start()
                    failover = measure_failover(w, forwarder, args.rounds)
                    resume = measure_resume(w, b, max(1, args.rounds // 2), args.outage)
                finally:
                    forwarder.stop()
        except (RuntimeError, httpx.HTTPError) as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
    figures = {
        "failover_s": round(statistics.median(failover), 4),
        "failover_max_s": round(max(failover), 4),
        "resume_s": round(statistics.median(resume), 4),
        "resume_max_s": round(max(resume), 4),
        "rounds_failover": len(failover),
        "rounds_resume": len(resume),
        "outage_s": args.outage,
    }
    report(figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
