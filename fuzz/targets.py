"""The fuzz targets: each takes bytes from the fuzzer and feeds them to one parser of outside input.

The property every target holds: it returns, or raises a ``RedlineError`` (the
input was refused with a message). Any other exception is a crash. The Atheris
harnesses next to this file and ``tests/test_fuzz.py`` (Hypothesis, bounded,
in CI) drive the same functions; the crashes found are kept under
``tests/fuzz_corpus/<target>/`` and replayed by the tests.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from urllib.parse import parse_qsl

from redline.domain.names import check_lang, check_operator_name
from redline.domain.phrases import load_catalogue
from redline.domain.stations import Role
from redline.errors import RedlineError
from redline.services.accounts import check_password
from redline.services.pairing import read_card
from redline.web.console.pages import phrase_from_form
from redline.web.notices import _parse_import
from redline.wire.card import verification_code
from redline.wire.codec import canonical, expect_object, load_json
from redline.wire.envelope import parse_envelope
from redline.wire.receipt import parse_receipt


def envelope(data: bytes) -> None:
    """A link batch as the link endpoint reads it: JSON, then each envelope's shape and encoding."""
    batch = expect_object(load_json(data, "batch"), "batch", frozenset({"envelopes"}))
    items = batch["envelopes"]
    for item in items if isinstance(items, list) else [items]:
        env = parse_envelope(item)
        canonical(env.to_json())
    # A batch answer's receipts come through the same codec.
    for item in items if isinstance(items, list) else []:
        with contextlib.suppress(RedlineError):
            parse_receipt(item)


def card(data: bytes) -> None:
    """A contact card as `redline peer add` imports it, and its verification code."""
    parsed = read_card(data)
    verification_code(parsed, parsed)


def notice_import(data: bytes) -> None:
    """POST /api/v1/notices/import in each format (the first byte picks it), as the API parses it."""
    formats = ("geojson", "f3548", "notam", "navwarn")
    fmt = formats[data[0] % len(formats)] if data else "geojson"
    for imported in _parse_import(fmt, data[1:], "washington"):
        canonical(imported.notice.to_json())
        canonical(imported.to_json())


def console_form(data: bytes) -> None:
    """The console's forms as their handlers read them: compose (a phrase), add operator, settings."""
    fields = dict(parse_qsl(data.decode("utf-8", "replace"), keep_blank_values=True))
    for check in (
        lambda: check_lang(fields.get("lang", "")),
        lambda: Role.parse(fields.get("role", "")),
        lambda: check_operator_name(fields.get("name", "")),
        lambda: check_password(fields.get("password", "")),
    ):
        with contextlib.suppress(RedlineError):
            check()
    code, params = phrase_from_form(fields)
    phrase = load_catalogue().get(code)
    checked = phrase.check_params(params)
    canonical({"code": code, "params": checked})
    for lang in ("en", "zh-Hans"):
        phrase.render(checked, lang)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "envelope": envelope,
    "card": card,
    "notice_import": notice_import,
    "console_form": console_form,
}


def run(target: str, data: bytes) -> None:
    """One input: refusals (``RedlineError``) are the parser working; anything else propagates."""
    with contextlib.suppress(RedlineError):
        TARGETS[target](data)
