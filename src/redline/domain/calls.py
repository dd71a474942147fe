"""Call requests ("I'll call you"): the payload of a ``call`` envelope and the state machine.

A call is the sequence of ``call`` envelopes both stations exchanged about one ``call_id``.
Each envelope is one *move* (``action``) by one person (``by``) of one station, at the
envelope's timestamp. The state is never sent: each station computes it with :func:`fold`
from the same envelopes, ordered by (timestamp, message id), so both sides always agree —
the same states, the same officers, the same times.

::

    request ─► received ─► acknowledged ─┬─► scheduled (accept) ─► held
       │           │             │       ├─► declined (reason code)
       └───────────┴─────────────┴───────┼─► countered ─► (the other side answers: accept,
                                         │               decline or counter again)
                                         └─► cancelled (by the caller)

``received`` is sent by the called station's machine the moment the request is stored;
``acknowledged`` by a person there. The side whose turn it is (``awaiting``) answers by
``reply_by``, a deadline the mover set from the urgency (``DEFAULT_REPLY_DEADLINES``,
the sender's ``call_reply_deadlines``) and carried in the envelope, so both sides hold the
same one. Two entries are derived from time alone, at the same moment on both sides: a
``reply_overdue`` entry at ``reply_by`` when no answer came by then, and ``missed`` at the
end of the window when the call was not held by then (or, while still unanswered, when
its proposed window passed).

A move that the state does not allow is refused before it is sent (:func:`check_move`);
a peer's move that crossed one of ours in flight (both legal when sent) is kept in the
timeline marked void, with the reason, and changes nothing — on both sides alike.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from redline.domain.clock import format_ts, parse_ts
from redline.errors import Conflict, InputError, _t

MAX_PURPOSE = 500
MAX_NOTE = 500
MAX_ROLE = 64
MAX_WINDOW = timedelta(days=30)
_CALL_ID = re.compile(r"^[0-9a-f]{32}$")
_BY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$")


class Urgency(enum.StrEnum):
    URGENT = "urgent"
    PRIORITY = "priority"
    ROUTINE = "routine"


# How long the other side has to answer a request or a counter-proposal.
DEFAULT_REPLY_DEADLINES: dict[Urgency, timedelta] = {
    Urgency.URGENT: timedelta(minutes=15),
    Urgency.PRIORITY: timedelta(minutes=60),
    Urgency.ROUTINE: timedelta(hours=24),
}

# The level of the person asked for.
LEVELS = ("duty_officer", "supervisor", "commander", "ministerial")

# Why a call is declined: a fixed list, so both consoles can show it in their own language.
DECLINE_REASONS = (
    "not_available",  # the person asked for cannot take a call in that window
    "wrong_level",  # the level asked for is not appropriate
    "subject_not_agreed",  # the purpose is not a matter for this channel
    "use_other_channel",  # use diplomatic or another agreed channel
    "consultation_required",  # an answer needs consultation first
    "other",  # see the note
)


class Action(enum.StrEnum):
    REQUEST = "request"
    RECEIVED = "received"
    ACKNOWLEDGE = "acknowledge"
    ACCEPT = "accept"
    DECLINE = "decline"
    COUNTER = "counter"
    CANCEL = "cancel"
    HELD = "held"
    # derived from time, never sent:
    REPLY_OVERDUE = "reply_overdue"
    MISSED = "missed"


SENT_ACTIONS = tuple(a for a in Action if a not in (Action.REPLY_OVERDUE, Action.MISSED))
# The moves an operator makes through the API (``received`` is the station's own).
OPERATOR_ACTIONS = (
    Action.ACKNOWLEDGE,
    Action.ACCEPT,
    Action.DECLINE,
    Action.COUNTER,
    Action.CANCEL,
    Action.HELD,
)


class CallState(enum.StrEnum):
    REQUESTED = "requested"
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    COUNTERED = "countered"
    SCHEDULED = "scheduled"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    HELD = "held"
    MISSED = "missed"

    @property
    def pending(self) -> bool:
        """Awaiting an answer (accept, decline or counter)."""
        return self in _PENDING

    @property
    def final(self) -> bool:
        return self in (CallState.DECLINED, CallState.CANCELLED, CallState.HELD, CallState.MISSED)


_PENDING = (CallState.REQUESTED, CallState.RECEIVED, CallState.ACKNOWLEDGED, CallState.COUNTERED)

# Why a move comes too late for the state the call is in.
_ALREADY = {
    CallState.REQUESTED: _t("the request still awaits confirmation"),
    CallState.RECEIVED: _t("the request was already received"),
    CallState.ACKNOWLEDGED: _t("the request was already acknowledged"),
    CallState.COUNTERED: _t("a counter-proposal awaits an answer"),
    CallState.SCHEDULED: _t("the call is already scheduled"),
    CallState.DECLINED: _t("the call was already declined"),
    CallState.CANCELLED: _t("the call was already cancelled"),
    CallState.HELD: _t("the call was already held"),
    CallState.MISSED: _t("the call was already missed"),
}


# -- payloads -------------------------------------------------------------------------------


def _text(body: Mapping[str, Any], name: str, longest: int, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > longest or "\x00" in value:
        raise InputError(
            _t("{field}: expected text of 1 to {longest} characters", field=name, longest=longest)
        )
    return value


def _choice(value: object, name: str, choices: Iterable[str]) -> str:
    options = tuple(choices)
    if value not in options:
        raise InputError(
            _t(
                "{field}: {value!r} is not one of {choices}",
                field=name,
                value=value,
                choices=", ".join(options),
            )
        )
    return str(value)


def check_window(value: object, name: str = "window") -> dict[str, str]:
    """``{"start": ts, "end": ts}``, start before end, at most 30 days long."""
    if not isinstance(value, dict) or value.keys() != {"start", "end"}:
        raise InputError(_t('{field}: expected {{"start": timestamp, "end": timestamp}}', field=name))
    start = parse_ts(value["start"], f"{name}.start")
    end = parse_ts(value["end"], f"{name}.end")
    if not start < end <= start + MAX_WINDOW:
        raise InputError(_t("{field}: the end must come after the start, at most 30 days later", field=name))
    return {"start": format_ts(start), "end": format_ts(end)}


_FIELDS: dict[Action, tuple[set[str], set[str]]] = {  # required, optional (beyond call_id, action, by)
    Action.REQUEST: ({"purpose", "urgency", "asked_for", "window", "reply_by"}, set()),
    Action.RECEIVED: (set(), set()),
    Action.ACKNOWLEDGE: (set(), set()),
    Action.ACCEPT: (set(), {"note"}),
    Action.DECLINE: ({"reason"}, {"note"}),
    Action.COUNTER: ({"window", "reply_by"}, {"note"}),
    Action.CANCEL: (set(), {"note"}),
    Action.HELD: (set(), {"note"}),
}


def check_call(body: dict[str, Any]) -> dict[str, Any]:
    """Check one ``call`` payload: ``call_id``, ``action``, ``by`` and the action's own fields."""
    if not isinstance(body, dict):
        raise InputError(_t("call: expected an object"))
    action = Action(_choice(body.get("action"), "action", [a.value for a in SENT_ACTIONS]))
    if not isinstance(body.get("call_id"), str) or not _CALL_ID.match(body["call_id"]):
        raise InputError(_t("call_id: expected 32 lowercase hex digits"))
    if not isinstance(body.get("by"), str) or not _BY.match(body["by"]):
        raise InputError(_t("by: expected the name of an officer"))
    required, optional = _FIELDS[action]
    keys = set(body) - {"call_id", "action", "by"}
    if not required <= keys <= required | optional:
        raise InputError(
            _t(
                "a call {action} holds {required} and optionally {optional}",
                action=action.value,
                required=", ".join(sorted({"call_id", "action", "by"} | required)),
                optional=", ".join(sorted(optional)) or "-",
            )
        )
    checked = dict(body)
    if "note" in body:
        _text(body, "note", MAX_NOTE)
    if "window" in body:
        checked["window"] = check_window(body["window"])
    if "reply_by" in body:
        checked["reply_by"] = format_ts(parse_ts(body["reply_by"], "reply_by"))
    if action is Action.REQUEST:
        _text(body, "purpose", MAX_PURPOSE)
        _choice(body["urgency"], "urgency", [u.value for u in Urgency])
        asked = body["asked_for"]
        if not isinstance(asked, dict) or asked.keys() != {"role", "level"}:
            raise InputError(_t('asked_for: expected {{"role": text, "level": level}}'))
        _text(asked, "role", MAX_ROLE)
        _choice(asked["level"], "asked_for.level", LEVELS)
    if action is Action.DECLINE:
        _choice(body["reason"], "reason", DECLINE_REASONS)
    return checked


