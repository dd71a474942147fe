"""The OpenAPI 3.1 document of the operator API, served at /api/v1/openapi.json.

Written by hand next to the routes; tests/test_docs.py fails when a route is
missing here or in docs/api.md.
"""

from __future__ import annotations

from typing import Any

from redline.web.openapi_calls import call_paths
from redline.web.openapi_log import LOG_PATHS, LOG_SCHEMAS
from redline.web.openapi_parts import MESSAGE_ID as _MESSAGE_ID
from redline.web.openapi_parts import PEER as _PEER
from redline.web.openapi_parts import REASON as _REASON
from redline.web.openapi_parts import TRUE_FALSE as _TRUE_FALSE
from redline.web.openapi_parts import answer as _json
from redline.web.openapi_parts import errors as _errors
from redline.web.openapi_parts import page as _page
from redline.web.openapi_parts import paging as _paging
from redline.web.openapi_parts import query as _query

_READINESS: dict[str, Any] = {
    "type": "object",
    "required": ["status", "station", "site", "checks"],
    "properties": {
        "status": {"enum": ["ready", "not ready"]},
        "station": {"type": "string"},
        "site": {"type": "string"},
        "checks": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["ok"],
                "properties": {"ok": {"type": "boolean"}, "detail": {"type": "string"}},
            },
        },
    },
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Redline operator API", "version": "1"},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {
                    "error": {
                        "type": "object",
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    }
                },
            },
            "NewMessage": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["to", "precedence", "text"],
                        "additionalProperties": False,
                        "properties": {
                            "to": {"type": "string", "description": "peer station id"},
                            "precedence": {"enum": ["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"]},
                            "text": {"type": "string", "maxLength": 16000},
                            "lang": {"type": "string", "default": "en", "description": "BCP 47 tag"},
                            "in_reply_to": {
                                "type": "string",
                                "description": "id of the message on this link it answers",
                            },
                        },
                    },
                    {
                        "type": "object",
                        "required": ["to", "precedence", "phrase"],
                        "additionalProperties": False,
                        "properties": {
                            "to": {"type": "string", "description": "peer station id"},
                            "precedence": {"enum": ["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"]},
                            "phrase": {
                                "type": "object",
                                "required": ["code", "params"],
                                "properties": {
                                    "code": {"type": "string", "description": "standard phrase code"},
                                    "params": {"type": "object"},
                                },
                            },
                            "in_reply_to": {
                                "type": "string",
                                "description": "id of the message on this link it answers",
                            },
                        },
                    },
                ]
            },
            "Message": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "direction": {"enum": ["outbound", "inbound"]},
                    "peer": {"type": "string"},
                    "seq": {"type": "integer"},
                    "kind": {"enum": ["text", "phrase", "ack", "link_test", "link_test_reply", "service"]},
                    "precedence": {"type": "string"},
                    "ts": {"type": "string"},
                    "state": {"enum": ["queued", "sent", "delivered", "acknowledged", "overdue"]},
                    "deadline": {"type": ["string", "null"]},
                    "text": {"type": "string"},
                    "lang": {"type": "string"},
                    "digest": {"type": "string"},
                    "receipt": {"type": ["object", "null"]},
                    "acknowledgement": {"type": ["object", "null"]},
                },
            },
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/health": {
            "get": {
                "summary": "Liveness",
                "security": [],
                "responses": {"200": _json({"type": "object"}, "Station is up")},
            }
        },
        "/api/v1/ready": {
            "get": {
                "summary": "Readiness: database, migrations, conflict index, duties (docs/operations.md)",
                "security": [],
                "responses": {
                    "200": _json(_READINESS, "This site can do its work"),
                    "503": _json(_READINESS, "Not ready; the checks say what is not"),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (text exposition format); auditors and administrators",
                "responses": {
                    "200": {
                        "description": "Metrics",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **_errors(401, 403),
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": _json({"type": "object"}, "OpenAPI")},
            }
        },
        "/api/v1/whoami": {
            "get": {
                "summary": "The operator behind the token",
                "responses": {"200": _json({"type": "object"}, "Operator"), **_errors(401)},
            }
        },
        "/api/v1/peers": {
            "get": {
                "summary": "Peers with verification and delivery state",
                "responses": {"200": _json({"type": "object"}, "Peers"), **_errors(401)},
            }
        },
        "/api/v1/messages": {
            "post": {
                "summary": "Send free text or a standard phrase to a verified peer",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewMessage"}}},
                },
                "responses": {
                    "201": _json(
                        {"type": "object", "properties": {"id": {"type": "string"}}},
                        "Accepted into the durable outbox",
                    ),
                    **_errors(400, 401, 403, 404, 409, 413),
                },
            },
            "get": {
                "summary": "Inbox, outbox or both, searched and filtered, newest first, one page at a time",
                "parameters": [
                    {
                        "name": "box",
                        "in": "query",
                        "schema": {"enum": ["inbox", "outbox", "all"], "default": "inbox"},
                    },
                    _query("q", {"type": "string", "maxLength": 200}, "text search (case-insensitive)"),
                    _query(
                        "state",
                        {"type": "string"},
                        "comma-separated states: queued, sent, delivered, acknowledged, overdue",
                    ),
                    _query("until", {"type": "string"}, "stored before this UTC time (…Z)"),
                    _query("awaiting_theirs", _TRUE_FALSE, "true: ours, the peer's ack still due"),
                    _query("overdue", _TRUE_FALSE, "true: past its acknowledgement deadline"),
                    _query("total", _TRUE_FALSE, "true: count every message the search finds"),
                    _query("peer", {"type": "string"}, "only messages with this peer"),
                    _query(
                        "kind",
                        {"type": "string", "default": "text,phrase,conflict_alert,service"},
                        "comma-separated kinds, or 'all'",
                    ),
                    _query("precedence", {"type": "string"}, "comma-separated: FLASH, IMMEDIATE, ..."),
                    _query("awaiting_ack", _TRUE_FALSE, "true: a person's acknowledgement is still due"),
                    _query("since", {"type": "string"}, "stored at or after this UTC time (…Z)"),
                    *_paging(100, 1000),
                ],
                "responses": {
                    "200": _page("messages", {"$ref": "#/components/schemas/Message"}, "Messages"),
                    **_errors(400, 401),
                },
            },
        },
        "/api/v1/messages/{message_id}": {
            "get": {
                "summary": "One message with its state, signed receipt and acknowledgement",
                "parameters": [_MESSAGE_ID],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Message"}, "Message"),
                    **_errors(400, 401, 404),
                },
            }
        },
        "/api/v1/messages/{message_id}/thread": {
            "get": {
                "summary": "The conversation a message belongs to, root first, each with its depth",
                "parameters": [_MESSAGE_ID, *_paging(100, 1000)],
                "responses": {
                    "200": _page("messages", {"$ref": "#/components/schemas/Message"}, "Thread"),
                    **_errors(400, 401, 404),
                },
            }
        },
        "/api/v1/unanswered": {
            "get": {
                "summary": "Requests (REQ phrases) no message has answered yet, newest first",
                "parameters": [
                    {
                        "name": "box",
                        "in": "query",
                        "schema": {"enum": ["inbox", "outbox", "all"], "default": "all"},
                    },
                    *_paging(100, 1000),
                ],
                "responses": {
                    "200": _page("messages", {"$ref": "#/components/schemas/Message"}, "Unanswered"),
                    **_errors(400, 401),
                },
            }
        },
        "/api/v1/messages/{message_id}/ack": {
            "post": {
                "summary": "Acknowledge a received message; a signed acknowledgement goes back",
                "parameters": [_MESSAGE_ID],
                "responses": {
                    "201": _json({"type": "object"}, "Acknowledged"),
                    **_errors(400, 401, 403, 404, 409),
                },
            }
        },
        "/api/v1/transcript/{peer}": {
            "get": {
                "summary": "Both hash chains of the link with a peer (seq, prev, digest)",
                "parameters": [
                    {"name": "peer", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": _json({"type": "object"}, "Chains"), **_errors(401)},
            }
        },
        "/api/v1/links": {
            "get": {
                "summary": "Every verified link: state, tests, peer clock offset, suspension, queue, paths",
                "responses": {"200": _json({"type": "object"}, "Links"), **_errors(401)},
            }
        },
        "/api/v1/links/{peer}": {
            "get": {
                "summary": "One link",
                "parameters": [_PEER],
                "responses": {"200": _json({"type": "object"}, "Link"), **_errors(401, 404, 409)},
            }
        },
        "/api/v1/links/{peer}/scorecard": {
            "get": {
                "summary": "Scorecard: ours and the peer's",
                "parameters": [_PEER],
                "responses": {"200": _json({"type": "object"}, "Scorecard"), **_errors(401, 404, 409)},
            }
        },
        "/api/v1/links/{peer}/test": {
            "post": {
                "summary": "Send a link test now",
                "parameters": [_PEER],
                "responses": {"201": _json({"type": "object"}, "Test queued"), **_errors(401, 403, 404, 409)},
            }
        },
        "/api/v1/links/{peer}/suspend": {
            "post": {
                "summary": "Suspend the link on both sides (supervisor, admin)",
                "parameters": [_PEER],
                "requestBody": _REASON,
                "responses": {
                    "201": _json({"type": "object"}, "Suspended"),
                    **_errors(400, 401, 403, 404, 409),
                },
            }
        },
        "/api/v1/links/{peer}/resume": {
            "post": {
                "summary": "Resume the link on both sides (supervisor, admin)",
                "parameters": [_PEER],
                "requestBody": _REASON,
                "responses": {
                    "201": _json({"type": "object"}, "Resumed"),
                    **_errors(400, 401, 403, 404, 409),
                },
            }
        },
        "/api/v1/alarms": {
            "get": {
                "summary": "One kind of alarm, newest first: equivocations, link alarms, escalations",
                "parameters": [
                    {
                        "name": "type",
                        "in": "query",
                        "required": True,
                        "schema": {
                            "enum": ["equivocations", "link_alarms", "escalations", "call_escalations"]
                        },
                    },
                    _query("active", _TRUE_FALSE, "link alarms not cleared, escalations not acknowledged"),
                    *_paging(200, 1000),
                ],
                "responses": {"200": _page("alarms", {"type": "object"}, "Alarms"), **_errors(400, 401)},
            }
        },
        "/api/v1/audit": {
            "get": {
                "summary": "Operator actions, newest first (auditor, supervisor, admin)",
                "parameters": [
                    _query("actor", {"type": "string"}, "only this actor's events"),
                    _query("action", {"type": "string"}, "comma-separated actions"),
                    *_paging(200, 1000),
                ],
                "responses": {
                    "200": _page("events", {"type": "object"}, "Audit log"),
                    **_errors(400, 401, 403),
                },
            }
        },
    },
}

_NOTICE_ID = {"name": "notice_id", "in": "path", "required": True, "schema": {"type": "string"}}
_NOTICE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"type": "object", "description": "an activity notice, see docs/deconfliction.md"}
        }
    },
}
_FORMAT = {
    "name": "format",
    "in": "query",
    "schema": {"enum": ["geojson", "f3548", "notam"], "default": "geojson"},
}
_IMPORT_FORMAT = {
    "name": "format",
    "in": "query",
    "schema": {"enum": ["geojson", "f3548", "notam", "navwarn"], "default": "geojson"},
}
_NOTICE_ANSWER = {
    "type": "object",
    "properties": {"notice": {"type": "object"}, "conflicts": {"type": "array", "items": {"type": "object"}}},
}

