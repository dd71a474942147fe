"""The operator API's lists, as a client sees them: every list answers ``limit`` and ``next``,
a walk through ``next`` returns everything, and bad limits, cursors and filters answer 400
(never 500). Two in-process stations; the store-level walks are in tests/test_paging.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from redline.domain.stations import Role
from tests.support.inprocess import InProcessPair, api_client, eventually

pytestmark = pytest.mark.anyio

LISTS = [
    "/messages",
    "/notices",
    "/conflicts",
    "/audit",
    "/alarms?type=escalations",
    "/alarms?type=link_alarms",
]


@pytest.fixture
async def api(pair: InProcessPair) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(pair.washington, "pager", Role.SUPERVISOR, "http://127.0.0.1/api/v1") as client:
        yield client


def error(r: httpx.Response) -> str:
    assert r.status_code == 400, r.text
    return str(r.json()["error"]["message"])


async def test_a_limit_of_superscript_two_is_a_400_naming_the_parameter(api: httpx.AsyncClient) -> None:
    for path in LISTS:
        sep = "&" if "?" in path else "?"
        assert error(await api.get(f"{path}{sep}limit=²")).startswith(
            "limit: expected a whole number from 1 to "
        )
        assert error(await api.get(f"{path}{sep}limit=0")).startswith("limit: ")


async def test_garbage_and_foreign_cursors_are_a_400(api: httpx.AsyncClient) -> None:
    first = (await api.get("/audit", params={"limit": 1})).json()
    assert first["next"] is not None  # adding the operator was audited, and more
    for path in LISTS:
        sep = "&" if "?" in path else "?"
        for cursor in ("garbage", "WyJ4Il0", "²"):
            assert error(await api.get(f"{path}{sep}cursor={cursor}")).startswith("cursor: ")
        if path != "/audit":  # the audit log's cursor is no other list's
            assert error(await api.get(f"{path}{sep}cursor={first['next']}")).startswith("cursor: ")


async def test_every_list_answers_limit_and_next(api: httpx.AsyncClient) -> None:
    for path, key in [
        ("/messages", "messages"),
        ("/notices", "notices"),
        ("/conflicts", "conflicts"),
        ("/audit", "events"),
        ("/alarms?type=equivocations", "alarms"),
    ]:
        r = await api.get(path)
        assert r.status_code == 200, r.text
        body = r.json()
        assert isinstance(body[key], list) and body["limit"] >= 1 and "next" in body


async def test_filters_are_checked(api: httpx.AsyncClient) -> None:
    assert error(await api.get("/alarms")).startswith("type: expected one of equivocations, link_alarms")
    assert error(await api.get("/alarms", params={"type": "equivocations", "active": "true"})).startswith(
        "active:"
    )
    assert error(await api.get("/messages", params={"precedence": "URGENT"})).startswith("precedence:")
    assert error(await api.get("/messages", params={"awaiting_ack": "yes"})).startswith("awaiting_ack:")
    assert error(await api.get("/messages", params={"since": "yesterday"})).startswith("since:")
    assert error(await api.get("/messages", params={"peer": "Not A Station"})).startswith("peer:")
    assert error(await api.get("/notices", params={"state": "active,gone"})).startswith("state:")
    assert error(await api.get("/conflicts", params={"notice": "bad id!"})).startswith("notice:")
    assert error(await api.get("/audit", params={"action": ""})).startswith("action:")


async def test_a_walk_through_next_returns_every_message_once(
    pair: InProcessPair, api: httpx.AsyncClient
) -> None:
    w = pair.washington
    duty = pair.duty(w)
    sent = [
        await w.services().messaging.send_text(duty, "beijing", "ROUTINE", f"n{i}", "en") for i in range(25)
    ]
    flash = await w.services().messaging.send_text(duty, "beijing", "FLASH", "now", "en")

    # Text only: the station's own watch report (a service message at start-up) is in the outbox too.
    async def walk(**params: Any) -> list[str]:
        ids: list[str] = []
        cursor: str | None = None
        while True:
            page = (
                await api.get(
                    "/messages", params={"kind": "text", **params, **({"cursor": cursor} if cursor else {})}
                )
            ).json()
            assert len(page["messages"]) <= page["limit"]
            # Service lines (the watch each station reports at start-up) are not this test's.
            ids.extend(m["id"] for m in page["messages"] if m["kind"] != "service")
            cursor = page["next"]
            if cursor is None:
                return ids

    await eventually(lambda: _delivered(api, len(sent) + 1), "messages stored")
    everything = await walk(box="outbox", limit=4)
    assert sorted(everything) == sorted([flash, *sent])  # each once
    assert everything == await walk(box="outbox", limit=1000)  # in the one order, page by page
    assert await walk(box="outbox", precedence="FLASH", limit=1) == [flash]
    assert await walk(box="outbox", awaiting_ack="true", since="2000-01-01T00:00:00Z", limit=10) == everything


async def _delivered(api: httpx.AsyncClient, count: int) -> bool:
    r = await api.get("/messages", params={"box": "outbox", "kind": "text", "limit": 1000})
    return len(r.json()["messages"]) >= count


async def test_search_parameters_are_checked(api: httpx.AsyncClient) -> None:
    assert error(await api.get("/messages", params={"box": "both"})).startswith("box:")
    assert error(await api.get("/messages", params={"state": "read"})).startswith("state:")
    assert error(await api.get("/messages", params={"q": "x" * 201})).startswith("q:")
    assert error(await api.get("/messages", params={"q": "a\x07b"})).startswith("q:")
    assert error(await api.get("/messages", params={"until": "soon"})).startswith("until:")
    assert error(await api.get("/messages", params={"overdue": "1"})).startswith("overdue:")
    assert error(await api.get("/messages", params={"awaiting_theirs": "true"})).startswith(
        "awaiting_theirs:"
    )  # the inbox holds none of ours
    window = {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
    assert error(await api.get("/messages", params=window)).startswith("until:")


async def test_a_search_finds_one_message_and_its_cursor_pages_only_that_search(
    pair: InProcessPair, api: httpx.AsyncClient
) -> None:
    for words in ("first Zebra crossing", "second note", "third zebra"):
        r = await api.post("/messages", json={"to": "beijing", "precedence": "ROUTINE", "text": words})
        assert r.status_code == 201, r.text
    found = await api.get("/messages", params={"box": "all", "q": "ZEBRA", "limit": 1, "total": "true"})
    body = found.json()
    assert len(body["messages"]) == 1 and body["total"] == 2
    again = await api.get("/messages", params={"box": "all", "q": "zebra", "cursor": body["next"]})
    seen = {m["text"] for m in [*body["messages"], *again.json()["messages"]]}  # one clock: ties by id
    assert seen == {"first Zebra crossing", "third zebra"} and again.json()["next"] is None
    other = await api.get("/messages", params={"box": "outbox", "cursor": body["next"]})
    assert error(other).startswith("cursor: it pages another search")
