"""Pages of a list: a limit, and an opaque cursor that says where the next page starts.

Every list of the operator API (messages, notices, conflicts, audit, alarms)
pages the same way: ``?limit=N&cursor=C`` in, ``{..., "limit": N, "next": C}``
out, ``next`` null only when nothing follows. The cursor is keyset-based: it
holds the sort key of the last row shown (e.g. ``[stored_at, id]``), and the
store returns rows strictly past it. Rows added while a client walks the
pages therefore never shift what the walk sees (no row skipped or shown
twice), which an offset could not promise.

A cursor is urlsafe base64 of canonical JSON ``[list, key...]``. It is opaque
to clients but not secret: a tampered cursor can only name another position
in the same list, and anything that does not decode to the list's key shape
is refused with an :class:`~redline.errors.InputError` that names the
parameter.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import rfc8785

from redline.errors import InputError, _t

Key = tuple[str | int, ...]  # a row's position in its list's order
KeyShape = tuple[type, ...]  # the types of a list's key, e.g. (str, str) for (stored_at, id)
Row = TypeVar("Row")
Shown = TypeVar("Shown")

MAX_CURSOR_CHARS = 1024


def parse_limit(raw: str | None, default: int, maximum: int, name: str = "limit") -> int:
    """A page size from a query parameter: ASCII digits only, 1 to ``maximum``."""
    if raw is None:
        return default
    # str.isdigit() accepts "²" and other digits int() refuses: test the characters ourselves.
    if not raw or len(raw) > 9 or any(ch not in "0123456789" for ch in raw) or not 1 <= int(raw) <= maximum:
        raise InputError(
            _t(
                "{name}: expected a whole number from 1 to {maximum}, not {value!r}",
                name=name,
                maximum=maximum,
                value=raw[:20],
            )
        )
    return int(raw)


def encode_cursor(list_name: str, key: Key) -> str:
    raw = rfc8785.dumps([list_name, *key])
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(raw: str | None, list_name: str, shape: KeyShape, name: str = "cursor") -> Key | None:
    """The key a cursor from this list holds; None when there is no cursor (the first page)."""
    if raw is None:
        return None
    wrong = InputError(
        _t("{name}: not a cursor of this list; pass the 'next' value of a previous answer as is", name=name)
    )
    if not raw or len(raw) > MAX_CURSOR_CHARS or not raw.isascii():
        raise wrong
    try:
        decoded = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):  # bad base64, bad UTF-8, bad JSON
        raise wrong from None
    if (
        not isinstance(decoded, list)
        or len(decoded) != len(shape) + 1
        or decoded[0] != list_name
        or any(type(v) is not t for v, t in zip(decoded[1:], shape, strict=True))
    ):
        raise wrong
    return tuple(decoded[1:])


def cursor_list(raw: str) -> str | None:
    """The name of the list a cursor was made for; None if it is not a cursor at all."""
    if not raw or len(raw) > MAX_CURSOR_CHARS or not raw.isascii():
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        return None
    if isinstance(decoded, list) and decoded and isinstance(decoded[0], str):
        return decoded[0]
    return None


@dataclass(frozen=True, slots=True)
class Listing:
    """One list's name (written into its cursors) and the types of its sort key."""

    name: str
    shape: KeyShape


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which page: at most ``limit`` rows, after the position ``cursor`` names (None: from the start)."""

    limit: int
    cursor: str | None = None

    def after(self, listing: Listing) -> Key | None:
        """The key the cursor holds, checked against ``listing`` (a 400 if it is not its cursor)."""
        return decode_cursor(self.cursor, listing.name, listing.shape)


@dataclass(frozen=True, slots=True)
class Page(Generic[Row]):
    items: list[Row]
    limit: int
    next: str | None  # the cursor of the next page; None when this page is the last

    def fields(self) -> dict[str, object]:
        """``limit`` and ``next``, as every paged answer carries them."""
        return {"limit": self.limit, "next": self.next}

    def map(self, show: Callable[[Row], Shown]) -> Page[Shown]:
        """The same page with each row shown as ``show`` makes it."""
        return Page([show(row) for row in self.items], self.limit, self.next)


def page_of(
    rows: Sequence[Row], request: PageRequest, listing: Listing, key: Callable[[Row], Key]
) -> Page[Row]:
    """A page from up to ``limit + 1`` rows read past the cursor: the extra row only says
    whether another page follows."""
    shown = list(rows[: request.limit])
    more = len(rows) > request.limit
    return Page(shown, request.limit, encode_cursor(listing.name, key(shown[-1])) if more else None)


def text_pair(key: Key | None) -> tuple[str, str] | None:
    """A (timestamp, id) key as the store takes it (its types were checked when decoded)."""
    return None if key is None else (str(key[0]), str(key[1]))


def row_id(key: Key | None) -> int | None:
    """A row-id key as the store takes it."""
    return None if key is None else int(key[0])
