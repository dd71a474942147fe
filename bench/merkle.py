"""Merkle log benchmark: tree heads and proofs over one direction of 100,000 envelopes.

    python bench/merkle.py [--leaves 100000] [--repeat 5] [--backend sqlite|postgres|both|none]
                           [--json FILE]

Two parts, each repeated ``--repeat`` times (p50 and max, milliseconds):

- ``pure``: ``redline.domain.merkle`` alone, on ``--leaves`` random 32-byte leaves:
  ``build`` (hash every leaf and complete subtree: what every tree head costs),
  then on the built log ``root``, ``inclusion_proof`` (of 1,000 random leaves, per proof),
  ``consistency_proof`` (half the log to all of it), and ``verify_inclusion`` /
  ``verify_consistency`` (per proof).
- per store backend (a fresh SQLite file; a fresh PostgreSQL database on 127.0.0.1:5432,
  dropped afterwards): ``--leaves`` outbound rows of one link written straight into the
  messages table (digests only; no envelopes are made or signed), then the API's queries end
  to end through ``LogQueries`` (the digests read, the log built, the answer made):
  ``head``, ``inclusion`` (one message) and ``consistency``. The API serves exactly these.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import insert

from figures import report
from redline.domain.clock import format_ts
from redline.domain.merkle import MerkleLog, leaf_hash, verify_consistency, verify_inclusion
from redline.domain.messages import DeliveryState, Direction, MessageKind, Precedence
from redline.services.queries.logs import LogQueries
from redline.store import schema as t
from redline.store.station import Store

START = datetime(2026, 1, 1, tzinfo=UTC)
CHUNK = 5_000
PEER = "beijing"


def _ms(times: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(times) * 1000, 3), "max_ms": round(max(times) * 1000, 3)}


def _time(repeat: int, run: Callable[[], object]) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return _ms(times)


def pure(leaves: list[bytes], repeat: int, rng: random.Random) -> dict[str, Any]:
    n = len(leaves)
    figures: dict[str, Any] = {"build": _time(repeat, lambda: MerkleLog(leaves))}
    log = MerkleLog(leaves)
    root = log.root()
    figures["root"] = _time(repeat, log.root)
    indices = [rng.randrange(n) for _ in range(1_000)]
    started = time.perf_counter()
    proofs = [log.inclusion_proof(i) for i in indices]
    figures["inclusion_proof_each_ms"] = round((time.perf_counter() - started) / len(indices) * 1000, 4)
    started = time.perf_counter()
    for i, proof in zip(indices, proofs, strict=True):
        assert verify_inclusion(i, n, leaf_hash(leaves[i]), proof, root)
    figures["verify_inclusion_each_ms"] = round((time.perf_counter() - started) / len(indices) * 1000, 4)
    half = n // 2
    figures["consistency_proof"] = _time(repeat, lambda: log.consistency_proof(half))
    proof = log.consistency_proof(half)
    half_root = log.root(half)
    figures["verify_consistency"] = _time(repeat, lambda: verify_consistency(half, n, half_root, root, proof))
    figures["audit_path_hashes"] = len(proofs[0])
    return figures


def _rows(leaves: list[bytes], rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for i, leaf in enumerate(leaves):
        at = format_ts(START + timedelta(seconds=i))
        rows.append(
            {
                "id": uuid.UUID(int=rng.getrandbits(128)).hex,
                "direction": Direction.OUTBOUND.value,
                "peer_id": PEER,
                "seq": i + 1,
                "kind": MessageKind.TEXT.value,
                "precedence": Precedence.ROUTINE.value,
                "ts": at,
                "body": "{}",
                "envelope": "{}",
                "digest": leaf.hex(),
                "state": DeliveryState.DELIVERED.value,
                "created_by": "bench",
                "stored_at": at,
                "expects_reply": False,
                "search_text": "",
            }
        )
    return rows


async def _peer(store: Store) -> None:
    async with store.database.transaction() as tx:
        await tx.execute(
            insert(t.peers).values(
                station_id=PEER,
                name="Beijing",
                signing_key="x",
                encryption_key="x",
                tls_fingerprint="x",
                tls_certificate="x",
                endpoints="[]",
                card="{}",
                added_at=format_ts(START),
            )
        )


async def _timed(repeat: int, run: Callable[[], Awaitable[object]]) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        times.append(time.perf_counter() - started)
    return _ms(times)


async def backend_run(backend: str, leaves: list[bytes], repeat: int, rng: random.Random) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="redline-merkle-") as work:
        if backend == "sqlite":
            url, drop = f"sqlite:///{work}/station.db", None
        else:
            from tests.support.stations import create_pg_database, drop_pg_database

            url = await asyncio.to_thread(create_pg_database)
            drop = drop_pg_database
        store = await Store.open(url)
        try:
            await _peer(store)
            rows = _rows(leaves, rng)
            started = time.perf_counter()
            for base in range(0, len(rows), CHUNK):
                async with store.database.transaction() as tx:
                    await tx.execute(insert(t.messages), rows[base : base + CHUNK])
            fill_s = time.perf_counter() - started
            logs = LogQueries(store, "washington")
            target = rows[rng.randrange(len(rows))]["id"]
            head = await logs.head(PEER, Direction.OUTBOUND)
            assert head.size == len(leaves) and head.root == MerkleLog(leaves).root()
            proof = await logs.inclusion(target)
            assert verify_inclusion(proof.leaf_index, head.size, proof.leaf_hash, proof.audit_path, head.root)
            return {
                "backend": backend,
                "fill_s": round(fill_s, 1),
                "head": await _timed(repeat, lambda: logs.head(PEER, Direction.OUTBOUND)),
                "inclusion": await _timed(repeat, lambda: logs.inclusion(target)),
                "consistency": await _timed(
                    repeat, lambda: logs.consistency(PEER, Direction.OUTBOUND, len(leaves) // 2)
                ),
                "digests_query": await _timed(repeat, lambda: store.log_digests(PEER, Direction.OUTBOUND)),
            }
        finally:
            await store.close()
            if drop is not None:
                await asyncio.to_thread(drop, url)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leaves", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both", "none"], default="sqlite")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", help="write the figures to this file as JSON")
    args = parser.parse_args()
    if args.leaves < 2 or args.repeat < 1:
        parser.error("--leaves must be at least 2 and --repeat at least 1")
    rng = random.Random(args.seed)
    leaves = [rng.randbytes(32) for _ in range(args.leaves)]
    figures: dict[str, Any] = {
        "leaves": args.leaves,
        "at": format_ts(datetime.now(UTC)),
        "cpus": os.cpu_count(),
        "pure": pure(leaves, args.repeat, rng),
    }
    backends = {"both": ["sqlite", "postgres"], "none": []}.get(args.backend, [args.backend])
    for backend in backends:
        figures[backend] = asyncio.run(backend_run(backend, leaves, args.repeat, rng))
    report(figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
