"""Reading request bodies with a size limit and strict JSON objects."""

from __future__ import annotations

from typing import Any

from starlette.requests import ClientDisconnect, Request

from redline.errors import InputError, PayloadTooLarge
from redline.json_input import parse_json


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InputError("Content-Length is not a number")
        if int(declared) > limit:
            raise PayloadTooLarge(f"request body of {declared} bytes is more than the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"request body is more than the limit of {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        # The sender gave up mid-body (a timeout on a slow path): nothing was read, nothing changes.
        raise InputError("the client disconnected before sending the whole body") from None
    return b"".join(chunks)


async def read_json_object(
    request: Request,
    limit: int,
    required: set[str],
    optional: set[str] = frozenset(),  # type: ignore[assignment]
) -> dict[str, Any]:
    data = parse_json(await read_body(request, limit), "request body")
    if not isinstance(data, dict):
        raise InputError("request body must be a JSON object")
    missing = required - data.keys()
    if missing:
        raise InputError(f"missing field(s): {', '.join(sorted(missing))}")
    unknown = data.keys() - required - optional
    if unknown:
        raise InputError(f"unknown field(s): {', '.join(sorted(unknown))}")
    return data
