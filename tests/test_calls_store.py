"""The call tables on SQLite and PostgreSQL: events recorded with the call's cached row, the list
paged newest first, the calls awaiting a station, and escalation once per call."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from redline.domain.calls import CallEvent, CallState, check_call, fold
from redline.domain.clock import format_ts
from redline.store.station import Store
from tests.test_store import run

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PENDING = [s.value for s in CallState if s.pending]


def ts(minutes: float) -> str:
    return format_ts(T0 + timedelta(minutes=minutes))


def request(call_id: str, minutes: float, reply: float = 15) -> CallEvent:
    body = check_call(
        {
            "call_id": call_id,
            "action": "request",
            "by": "hale",
            "purpose": "Aircraft near the line",
            "urgency": "urgent",
            "asked_for": {"role": "commander", "level": "commander"},
            "window": {"start": ts(minutes + 30), "end": ts(minutes + 60)},
            "reply_by": ts(minutes + reply),
        }
    )
    return CallEvent("e" + call_id[1:], "washington", ts(minutes), body)


async def record(store: Store, event: CallEvent, callee: str = "beijing") -> Any:
    async with store.write() as tx:
        found = await tx.call_record(event.body["call_id"])
        events = [*(found.events if found else ()), event]
        call = fold(events, callee, datetime.fromisoformat(event.ts[:-1]).replace(tzinfo=UTC))
        await tx.record_call_event("washington" if callee == "beijing" else "beijing", event, call)
    return call


def test_calls_are_stored_paged_and_escalated_once(url: str) -> None:
    ids = [f"{i:032x}" for i in range(1, 4)]

    async def scenario(store: Store) -> None:
        # Three calls Washington asked Beijing for (as Beijing stores them), a minute apart.
        for i, call_id in enumerate(ids):
            await record(store, request(call_id, i))
        accepted = CallEvent(
            "f" * 32, "beijing", ts(5), check_call({"call_id": ids[0], "action": "accept", "by": "li"})
        )
        await record(store, accepted)
        stored = await store.call(ids[0])
        assert stored is not None and [e.body["action"] for e in stored.events] == ["request", "accept"]
        assert stored.at(T0 + timedelta(minutes=6)).state is CallState.SCHEDULED

        first = await store.calls(2)
        assert [r.call_id for r in first] == [ids[2], ids[1]]
        rest = await store.calls(2, after=(ts(1), ids[1]))
        assert [r.call_id for r in rest] == [ids[0]]
        assert await store.calls(10, peer_id="paris") == []

        waiting = await store.calls_awaiting("beijing", PENDING, 10)
        assert [r.call_id for r in waiting] == [ids[1], ids[2]]  # soonest reply deadline first
        assert await store.calls_awaiting("washington", PENDING, 10) == []

        assert await store.escalate_calls("beijing", ts(15.5), PENDING) == []  # not yet due
        due = await store.escalate_calls("beijing", ts(16.5), PENDING)
        assert [r.call_id for r in due] == [ids[1]] and due[0].escalated_at == ts(16.5)
        assert await store.escalate_calls("beijing", ts(16.6), PENDING) == []  # once
        later = await store.escalate_calls("beijing", ts(30), PENDING)
        assert [r.call_id for r in later] == [ids[2]]
        listed = await store.escalated_calls("beijing", PENDING, 1)
        assert [r.call_id for r in listed] == [ids[2]]  # newest escalation first
        older = await store.escalated_calls("beijing", PENDING, 5, after=(ts(30), ids[2]))
        assert [r.call_id for r in older] == [ids[1]]
        assert len(await store.escalated_calls("beijing", PENDING, 5, active=True)) == 2
        assert await store.escalated_calls("beijing", PENDING, 5, active=False) == []
        events = await store.audit_log(actions=["call_escalated"])
        assert sorted(json.loads(e.detail)["call"] for e in events) == [ids[1], ids[2]]

    run(url, scenario)
