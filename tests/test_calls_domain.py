"""The call-request state machine (redline.domain.calls): every branch, the derived entries,
moves refused, and crossing moves folding to the same call on both sides."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from redline.domain.calls import (
    Action,
    CallEvent,
    CallState,
    allowed_moves,
    check_call,
    check_move,
    fold,
)
from redline.domain.clock import format_ts
from redline.errors import Conflict, InputError

CALLER, CALLEE = "washington", "beijing"
CALL_ID = "ab" * 16
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count()


def ts(minutes: float) -> str:
    return format_ts(T0 + timedelta(minutes=minutes))


def ev(station: str, minutes: float, action: str, by: str = "duty", **fields: Any) -> CallEvent:
    body = check_call({"call_id": CALL_ID, "action": action, "by": by, **fields})
    return CallEvent(f"{next(_ids):032x}", station, ts(minutes), body)


def request(minutes: float = 0, start: float = 30, end: float = 60, reply: float = 15) -> CallEvent:
    return ev(
        CALLER,
        minutes,
        "request",
        by="hale",
        purpose="Aircraft near the median line",
        urgency="urgent",
        asked_for={"role": "watch commander", "level": "commander"},
        window={"start": ts(start), "end": ts(end)},
        reply_by=ts(minutes + reply),
    )


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def actions(call: Any) -> list[tuple[str, str | None, str | None]]:
    return [(e.action.value, e.by, e.void) for e in call.timeline]


def test_request_accepted_then_held() -> None:
    events = [
        request(),
        ev(CALLEE, 0.01, "received", by="system"),
        ev(CALLEE, 2, "acknowledge", by="li"),
        ev(CALLEE, 5, "accept", by="li"),
    ]
    call = fold(events, CALLEE, at(6))
    assert call.state is CallState.SCHEDULED and call.agreed == {"start": ts(30), "end": ts(60)}
    assert call.agreed_at == ts(5) and call.awaiting is None and not call.overdue
    assert allowed_moves(call, CALLER) == [Action.CANCEL, Action.HELD]
    assert allowed_moves(call, CALLER, at(10)) == [Action.CANCEL]  # the window opens at 30
    with pytest.raises(Conflict, match="before its agreed time"):
        check_move(events, CALLEE, ev(CALLER, 10, "held", by="hale"))
    held = fold([*events, ev(CALLER, 40, "held", by="hale", note="done")], CALLEE, at(120))
    assert held.state is CallState.HELD
    assert actions(held) == [
        ("request", "hale", None),
        ("received", "system", None),
        ("acknowledge", "li", None),
        ("accept", "li", None),
        ("held", "hale", None),
    ]
    assert [e.state for e in held.timeline][-1] is CallState.HELD
    assert held.timeline[-1].detail == {"note": "done"}


def test_request_declined_with_a_reason_code() -> None:
    events = [request(), ev(CALLEE, 3, "decline", by="li", reason="wrong_level", note="ask the duty officer")]
    call = fold(events, CALLEE, at(4))
    assert call.state is CallState.DECLINED and call.reason == "wrong_level"
    assert allowed_moves(call, CALLER) == [] and allowed_moves(call, CALLEE) == []
    with pytest.raises(InputError, match="reason"):
        check_call({"call_id": CALL_ID, "action": "decline", "by": "li", "reason": "busy"})


def test_counter_proposal_then_accepted_by_the_caller() -> None:
    events = [
        request(),
        ev(CALLEE, 2, "acknowledge", by="li"),
        ev(CALLEE, 4, "counter", by="li", window={"start": ts(90), "end": ts(120)}, reply_by=ts(19)),
    ]
    call = fold(events, CALLEE, at(5))
    assert call.state is CallState.COUNTERED and call.awaiting == CALLER and call.reply_by == ts(19)
    assert allowed_moves(call, CALLEE) == []  # the callee waits (it may not cancel a pending call)
    assert Action.ACCEPT in allowed_moves(call, CALLER)
    with pytest.raises(Conflict, match="other station's turn"):
        check_move(events, CALLEE, ev(CALLEE, 6, "accept", by="li"))
    done = fold([*events, ev(CALLER, 8, "accept", by="hale")], CALLEE, at(9))
    assert done.state is CallState.SCHEDULED and done.agreed == {"start": ts(90), "end": ts(120)}
    # A counter to the counter hands the turn back.
    again = fold(
        [
            *events,
            ev(CALLER, 8, "counter", by="hale", window={"start": ts(60), "end": ts(70)}, reply_by=ts(23)),
        ],
        CALLEE,
        at(9),
    )
    assert again.state is CallState.COUNTERED and again.awaiting == CALLEE


def test_unanswered_request_goes_overdue_then_missed() -> None:
    events = [request(), ev(CALLEE, 0.01, "received", by="system")]
    waiting = fold(events, CALLEE, at(10))
    assert waiting.state is CallState.RECEIVED and not waiting.overdue
    late = fold(events, CALLEE, at(16))
    assert late.overdue and late.state is CallState.RECEIVED
    assert late.timeline[-1].action is Action.REPLY_OVERDUE and late.timeline[-1].at == ts(15)
    # An answer after the deadline still counts, after the overdue entry.
    answered = fold([*events, ev(CALLEE, 20, "accept", by="li")], CALLEE, at(21))
    assert [e.action for e in answered.timeline][-2:] == [Action.REPLY_OVERDUE, Action.ACCEPT]
    assert answered.state is CallState.SCHEDULED
    # The proposed window passes unanswered: missed, at its end.
    gone = fold(events, CALLEE, at(61))
    assert gone.state is CallState.MISSED and gone.timeline[-1].at == ts(60)


def test_scheduled_call_not_held_by_the_window_end_is_missed() -> None:
    events = [request(), ev(CALLEE, 5, "accept", by="li")]
    assert fold(events, CALLEE, at(59)).state is CallState.SCHEDULED
    missed = fold(events, CALLEE, at(61))
    assert missed.state is CallState.MISSED
    assert (missed.timeline[-1].action, missed.timeline[-1].at) == (Action.MISSED, ts(60))
    with pytest.raises(Conflict, match="was already missed"):
        check_move(events, CALLEE, ev(CALLER, 65, "held", by="hale"))


@pytest.mark.parametrize(
    ("before", "move", "why"),
    [
        ([], ("held", CALLER), "no call"),
        (["request"], ("request", CALLER), "already requested"),
        (["request"], ("accept", CALLER), "other station's turn"),
        (["request"], ("acknowledge", CALLER), "only the called station"),
        (["request"], ("held", CALLEE), "only a scheduled call"),
        (["request"], ("cancel", CALLEE), "only the caller cancels"),
        (["request", "decline"], ("accept", CALLEE), "was already declined"),
        (["request", "accept"], ("acknowledge", CALLEE), "already scheduled"),
        (["request", "cancel"], ("counter", CALLEE), "was already cancelled"),
    ],
)
def test_illegal_moves_are_refused(before: list[str], move: tuple[str, str], why: str) -> None:
    made: list[CallEvent] = []
    for i, name in enumerate(before):
        if name == "request":
            made.append(request())
        elif name == "decline":
            made.append(ev(CALLEE, i, "decline", reason="other"))
        else:
            made.append(ev(CALLEE if name == "accept" else CALLER, i, name))
    action, station = move
    extra: dict[str, Any] = {}
    if action == "counter":
        extra = {"window": {"start": ts(40), "end": ts(50)}, "reply_by": ts(20)}
    made_move = request(5) if action == "request" else ev(station, 5, action, **extra)
    with pytest.raises(Conflict, match=why):
        check_move(made, CALLEE, made_move)


def test_crossing_moves_fold_to_the_same_call_in_any_order() -> None:
    """The caller cancels while the callee accepts: both legal when sent; each side stores them in
    another order, and both fold to the same timeline (the later move void)."""
    req = request()
    accept = ev(CALLEE, 3, "accept", by="li")
    cancel = ev(CALLER, 3.5, "cancel", by="hale")
    here = fold([req, cancel, accept], CALLEE, at(4))
    there = fold([req, accept, cancel], CALLEE, at(4))
    assert here == there and here.state is CallState.CANCELLED  # a scheduled call can be cancelled
    decline = ev(CALLEE, 3, "decline", by="li", reason="not_available")
    crossed = fold([req, cancel, decline], CALLEE, at(4))
    assert crossed.state is CallState.DECLINED
    assert (
        crossed.timeline[-1].action is Action.CANCEL
        and crossed.timeline[-1].void == "the call was already declined"
    )


def test_payload_checks() -> None:
    with pytest.raises(InputError, match="window"):
        check_call(
            {
                "call_id": CALL_ID,
                "action": "counter",
                "by": "li",
                "reply_by": ts(1),
                "window": {"start": ts(5), "end": ts(1)},
            }
        )
    with pytest.raises(InputError, match=r"asked_for\.level"):
        ev(
            CALLER,
            0,
            "request",
            purpose="x",
            urgency="urgent",
            asked_for={"role": "r", "level": "king"},
            window={"start": ts(1), "end": ts(2)},
            reply_by=ts(1),
        )
    with pytest.raises(InputError, match="urgency"):
        ev(
            CALLER,
            0,
            "request",
            purpose="x",
            urgency="now",
            asked_for={"role": "r", "level": "commander"},
            window={"start": ts(1), "end": ts(2)},
            reply_by=ts(1),
        )
    with pytest.raises(InputError, match="call_id"):
        check_call({"call_id": "x", "action": "held", "by": "li"})
    with pytest.raises(InputError, match="optionally note"):
        check_call({"call_id": CALL_ID, "action": "held", "by": "li", "reason": "other"})