# -- the state machine ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One ``call`` envelope: who sent it (station and person), when, and its payload."""

    message_id: str
    station: str
    ts: str
    body: dict[str, Any]

    @property
    def action(self) -> Action:
        return Action(self.body["action"])

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.ts, self.message_id)


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a call's timeline."""

    at: str
    action: Action
    station: str | None  # None for the entries derived from time
    by: str | None
    message_id: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    void: str | None = None  # why the move changed nothing (it crossed another in flight)
    state: CallState | None = None  # the state after it


@dataclass(frozen=True, slots=True)
class Call:
    """A call as both stations see it at ``now``."""

    call_id: str
    caller: str
    callee: str
    state: CallState
    purpose: str
    urgency: Urgency
    asked_for: dict[str, str]
    window: dict[str, str]  # the window on the table (proposed, or agreed once scheduled)
    requested_at: str
    awaiting: str | None  # the station whose answer is due (None unless pending)
    reply_by: str | None
    overdue: bool  # the reply deadline passed without an answer
    agreed_at: str | None  # when the time was agreed (the accept)
    reason: str | None  # the decline reason code
    timeline: tuple[Entry, ...]

    @property
    def agreed(self) -> dict[str, str] | None:
        return self.window if self.agreed_at is not None else None


class _Void(Exception):
    pass


