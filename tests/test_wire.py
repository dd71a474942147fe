"""Property tests for what crosses a link: envelopes, receipts and contact cards.

Keys are generated once per module (Ed25519/X25519 are fast, but there is no
need to pay for them on every example). Every corruption test states the rule
it checks in its assertion message, so a failure reads as a finding.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import random
import re
import string
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from redline.crypto.keys import StationKeys, b64encode
from redline.crypto.tls import make_self_signed_certificate
from redline.domain.clock import format_ts
from redline.domain.messages import MessageKind, Precedence
from redline.errors import BadReceipt, BadSignature, InputError, MalformedEnvelope
from redline.protocol import GENESIS_DIGEST
from redline.wire.card import CARD_KEYS, ContactCard, make_card, parse_card, verification_code
from redline.wire.codec import canonical
from redline.wire.envelope import (
    ENVELOPE_KEYS,
    Envelope,
    build_envelope,
    open_payload,
    parse_envelope,
    verify_envelope,
)
from redline.wire.receipt import Receipt, issue_receipt, parse_receipt, verify_receipt

SENDER = StationKeys.generate()
RECIPIENT = StationKeys.generate()
STRANGER = StationKeys.generate()
SENDER_PUBLIC = SENDER.signing.public_key()
RECIPIENT_PUBLIC = RECIPIENT.signing.public_key()
SENDER_CERT = make_self_signed_certificate("washington", SENDER.tls).decode("ascii")
RECIPIENT_CERT = make_self_signed_certificate("beijing", RECIPIENT.tls).decode("ascii")
STRANGER_CERT = make_self_signed_certificate("moscow", STRANGER.tls).decode("ascii")

PROPERTY = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# For tests parametrized over the field to corrupt: fewer examples each, every field covered.
PER_CASE = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
B64URL = string.ascii_letters + string.digits + "-_"

# -- strategies ------------------------------------------------------------------------------------

station_ids = st.from_regex(r"[a-z][a-z0-9-]{1,31}", fullmatch=True)
hex_digests = st.binary(min_size=32, max_size=32).map(bytes.hex)
message_ids = st.binary(min_size=16, max_size=16).map(bytes.hex)
seqs = st.integers(min_value=1, max_value=2**53 - 1)
timestamps = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(format_ts)
# Unicode without lone surrogates (those are covered by test_lone_surrogates_are_refused_not_crashes).
unicode_text = st.text(st.characters(exclude_categories=("Cs",)))
nasty_fragments = st.sampled_from(
    [
        "<script>alert('x')</script>",
        "🚀🔥✈️ 👩\u200d👩\u200d👧",
        "紧急通知 请立即确认收到",
        "Внимание",
        "\u202ertl override",
        '"quoted" \\ backslash / slash',
        "\x00\x1f\x7f",
        "\r\n\t",
        "\ufeff",
    ]
)
message_texts = st.one_of(unicode_text, st.lists(nasty_fragments | unicode_text, max_size=6).map("".join))
langs = st.sampled_from(["en", "zh", "zh-Hans", "ru", "en-GB", "fr-CA"])
operator_names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", fullmatch=True)
json_scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | unicode_text
json_values = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(unicode_text, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def bodies(draw: st.DrawFn, kind: MessageKind) -> dict[str, Any]:
    if kind is MessageKind.TEXT:
        return {"text": draw(message_texts), "lang": draw(langs)}
    return {"ack_of": draw(message_ids), "by": draw(operator_names), "at": draw(timestamps)}


@st.composite
def envelope_args(draw: st.DrawFn) -> dict[str, Any]:
    sender = draw(station_ids)
    recipient = draw(station_ids.filter(lambda s: s != sender))
    kind = draw(st.sampled_from(MessageKind))
    return {
        "message_id": draw(message_ids),
        "sender": sender,
        "recipient": recipient,
        "seq": draw(seqs),
        "prev": draw(st.just(GENESIS_DIGEST) | hex_digests),
        "ts": draw(timestamps),
        "precedence": draw(st.sampled_from(Precedence)),
        "kind": kind,
        "body": draw(bodies(kind)),
    }


def make_envelope(args: dict[str, Any]) -> Envelope:
    return build_envelope(SENDER, RECIPIENT.encryption.public_key(), **args)


envelopes = envelope_args().map(lambda args: (args, make_envelope(args)))


def receive(obj: object) -> tuple[Envelope, dict[str, Any]]:
    """Everything the receiving station checks on one envelope, in its order."""
    env = parse_envelope(obj)  # MalformedEnvelope
    verify_envelope(env, SENDER_PUBLIC)  # BadSignature
    return env, open_payload(env, RECIPIENT.encryption)  # MalformedEnvelope


def replace_char(draw: st.DrawFn, text: str, alphabet: st.SearchStrategy[str]) -> str:
    i = draw(st.integers(0, len(text) - 1))
    c = draw(alphabet.filter(lambda c: c != text[i]))
    return text[:i] + c + text[i + 1 :]


likely_chars = st.sampled_from(B64URL + "+/=.:\n ") | st.characters(exclude_categories=("Cs",))


# -- envelopes: round trip -------------------------------------------------------------------------


@PROPERTY
@given(envelopes, st.booleans())
def test_envelope_round_trip(built: tuple[dict[str, Any], Envelope], ensure_ascii: bool) -> None:
    args, env = built
    wire = json.loads(json.dumps(env.to_json(), ensure_ascii=ensure_ascii))
    parsed = parse_envelope(wire)
    assert parsed == env, "parse_envelope(to_json()) must give back the same envelope, digest included"
    verify_envelope(parsed, SENDER_PUBLIC)
    assert open_payload(parsed, RECIPIENT.encryption) == args["body"]
    # The canonical bytes parse the same way, and the digest is SHA-256 over them.
    assert parse_envelope(json.loads(env.encode())) == env
    assert env.digest == hashlib.sha256(env.encode()).hexdigest()
    assert env.header.seq == args["seq"] and env.header.prev == args["prev"]


# -- envelopes: corruption -------------------------------------------------------------------------


@st.composite
def corruptions(draw: st.DrawFn, wire: dict[str, Any], what: str) -> dict[str, Any]:
    """One change to one field of a valid envelope; ``sig`` text edits have their own test."""
    out = dict(wire)
    if what in ("payload", "prev", "id", "ts", "from", "to"):
        out[what] = replace_char(draw, wire[what], likely_chars)
    elif what == "seq":
        out["seq"] = draw(
            st.integers().filter(lambda n: n != wire["seq"])
            | st.floats().filter(lambda x: x != wire["seq"])
            | st.booleans()
            | st.text(max_size=4)
            | st.none()
        )
    elif what == "swap":
        out["from"], out["to"] = wire["to"], wire["from"]
    elif what == "precedence":
        out[what] = draw(
            st.sampled_from([p.value for p in Precedence if p.value != wire[what]]) | json_values
        )
    elif what == "kind":
        out[what] = draw(
            st.sampled_from([k.value for k in MessageKind if k.value != wire[what]]) | json_values
        )
    elif what == "v":
        # 1.0 is the same JSON number as 1 under RFC 8785, so it is not a change.
        out[what] = draw(json_values.filter(lambda v: not (type(v) in (int, float) and v == 1)))
    else:  # a genuine signature, but over another envelope
        other = make_envelope({**draw(envelope_args()), "message_id": wire["id"]})
        out["sig"] = other.sig
    assume(out != wire or what == "swap")
    return out


ENVELOPE_CORRUPTIONS = [
    "payload",
    "prev",
    "id",
    "ts",
    "from",
    "to",
    "seq",
    "swap",
    "precedence",
    "kind",
    "v",
    "sig",
]


@pytest.mark.parametrize("what", ENVELOPE_CORRUPTIONS)
@PER_CASE
@given(built=envelopes, data=st.data())
def test_corrupted_envelope_is_never_accepted(
    what: str, built: tuple[dict[str, Any], Envelope], data: st.DataObject
) -> None:
    _, env = built
    wire = json.loads(json.dumps(env.to_json()))
    corrupted = data.draw(corruptions(wire, what))
    try:
        receive(corrupted)
    except (MalformedEnvelope, BadSignature):
        return
    raise AssertionError(f"envelope with a corrupted {what!r} was accepted: {corrupted!r}")


def test_altered_signature_text_is_never_accepted() -> None:
    """Every one-character edit of ``sig`` (and a padded copy) must be refused.

    Exhaustive over positions x base64url alphabet, so this is deterministic.
    """
    env = make_envelope(
        {
            "message_id": "a" * 32,
            "sender": "washington",
            "recipient": "beijing",
            "seq": 7,
            "prev": GENESIS_DIGEST,
            "ts": "2026-01-31T12:00:00.000000Z",
            "precedence": Precedence.FLASH,
            "kind": MessageKind.TEXT,
            "body": {"text": "hold fire", "lang": "en"},
        }
    )
    wire = env.to_json()
    accepted: list[tuple[str, str]] = []
    for variant in _signature_text_variants(env.sig):
        try:
            got, _ = receive({**wire, "sig": variant})
        except (MalformedEnvelope, BadSignature):
            continue
        accepted.append((variant, got.digest))
    assert not accepted, (
        f"BUG (signature malleability): {len(accepted)} altered `sig` strings still verify, each giving the "
        f"same signed envelope a different digest, e.g. {accepted[0][0]!r} -> digest {accepted[0][1][:12]}… "
        f"(original {env.sig!r}, digest {env.digest[:12]}…). redline.crypto.keys.b64decode accepts "
        "non-canonical base64url (unused low bits of the last character, '=' padding, '+'/'/'), and "
        "the digest is taken over the text: anyone holding an envelope can mint a second validly signed "
        "envelope for the same seq, which a receiver records as an equivocation by the innocent sender."
    )


def _signature_text_variants(sig: str) -> list[str]:
    variants = [sig[:i] + c + sig[i + 1 :] for i in range(len(sig)) for c in B64URL if c != sig[i]]
    variants += [sig + "==", sig + "=", sig.replace("-", "+").replace("_", "/"), sig[:-1], sig + "A"]
    return [v for v in variants if v != sig]


# -- envelopes: strict parsing ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def wire() -> dict[str, Any]:
    env = make_envelope(
        {
            "message_id": "0123456789abcdef0123456789abcdef",
            "sender": "washington",
            "recipient": "beijing",
            "seq": 1,
            "prev": GENESIS_DIGEST,
            "ts": "2026-01-31T12:00:00.000000Z",
            "precedence": Precedence.ROUTINE,
            "kind": MessageKind.TEXT,
            "body": {"text": "radio check", "lang": "en"},
        }
    )
    return env.to_json()


def _names_field(message: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z_]){re.escape(name)}(?![A-Za-z_])", message) is not None


@pytest.mark.parametrize("name", sorted(ENVELOPE_KEYS))
def test_missing_field_is_malformed(wire: dict[str, Any], name: str) -> None:
    obj = {k: v for k, v in wire.items() if k != name}
    with pytest.raises(MalformedEnvelope) as info:
        parse_envelope(obj)
    assert _names_field(info.value.message, name), info.value.message


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=20).filter(lambda k: k not in ENVELOPE_KEYS), json_values)
def test_extra_field_is_malformed(extra: str, value: object) -> None:
    base = {k: 1 for k in ENVELOPE_KEYS}
    with pytest.raises(MalformedEnvelope) as info:
        parse_envelope({**base, extra: value})
    assert extra in info.value.message


WRONG_VALUES: list[tuple[str, object]] = [
    ("seq", True),
    ("seq", False),
    ("seq", -1),
    ("seq", 0),
    ("seq", 1.5),
    ("seq", 1.0),
    ("seq", "1"),
    ("seq", None),
    ("seq", [1]),
    ("seq", 2**53),
    ("v", True),
    ("v", 2),
    ("v", "1"),
    ("v", None),
    ("id", 5),
    ("id", "A" * 32),
    ("id", "a" * 31),
    ("id", None),
    ("from", ["washington"]),
    ("from", "Washington"),
    ("to", None),
    ("to", "b"),
    ("prev", 0),
    ("prev", "0" * 63),
    ("prev", "G" * 64),
    ("prev", "A" * 64),
    ("ts", ""),
    ("ts", 1_700_000_000),
    ("ts", "x" * 41),
    ("precedence", "flash"),
    ("precedence", None),
    ("precedence", ["FLASH"]),
    ("kind", "TEXT"),
    ("kind", 1),
    ("kind", ["text"]),
    ("kind", {"text": 1}),
    ("payload", ""),
    ("payload", 7),
    ("payload", "A" * 96_001),
    ("sig", ""),
    ("sig", {}),
    ("sig", "A" * 129),
]


@pytest.mark.parametrize(("name", "value"), WRONG_VALUES, ids=[f"{n}={v!r:.20}" for n, v in WRONG_VALUES])
def test_wrong_type_or_value_is_malformed_and_names_the_field(
    wire: dict[str, Any], name: str, value: object
) -> None:
    with pytest.raises(MalformedEnvelope) as info:
        parse_envelope({**wire, name: value})
    assert _names_field(info.value.message, name), info.value.message


@pytest.mark.parametrize("obj", [None, [], "envelope", 1, True, 1.5, [{"v": 1}]])
def test_non_object_is_malformed(obj: object) -> None:
    with pytest.raises(MalformedEnvelope, match="expected a JSON object"):
        parse_envelope(obj)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(ENVELOPE_KEYS)), json_values)
def test_any_json_in_any_field_is_parsed_or_malformed(name: str, value: object) -> None:
    """parse_envelope never fails with anything but MalformedEnvelope, whatever a peer sends."""
    obj = {**_WIRE_FOR_FUZZ, name: value}
    with contextlib.suppress(MalformedEnvelope):
        parse_envelope(obj)


_WIRE_FOR_FUZZ = make_envelope(
    {
        "message_id": "f" * 32,
        "sender": "washington",
        "recipient": "beijing",
        "seq": 3,
        "prev": "1" * 64,
        "ts": "2026-01-31T12:00:00.000000Z",
        "precedence": Precedence.IMMEDIATE,
        "kind": MessageKind.ACK,
        "body": {"ack_of": "e" * 32, "by": "duty.officer", "at": "2026-01-31T12:00:01.000000Z"},
    }
).to_json()


@pytest.mark.parametrize("name", ["ts", "payload", "sig", "prev", "id", "from"])
def test_lone_surrogates_are_refused_not_crashes(wire: dict[str, Any], name: str) -> None:
    """JSON can carry "\\ud800"; json.loads turns it into a lone surrogate that is not UTF-8."""
    raw = json.dumps({**wire, name: wire[name][:-1] + "\ud800"})
    obj = json.loads(raw)
    try:
        parse_envelope(obj)
    except MalformedEnvelope:
        return
    except Exception as exc:
        raise AssertionError(
            f"BUG: parse_envelope crashed with {type(exc).__module__}.{type(exc).__name__} ({exc}) on a "
            f"lone surrogate in {name!r}; a peer's JSON must be refused as MalformedEnvelope, not become "
            "an internal error. The digest (rfc8785) cannot encode it: reject non-UTF-8 strings in "
            "redline.wire.codec.field_str or turn rfc8785.CanonicalizationError into MalformedEnvelope."
        ) from exc
    raise AssertionError(f"envelope with a lone surrogate in {name!r} was accepted")


@pytest.mark.parametrize(
    ("name", "value"),
    [("id", "0123456789abcdef0123456789abcdef\n"), ("from", "washington\n"), ("to", "beijing\n")],
)
def test_identifiers_with_trailing_newline_are_malformed(name: str, value: str) -> None:
    """A sender may sign whatever it likes; the parser must still refuse ids that are not ids."""
    args = {
        "message_id": "0123456789abcdef0123456789abcdef",
        "sender": "washington",
        "recipient": "beijing",
        "seq": 1,
        "prev": GENESIS_DIGEST,
        "ts": "2026-01-31T12:00:00.000000Z",
        "precedence": Precedence.ROUTINE,
        "kind": MessageKind.TEXT,
        "body": {"text": "x", "lang": "en"},
    }
    args[{"id": "message_id", "from": "sender", "to": "recipient"}[name]] = value
    signed = make_envelope(args).to_json()
    try:
        env = parse_envelope(signed)
    except MalformedEnvelope:
        return
    raise AssertionError(
        f"BUG: parse_envelope accepted {name}={env.to_json()[name]!r}. redline.domain.names uses "
        "re.match with '$', which also matches before a trailing newline; use re.fullmatch (or '\\Z')."
    )


# -- envelopes: digest and canonical form ----------------------------------------------------------


@st.composite
def valid_changes(draw: st.DrawFn, wire: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A different but well-formed value for one field: the result still parses."""
    name = draw(st.sampled_from(sorted(ENVELOPE_KEYS - {"v"})))
    alternatives: dict[str, st.SearchStrategy[Any]] = {
        "id": message_ids,
        "from": station_ids,
        "to": station_ids,
        "seq": seqs,
        "prev": hex_digests,
        "ts": timestamps,
        "precedence": st.sampled_from([p.value for p in Precedence]),
        "kind": st.sampled_from([k.value for k in MessageKind]),
        "payload": st.text(B64URL, min_size=1, max_size=200),
        "sig": st.text(B64URL, min_size=1, max_size=128),
    }
    value = draw(alternatives[name].filter(lambda v: v != wire[name]))
    return name, {**wire, name: value}


