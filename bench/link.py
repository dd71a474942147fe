"""Link benchmark: two real stations on loopback (TLS, HPKE, Ed25519, SQLite or PostgreSQL).

    python bench/link.py [--messages 500] [--seconds 10] [--senders 32]
                          [--backend sqlite|postgres] [--json FILE]

latency_p50_ms / latency_p99_ms: one message at a time, from the moment the
sender's API accepted it (its row committed: ``stored_at``) to the moment the
peer's signed receipt was verified and recorded at the sender
(``delivered_at``), both on the sender's clock, read from the sender's
database. The next message is posted only once the previous one is receipted.

throughput_msgs_per_s: ``--senders`` concurrent keep-alive API clients (wrk;
httpx itself tops out at a few hundred requests/s and would measure the
client) post for ``--seconds``; the clock runs from the first POST until the
sender has recorded a receipt for every message it accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from tests.support.stations import StationProcess, two_stations

from figures import report
from redline.domain.messages import Direction


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.rstrip("Z"))


async def measure_latency(w: StationProcess, count: int) -> list[float]:
    """Post one message at a time; watch the sender's database (not its API, which polling
    would load) until the receipt is recorded; latency from the station's own timestamps."""
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {w.token}"}
    store = await w.open_store()
    try:
        async with httpx.AsyncClient(base_url=w.api_url, headers=headers, timeout=30) as client:
            for i in range(count):
                body = {"to": "beijing", "precedence": "ROUTINE", "text": f"latency {i}", "lang": "en"}
                r = await client.post("/messages", json=body)
                r.raise_for_status()
                mid = r.json()["id"]
                for _ in range(40_000):
                    row = await store.message(mid)
                    if row and row.delivered_at:
                        latencies.append((_ts(row.delivered_at) - _ts(row.ts)).total_seconds() * 1000)
                        break
                    await asyncio.sleep(0.0002)
                else:
                    raise RuntimeError(f"message {mid} was never receipted")
    finally:
        await store.close()
    return latencies


async def _outbound_counts(station: StationProcess) -> tuple[int, int]:
    """(outbound messages, of which receipted) in the sender's database. A receipt is what counts:
    a message the peer already answered (a link-test reply) shows "acknowledged", not "delivered"."""
    store = await station.open_store()
    try:
        return await store.receipt_counts(Direction.OUTBOUND)
    finally:
        await store.close()


def measure_throughput(w: StationProcess, seconds: int, connections: int, work: Path) -> tuple[float, int]:
    """wrk posts as fast as ``connections`` keep-alive clients can for ``seconds``; the clock
    stops when the sender has recorded a receipt for every message it accepted."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit(
            "bench/link.py needs wrk for the load phase: apt-get install -y wrk (make bench does)"
        )
    script = work / "post.lua"
    body = json.dumps({"to": "beijing", "precedence": "ROUTINE", "text": "throughput", "lang": "en"})
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = '{body}'\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {w.token}"\n'
    )
    before, _ = asyncio.run(_outbound_counts(w))
    start = time.perf_counter()
    out = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), f"{w.api_url}/messages"],
        capture_output=True,
        text=True,
        check=True,
    )
    posted = time.perf_counter()
    if "Non-2xx" in out.stdout:
        raise RuntimeError(f"some POSTs failed:\n{out.stdout}")
    for _ in range(6000):
        total, delivered = asyncio.run(_outbound_counts(w))
        if delivered >= total:
            break
        time.sleep(0.05)
    else:
        raise RuntimeError("not every message was receipted within 5 minutes")
    elapsed = time.perf_counter() - start
    accepted = total - before
    print(f"  wrk: {accepted} messages accepted in {posted - start:.2f}s, all receipted after {elapsed:.2f}s")
    return accepted / elapsed, accepted


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=500, help="latency samples (default 500)")
    parser.add_argument("--seconds", type=int, default=10, help="length of the load phase (default 10)")
    parser.add_argument("--senders", type=int, default=32, help="concurrent keep-alive API clients")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--json", help="write the figures to this file as JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="redline-bench-") as tmp:
        root = Path(tmp)
        # The load phase posts thousands of messages a second with one token: no rate limit here.
        with two_stations(root, args.backend, settings={"washington": {"api_rate_limit": 0}}) as (w, _b):
            asyncio.run(measure_latency(w, 20))  # warm up: connections, caches
            latencies = asyncio.run(measure_latency(w, args.messages))
            throughput, burst = measure_throughput(w, args.seconds, args.senders, root)

    figures = {
        "backend": args.backend,
        "messages": len(latencies),
        "latency_p50_ms": round(statistics.median(latencies), 3),
        "latency_p99_ms": round(percentile(latencies, 99), 3),
        "throughput_msgs_per_s": round(throughput, 1),
        "burst": burst,
        "senders": args.senders,
    }
    report(figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
