"""Private keys sealed under a passphrase (``redline.crypto.passphrase``), as ``redline backup`` does."""

from __future__ import annotations

import json

import pytest

from redline.crypto.passphrase import WrongPassphrase, open_with_passphrase, seal_with_passphrase
from redline.errors import InputError

SECRET = (
    b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+not+a+real+key+at+all+just+bytes\n"
    b"-----END PRIVATE KEY-----\n"
)
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="module")
def sealed() -> bytes:
    return seal_with_passphrase(SECRET, PASSPHRASE)


def test_the_right_passphrase_opens_it(sealed: bytes) -> None:
    assert open_with_passphrase(sealed, PASSPHRASE) == SECRET
    assert SECRET not in sealed and b"not+a+real+key" not in sealed


def test_each_sealing_is_different() -> None:
    assert seal_with_passphrase(SECRET, PASSPHRASE) != seal_with_passphrase(SECRET, PASSPHRASE)


def test_a_wrong_passphrase_is_refused(sealed: bytes) -> None:
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        open_with_passphrase(sealed, PASSPHRASE + "!")


@pytest.mark.parametrize("at", [-1, -20, -40])
def test_a_changed_ciphertext_byte_is_refused(sealed: bytes, at: int) -> None:
    changed = bytearray(sealed)
    changed[at] ^= 0x01
    with pytest.raises(WrongPassphrase):
        open_with_passphrase(bytes(changed), PASSPHRASE)


def test_a_changed_header_is_refused(sealed: bytes) -> None:
    line, _, rest = sealed.partition(b"\n")
    header = json.loads(line)
    header["kdf"]["p"] = 2  # still valid parameters, but not those sealed with: the tag fails
    changed = json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n" + rest
    with pytest.raises(WrongPassphrase):
        open_with_passphrase(changed, PASSPHRASE)
    header["kdf"]["n"] = 2**30  # a blob may not ask for 1 TiB of memory
    greedy = json.dumps(header).encode() + b"\n" + rest
    with pytest.raises(InputError, match="damaged"):
        open_with_passphrase(greedy, PASSPHRASE)
    with pytest.raises(InputError, match="damaged"):
        open_with_passphrase(b"not sealed at all", PASSPHRASE)


@pytest.mark.parametrize("short", ["", "short", "eleven char"])
def test_a_short_passphrase_is_refused(short: str) -> None:
    with pytest.raises(InputError, match="12 characters"):
        seal_with_passphrase(SECRET, short)
