"""The link row under concurrency: the first two transactions on a new link both get it.

A station's first link test going out and the peer's first batch coming in each
open a write transaction that reads the link row, and on a new link neither
finds one. On PostgreSQL both may run at once; both must end with the same
genesis row, not one of them with a unique-key violation (which once cost a
station its start-up link test).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from redline.domain.stations import LinkChains
from redline.protocol import GENESIS_DIGEST
from redline.store.station import Store
from tests.support.stations import create_pg_database, drop_pg_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/station.db"
        return
    pg = create_pg_database()
    try:
        yield pg
    finally:
        drop_pg_database(pg)


def test_two_transactions_creating_one_link_row_both_succeed(url: str) -> None:
    async def scenario() -> list[LinkChains]:
        store = await Store.open(url)
        try:
            inside = asyncio.Event()

            async def first() -> LinkChains:
                async with store.write() as tx:
                    chains = await tx.link_chains("beijing")
                    inside.set()
                    await asyncio.sleep(0.3)  # hold the new row, uncommitted, while the second reads
                    chains.out_next_seq += 1
                    await tx.save_link_chains(chains)
                    return chains

            async def second() -> LinkChains:
                await inside.wait()
                async with store.write() as tx:
                    return await tx.link_chains("beijing")

            return list(await asyncio.gather(first(), second()))
        finally:
            await store.close()

    first, second = asyncio.run(scenario())
    assert (first.out_next_seq, first.out_last_digest) == (2, GENESIS_DIGEST)
    # The second waited for the first to commit and read its row, locked, as it now stands.
    assert (second.peer_id, second.out_next_seq, second.in_next_seq) == ("beijing", 2, 1)
