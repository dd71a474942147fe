"""End-to-end sealing of payloads to the recipient station (HPKE, RFC 9180)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from redline.errors import MalformedEnvelope

SUITE_NAME = "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM"
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)


def seal(plaintext: bytes, recipient: X25519PublicKey, info: bytes) -> bytes:
    """Single-shot HPKE base mode; ``info`` binds the ciphertext to its envelope header."""
    return _SUITE.encrypt(plaintext, recipient, info=info)


def open_sealed(ciphertext: bytes, key: X25519PrivateKey, info: bytes) -> bytes:
    try:
        return _SUITE.decrypt(ciphertext, key, info=info)
    except Exception as exc:  # the binding raises InvalidTag or ValueError depending on the fault
        raise MalformedEnvelope(
            f"payload cannot be opened with this station's key ({type(exc).__name__}); "
            "it was sealed to another key or altered"
        ) from None
