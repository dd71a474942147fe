"""Link benchmark: two real stations on loopback (TLS, HPKE, Ed25519, SQLite or PostgreSQL).

    python bench/link.py [--messages 500] [--burst 20000] [--senders 64] [--backend sqlite] [--json FILE]

latency_p50_ms / latency_p99_ms: one message at a time, from the moment the
sender's API accepted it (its row committed: ``stored_at``) to the moment the
peer's signed receipt was verified and recorded at the sender
(``delivered_at``), both on the sender's clock, read from the sender's
database. The next message is posted only once the previous one is receipted.

throughput_msgs_per_s: ``--senders`` concurrent API clients post ``--burst``
messages in total; the clock runs from the first POST until the sender has
recorded a receipt for every one of them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select
from tests.support.stations import (
    StationProcess,
    create_pg_database,
    drop_pg_database,
    make_pair,
)

from redline.store import schema


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.rstrip("Z"))


async def _delivered_count(station: StationProcess) -> int:
    store = await station.open_store()
    try:
        rows = await store._all(
            select(func.count()).where(
                schema.messages.c.direction == "outbound", schema.messages.c.state == "delivered"
            )
        )
        return int(rows[0][0])
    finally:
        await store.close()


async def measure_latency(w: StationProcess, count: int) -> list[float]:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {w.token}"}
    async with httpx.AsyncClient(base_url=w.api_url, headers=headers, timeout=30) as client:
        for i in range(count):
            r = await client.post(
                "/messages",
                json={"to": "beijing", "precedence": "ROUTINE", "text": f"latency {i}", "lang": "en"},
            )
            r.raise_for_status()
            mid = r.json()["id"]
            for _ in range(20_000):
                m = (await client.get(f"/messages/{mid}")).json()
                if m["delivered_at"]:
                    latencies.append((_ts(m["delivered_at"]) - _ts(m["ts"])).total_seconds() * 1000)
                    break
                await asyncio.sleep(0.0005)
            else:
                raise RuntimeError(f"message {mid} was never receipted")
    return latencies


async def measure_throughput(w: StationProcess, total: int, senders: int) -> float:
    headers = {"Authorization": f"Bearer {w.token}"}
    before = await _delivered_count(w)
    per_sender = total // senders
    limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders)

    async def sender(client: httpx.AsyncClient, n: int) -> None:
        for i in range(per_sender):
            r = await client.post(
                "/messages",
                json={"to": "beijing", "precedence": "ROUTINE", "text": f"load {n}.{i}", "lang": "en"},
            )
            r.raise_for_status()

    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=w.api_url, headers=headers, timeout=60, limits=limits) as client:
        await asyncio.gather(*(sender(client, n) for n in range(senders)))
    posted = time.perf_counter()
    target = before + per_sender * senders
    for _ in range(6000):
        if await _delivered_count(w) >= target:
            break
        await asyncio.sleep(0.05)
    else:
        raise RuntimeError("not every message was receipted within 5 minutes")
    elapsed = time.perf_counter() - start
    print(f"  posted {per_sender * senders} in {posted - start:.2f}s, all receipted after {elapsed:.2f}s")
    return per_sender * senders / elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=500, help="latency samples (default 500)")
    parser.add_argument("--burst", type=int, default=20_000, help="messages in the throughput run")
    parser.add_argument("--senders", type=int, default=64, help="concurrent API clients")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--json", help="write the figures to this file as JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="redline-bench-") as tmp:
        root = Path(tmp)
        if args.backend == "sqlite":
            urls = (f"sqlite:///{root}/washington.db", f"sqlite:///{root}/beijing.db")
        else:
            urls = (create_pg_database(), create_pg_database())
        w, b = make_pair(root, urls)
        try:
            w.start()
            b.start()
            asyncio.run(measure_latency(w, 20))  # warm up: connections, caches
            latencies = asyncio.run(measure_latency(w, args.messages))
            throughput = asyncio.run(measure_throughput(w, args.burst, args.senders))
        finally:
            w.stop()
            b.stop()
            if args.backend == "postgres":
                for url in urls:
                    drop_pg_database(url)

    figures = {
        "backend": args.backend,
        "messages": len(latencies),
        "latency_p50_ms": round(statistics.median(latencies), 3),
        "latency_p99_ms": round(percentile(latencies, 99), 3),
        "throughput_msgs_per_s": round(throughput, 1),
        "burst": args.burst,
        "senders": args.senders,
    }
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
