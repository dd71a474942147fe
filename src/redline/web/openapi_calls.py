"""The call-request operations of the OpenAPI document (docs/calls.md), kept apart from
``openapi.py`` for its length; :func:`call_paths` takes that module's helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Helper = Callable[..., dict[str, Any]]

# Call requests (docs/calls.md): a move is answered with the call as it now stands.
_CALL_ID: dict[str, Any] = {
    "name": "call_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
}
_TS: dict[str, Any] = {"type": "string", "description": "UTC, e.g. 2026-01-31T12:00:00Z"}
_WINDOW: dict[str, Any] = {
    "type": "object",
    "required": ["start", "end"],
    "additionalProperties": False,
    "properties": {"start": _TS, "end": _TS},
}
_NOTE: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 500}
_CALL: dict[str, Any] = {
    "type": "object",
    "required": ["call_id", "peer", "direction", "state", "urgency", "window", "timeline", "moves"],
    "properties": {
        "call_id": {"type": "string"},
        "peer": {"type": "string"},
        "direction": {"enum": ["outbound", "inbound"]},
        "caller": {"type": "string"},
        "callee": {"type": "string"},
        "state": {
            "enum": [
                "requested",
                "received",
                "acknowledged",
                "countered",
                "scheduled",
                "declined",
                "cancelled",
                "held",
                "missed",
            ]
        },
        "purpose": {"type": "string"},
        "urgency": {"enum": ["urgent", "priority", "routine"]},
        "asked_for": {"type": "object"},
        "window": _WINDOW,
        "agreed": {"type": ["object", "null"]},
        "agreed_at": {"type": ["string", "null"]},
        "requested_at": {"type": "string"},
        "awaiting": {"type": ["string", "null"]},
        "reply_by": {"type": ["string", "null"]},
        "overdue": {"type": "boolean"},
        "escalated_at": {"type": ["string", "null"]},
        "reason": {"type": ["string", "null"]},
        "moves": {"type": "array", "items": {"type": "string"}},
        "timeline": {"type": "array", "items": {"type": "object"}},
    },
}
_CALL_REQUEST: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["to", "purpose", "urgency", "asked_for", "window"],
                "additionalProperties": False,
                "properties": {
                    "to": {"type": "string"},
                    "purpose": {"type": "string", "minLength": 1, "maxLength": 500},
                    "urgency": {"enum": ["urgent", "priority", "routine"]},
                    "asked_for": {
                        "type": "object",
                        "required": ["role", "level"],
                        "additionalProperties": False,
                        "properties": {
                            "role": {"type": "string", "minLength": 1, "maxLength": 64},
                            "level": {"enum": ["duty_officer", "supervisor", "commander", "ministerial"]},
                        },
                    },
                    "window": _WINDOW,
                },
            }
        }
    },
}
_DECLINE_REASONS = [
    "not_available",
    "wrong_level",
    "subject_not_agreed",
    "use_other_channel",
    "consultation_required",
    "other",
]


def _move_body(required: dict[str, Any], optional: dict[str, Any]) -> dict[str, Any]:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": sorted(required),
        "properties": {**required, **optional},
    }
    return {"required": bool(required), "content": {"application/json": {"schema": schema}}}


_MOVES: dict[str, tuple[str, dict[str, Any]]] = {
    "acknowledge": ("A person acknowledges a call request (the called station)", _move_body({}, {})),
    "accept": ("Accept the window on the table: the call is scheduled", _move_body({}, {"note": _NOTE})),
    "decline": (
        "Decline, with a reason code",
        _move_body({"reason": {"enum": _DECLINE_REASONS}}, {"note": _NOTE}),
    ),
    "counter": (
        "Propose another window; the other side answers",
        _move_body({"window": _WINDOW}, {"note": _NOTE}),
    ),
    "cancel": ("Cancel the call (the caller; either side once scheduled)", _move_body({}, {"note": _NOTE})),
    "held": ("Record that the scheduled call took place", _move_body({}, {"note": _NOTE})),
}
_MOVED: dict[str, Any] = {
    "type": "object",
    "required": ["message_id", "call"],
    "properties": {"message_id": {"type": "string"}, "call": _CALL},
}


def call_paths(
    _json: Helper,
    _errors: Helper,
    _paging: Callable[..., list[dict[str, Any]]],
    _page: Helper,
    _query: Helper,
) -> dict[str, Any]:
    """The /api/v1/calls paths."""
    paths: dict[str, Any] = {
        "/api/v1/calls": {
            "get": {
                "summary": "Call requests, ours and our peers', newest first, each with its timeline",
                "parameters": [
                    _query("peer", {"type": "string"}, "only calls on this link"),
                    *_paging(100, 1000),
                ],
                "responses": {"200": _page("calls", _CALL, "Calls"), **_errors(400, 401)},
            },
            "post": {
                "summary": "Ask a peer for a call: purpose, urgency, who at which level, a proposed window",
                "requestBody": _CALL_REQUEST,
                "responses": {
                    "201": _json({"type": "object", "properties": {"call": _CALL}}, "Requested"),
                    **_errors(400, 401, 403, 404, 409, 413),
                },
            },
        },
        "/api/v1/calls/{call_id}": {
            "get": {
                "summary": "One call with its whole timeline",
                "parameters": [_CALL_ID],
                "responses": {"200": _json(_CALL, "Call"), **_errors(401, 404)},
            }
        },
    }

    for move, (summary, body) in _MOVES.items():
        paths[f"/api/v1/calls/{{call_id}}/{move}"] = {
            "post": {
                "summary": summary,
                "parameters": [_CALL_ID],
                "requestBody": body,
                "responses": {"201": _json(_MOVED, "Sent"), **_errors(400, 401, 403, 404, 409, 413)},
            }
        }
    return paths
