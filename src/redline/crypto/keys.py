"""Station key material: generation, 0600 files, public encodings, signatures."""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from redline.errors import BadSignature, InputError, StationConfigError

SIGNING_KEY_FILE = "signing.key"
ENCRYPTION_KEY_FILE = "encryption.key"
TLS_KEY_FILE = "tls.key"
TLS_CERT_FILE = "tls.crt"


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64decode(text: object, field: str) -> bytes:
    """Strict unpadded base64url: exactly one text per byte string, so signatures and
    digests computed over the text cannot be varied without changing the bytes."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text):
        raise InputError(f"{field}: expected an unpadded base64url string")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise InputError(f"{field}: not valid base64url") from None
    if b64encode(raw) != text:
        raise InputError(f"{field}: not the canonical base64url encoding of its bytes")
    return raw


def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` atomically to ``path`` with mode 0600 from the first byte."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


@dataclass(frozen=True, slots=True)
class StationKeys:
    signing: Ed25519PrivateKey
    encryption: X25519PrivateKey
    tls: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> StationKeys:
        return cls(
            signing=Ed25519PrivateKey.generate(),
            encryption=X25519PrivateKey.generate(),
            tls=ec.generate_private_key(ec.SECP256R1()),
        )

    def save(self, key_dir: Path) -> None:
        key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        pkcs8 = serialization.PrivateFormat.PKCS8
        none = serialization.NoEncryption()
        pem = serialization.Encoding.PEM
        write_private_file(key_dir / SIGNING_KEY_FILE, self.signing.private_bytes(pem, pkcs8, none))
        write_private_file(key_dir / ENCRYPTION_KEY_FILE, self.encryption.private_bytes(pem, pkcs8, none))
        write_private_file(key_dir / TLS_KEY_FILE, self.tls.private_bytes(pem, pkcs8, none))

    @classmethod
    def load(cls, key_dir: Path) -> StationKeys:
        def read(name: str) -> object:
            path = key_dir / name
            try:
                return serialization.load_pem_private_key(path.read_bytes(), password=None)
            except FileNotFoundError:
                raise StationConfigError(f"key file {path} is missing; was `redline init` run?") from None
            except ValueError as exc:
                raise StationConfigError(f"key file {path} is not a PEM private key: {exc}") from None

        signing, encryption, tls = read(SIGNING_KEY_FILE), read(ENCRYPTION_KEY_FILE), read(TLS_KEY_FILE)
        if not isinstance(signing, Ed25519PrivateKey):
            raise StationConfigError(f"{key_dir / SIGNING_KEY_FILE} is not an Ed25519 key")
        if not isinstance(encryption, X25519PrivateKey):
            raise StationConfigError(f"{key_dir / ENCRYPTION_KEY_FILE} is not an X25519 key")
        if not isinstance(tls, ec.EllipticCurvePrivateKey):
            raise StationConfigError(f"{key_dir / TLS_KEY_FILE} is not an EC key")
        return cls(signing=signing, encryption=encryption, tls=tls)

    @property
    def signing_public(self) -> str:
        return public_signing_key_text(self.signing.public_key())

    @property
    def encryption_public(self) -> str:
        raw = self.encryption.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return b64encode(raw)

    def sign(self, data: bytes) -> str:
        return b64encode(self.signing.sign(data))


def public_signing_key_text(key: Ed25519PublicKey) -> str:
    return b64encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def parse_signing_key(text: object, field: str = "signing_key") -> Ed25519PublicKey:
    raw = b64decode(text, field)
    if len(raw) != 32:
        raise InputError(f"{field}: an Ed25519 public key is 32 bytes, got {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def parse_encryption_key(text: object, field: str = "encryption_key") -> X25519PublicKey:
    raw = b64decode(text, field)
    if len(raw) != 32:
        raise InputError(f"{field}: an X25519 public key is 32 bytes, got {len(raw)}")
    return X25519PublicKey.from_public_bytes(raw)


def verify_signature(key: Ed25519PublicKey, signature: object, data: bytes, what: str) -> None:
    try:
        sig = b64decode(signature, f"{what} signature")
    except InputError as exc:
        raise BadSignature(exc.message) from None
    try:
        key.verify(sig, data)
    except InvalidSignature:
        raise BadSignature(f"{what}: the Ed25519 signature does not match its content") from None
