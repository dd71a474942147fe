"""The store's needs-action read (``awaiting_ack``) on SQLite and PostgreSQL: the most urgent first,
the total and the FLASH count beside the shown rows, acknowledged ones gone."""

from __future__ import annotations

from redline.domain.messages import Direction, Precedence
from redline.store.station import Store
from tests.test_store import insert, record, run

DEADLINES = ("2026-01-01T00:09:00.000Z", "2026-01-01T00:01:00.000Z", "2026-01-01T00:05:00.000Z")


def test_awaiting_ack_puts_flash_then_immediate_first_each_by_deadline(url: str) -> None:
    inbound = [
        record(1, Direction.INBOUND, precedence=Precedence.ROUTINE, deadline=DEADLINES[1]),
        record(2, Direction.INBOUND, precedence=Precedence.IMMEDIATE, deadline=DEADLINES[2]),
        record(3, Direction.INBOUND, precedence=Precedence.FLASH, deadline=DEADLINES[0]),
        record(4, Direction.INBOUND, precedence=Precedence.FLASH, deadline=DEADLINES[2]),
        record(5, Direction.INBOUND, precedence=Precedence.PRIORITY, deadline=DEADLINES[0]),
        record(6, Direction.INBOUND, precedence=Precedence.FLASH, deadline=None),  # no ack due
        record(7, Direction.INBOUND, deadline=DEADLINES[1], acked_at=DEADLINES[1]),  # acknowledged
    ]
    outbound = [record(8, precedence=Precedence.PRIORITY), record(9, precedence=Precedence.FLASH)]

    async def scenario(store: Store) -> None:
        assert await store.awaiting_ack(Direction.INBOUND, 10) == ([], 0, 0)
        await insert(store, *inbound, *outbound)
        rows, total, flash = await store.awaiting_ack(Direction.INBOUND, 10)
        assert [r.seq for r in rows] == [4, 3, 2, 1, 5] and total == 5 and flash == 2
        rows, total, flash = await store.awaiting_ack(Direction.INBOUND, 2)
        assert [r.seq for r in rows] == [4, 3] and total == 5 and flash == 2  # counted beyond the limit
        rows, total, flash = await store.awaiting_ack(Direction.OUTBOUND, 10)
        assert [r.seq for r in rows] == [9, 8] and total == 2 and flash == 1

    run(url, scenario)
