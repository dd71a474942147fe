"""Call requests between two live stations over real TLS: every branch, and both stations'
timelines agreeing entry for entry (the same states, officers and times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from redline.domain.clock import format_ts
from redline.domain.stations import Role
from tests.support.stations import StationProcess, add_operator, two_stations, wait_for

FAST = {"urgent": 0.1, "priority": 60, "routine": 1440}  # an urgent request: 6 s to answer


def window(start_s: float, end_s: float) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "start": format_ts(now + timedelta(seconds=start_s)),
        "end": format_ts(now + timedelta(seconds=end_s)),
    }


def call_of(station: StationProcess, call_id: str, token: str | None = None) -> dict[str, Any] | None:
    with station.client(token) as c:
        r = c.get(f"/calls/{call_id}")
    return r.json() if r.status_code == 200 else None


def timeline(call: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(e["at"], e["action"], e["station"], e["by"], e["state"], e["void"]) for e in call["timeline"]]


def settled(a: StationProcess, b: StationProcess, call_id: str, state: str, entries: int) -> dict[str, Any]:
    """Wait until both stations show the call in ``state`` with ``entries`` timeline entries and the
    same timeline; return washington's view."""

    def agree() -> dict[str, Any] | None:
        here, there = call_of(a, call_id), call_of(b, call_id)
        if here is None or there is None:
            return None
        if here["state"] != state or there["state"] != state or len(here["timeline"]) != entries:
            return None
        return here if timeline(here) == timeline(there) else None

    return wait_for(agree, timeout=30, what=f"call {call_id} {state} on both stations")


def request(station: StationProcess, token: str, urgency: str, when: dict[str, str]) -> str:
    body = {
        "to": "beijing",
        "purpose": "Unannounced aircraft 20 NM east of the median line",
        "urgency": urgency,
        "asked_for": {"role": "watch commander", "level": "commander"},
        "window": when,
    }
    with station.client(token) as c:
        r = c.post("/calls", json=body)
    assert r.status_code == 201, r.text
    call = r.json()["call"]
    assert call["state"] == "requested" and call["direction"] == "outbound"
    return str(call["call_id"])


def move(station: StationProcess, token: str, call_id: str, action: str, **body: Any) -> dict[str, Any]:
    with station.client(token) as c:
        r = c.post(f"/calls/{call_id}/{action}", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json()["call"])


