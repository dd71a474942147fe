"""What tests/test_wire.py and tests/test_wire_receipts_cards.py share: station keys (generated once
per session), Hypothesis settings, strategies for values that cross a link, and edit helpers.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from redline.crypto.keys import StationKeys
from redline.crypto.tls import make_self_signed_certificate
from redline.domain.clock import format_ts

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
json_scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | unicode_text
json_values = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(unicode_text, inner, max_size=4),
    max_leaves=12,
)


def replace_char(draw: st.DrawFn, text: str, alphabet: st.SearchStrategy[str]) -> str:
    i = draw(st.integers(0, len(text) - 1))
    c = draw(alphabet.filter(lambda c: c != text[i]))
    return text[:i] + c + text[i + 1 :]


likely_chars = st.sampled_from(B64URL + "+/=.:\n ") | st.characters(exclude_categories=("Cs",))


def signature_text_variants(sig: str) -> list[str]:
    variants = [sig[:i] + c + sig[i + 1 :] for i in range(len(sig)) for c in B64URL if c != sig[i]]
    variants += [sig + "==", sig + "=", sig.replace("-", "+").replace("_", "/"), sig[:-1], sig + "A"]
    return [v for v in variants if v != sig]
