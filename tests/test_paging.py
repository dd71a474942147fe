"""Every list pages with a keyset cursor: a walk through ``next`` sees every row once, in order,
even while rows arrive; bad limits and cursors are refused (issue 10, items 5 and 7).

Rows are written through the store (fast), on SQLite and PostgreSQL, and read back through the
query services the API uses; the API's own answers are in tests/unit/test_inprocess_paging.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from redline.crypto.keys import StationKeys
from redline.domain.messages import Direction
from redline.domain.search import MessageSearch
from redline.errors import InputError
from redline.services.paging import Page, PageRequest, decode_cursor, encode_cursor, parse_limit
from redline.services.queries.messages import MessageQueries
from redline.services.queries.notices import NoticeQueries
from redline.store.console import ConsoleStore
from redline.store.notices import NoticeStore
from redline.store.station import Store
from tests.test_store import PEER, insert, record, run

KEY = StationKeys.generate().signing_public  # washington's: these tests check no signature

R = TypeVar("R")
Row = dict[str, Any]


def stamp(i: int) -> str:
    """Ten rows share each timestamp, so the id must break the ties."""
    return f"2026-01-01T00:{(i // 10) // 60:02d}:{(i // 10) % 60:02d}.000000Z"


async def walk(
    first: Callable[[PageRequest], Awaitable[Page[R]]],
    limit: int,
    between: Callable[[int], Awaitable[None]],
) -> list[R]:
    """Every row through ``next``; ``between(n)`` runs before page n (n >= 1) is read."""
    rows: list[R] = []
    page = await first(PageRequest(limit))
    pages = 1
    rows.extend(page.items)
    while page.next is not None:
        await between(pages)
        page = await first(PageRequest(limit, page.next))
        assert len(page.items) <= limit
        rows.extend(page.items)
        pages += 1
    return rows


def test_a_walk_over_the_inbox_sees_every_message_once_while_messages_arrive(url: str) -> None:
    async def scenario(store: Store) -> None:
        count = 1_234
        await insert(
            store,
            *(
                record(i + 1, Direction.INBOUND, id=f"in{i:05d}", stored_at=stamp(i), deadline=None)
                for i in range(count)
            ),
        )
        queries = MessageQueries(store, ConsoleStore(store), "washington", KEY)

        async def arrive(n: int) -> None:  # newer messages land between pages
            base = count + 10 * n
            await insert(
                store,
                *(
                    record(
                        base + j + 1, Direction.INBOUND, id=f"new{base + j:05d}", stored_at=stamp(base + 60)
                    )
                    for j in range(10)
                ),
            )

        def box(request: PageRequest) -> Awaitable[Page[Any]]:
            return queries.box(request, _everything(Direction.INBOUND))

        seen = [v.id for v in await walk(box, 1000, arrive)]
        expected = sorted((f"in{i:05d}" for i in range(count)), key=lambda m: (stamp(int(m[2:])), m))
        assert seen == expected[::-1]  # every one once, newest first
        # A small page size crosses many ties between rows stored at the same moment.
        seen = [v.id for v in await walk(box, 7, _nothing)]
        assert len(seen) == len(set(seen)) == count + 10 * 1
        assert seen[-count:] == expected[::-1]

    run(url, scenario)


def test_a_walk_over_the_conflicts_sees_every_conflict_once_while_conflicts_open(url: str) -> None:
    async def scenario(store: Store) -> None:
        notices = NoticeStore(store)
        count = 1_566

        async def open_conflicts(first: int, how_many: int, at: str) -> None:
            details: list[Any] = [
                {"key": f"a{i:05d}@1~b{i:05d}@1", "notice_a": f"a{i:05d}", "notice_b": f"b{i:05d}"}
                for i in range(first, first + how_many)
            ]
            await notices.record_conflicts(details, [], at)

        for start in range(0, count, 500):  # several openings share each moment
            await open_conflicts(start, min(500, count - start), stamp(start))
        queries = NoticeQueries(notices, None, "washington")  # type: ignore[arg-type]  # reads only

        async def arrive(n: int) -> None:
            await open_conflicts(count + 100 * n, 100, stamp(count + 100 * n))

        def page(request: PageRequest) -> Awaitable[Page[Row]]:
            return queries.conflicts("open", None, request)

        seen = [(c["notice_a"], c["opened_at"]) for c in await walk(page, 1000, arrive)]
        expected = sorted(
            ((f"a{i:05d}", stamp((i // 500) * 500)) for i in range(count)), key=lambda c: (c[1], c[0])
        )
        assert seen == expected[::-1]
        one = await queries.conflicts(None, "b00007", PageRequest(10))
        assert [c["notice_a"] for c in one.items] == ["a00007"] and one.next is None

    run(url, scenario)


def test_a_walk_over_the_audit_log_sees_every_event_once_while_events_are_written(url: str) -> None:
    async def scenario(store: Store) -> None:
        count = 450
        async with store.write() as tx:
            await tx.audit_many([(stamp(i), f"op{i % 3}", "send", {"n": i}) for i in range(count)])
        queries = MessageQueries(store, ConsoleStore(store), "washington", KEY)

        async def arrive(n: int) -> None:
            async with store.write() as tx:
                await tx.audit_many([(stamp(count + n), "op0", "send", {"n": -n})])

        events = await walk(queries.audit_log, 200, arrive)
        assert [e["detail"]["n"] for e in events] == list(range(count - 1, -1, -1))
        assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)

    run(url, scenario)


def test_a_walk_with_nothing_past_the_last_page_ends_with_next_null(url: str) -> None:
    async def scenario(store: Store) -> None:
        queries = MessageQueries(store, ConsoleStore(store), "washington", KEY)
        assert (await queries.audit_log(PageRequest(5))).next is None  # empty
        await insert(store, *(record(i + 1, id=f"out{i}", stored_at=stamp(i)) for i in range(4)))
        exact = await queries.box(PageRequest(4), _everything(Direction.OUTBOUND))
        assert len(exact.items) == 4 and exact.next is None  # exactly full: still the last page
        first = await queries.box(PageRequest(3), _everything(Direction.OUTBOUND))
        assert first.next is not None
        rest = await queries.box(PageRequest(3, first.next), _everything(Direction.OUTBOUND))
        assert [v.id for v in rest.items] == ["out0"] and rest.next is None

    run(url, scenario)


def test_a_cursor_from_another_list_or_tampered_with_is_refused_before_any_query(url: str) -> None:
    async def scenario(store: Store) -> None:
        queries = MessageQueries(store, ConsoleStore(store), "washington", KEY)
        audit_cursor = encode_cursor("audit", (5,))
        with pytest.raises(InputError, match="cursor"):
            await queries.box(PageRequest(10, audit_cursor), _everything(Direction.INBOUND))
        with pytest.raises(InputError, match="cursor"):
            await queries.audit_log(PageRequest(10, encode_cursor("audit", ("5",))))

    run(url, scenario)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not base64 at all!",
        "%%%",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),  # not UTF-8
        base64.urlsafe_b64encode(b"{nope").decode(),  # not JSON
        base64.urlsafe_b64encode(json.dumps({"messages": 1}).encode()).decode(),  # not a list
        base64.urlsafe_b64encode(json.dumps(["messages", "x"]).encode()).decode(),  # too short
        base64.urlsafe_b64encode(json.dumps(["messages", 1, "x"]).encode()).decode(),  # wrong type
        base64.urlsafe_b64encode(json.dumps(["audit", "x", "y"]).encode()).decode(),  # other list
        base64.urlsafe_b64encode(json.dumps(["messages", "x", "y", "z"]).encode()).decode(),
        "A" * 5000,
        "Wy²",
    ],
)
def test_garbage_and_tampered_cursors_are_input_errors(raw: str) -> None:
    with pytest.raises(InputError, match=r"^cursor: "):
        decode_cursor(raw, "messages", (str, str))


def test_cursors_round_trip_and_a_bool_is_not_an_id() -> None:
    cursor = encode_cursor("messages", ("2026-01-01T00:00:00.000000Z", "m1"))
    assert decode_cursor(cursor, "messages", (str, str)) == ("2026-01-01T00:00:00.000000Z", "m1")
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor  # safe in a query string
    assert decode_cursor(encode_cursor("audit", (7,)), "audit", (int,)) == (7,)
    with pytest.raises(InputError):
        decode_cursor(base64.urlsafe_b64encode(b'["audit",true]').decode(), "audit", (int,))


@pytest.mark.parametrize("raw", ["²", "0", "1001", "-1", "1.5", " 5", "", "१२", "99999999999999999999"])
def test_limits_are_ascii_digits_in_range(raw: str) -> None:
    with pytest.raises(InputError, match=r"^limit: expected a whole number from 1 to 1000"):
        parse_limit(raw, 100, 1000)


def test_a_limit_in_range_is_taken_and_absent_is_the_default() -> None:
    assert parse_limit("1000", 100, 1000) == 1000
    assert parse_limit(None, 100, 1000) == 100


def _everything(direction: Direction) -> MessageSearch:
    return MessageSearch(direction=direction, kinds=None, peer=PEER)


async def _nothing(n: int) -> None:
    return None
