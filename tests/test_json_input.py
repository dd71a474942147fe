"""``redline.json_input``: the nesting measured on the text agrees with the parsed value's depth."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.errors import InputError, MalformedEnvelope
from redline.json_input import MAX_DEPTH, nesting_exceeds, parse_json

# Strings full of brackets, quotes and backslashes: what the text scan must skip.
tricky_text = st.text(alphabet='[]{}"\\ab\n\u00e9', max_size=8)
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | tricky_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=40,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


def wrapped(value: Any, levels: int) -> Any:
    for i in range(levels):
        value = [value] if i % 2 else {"k[": value}
    return value


@given(values, st.integers(min_value=0, max_value=70), st.integers(min_value=0, max_value=8))
def test_the_text_scan_measures_the_depth_of_the_value(value: Any, extra: int, limit: int) -> None:
    value = wrapped(value, extra)
    text = json.dumps(value, ensure_ascii=False)
    assert nesting_exceeds(text, limit) == (depth(value) > limit)
    assert nesting_exceeds(text) == (depth(value) > MAX_DEPTH)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"[" * 65 + b"]" * 65, "nests deeper than 64 levels"),
        (b"1e999", "too large for a 64-bit float"),
        (b"[NaN]", "NaN is not a JSON number"),
        (b"-Infinity", "-Infinity is not a JSON number"),
        (b"1" * 5000, "digits"),
        (b"\xff{}", "is not valid JSON: not UTF-8 text"),
        (b"{", "is not valid JSON"),
    ],
)
def test_refusals_name_the_fault_in_the_callers_error(raw: bytes, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        parse_json(raw, "the body")
    with pytest.raises(MalformedEnvelope, match=f"^batch .*{fragment}"):
        parse_json(raw, "batch", MalformedEnvelope)


def test_a_document_at_the_bound_parses() -> None:
    text = json.dumps(wrapped(1.5, MAX_DEPTH))
    assert depth(parse_json(text, "x")) == MAX_DEPTH
