"""Property tests for what crosses a link: receipts and contact cards (envelopes are in
tests/test_wire.py).

Keys are generated once per session, in tests/support/wire_strategies.py. Every corruption test
states the rule it checks in its assertion message, so a failure reads as a finding.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from redline.crypto.keys import StationKeys, b64encode
from redline.errors import BadReceipt, InputError
from redline.wire.card import CARD_KEYS, ContactCard, make_card, parse_card, verification_code
from redline.wire.receipt import Receipt, issue_receipt, parse_receipt, verify_receipt
from tests.support.wire_strategies import (
    B64URL,
    PER_CASE,
    PROPERTY,
    RECIPIENT,
    RECIPIENT_CERT,
    RECIPIENT_PUBLIC,
    SENDER,
    SENDER_CERT,
    SENDER_PUBLIC,
    STRANGER,
    STRANGER_CERT,
    hex_digests,
    json_values,
    likely_chars,
    message_ids,
    replace_char,
    seqs,
    signature_text_variants,
    station_ids,
    timestamps,
)

# -- receipts --------------------------------------------------------------------------------------

receipt_entries = st.lists(st.tuples(seqs, hex_digests), min_size=1, max_size=20)


@st.composite
def receipts(draw: st.DrawFn) -> Receipt:
    return issue_receipt(
        RECIPIENT,
        draw(message_ids),
        draw(station_ids),
        draw(station_ids),
        draw(timestamps),
        draw(receipt_entries),
    )


def accept_receipt(obj: object) -> Receipt:
    receipt = parse_receipt(obj)
    verify_receipt(receipt, RECIPIENT_PUBLIC)
    return receipt


@PROPERTY
@given(receipts())
def test_receipt_round_trip(receipt: Receipt) -> None:
    wire = json.loads(json.dumps(receipt.to_json()))
    assert accept_receipt(wire) == receipt
    with pytest.raises(BadReceipt):
        verify_receipt(receipt, SENDER_PUBLIC)


@st.composite
def receipt_alterations(draw: st.DrawFn, wire: dict[str, Any], what: str) -> dict[str, Any]:
    out = json.loads(json.dumps(wire))
    entries: list[list[Any]] = out["entries"]
    i = draw(st.integers(0, len(entries) - 1))
    if what == "entry_seq":
        # Bounded: seqs from 2^53 crash verify_receipt (test_receipt_values_beyond_jcs_are_bad_not_crashes).
        other_seqs = st.integers(max_value=2**53 - 1).filter(lambda n: n != entries[i][0])
        entries[i][0] = draw(other_seqs | json_values)
    elif what == "entry_digest":
        entries[i][1] = replace_char(
            draw, entries[i][1], st.sampled_from("0123456789abcdefABCDEF") | likely_chars
        )
    elif what == "drop":
        del entries[i]
    elif what == "add":
        entries.insert(i, [draw(seqs), draw(hex_digests)])
    elif what == "repeat":
        entries.insert(i, list(entries[i]))
    elif what == "reverse":
        assume(entries != entries[::-1])
        entries.reverse()
    elif what in ("id", "by", "for", "at"):
        out[what] = replace_char(draw, out[what], likely_chars)
    elif what == "sig":  # a genuine signature over another receipt
        out["sig"] = draw(receipts()).sig
        assume(out["sig"] != wire["sig"])
    elif what == "entry_shape":
        entries[i] = draw(st.sampled_from([entries[i][:1], [*entries[i], 0], tuple(entries[i]), {"seq": 1}]))
    elif what == "v":
        out["v"] = draw(json_values.filter(lambda v: not (type(v) in (int, float, bool) and v == 1)))
    else:
        out["type"] = draw(json_values.filter(lambda v: v != "receipt"))
    assume(out != wire)
    return out


RECEIPT_ALTERATIONS = [
    *("entry_seq", "entry_digest", "entry_shape", "drop", "add", "repeat", "reverse"),
    *("id", "by", "for", "at", "sig", "v", "type"),
]


@pytest.mark.parametrize("what", RECEIPT_ALTERATIONS)
@PER_CASE
@given(receipt=receipts(), data=st.data())
def test_altered_receipt_is_bad(what: str, receipt: Receipt, data: st.DataObject) -> None:
    altered = data.draw(receipt_alterations(receipt.to_json(), what))
    try:
        accept_receipt(altered)
    except BadReceipt:
        return
    raise AssertionError(f"receipt with an altered {what!r} was accepted: {altered!r}")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("entries", [[2**53, "a" * 64]]),
        ("entries", [[1, "a" * 63 + "\ud800"]]),
        ("by", "beijing\ud800"),
        ("at", "2026-01-31T12:00:00.000000Z\ud800"),
    ],
    ids=["seq-2^53", "surrogate-in-digest", "surrogate-in-by", "surrogate-in-at"],
)
def test_receipt_values_beyond_jcs_are_bad_not_crashes(name: str, value: object) -> None:
    """A peer's answer that RFC 8785 cannot encode must be a BadReceipt, not an exception from rfc8785.

    DeliveryWorker.run only survives RedlineError; anything else ends the worker task, and with it
    the TaskGroup in redline.runtime that also runs the servers.
    """
    receipt = issue_receipt(
        RECIPIENT, "r" * 32, "beijing", "washington", "2026-01-31T12:00:00.000000Z", [(1, "a" * 64)]
    )
    wire = json.loads(json.dumps({**receipt.to_json(), name: value}))
    try:
        accept_receipt(wire)
    except BadReceipt:
        return
    except Exception as exc:
        raise AssertionError(
            f"BUG: a receipt with {name}={value!r} raised {type(exc).__module__}.{type(exc).__name__} "
            f"({exc}) instead of BadReceipt: parse_receipt accepts entry seqs >= 2^53 and non-UTF-8 "
            "strings, and verify_receipt lets rfc8785's ValueError through."
        ) from exc
    raise AssertionError(f"receipt with {name}={value!r} was accepted")


def test_altered_receipt_signature_text_is_bad() -> None:
    receipt = issue_receipt(
        RECIPIENT, "r" * 32, "beijing", "washington", "2026-01-31T12:00:00.000000Z", [(1, "a" * 64)]
    )
    wire = receipt.to_json()
    accepted = []
    for variant in signature_text_variants(receipt.sig):
        try:
            accept_receipt({**wire, "sig": variant})
        except BadReceipt:
            continue
        accepted.append(variant)
    assert not accepted, (
        f"BUG (signature malleability): {len(accepted)} altered receipt `sig` strings still verify, e.g. "
        f"{accepted[0]!r} for {receipt.sig!r}; redline.crypto.keys.b64decode accepts non-canonical base64url."
    )


# -- contact cards ---------------------------------------------------------------------------------

hostnames = st.from_regex(
    r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,8}){0,2}", fullmatch=True
) | st.ip_addresses(v=4).map(str)
endpoint_urls = st.builds(lambda h, p: f"https://{h}:{p}", hostnames, st.integers(1, 65535))
card_names = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=128)


@st.composite
def cards(draw: st.DrawFn, keys: StationKeys = SENDER, cert: str = SENDER_CERT) -> ContactCard:
    return make_card(
        keys,
        draw(station_ids),
        draw(card_names),
        cert,
        draw(st.lists(endpoint_urls, min_size=1, max_size=8)),
        draw(timestamps),
    )


@PROPERTY
@given(cards())
def test_card_round_trip(card: ContactCard) -> None:
    wire = json.loads(json.dumps(card.to_json()))
    assert set(wire) == CARD_KEYS
    assert parse_card(wire) == card


@st.composite
def card_alterations(draw: st.DrawFn, card: ContactCard, what: str, how: str) -> dict[str, Any]:
    wire = card.to_json()
    out = json.loads(json.dumps(wire))
    if how == "junk":
        out[what] = draw(JUNK.get(what, json_values))
    elif how == "replace":
        out.update(draw(card_replacements(what, wire)))
    elif what == "endpoints":
        i = draw(st.integers(0, len(out[what]) - 1))
        out[what][i] = replace_char(draw, out[what][i], url_safe_chars)
    elif what in ("tls_certificate", "tls_fingerprint"):
        out[what] = replace_char(draw, out[what], ascii_chars)
    elif what == "v":
        out[what] = draw(st.integers().filter(lambda n: n != 1))
    elif what == "sig":
        # Edits that change the signature bytes; text-only edits are test_altered_card_signature_text_*.
        out[what] = replace_char(draw, out[what][:-1], st.sampled_from(B64URL)) + out[what][-1]
    else:
        out[what] = replace_char(draw, out[what], likely_chars)
    assume(out != wire)
    return out


def card_replacements(what: str, wire: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Another well-formed value for one field (the certificate comes with its own fingerprint)."""
    stranger = make_card(STRANGER, "moscow", "Moscow", STRANGER_CERT, ["https://10.0.0.1:443"], "t")
    other = stranger.to_json()
    if what == "tls_certificate":
        return st.just(
            {"tls_certificate": other["tls_certificate"], "tls_fingerprint": other["tls_fingerprint"]}
        )
    values: dict[str, st.SearchStrategy[Any]] = {
        "station": station_ids,
        "name": card_names,
        "created_at": timestamps,
        "endpoints": st.lists(endpoint_urls, min_size=1, max_size=8),
        "v": st.integers(),
        "type": st.sampled_from(["receipt", "contact-card-v2", "Contact-Card"]),
        "hpke_suite": st.sampled_from(["DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM", ""]),
        "tls_fingerprint": hex_digests.map(lambda h: "sha256:" + h),
    }
    strategy = values.get(what, st.sampled_from([other[what], b64encode(b"x" * 32), b64encode(b"x" * 64)]))
    return strategy.filter(lambda v: v != wire[what]).map(lambda v: {what: v})


