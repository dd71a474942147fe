"""Fast tests of what the web layer is given: the change feed and the shared message view."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

from redline.domain.clock import MockClock, settle
from redline.domain.messages import DeliveryState, Direction, MessageKind, Precedence
from redline.domain.records import MessageRecord
from redline.services.changes import ChangeFeed
from redline.services.views import message_json, message_view, sort_for_watch


class FakeStore:
    def __init__(self) -> None:
        self.listeners: list[Callable[[], None]] = []

    def add_commit_listener(self, callback: Callable[[], None]) -> None:
        self.listeners.append(callback)

    def commit(self) -> None:
        for listener in self.listeners:
            listener()


def test_a_commit_wakes_a_waiting_page_and_quiet_time_passes_on_the_clock() -> None:
    async def scenario() -> None:
        clock = MockClock()
        feed = ChangeFeed(clock)
        store = FakeStore()
        feed.listen_to(store)
        seen = feed.version
        waiting = asyncio.ensure_future(feed.wait(seen, 5.0))
        await settle()
        assert not waiting.done()
        store.commit()
        await settle()
        assert waiting.done() and waiting.result() is True
        assert feed.version == seen + 1
        # Nothing changes: the wait ends after five seconds on the mock clock, not the machine's.
        quiet = asyncio.ensure_future(feed.wait(feed.version, 5.0))
        await settle()
        await clock.advance(4.9)
        assert not quiet.done()
        await clock.advance(0.2)
        assert quiet.done() and quiet.result() is False
        # A version moved since the page rendered returns at once.
        assert await feed.wait(seen, 5.0) is True

    asyncio.run(scenario())


def test_a_commit_in_another_thread_reaches_the_loop() -> None:
    async def scenario() -> None:
        feed = ChangeFeed(MockClock())
        waiting = asyncio.ensure_future(feed.wait(0, 60.0))
        await settle()
        thread = threading.Thread(target=feed.bump)
        thread.start()
        thread.join()
        await asyncio.wait_for(waiting, 1.0)
        assert feed.version == 1

    asyncio.run(scenario())


def _row(kind: str, body: dict[str, Any], **values: Any) -> MessageRecord:
    row: dict[str, Any] = {
        "id": "m1",
        "direction": "inbound",
        "peer_id": "beijing",
        "seq": 7,
        "kind": kind,
        "precedence": "FLASH",
        "ts": "2026-01-01T00:00:00.000000Z",
        "state": "delivered",
        "deadline": "2026-01-01T00:05:00.000000Z",
        "created_by": "li",
        "digest": "ab",
        "sent_at": None,
        "delivered_at": "2026-01-01T00:00:01.000000Z",
        "receipt_id": None,
        "acked_by": None,
        "acked_at": None,
        "ack_message_id": None,
        "escalated_at": None,
        "body": json.dumps(body),
        "envelope": "{}",
        "stored_at": "2026-01-01T00:00:01.000000Z",
        "ack_of": None,
    }
    row.update(values)
    row["direction"], row["kind"] = Direction(row["direction"]), MessageKind(row["kind"])
    row["precedence"], row["state"] = Precedence(row["precedence"]), DeliveryState(row["state"])
    return MessageRecord(**row)


def test_one_view_serves_the_api_and_the_console() -> None:
    clock = MockClock()
    view = message_view(_row("text", {"text": "hold fire", "lang": "en"}), clock.now())
    assert (view.text, view.lang, view.alarm, view.awaiting_ack) == ("hold fire", "en", True, True)
    api = message_json(view)
    assert list(api)[:13] == [
        "id", "direction", "peer", "seq", "kind", "precedence", "ts", "state", "deadline",
        "created_by", "digest", "sent_at", "delivered_at",
    ]  # fmt: skip
    assert (api["text"], api["lang"], api["receipt"], api["acknowledgement"]) == (
        "hold fire",
        "en",
        None,
        None,
    )
    service = message_view(
        _row("service", {"action": "suspend", "by": "ann", "reason": "drill"}), clock.now()
    )
    assert service.service == "suspend: drill"
    assert message_json(service)["action"] == "suspend" and "service" not in message_json(service)
    ack = message_json(message_view(_row("ack", {"ack_of": "m0"}), clock.now()))
    assert ack["answers"] == "m0"


def test_a_message_past_its_deadline_shows_overdue_and_sorts_first() -> None:
    clock = MockClock()
    done = _row("text", {"text": "a", "lang": "en"}, id="m2", acked_at="2026-01-01T00:00:02.000000Z")
    late = _row("text", {"text": "b", "lang": "en"}, id="m3", precedence="ROUTINE")
    views = [message_view(r, clock.now().replace(hour=1)) for r in (done, late)]
    assert [v.state for v in views][1] == "overdue"
    assert [v.id for v in sort_for_watch(views)] == ["m3", "m2"]