OPENAPI["paths"].update(
    {
        "/api/v1/notices": {
            "get": {
                "summary": "Notices, ours and our peers', by start time (filter: party, state, in force)",
                "parameters": [
                    _query("party", {"type": "string"}, "only this party's notices"),
                    _query("state", {"type": "string"}, "comma-separated: draft, active, amended, ..."),
                    _query("in_force", _TRUE_FALSE, "true: only notices in force now"),
                    *_paging(1000, 10000),
                ],
                "responses": {"200": _page("notices", {"type": "object"}, "Notices"), **_errors(400, 401)},
            },
            "post": {
                "summary": "File an activity notice; shared with every verified peer, checked for conflicts",
                "requestBody": _NOTICE_BODY,
                "responses": {"201": _json(_NOTICE_ANSWER, "Filed"), **_errors(400, 401, 403, 413)},
            },
        },
        "/api/v1/notices/import": {
            "post": {
                "summary": "File notices from GeoJSON, ASTM F3548 Volume4D JSON, ICAO NOTAM or "
                "navigational warning text; 'sources' says where each geometry came from",
                "parameters": [_IMPORT_FORMAT],
                "requestBody": {"required": True, "content": {"text/plain": {}, "application/json": {}}},
                "responses": {"201": _json({"type": "object"}, "Filed"), **_errors(400, 401, 403, 413)},
            }
        },
        "/api/v1/notices/export": {
            "get": {
                "summary": "Notices in force as GeoJSON, ASTM F3548 Volume4D JSON or ICAO NOTAM text",
                "parameters": [_FORMAT, {"name": "party", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The notices"}, **_errors(400, 401)},
            }
        },
        "/api/v1/notices/{notice_id}": {
            "get": {
                "summary": "One notice with its open conflicts",
                "parameters": [_NOTICE_ID],
                "responses": {"200": _json({"type": "object"}, "Notice"), **_errors(401, 404)},
            }
        },
        "/api/v1/notices/{notice_id}/amend": {
            "post": {
                "summary": "Amend one of our notices (a new version); conflicts are re-checked",
                "parameters": [_NOTICE_ID],
                "requestBody": _NOTICE_BODY,
                "responses": {"200": _json(_NOTICE_ANSWER, "Amended"), **_errors(400, 401, 403, 404, 409)},
            }
        },
        "/api/v1/notices/{notice_id}/cancel": {
            "post": {
                "summary": "Cancel one of our notices; its conflicts close",
                "parameters": [_NOTICE_ID],
                "requestBody": _REASON,
                "responses": {"200": _json(_NOTICE_ANSWER, "Cancelled"), **_errors(400, 401, 403, 404, 409)},
            }
        },
        "/api/v1/conflicts": {
            "get": {
                "summary": "Conflicts between notices of different parties (open by default), newest first",
                "parameters": [
                    _query(
                        "state", {"enum": ["open", "closed", "all"], "default": "open"}, "which conflicts"
                    ),
                    _query("notice", {"type": "string"}, "only conflicts of this notice"),
                    *_paging(1000, 10000),
                ],
                "responses": {
                    "200": _page("conflicts", {"type": "object"}, "Conflicts"),
                    **_errors(400, 401),
                },
            }
        },
    }
)


OPENAPI["paths"].update(call_paths(_json, _errors, _paging, _page, _query))


def _operation(path: str, method: str) -> str:
    """A JSON pointer to one operation of this document (RFC 6901 escapes ``~`` and ``/``)."""
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def _link(path: str, method: str, description: str, **parameters: str) -> dict[str, Any]:
    return {"operationRef": _operation(path, method), "description": description, "parameters": parameters}


_FILED = "$response.body#/notice/id"
_CALLED = "$response.body#/call/call_id"

# The workflows a client follows (OpenAPI links): what a 201 names, read back or acted on next;
# Schemathesis walks them in tests/test_api_schemathesis.py.
_LINKS: dict[tuple[str, str, str], dict[str, Any]] = {
    ("/api/v1/messages", "post", "201"): {
        "GetMessage": _link(
            "/api/v1/messages/{message_id}", "get", "the message just sent", message_id="$response.body#/id"
        ),
        "GetProof": _link(
            "/api/v1/messages/{message_id}/proof",
            "get",
            "its inclusion proof in the Merkle log",
            message_id="$response.body#/id",
        ),
        "AcknowledgeMessage": _link(
            "/api/v1/messages/{message_id}/ack",
            "post",
            "only its recipient may acknowledge it",
            message_id="$response.body#/id",
        ),
    },
    ("/api/v1/calls", "post", "201"): {
        "GetCall": _link("/api/v1/calls/{call_id}", "get", "the call just requested", call_id=_CALLED),
        "CancelCall": _link(
            "/api/v1/calls/{call_id}/cancel", "post", "the caller cancels it", call_id=_CALLED
        ),
    },
    ("/api/v1/notices", "post", "201"): {
        "GetNotice": _link("/api/v1/notices/{notice_id}", "get", "the notice just filed", notice_id=_FILED),
        "AmendNotice": _link("/api/v1/notices/{notice_id}/amend", "post", "a new version", notice_id=_FILED),
        "CancelNotice": _link("/api/v1/notices/{notice_id}/cancel", "post", "cancel it", notice_id=_FILED),
    },
}
for (_path, _method, _status), _links in _LINKS.items():
    OPENAPI["paths"][_path][_method]["responses"][_status]["links"] = _links
OPENAPI["components"]["schemas"].update(LOG_SCHEMAS)
OPENAPI["paths"].update(LOG_PATHS)