# Alphabets for in-place edits and junk: ASCII where a non-ASCII or URL-syntax character crashes the
# parser instead of being refused; those crashes are pinned by
# test_malformed_card_is_an_input_error_not_a_crash.
ascii_chars = st.characters(min_codepoint=32, max_codepoint=126)
url_safe_chars = ascii_chars.filter(lambda c: c not in "[]")
_non_strings = st.none() | st.booleans() | st.integers() | st.lists(st.integers(), max_size=2)
JUNK: dict[str, st.SearchStrategy[Any]] = {
    "tls_certificate": _non_strings | st.text(ascii_chars),
    "endpoints": _non_strings | st.lists(_non_strings | st.text(url_safe_chars), max_size=9),
}


@pytest.mark.filterwarnings("ignore:Parsed a serial number:cryptography.utils.CryptographyDeprecationWarning")
@pytest.mark.parametrize("how", ["edit", "replace", "junk"])
@pytest.mark.parametrize("what", sorted(CARD_KEYS))
@PER_CASE
@given(card=cards(), data=st.data())
def test_altered_card_is_refused(what: str, how: str, card: ContactCard, data: st.DataObject) -> None:
    """A changed card is refused (InputError), or it normalises back to exactly the signed card."""
    altered = data.draw(card_alterations(card, what, how))
    try:
        parsed = parse_card(altered)
    except InputError:
        return
    assert parsed == card, f"card with an altered {what!r} was accepted as a different card: {parsed!r}"


