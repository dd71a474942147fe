"""Pieces the OpenAPI document (``redline.web.openapi``) is built of: answers, errors, paging,
the common parameters."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}


def answer(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(*codes: int) -> dict[str, Any]:
    texts = {
        400: "Invalid input",
        401: "Missing or wrong token",
        403: "Role not allowed",
        404: "Not found",
        409: "Conflicts with current state",
        413: "Body too large",
        429: "Over the rate limit; the Retry-After header says how many seconds to wait",
    }
    # Every authenticated operation is rate-limited per operator (docs/api.md).
    limited = (*codes, 429) if 401 in codes else codes
    return {str(c): answer(ERROR, texts[c]) for c in limited}


def paging(default: int, maximum: int) -> list[dict[str, Any]]:
    """``limit`` and ``cursor``: every list pages the same way (services/paging.py)."""
    return [
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
            "description": "rows per page (ASCII digits)",
        },
        {
            "name": "cursor",
            "in": "query",
            "schema": {"type": "string"},
            "description": "the 'next' of the previous page, as is; absent for the first page",
        },
    ]


def page(key: str, items: dict[str, Any], description: str) -> dict[str, Any]:
    """A paged answer: the rows under ``key``, the page size, and the next page's cursor."""
    return answer(
        {
            "type": "object",
            "required": [key, "limit", "next"],
            "properties": {
                key: {"type": "array", "items": items},
                "limit": {"type": "integer"},
                "next": {
                    "type": ["string", "null"],
                    "description": "cursor of the next page; null only when there is no more",
                },
            },
        },
        description,
    )


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


TRUE_FALSE = {"enum": ["true", "false"]}

MESSAGE_ID = {
    "name": "message_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
}

PEER = {"name": "peer", "in": "path", "required": True, "schema": {"type": "string"}}
REASON = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"reason": {"type": "string", "maxLength": 500}},
            }
        }
    }
}