@pytest.mark.slow
def test_call_requests_between_live_stations(tmp_path: Path, backend: str) -> None:
    settings = {"washington": {"call_reply_deadlines": FAST}, "beijing": {"call_reply_deadlines": FAST}}
    with two_stations(tmp_path, backend, links_up=True, settings=settings) as (w, b):
        hale = add_operator(w, "hale", Role.OPERATOR)
        li = add_operator(b, "li.wei", Role.OPERATOR)
        auditor = add_operator(b, "audit", Role.AUDITOR)
        chief = add_operator(b, "chief", Role.SUPERVISOR)

        # 1. request -> received (automatic) -> acknowledged -> accepted -> held
        first = request(w, hale, "priority", window(-5, 1800))
        seen = settled(w, b, first, "received", 2)
        assert [e["by"] for e in seen["timeline"]] == ["hale", "system"]
        with b.client(li) as c:
            mine = c.post(f"/calls/{first}/accept", json={})  # not acknowledged first: still its turn
            assert mine.status_code == 201
        with w.client(hale) as c:
            again = c.post(f"/calls/{first}/accept", json={})
        assert again.status_code == 409 and "already scheduled" in again.json()["error"]["message"]
        settled(w, b, first, "scheduled", 3)
        move(w, hale, first, "held", note="Spoke 4 minutes; both sides to hold patrols west")
        done = settled(w, b, first, "held", 4)
        assert [(e["action"], e["station"], e["by"]) for e in done["timeline"]] == [
            ("request", "washington", "hale"),
            ("received", "beijing", "system"),
            ("accept", "beijing", "li.wei"),
            ("held", "washington", "hale"),
        ]
        assert done["agreed"] == done["window"] and done["agreed_at"] == done["timeline"][2]["at"]

        # 2. request -> acknowledged -> counter-proposed -> accepted by the caller
        second = request(w, hale, "routine", window(3600, 7200))
        settled(w, b, second, "received", 2)
        move(b, li, second, "acknowledge")
        later = window(7200, 9000)
        countered = move(b, li, second, "counter", window=later, note="Commander available after 14:00")
        assert countered["awaiting"] == "washington" and countered["moves"] == []
        with b.client(li) as c:
            assert c.post(f"/calls/{second}/accept", json={}).status_code == 409  # not its turn now
        shown = settled(w, b, second, "countered", 4)
        assert shown["moves"] == ["accept", "decline", "counter", "cancel"]
        move(w, hale, second, "accept")
        agreed = settled(w, b, second, "scheduled", 5)
        with b.client(li) as c:
            early = c.post(f"/calls/{second}/held", json={})
        assert early.status_code == 409 and "agreed time" in early.json()["error"]["message"]
        assert agreed["agreed"]["start"] == later["start"] and agreed["agreed"]["end"] == later["end"]
        assert [e["action"] for e in agreed["timeline"]] == [
            "request",
            "received",
            "acknowledge",
            "counter",
            "accept",
        ]

        with w.client(hale) as c:
            bad = {"to": "beijing", "purpose": "x", "urgency": "now", "asked_for": {}, "window": {}}
            refused = c.post("/calls", json=bad)
            assert refused.status_code == 400 and refused.json()["error"]["message"].startswith("urgency:")
            bad = {**bad, "urgency": "routine", "window": {"start": "2030-01-01T10:00:00Z", "end": "x"}}
            refused = c.post("/calls", json={**bad, "asked_for": {"role": "r", "level": "commander"}})
            assert refused.status_code == 400 and refused.json()["error"]["message"].startswith("window.end:")
            assert c.post("/calls", json={**bad, "to": "paris"}).status_code == 404

        # 3. declined with a coded reason
        third = request(w, hale, "routine", window(3600, 7200))
        settled(w, b, third, "received", 2)
        with b.client(li) as c:
            bad = c.post(f"/calls/{third}/decline", json={"reason": "busy"})
            assert bad.status_code == 400 and "reason" in bad.json()["error"]["message"]
        with b.client(auditor) as c:
            assert c.post(f"/calls/{third}/decline", json={"reason": "other"}).status_code == 403
        move(b, li, third, "decline", reason="use_other_channel", note="Through the embassy")
        declined = settled(w, b, third, "declined", 3)
        assert declined["reason"] == "use_other_channel"

        # 4. an urgent request left unanswered: overdue and escalated at beijing, then accepted
        # late, never held: missed at the window's end on both sides
        fourth = request(w, hale, "urgent", window(0, 14))
        overdue = settled(w, b, fourth, "received", 3)
        assert overdue["timeline"][-1]["action"] == "reply_overdue" and overdue["overdue"] is True
        assert overdue["timeline"][-1]["at"] == overdue["reply_by"]
        escalated = wait_for(lambda: (call_of(b, fourth) or {}).get("escalated_at"), what="escalation")
        assert call_of(w, fourth)["escalated_at"] is None  # type: ignore[index]  # ours to answer only at beijing
        with b.client(chief) as c:  # the supervisors see it in the audit log
            events = c.get("/audit", params={"action": "call_escalated"}).json()["events"]
        assert [e["detail"]["call"] for e in events] == [fourth] and escalated
        with b.client(chief) as c:
            alarms = c.get("/alarms", params={"type": "call_escalations", "active": "true"}).json()["alarms"]
        assert [(a["id"], a["state"], a["urgency"]) for a in alarms] == [(fourth, "received", "urgent")]
        move(b, li, fourth, "accept")
        settled(w, b, fourth, "scheduled", 4)
        with b.client(chief) as c:
            standing = c.get("/alarms", params={"type": "call_escalations", "active": "true"}).json()
            answered = c.get("/alarms", params={"type": "call_escalations", "active": "false"}).json()
        assert standing["alarms"] == [] and [a["id"] for a in answered["alarms"]] == [fourth]
        missed = settled(w, b, fourth, "missed", 5)
        assert missed["timeline"][-1]["at"] == missed["window"]["end"]
        with w.client(hale) as c:
            late = c.post(f"/calls/{fourth}/held", json={})
        assert late.status_code == 409 and "missed" in late.json()["error"]["message"]

        # The list pages newest first, the same on both sides.
        with w.client() as c:
            page = c.get("/calls", params={"limit": 3}).json()
            rest = c.get("/calls", params={"limit": 3, "cursor": page["next"]}).json()
        assert [x["call_id"] for x in page["calls"] + rest["calls"]] == [fourth, third, second, first]
        assert rest["next"] is None
        with b.client() as c:
            theirs = c.get("/calls").json()["calls"]
        assert [x["direction"] for x in theirs] == ["inbound"] * 4
        assert [timeline(x) for x in theirs] == [timeline(x) for x in page["calls"] + rest["calls"]]


@pytest.mark.slow
def test_crossing_moves_converge_on_both_stations(tmp_path: Path) -> None:
    """Beijing declines while Washington, not having heard, cancels: both moves were legal where
    they were made. Each station stores them in another order; both fold them to the same call —
    declined, the later cancel kept in the timeline as void, with the reason."""
    with two_stations(tmp_path, links_up=True) as (w, b):
        call_id = request(w, w.token, "routine", window(3600, 7200))
        settled(w, b, call_id, "received", 2)
        w.stop()
        move(b, b.token, call_id, "decline", reason="not_available")  # queued: Washington is down
        b.stop()
        w.start()
        cancelled = move(w, w.token, call_id, "cancel", note="No longer needed")
        assert cancelled["state"] == "cancelled"  # as Washington sees it before Beijing's decline arrives
        b.start()
        call = settled(w, b, call_id, "declined", 4)
        assert [(e["action"], e["void"]) for e in call["timeline"]] == [
            ("request", None),
            ("received", None),
            ("decline", None),
            ("cancel", "the call was already declined"),
        ]
        assert call["reason"] == "not_available" and call["moves"] == []