def _other(call: Call, station: str) -> str:
    return call.callee if station == call.caller else call.caller


def _advance(call: Call, until: datetime) -> Call:
    """Add the entries time alone makes, strictly before ``until``."""
    entries = list(call.timeline)
    if call.state.pending and call.reply_by and not call.overdue and parse_ts(call.reply_by, "") < until:
        entries.append(Entry(call.reply_by, Action.REPLY_OVERDUE, None, None, None, state=call.state))
        call = replace(call, overdue=True)
    end = call.window["end"]
    if (call.state.pending or call.state is CallState.SCHEDULED) and parse_ts(end, "") < until:
        entries.append(Entry(end, Action.MISSED, None, None, None, state=CallState.MISSED))
        call = replace(call, state=CallState.MISSED, awaiting=None)
    return replace(call, timeline=tuple(entries))


def _apply(call: Call, event: CallEvent) -> Call:
    """``call`` after ``event``; raises ``_Void`` with the reason when the state does not allow it."""
    action, who, body = event.action, event.station, event.body
    state = call.state
    if action is Action.REQUEST:
        raise _Void(_t("the call was already requested"))
    if state.final:
        raise _Void(_ALREADY[state])
    if action is Action.RECEIVED or action is Action.ACKNOWLEDGE:
        if who != call.callee:
            raise _Void(_t("only the called station confirms a request"))
        allowed = (
            (CallState.REQUESTED,) if action is Action.RECEIVED else (CallState.REQUESTED, CallState.RECEIVED)
        )
        if state not in allowed:
            raise _Void(_ALREADY[state])
        new = CallState.RECEIVED if action is Action.RECEIVED else CallState.ACKNOWLEDGED
        return replace(call, state=new)
    if action in (Action.ACCEPT, Action.DECLINE, Action.COUNTER):
        if not state.pending:
            raise _Void(_ALREADY[state])
        if who != call.awaiting:
            raise _Void(_t("it is the other station's turn to answer"))
        if action is Action.ACCEPT:
            return replace(call, state=CallState.SCHEDULED, awaiting=None, reply_by=None, agreed_at=event.ts)
        if action is Action.DECLINE:
            return replace(
                call, state=CallState.DECLINED, awaiting=None, reply_by=None, reason=body["reason"]
            )
        return replace(
            call,
            state=CallState.COUNTERED,
            window=body["window"],
            awaiting=_other(call, who),
            reply_by=body["reply_by"],
            overdue=False,
        )
    if action is Action.CANCEL:
        if who != call.caller and state is not CallState.SCHEDULED:
            raise _Void(_t("only the caller cancels a call not yet scheduled; decline it instead"))
        return replace(call, state=CallState.CANCELLED, awaiting=None, reply_by=None)
    if action is Action.HELD:
        if state is not CallState.SCHEDULED:
            raise _Void(_t("only a scheduled call can be held"))
        if event.ts < call.window["start"]:
            raise _Void(_t("the call cannot be recorded as held before its agreed time begins"))
        return replace(call, state=CallState.HELD)
    raise _Void(_ALREADY[state])  # pragma: no cover


