"""Canonical JSON, digests, and strict field readers shared by the wire formats."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import rfc8785

from redline.errors import MalformedEnvelope
from redline.json_input import parse_json


def canonical(obj: Any) -> bytes:
    """RFC 8785 (JCS) encoding: the only bytes Redline ever signs or hashes."""
    return bytes(rfc8785.dumps(obj))


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest_text(canonical_json: str) -> str:
    """Digest of an envelope stored or sent as its canonical JSON text."""
    return digest(canonical_json.encode("utf-8"))


def load_json(raw: bytes, what: str) -> Any:
    return parse_json(raw, what, MalformedEnvelope)


def expect_object(value: object, what: str, keys: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise MalformedEnvelope(f"{what}: expected a JSON object")
    missing = keys - value.keys()
    extra = value.keys() - keys
    if missing:
        raise MalformedEnvelope(f"{what}: missing field(s) {', '.join(sorted(missing))}")
    if extra:
        raise MalformedEnvelope(f"{what}: unexpected field(s) {', '.join(sorted(extra))}")
    return value


def is_utf8(value: str) -> bool:
    """False for strings holding lone surrogates, which JSON can carry but UTF-8 cannot."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def field_str(obj: Mapping[str, Any], key: str, what: str, max_len: int = 256) -> str:
    value = obj[key]
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise MalformedEnvelope(f"{what}.{key}: expected a non-empty string of at most {max_len} characters")
    if not is_utf8(value):
        raise MalformedEnvelope(f"{what}.{key}: holds a lone surrogate, which is not valid Unicode text")
    return value


def field_int(obj: Mapping[str, Any], key: str, what: str, minimum: int = 0) -> int:
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or value >= 2**53:
        raise MalformedEnvelope(f"{what}.{key}: expected an integer from {minimum} to 2^53-1")
    return value


def field_hex_digest(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = obj[key]
    if not isinstance(value, str) or len(value) != 64 or value.strip("0123456789abcdef"):
        raise MalformedEnvelope(f"{what}.{key}: expected 64 lowercase hex digits (SHA-256)")
    return value
