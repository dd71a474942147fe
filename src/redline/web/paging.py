"""Query parameters every list of the operator API reads the same way: ``limit``, ``cursor``,
and the ``true``/``false`` and comma-separated filters (see ``redline.services.paging``)."""

from __future__ import annotations

from collections.abc import Collection

from starlette.requests import Request

from redline.domain.clock import format_ts, parse_ts
from redline.errors import InputError
from redline.services.paging import PageRequest, parse_limit


def page_request(request: Request, default: int, maximum: int) -> PageRequest:
    """``?limit=`` (1 to ``maximum``, default ``default``) and ``?cursor=`` (a previous ``next``)."""
    limit = parse_limit(request.query_params.get("limit"), default, maximum)
    return PageRequest(limit, request.query_params.get("cursor"))


def flag(request: Request, name: str) -> bool | None:
    """A ``true``/``false`` filter; None when absent."""
    raw = request.query_params.get(name)
    if raw not in (None, "true", "false"):
        raise InputError(f"{name}: expected true or false, not {raw!r}")
    return None if raw is None else raw == "true"


def choices(request: Request, name: str, allowed: Collection[str]) -> list[str] | None:
    """A comma-separated filter whose values must be among ``allowed``; None when absent."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    values = raw.split(",")
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise InputError(f"{name}: {', '.join(map(repr, unknown))} not among {', '.join(sorted(allowed))}")
    return values


def timestamp(request: Request, name: str) -> str | None:
    """A UTC timestamp filter (``2026-01-31T12:00:00Z``), normalised as the store writes them."""
    raw = request.query_params.get(name)
    return None if raw is None else format_ts(parse_ts(raw, name))