def _detail(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("call_id", "action", "by")}


def fold(events: Iterable[CallEvent], callee: str, now: datetime) -> Call:
    """The call made by ``events`` (any order), as it stands at ``now``.

    ``callee`` is the station asked for the call (the caller is the request's sender).
    Raises ``LookupError`` when there is no request among the events (nothing to fold)."""
    ordered = sorted(events, key=lambda e: e.sort_key)
    requests = [e for e in ordered if e.action is Action.REQUEST]
    if not requests:
        raise LookupError("no call request among the events")
    first = requests[0]
    body = first.body
    opening = Entry(
        first.ts,
        Action.REQUEST,
        first.station,
        body["by"],
        first.message_id,
        _detail(body),
        state=CallState.REQUESTED,
    )
    call = Call(
        call_id=body["call_id"],
        caller=first.station,
        callee=callee,
        state=CallState.REQUESTED,
        purpose=body["purpose"],
        urgency=Urgency(body["urgency"]),
        asked_for=dict(body["asked_for"]),
        window=dict(body["window"]),
        requested_at=first.ts,
        awaiting=callee,
        reply_by=body["reply_by"],
        overdue=False,
        agreed_at=None,
        reason=None,
        timeline=(opening,),
    )
    for event in ordered:
        if event is first:
            continue
        call = _advance(call, parse_ts(event.ts, "ts"))
        try:
            after = _apply(call, event)
        except _Void as void:
            entry = Entry(
                event.ts,
                event.action,
                event.station,
                event.body["by"],
                event.message_id,
                _detail(event.body),
                void=void.args[0],
                state=call.state,
            )
            call = replace(call, timeline=(*call.timeline, entry))
            continue
        entry = Entry(
            event.ts,
            event.action,
            event.station,
            event.body["by"],
            event.message_id,
            _detail(event.body),
            state=after.state,
        )
        call = replace(after, timeline=(*call.timeline, entry))
    return _advance(call, now)


def check_move(events: Iterable[CallEvent], callee: str, move: CallEvent) -> Call:
    """The call after our ``move``, or ``Conflict`` saying why the state refuses it."""
    known = list(events)
    if move.action is Action.REQUEST:
        if known:
            raise Conflict(_t("the call was already requested"))
        return fold([move], callee, parse_ts(move.ts, "ts"))
    if not known:
        raise Conflict(_t("no call {call_id}", call_id=move.body["call_id"]))
    call = fold([*known, move], callee, parse_ts(move.ts, "ts"))
    last = next(e for e in reversed(call.timeline) if e.message_id == move.message_id)
    if last.void is not None:
        raise Conflict(last.void)
    return call


def allowed_moves(call: Call, station: str, now: datetime | None = None) -> list[Action]:
    """The moves ``station`` may make at ``now`` (what the console offers; ``held`` only once the
    agreed window has begun, when ``now`` is given)."""
    moves: list[Action] = []
    if call.state.final:
        return moves
    if station == call.callee and call.state in (CallState.REQUESTED, CallState.RECEIVED):
        moves.append(Action.ACKNOWLEDGE)
    if call.state.pending and station == call.awaiting:
        moves += [Action.ACCEPT, Action.DECLINE, Action.COUNTER]
    if station == call.caller or call.state is CallState.SCHEDULED:
        moves.append(Action.CANCEL)
    if call.state is CallState.SCHEDULED and (now is None or format_ts(now) >= call.window["start"]):
        moves.append(Action.HELD)
    return moves


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A call as stored: its link, who was called, every envelope of it, and our escalation."""

    call_id: str
    peer_id: str
    callee: str
    events: tuple[CallEvent, ...]
    escalated_at: str | None = None

    def at(self, now: datetime) -> Call:
        return fold(self.events, self.callee, now)
