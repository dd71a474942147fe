"""UTC timestamps as they travel: ISO 8601 with microseconds and a 'Z'."""

from __future__ import annotations

from datetime import UTC, datetime

from redline.errors import InputError


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(value: object, field: str) -> datetime:
    if not isinstance(value, str) or not value.endswith("Z"):
        raise InputError(f"{field}: expected a UTC timestamp like 2026-01-31T12:00:00.000000Z")
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise InputError(f"{field}: {value!r} is not an ISO 8601 timestamp") from None
