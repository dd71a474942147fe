"""Search benchmark: the operator's searches over a station's stored messages.

    python bench/search.py [--messages 200000] [--repeat 15] [--backend sqlite|postgres|both]
                           [--json FILE]

Fills a migrated store (a fresh SQLite file; a fresh PostgreSQL database on
127.0.0.1:5432, dropped afterwards) with ``--messages`` rows written straight
into the messages table (what the search reads; no envelopes are made or
signed, so filling is quick): both directions of one link, one a second,
80 % ROUTINE, 15 % PRIORITY, 4 % IMMEDIATE, 1 % FLASH; texts drawn from a
vocabulary of 2,000 words, with one message holding the word "osprey" sent
first of all (the issue's "a message sent 1,000 messages earlier", and then
some); IMMEDIATE and FLASH with deadlines, most acknowledged, some overdue.

Then runs each search as the API and console do (``search_messages`` for a
page of 100 newest first, ``count_messages`` for ``total=true``) ``--repeat``
times and reports p50 and max in milliseconds:

- ``rare_word``: the text "osprey" (one match, the oldest row; SQLite scans every row);
- ``common_word``: a word in about 1 % of messages, first page;
- ``common_word_count``: how many match it (``total=true``);
- ``flash``: precedence FLASH, first page;
- ``awaiting_our_ack``: inbox, acknowledgement still due;
- ``overdue``: past the deadline without one;
- ``page_20``: the 20th page (keyset cursor) of a precedence filter, each page
  fetched after the previous one, as a reader paging back would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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

from sqlalchemy import insert

from redline.domain.clock import format_ts
from redline.domain.messages import DeliveryState, Direction, MessageKind, Precedence
from redline.domain.search import MessageSearch, fold
from redline.store import schema as t
from redline.store.station import Store

START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = START + timedelta(days=30)
PAGE = 100
CHUNK = 5_000
PRECEDENCES = [
    (Precedence.ROUTINE, 80),
    (Precedence.PRIORITY, 15),
    (Precedence.IMMEDIATE, 4),
    (Precedence.FLASH, 1),
]


def _words(rng: random.Random, n: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) for _ in range(n)]


def rows(count: int, seed: int) -> tuple[list[dict[str, Any]], str]:
    """The rows to store and the common word (in about 1 % of texts)."""
    rng = random.Random(seed)
    vocabulary = [w for w in _words(rng, 2_100) if w != "osprey"][:2_000]
    common = vocabulary[0]
    precedences, weights = zip(*PRECEDENCES, strict=True)
    seqs = {Direction.INBOUND: 0, Direction.OUTBOUND: 0}
    out: list[dict[str, Any]] = []
    for i in range(count):
        direction = Direction.INBOUND if i % 2 else Direction.OUTBOUND
        seqs[direction] += 1
        precedence = rng.choices(precedences, weights)[0]
        words = rng.sample(vocabulary[1:], 12)
        if rng.random() < 0.01:
            words[3] = common
        text = "Osprey corridor closes at dusk" if i == 0 else " ".join(words)
        stored = START + timedelta(seconds=i)
        urgent = precedence in (Precedence.FLASH, Precedence.IMMEDIATE)
        deadline = stored + timedelta(minutes=5) if urgent else None
        acked = urgent and rng.random() < 0.9
        out.append(
            {
                "id": uuid.UUID(int=rng.getrandbits(128)).hex,
                "direction": direction.value,
                "peer_id": "beijing",
                "seq": seqs[direction],
                "kind": MessageKind.TEXT.value,
                "precedence": precedence.value,
                "ts": format_ts(stored),
                "body": json.dumps({"text": text, "lang": "en"}),
                "envelope": "{}",
                "digest": f"{i:064x}",
                "state": (DeliveryState.ACKNOWLEDGED if acked else DeliveryState.DELIVERED).value,
                "deadline": format_ts(deadline) if deadline else None,
                "created_by": "bench" if direction is Direction.OUTBOUND else None,
                "stored_at": format_ts(stored),
                "sent_at": format_ts(stored),
                "delivered_at": format_ts(stored),
                "acked_at": format_ts(stored + timedelta(minutes=1)) if acked else None,
                "acked_by": "bench" if acked else None,
                "expects_reply": False,
                "search_text": fold(text),
            }
        )
    return out, common


async def fill(store: Store, data: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    for base in range(0, len(data), CHUNK):
        async with store.database.transaction() as tx:
            await tx.execute(insert(t.messages), data[base : base + CHUNK])
    return time.perf_counter() - started


async def timed(repeat: int, run: Callable[[], Awaitable[object]]) -> dict[str, float]:
    await run()  # warm the caches once
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}


async def searches(store: Store, common: str, repeat: int) -> dict[str, dict[str, float]]:
    now = format_ts(NOW)

    async def page(search: MessageSearch) -> list[Any]:
        return await store.search_messages(search, now, PAGE)

    async def rare() -> None:
        found = await page(MessageSearch(text="osprey"))
        assert len(found) == 1, f"'osprey' found {len(found)} messages, not 1"

    async def page_20() -> None:
        search = MessageSearch(precedences=(Precedence.ROUTINE,))
        after = None
        for _ in range(20):
            found = await store.search_messages(search, now, PAGE, after)
            after = (found[-1].stored_at, found[-1].id)

    inbox_due = MessageSearch(direction=Direction.INBOUND, awaiting_ack=True)
    return {
        "rare_word": await timed(repeat, rare),
        "common_word": await timed(repeat, lambda: page(MessageSearch(text=common))),
        "common_word_count": await timed(
            repeat, lambda: store.count_messages(MessageSearch(text=common), now)
        ),
        "flash": await timed(repeat, lambda: page(MessageSearch(precedences=(Precedence.FLASH,)))),
        "awaiting_our_ack": await timed(repeat, lambda: page(inbox_due)),
        "overdue": await timed(repeat, lambda: page(MessageSearch(overdue=True))),
        "page_20": await timed(max(3, repeat // 3), page_20),
    }


async def run_backend(backend: str, data: list[dict[str, Any]], common: str, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="redline-search-") as work:
        if backend == "sqlite":
            url, drop = f"sqlite:///{work}/station.db", None
        else:
            from tests.support.stations import create_pg_database, drop_pg_database

            url = await asyncio.to_thread(create_pg_database)
            drop = drop_pg_database
        store = await Store.open(url)
        try:
            fill_s = await fill(store, data)
            figures = {
                "backend": backend,
                "fill_s": round(fill_s, 1),
                **await searches(store, common, repeat),
            }
        finally:
            await store.close()
            if drop is not None:
                await asyncio.to_thread(drop, url)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", help="write the figures to this file as JSON")
    args = parser.parse_args()
    if args.messages < PAGE * 21:
        parser.error(f"--messages must be at least {PAGE * 21} (page_20 pages through them)")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    data, common = rows(args.messages, args.seed)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = {"messages": args.messages, "page": PAGE, "at": format_ts(datetime.now(UTC)), "runs": []}
    for backend in backends:
        figures = asyncio.run(run_backend(backend, data, common, args.repeat))
        results["runs"].append(figures)
        print(f"{backend}: {args.messages:,} messages stored in {figures['fill_s']} s")
        for name, value in figures.items():
            if isinstance(value, dict):
                print(f"  {name:<18} p50 {value['p50_ms']:>9.2f} ms   max {value['max_ms']:>9.2f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
