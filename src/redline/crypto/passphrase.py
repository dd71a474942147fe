"""Secrets sealed under a passphrase (a backup's private keys): scrypt, then AES-256-GCM.

The sealed form is one line of JSON naming the KDF and its parameters, the salt and the nonce,
then the ciphertext (with its 16-byte tag). The header line is the AEAD's associated data, so a
changed parameter is caught like a changed ciphertext byte. A wrong passphrase and an altered
blob both fail the tag check; neither can be told from the other, and neither yields a byte.
"""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from redline.crypto.keys import b64decode, b64encode
from redline.errors import InputError

MIN_PASSPHRASE = 12  # characters
FORMAT = "redline-sealed-1"
# scrypt at N=2^17, r=8, p=1: 128 MiB and about half a second per guess (OWASP's recommendation).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
_MAX_N = 2**20  # what a sealed blob may ask of the machine opening it


class WrongPassphrase(InputError):
    """The passphrase does not open the blob (or the blob was altered)."""

    code = "wrong_passphrase"


def check_passphrase(passphrase: str) -> str:
    if len(passphrase) < MIN_PASSPHRASE:
        raise InputError(
            f"passphrase: give one of {MIN_PASSPHRASE} characters or more (it protects the "
            "station's private keys wherever the backup is kept)"
        )
    return passphrase


def _key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def seal_with_passphrase(plaintext: bytes, passphrase: str) -> bytes:
    check_passphrase(passphrase)
    salt, nonce = os.urandom(16), os.urandom(12)
    header = {
        "format": FORMAT,
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": b64encode(salt)},
        "aead": {"name": "AES-256-GCM", "nonce": b64encode(nonce)},
    }
    line = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii") + b"\n"
    key = _key(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return line + AESGCM(key).encrypt(nonce, plaintext, line)


def open_with_passphrase(blob: bytes, passphrase: str) -> bytes:
    line, newline, ciphertext = blob.partition(b"\n")
    try:
        header: Any = json.loads(line) if newline else None
        kdf, aead = header["kdf"], header["aead"]
        n, r, p = kdf["n"], kdf["r"], kdf["p"]
        salt, nonce = b64decode(kdf["salt"], "salt"), b64decode(aead["nonce"], "nonce")
        if (
            header["format"] != FORMAT
            or kdf["name"] != "scrypt"
            or aead["name"] != "AES-256-GCM"
            or not all(isinstance(v, int) and v > 0 for v in (n, r, p))
            or n > _MAX_N
            or r * p > 64
            or len(nonce) != 12
        ):
            raise ValueError
    except (ValueError, TypeError, KeyError, InputError):
        raise InputError("the sealed keys are damaged: not a Redline passphrase-sealed blob") from None
    try:
        return AESGCM(_key(passphrase, salt, n, r, p)).decrypt(nonce, ciphertext, line + newline)
    except InvalidTag:
        raise WrongPassphrase("wrong passphrase (or the sealed keys were altered)") from None
