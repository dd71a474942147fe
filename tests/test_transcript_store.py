"""A link's transcript below the console: the store's query of both directions (SQLite and
PostgreSQL), the hash-chain walk, and the period a reader asks for."""

from __future__ import annotations

import pytest

from redline.domain.messages import Direction, MessageKind
from redline.errors import InputError
from redline.protocol import GENESIS_DIGEST
from redline.services.queries.messages import BOX_KINDS
from redline.services.queries.transcript import ChainStatus, TimeRange, chain_status
from redline.store.station import Store
from tests.test_store import PEER, insert, record, run

OUT, IN = Direction.OUTBOUND, Direction.INBOUND


def at(second: int) -> str:
    return f"2026-01-01T00:00:{second:02d}.000000Z"


def test_link_messages_both_ways_oldest_first_paged_and_within_a_period(url: str) -> None:
    rows = [
        record(1, OUT, stored_at=at(1)),
        record(1, IN, stored_at=at(2)),
        record(2, IN, stored_at=at(3), kind=MessageKind.LINK_TEST),  # not a transcript row
        record(2, OUT, stored_at=at(4)),
        record(3, IN, stored_at=at(4)),  # the same moment: id decides
        record(3, OUT, stored_at=at(5)),
    ]

    async def scenario(store: Store) -> list[list[str]]:
        await insert(store, *rows)
        everything = await store.link_messages(PEER, 10, BOX_KINDS)
        first = await store.link_messages(PEER, 2, BOX_KINDS)
        rest = await store.link_messages(PEER, 10, BOX_KINDS, after=(first[-1].stored_at, first[-1].id))
        period = await store.link_messages(PEER, 10, BOX_KINDS, since=at(2), until=at(5))
        other = await store.link_messages("nobody", 10, BOX_KINDS)
        return [[r.id for r in found] for found in (everything, first, rest, period, other)]

    everything, first, rest, period, other = run(url, scenario)
    assert everything == ["mo0001", "mi0001", "mi0003", "mo0002", "mo0003"]
    assert first + rest == everything
    assert period == ["mi0001", "mi0003", "mo0002"]  # since inclusive, until exclusive
    assert other == []


def test_chain_status_walks_from_genesis_and_names_the_first_fault() -> None:
    good = [(1, GENESIS_DIGEST, "a" * 64), (2, "a" * 64, "b" * 64), (3, "b" * 64, "c" * 64)]
    assert chain_status(OUT, good) == ChainStatus("outbound", 3, None)
    assert chain_status(IN, []) == ChainStatus("inbound", 0, None)
    gap = [good[0], good[2]]
    assert chain_status(OUT, gap) == ChainStatus("outbound", 1, "seq 2 is missing (next stored: 3)")
    forked = [good[0], (2, "f" * 64, "b" * 64), good[2]]
    assert chain_status(OUT, forked) == ChainStatus(
        "outbound", 1, "seq 2 does not name seq 1's digest as prev"
    )
    not_from_genesis = [(1, "a" * 64, "b" * 64)]
    assert chain_status(IN, not_from_genesis).verified_to == 0


def test_a_period_is_checked() -> None:
    assert TimeRange.parse(None, None) == TimeRange()
    assert TimeRange.parse("2026-01-01T00:00:00Z", "") == TimeRange("2026-01-01T00:00:00.000000Z", None)
    with pytest.raises(InputError, match="since"):
        TimeRange.parse("yesterday", None)
    with pytest.raises(InputError, match="must be before"):
        TimeRange.parse("2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z")
    with pytest.raises(InputError, match="must be before"):
        TimeRange.parse("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
