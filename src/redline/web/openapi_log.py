"""The OpenAPI description of the Merkle log routes (docs/protocol.md, "Merkle log"): a message's
inclusion proof, a direction's tree head, a consistency proof between two sizes."""

from __future__ import annotations

from typing import Any

from redline.web.openapi_parts import MESSAGE_ID, PEER, answer, errors, query

_HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256, lowercase hex"}
_DIRECTION = {
    "name": "direction",
    "in": "query",
    "required": True,
    "schema": {"enum": ["outbound", "inbound"]},
    "description": "outbound: our envelopes to the peer; inbound: the peer's to us",
}


def _size(name: str, description: str) -> dict[str, Any]:
    return query(name, {"type": "string", "pattern": "^[0-9]{1,12}$"}, description)


LOG_SCHEMAS: dict[str, Any] = {
    "TreeHead": {
        "type": "object",
        "required": ["origin", "direction", "size", "root"],
        "properties": {
            "origin": {"type": "string", "description": "redline/<sender>-><receiver>"},
            "direction": {"enum": ["outbound", "inbound"]},
            "size": {"type": "integer", "minimum": 0},
            "root": _HASH,
        },
    },
    "InclusionProof": {
        "type": "object",
        "required": [
            "message_id",
            "origin",
            "direction",
            "seq",
            "digest",
            "leaf_index",
            "leaf_hash",
            "tree_size",
            "root",
            "audit_path",
        ],
        "properties": {
            "message_id": {"type": "string"},
            "origin": {"type": "string", "description": "redline/<sender>-><receiver>"},
            "direction": {"enum": ["outbound", "inbound"]},
            "seq": {"type": "integer", "minimum": 1},
            "digest": _HASH,
            "leaf_index": {"type": "integer", "minimum": 0, "description": "seq - 1"},
            "leaf_hash": _HASH,
            "tree_size": {"type": "integer", "minimum": 1},
            "root": _HASH,
            "audit_path": {"type": "array", "items": _HASH},
        },
    },
    "ConsistencyProof": {
        "type": "object",
        "required": ["origin", "direction", "first", "second", "first_root", "second_root", "proof"],
        "properties": {
            "origin": {"type": "string"},
            "direction": {"enum": ["outbound", "inbound"]},
            "first": {"type": "integer", "minimum": 1},
            "second": {"type": "integer", "minimum": 1},
            "first_root": _HASH,
            "second_root": _HASH,
            "proof": {"type": "array", "items": _HASH},
        },
    },
}

LOG_PATHS: dict[str, Any] = {
    "/api/v1/messages/{message_id}/proof": {
        "get": {
            "summary": "The message's inclusion proof in its direction's Merkle log (RFC 9162)",
            "parameters": [
                MESSAGE_ID,
                _size("size", "prove against the log's first size envelopes (default: all of it now)"),
            ],
            "responses": {
                "200": answer({"$ref": "#/components/schemas/InclusionProof"}, "Inclusion proof"),
                **errors(400, 401, 404, 409),
            },
        }
    },
    "/api/v1/links/{peer}/log": {
        "get": {
            "summary": "The tree head of one direction's Merkle log with a peer",
            "parameters": [PEER, _DIRECTION, _size("size", "the head of the first size envelopes")],
            "responses": {
                "200": answer({"$ref": "#/components/schemas/TreeHead"}, "Tree head"),
                **errors(400, 401, 404, 409),
            },
        }
    },
    "/api/v1/links/{peer}/log/consistency": {
        "get": {
            "summary": "A consistency proof between two sizes of one direction's Merkle log",
            "parameters": [
                PEER,
                _DIRECTION,
                {**_size("first", "the earlier tree size (1 or more)"), "required": True},
                _size("second", "the later tree size (default: the log's size now)"),
            ],
            "responses": {
                "200": answer({"$ref": "#/components/schemas/ConsistencyProof"}, "Consistency proof"),
                **errors(400, 401, 404, 409),
            },
        }
    },
}
