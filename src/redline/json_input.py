"""Parsing JSON that someone else wrote: bounded nesting, finite numbers, one error type.

Every JSON document from outside the station (an API request body, a link batch
or a peer's answer, a sealed payload, a contact card, an imported notice file)
goes through ``parse_json``. The standard library's parser and every walker
after it (RFC 8785 canonicalisation, validation) recurse once per level, so a
body of 100,000 ``[`` would raise ``RecursionError`` somewhere deep inside the
station. Here the nesting is measured on the text first, at C speed and
without recursion, and a document nesting deeper than ``MAX_DEPTH`` is refused
before anything parses it. Numbers must be finite (``1e999`` and ``NaN`` cannot
be signed as canonical JSON), and integers are bounded by the interpreter's
digit limit; both faults are refused with the caller's error type.
"""

from __future__ import annotations

import json
import math
import re
from functools import partial
from itertools import accumulate, count
from operator import lt, sub
from typing import Any

from redline.errors import InputError, RedlineError, Text, _t

MAX_DEPTH = 64

# A JSON string (its escapes included); possessive, so a long string is one step, not a backtrack.
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]++")
# Openers become 2 and closers 0: the running sum minus the position is the nesting depth.
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


def nesting_exceeds(text: str, max_depth: int = MAX_DEPTH) -> bool:
    """Whether a JSON text opens more than ``max_depth`` arrays or objects inside each other."""
    if text.count("[") + text.count("{") <= max_depth:
        return False
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", text)).encode("ascii").translate(_STEPS)
    depths = map(sub, accumulate(brackets), count(1))
    return next(filter(partial(lt, max_depth), depths), None) is not None


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(_t("the number {value} is too large for a 64-bit float", value=text[:40]))
    return value


def _refuse_constant(name: str) -> float:
    raise ValueError(_t("{name} is not a JSON number", name=name))


def parse_json(
    raw: bytes | str, what: str, error: type[RedlineError] = InputError, max_depth: int = MAX_DEPTH
) -> Any:
    """The value of a JSON text, or ``error`` saying what is wrong with it (``what`` names it)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise error(
                _t(
                    "{what} is not valid JSON: not UTF-8 text ({reason} at byte {start})",
                    what=what,
                    reason=exc.reason,
                    start=exc.start,
                )
            ) from None
    if nesting_exceeds(raw, max_depth):
        raise error(
            _t(
                "{what} nests deeper than {max_depth} levels of arrays and objects",
                what=what,
                max_depth=max_depth,
            )
        )
    try:
        return json.loads(raw, parse_float=_finite, parse_constant=_refuse_constant)
    except ValueError as exc:  # JSONDecodeError, a refused number, an integer over the digit limit
        detail = exc.args[0] if exc.args and isinstance(exc.args[0], Text) else str(exc)
        raise error(_t("{what} is not valid JSON: {detail}", what=what, detail=detail)) from None