def test_altered_card_signature_text_is_refused() -> None:
    card = make_card(SENDER, "washington", "Washington", SENDER_CERT, ["https://127.0.0.1:8443"], "t")
    wire = card.to_json()
    accepted = []
    for variant in signature_text_variants(card.sig):
        try:
            parse_card({**wire, "sig": variant})
        except InputError:
            continue
        accepted.append(variant)
    assert not accepted, (
        f"BUG (signature malleability): {len(accepted)} altered card `sig` strings still verify, e.g. "
        f"{accepted[0]!r} for {card.sig!r}; redline.crypto.keys.b64decode accepts non-canonical base64url."
    )


@pytest.mark.parametrize(
    ("name", "edit"),
    [
        ("tls_certificate", lambda v: v.replace("M", "\u00e9", 1)),
        ("endpoints", lambda v: ["https://[127.0.0.1:8443"]),
        ("endpoints", lambda v: ["https://127.0.0.1\uff0f:8443"]),
        ("name", lambda v: v + "\ud800"),
    ],
    ids=["non-ascii-certificate", "unbalanced-ipv6-bracket", "nfkc-unsafe-netloc", "lone-surrogate-name"],
)
def test_malformed_card_is_an_input_error_not_a_crash(name: str, edit: Any) -> None:
    card = make_card(SENDER, "washington", "Washington", SENDER_CERT, ["https://127.0.0.1:8443"], "t")
    wire = card.to_json()
    try:
        parse_card({**wire, name: edit(wire[name])})
    except InputError:
        return
    except Exception as exc:
        raise AssertionError(
            f"BUG: parse_card crashed with {type(exc).__name__} ({exc}) on a bad {name!r} instead of raising "
            "InputError (fingerprint_pem encodes the PEM as ASCII unguarded; check_endpoint calls urlsplit "
            "unguarded; canonical() refuses lone surrogates)."
        ) from exc
    raise AssertionError(f"card with a bad {name!r} was accepted")


def test_card_station_with_trailing_newline_is_refused() -> None:
    try:
        card = make_card(SENDER, "washington\n", "W", SENDER_CERT, ["https://127.0.0.1:8443"], "t")
        parsed = parse_card(card.to_json())
    except InputError:
        return
    raise AssertionError(
        f"BUG: a contact card for station {parsed.station!r} was accepted; check_station_id's regex "
        "'$' matches before a trailing newline (use re.fullmatch)."
    )


VERIFICATION_CODE = re.compile(r"[0-9]{5} [0-9]{5} [0-9]{5} [0-9]{5}")


@PROPERTY
@given(cards(SENDER, SENDER_CERT), cards(RECIPIENT, RECIPIENT_CERT), cards(STRANGER, STRANGER_CERT))
def test_verification_code(a: ContactCard, b: ContactCard, c: ContactCard) -> None:
    code = verification_code(a, b)
    assert VERIFICATION_CODE.fullmatch(code), code
    assert verification_code(b, a) == code, "both administrators must read the same code"
    assert verification_code(a, c) != code, "another station's card must give another code"
    assert verification_code(c, b) != code, "another station's card must give another code"
    station = (
        a.station + "x" if len(a.station) < 32 else a.station[:-1] + ("y" if a.station[-1] == "x" else "x")
    )
    renamed = make_card(SENDER, station, a.name, SENDER_CERT, list(a.endpoints), a.created_at)
    assert verification_code(renamed, b) != code, "the station id is part of what the code proves"
