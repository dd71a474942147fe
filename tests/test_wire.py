"""Property tests for what crosses a link: envelopes (receipts and contact cards are in
tests/test_wire_receipts_cards.py).

Keys are generated once per session, in tests/support/wire_strategies.py (Ed25519/X25519 are fast,
but there is no need to pay for them on every example). Every corruption test states the rule it
checks in its assertion message, so a failure reads as a finding.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import random
import re
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from redline.domain.messages import MessageKind, Precedence
from redline.errors import BadSignature, MalformedEnvelope
from redline.protocol import GENESIS_DIGEST
from redline.wire.codec import canonical
from redline.wire.envelope import (
    ENVELOPE_KEYS,
    MAX_PAYLOAD_CHARS,
    Envelope,
    build_envelope,
    open_payload,
    parse_envelope,
    verify_envelope,
)
from tests.support.wire_strategies import (
    B64URL,
    PER_CASE,
    PROPERTY,
    RECIPIENT,
    SENDER,
    SENDER_PUBLIC,
    STRANGER,
    hex_digests,
    json_values,
    likely_chars,
    message_ids,
    replace_char,
    seqs,
    signature_text_variants,
    station_ids,
    timestamps,
    unicode_text,
)

# -- strategies ------------------------------------------------------------------------------------

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


def fixed_args(**overrides: Any) -> dict[str, Any]:
    """build_envelope arguments for one plain, valid envelope: washington's seq 1 to beijing."""
    return {
        "message_id": "0123456789abcdef0123456789abcdef",
        "sender": "washington",
        "recipient": "beijing",
        "seq": 1,
        "prev": GENESIS_DIGEST,
        "ts": "2026-01-31T12:00:00.000000Z",
        "precedence": Precedence.ROUTINE,
        "kind": MessageKind.TEXT,
        **overrides,
    }


def make_envelope(args: dict[str, Any]) -> Envelope:
    return build_envelope(SENDER, RECIPIENT.encryption.public_key(), **args)


envelopes = envelope_args().map(lambda args: (args, make_envelope(args)))


def receive(obj: object) -> tuple[Envelope, dict[str, Any]]:
    """Everything the receiving station checks on one envelope, in its order."""
    env = parse_envelope(obj)  # MalformedEnvelope
    verify_envelope(env, SENDER_PUBLIC)  # BadSignature
    return env, open_payload(env, RECIPIENT.encryption)  # MalformedEnvelope


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
    for variant in signature_text_variants(env.sig):
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


# -- envelopes: strict parsing ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def wire() -> dict[str, Any]:
    return make_envelope(fixed_args(body={"text": "radio check", "lang": "en"})).to_json()


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
    ("payload", "A" * (MAX_PAYLOAD_CHARS + 1)),
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
    args = fixed_args(body={"text": "x", "lang": "en"})
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
