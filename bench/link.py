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

The floor (``--floor``, default ``../shared/bench/floor.py`` beside the
repository) runs first in the same run, as a subprocess, with the same
``--messages``: the least work any Python link with Redline's guarantees must
do on this machine now. ``latency_p50_ratio`` / ``latency_p99_ratio`` are
Redline's latency over the floor's (lower is better, 1.0 is the floor);
``throughput_ratio`` is Redline's throughput over the floor's batched
throughput (higher is better). A missing floor is an error, never a skip.

``--profile DIR`` also samples both stations with py-spy during the load
phase and writes DIR/washington.txt and DIR/beijing.txt (collapsed stacks,
summarised by ``bench/hotspots.py``).
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
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from tests.support.stations import StationProcess, two_stations

from figures import report
from hotspots import finish_profiles, start_profiles
from redline.domain.messages import Direction

# The floor lives beside the repository: <root>/../shared/bench/floor.py.
DEFAULT_FLOOR = Path(__file__).resolve().parents[2] / "shared" / "bench" / "floor.py"


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


def run_floor(floor: Path, messages: int, batch: int, seconds: float, work: Path) -> dict[str, Any]:
    """The floor's figures, measured now in a subprocess (the same interpreter, so the same
    cryptography and rfc8785)."""
    if not floor.is_file():
        raise SystemExit(
            f"bench/link.py: the floor benchmark {floor} does not exist; pass --floor PATH "
            "(the ratios are measured against it in the same run, so there is no running without it)"
        )
    out = work / "floor.json"
    command = [
        sys.executable,
        str(floor),
        "--messages",
        str(messages),
        "--batch",
        str(batch),
        "--seconds",
        str(seconds),
        "--json",
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench/link.py: the floor failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(out.read_text())
    missing = {"floor_latency_p50_ms", "floor_latency_p99_ms", "floor_throughput_msgs_per_s"} - set(figures)
    if missing:
        raise SystemExit(f"bench/link.py: the floor's JSON lacks {sorted(missing)}: {figures}")
    return figures


def measure_throughput(
    w: StationProcess,
    seconds: int,
    connections: int,
    work: Path,
    profile: list[StationProcess] | None = None,
    profile_dir: Path | None = None,
) -> tuple[float, int]:
    """wrk posts as fast as ``connections`` keep-alive clients can for ``seconds``; the clock
    stops when the sender has recorded a receipt for every message it accepted. With
    ``profile``, py-spy samples those stations meanwhile."""
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
    spies = start_profiles(profile, seconds, profile_dir) if profile and profile_dir else []
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
    finish_profiles(spies)
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
    parser.add_argument(
        "--floor",
        type=Path,
        default=DEFAULT_FLOOR,
        help=f"the floor benchmark to run first (default {DEFAULT_FLOOR})",
    )
    parser.add_argument(
        "--floor-batch", type=int, default=512, help="the floor's throughput batch (default 512)"
    )
    parser.add_argument(
        "--floor-seconds", type=float, default=5.0, help="length of the floor's throughput phase (default 5)"
    )
    parser.add_argument("--profile", type=Path, help="sample both stations with py-spy into this directory")
    args = parser.parse_args()
    for name in ("messages", "seconds", "senders", "floor_batch", "floor_seconds"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')}: must be positive, not {getattr(args, name)}")

    with tempfile.TemporaryDirectory(prefix="redline-bench-") as tmp:
        root = Path(tmp)
        floor = run_floor(args.floor.resolve(), args.messages, args.floor_batch, args.floor_seconds, root)
        # The load phase posts thousands of messages a second with one token: no rate limit here.
        with two_stations(root, args.backend, settings={"washington": {"api_rate_limit": 0}}) as (w, b):
            asyncio.run(measure_latency(w, 20))  # warm up: connections, caches
            latencies = asyncio.run(measure_latency(w, args.messages))
            throughput, burst = measure_throughput(
                w, args.seconds, args.senders, root, [w, b] if args.profile else None, args.profile
            )

    p50, p99 = statistics.median(latencies), percentile(latencies, 99)
    figures = {
        "backend": args.backend,
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "messages": len(latencies),
        "latency_p50_ms": round(p50, 3),
        "latency_p99_ms": round(p99, 3),
        "throughput_msgs_per_s": round(throughput, 1),
        "burst": burst,
        "senders": args.senders,
        **{
            key: floor[key]
            for key in ("floor_latency_p50_ms", "floor_latency_p99_ms", "floor_throughput_msgs_per_s")
        },
        "floor_batch": args.floor_batch,
        "latency_p50_ratio": round(p50 / floor["floor_latency_p50_ms"], 2),
        "latency_p99_ratio": round(p99 / floor["floor_latency_p99_ms"], 2),
        "throughput_ratio": round(throughput / floor["floor_throughput_msgs_per_s"], 3),
    }
    report(figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
