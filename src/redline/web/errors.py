"""Redline errors to HTTP answers, in one table."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from redline import errors as e

log = logging.getLogger(__name__)

STATUS: dict[type[e.RedlineError], int] = {
    e.PayloadTooLarge: 413,
    e.InputError: 400,
    e.RateLimited: 429,
    e.AuthError: 401,
    e.Forbidden: 403,
    e.NotFound: 404,
    e.Conflict: 409,
    e.MalformedEnvelope: 400,
    e.BadSignature: 422,
    e.WrongRecipient: 421,
    e.UnknownPeer: 403,
    e.UnverifiedPeer: 403,
    e.Equivocation: 409,
    e.BadReceipt: 502,
    e.OutsideClockWindow: 400,  # never 409: the sender reads a 409 as an equivocation answer
    e.RemoteProtocolError: 400,
    e.TransportError: 502,
    e.StoreError: 503,
    e.StationConfigError: 500,
    e.LocalProtocolError: 500,
}


def status_for(exc: e.RedlineError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_response(status: int, code: str, message: str, retry_after: int | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


async def redline_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, e.RedlineError)
    status = status_for(exc)
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc.message)
    retry_after = exc.retry_after if isinstance(exc, e.RateLimited) else None
    return error_response(status, exc.code, exc.message, retry_after)


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "internal error; the station log has the details")