@PROPERTY
@given(envelopes, st.data())
def test_digest_changes_when_any_field_changes(
    built: tuple[dict[str, Any], Envelope], data: st.DataObject
) -> None:
    _, env = built
    name, changed = data.draw(valid_changes(env.to_json()))
    assert parse_envelope(changed).digest != env.digest, f"digest does not cover {name!r}"


def _shuffled(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys in a random insertion order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


@PROPERTY
@given(json_values, st.randoms(use_true_random=False))
def test_canonical_ignores_key_order(value: Any, rng: random.Random) -> None:
    assert canonical(_shuffled(value, rng)) == canonical(value)
    # JCS writes numbers as ECMAScript does (6.3e16 as 63000000000000000): read them all as floats.
    assert json.loads(canonical(value), parse_int=float) == value


@PROPERTY
@given(envelopes, st.randoms(use_true_random=False))
def test_envelope_digest_ignores_key_order(
    built: tuple[dict[str, Any], Envelope], rng: random.Random
) -> None:
    _, env = built
    reordered = _shuffled(env.to_json(), rng)
    assert canonical(reordered) == env.encode()
    parsed = parse_envelope(reordered)
    assert parsed == env
    verify_envelope(parsed, SENDER_PUBLIC)


# -- envelopes: sealing ----------------------------------------------------------------------------


@PROPERTY
@given(envelopes)
def test_payload_sealed_to_one_station_cannot_be_opened_by_another(
    built: tuple[dict[str, Any], Envelope],
) -> None:
    _, env = built
    for wrong_key in (STRANGER.encryption, SENDER.encryption):
        with pytest.raises(MalformedEnvelope, match="cannot be opened"):
            open_payload(env, wrong_key)


@PROPERTY
@given(envelopes, st.data())
def test_payload_cannot_be_lifted_into_another_header(
    built: tuple[dict[str, Any], Envelope], data: st.DataObject
) -> None:
    """The HPKE info binds the payload to id, from, to, seq and kind (independently of the signature)."""
    _, env = built
    name = data.draw(st.sampled_from(["id", "sender", "recipient", "seq", "kind"]))
    value = data.draw(
        {
            "id": message_ids,
            "sender": station_ids,
            "recipient": station_ids,
            "seq": seqs,
            "kind": st.sampled_from(MessageKind),
        }[name].filter(lambda v: v != getattr(env, name))
    )
    lifted = dataclasses.replace(env, **{name: value})
    with pytest.raises(MalformedEnvelope):
        open_payload(lifted, RECIPIENT.encryption)


def test_payload_that_is_not_base64_is_malformed(wire: dict[str, Any]) -> None:
    env = dataclasses.replace(parse_envelope(wire), payload="not base64 at all!")
    with pytest.raises(MalformedEnvelope):
        open_payload(env, RECIPIENT.encryption)


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
    for variant in _signature_text_variants(receipt.sig):
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
    for variant in _signature_text_variants(card.sig):
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
