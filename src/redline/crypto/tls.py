"""Self-signed link certificates, their fingerprints, and pinned mutual-TLS contexts.

There is no certificate authority between sovereign parties: each station's
certificate is self-signed and reaches the peer inside its contact card,
whose fingerprint the administrators compare out of band. A TLS context
trusts exactly the certificates of verified peers and nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import ssl
from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from redline.errors import InputError

CERT_VALIDITY = dt.timedelta(days=3650)


def make_self_signed_certificate(station_id: str, key: ec.EllipticCurvePrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"redline-{station_id}")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + CERT_VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(f"{station_id}.redline"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def fingerprint_der(der: bytes) -> str:
    return "sha256:" + hashlib.sha256(der).hexdigest()


def _load_pem(pem: str | bytes) -> x509.Certificate:
    try:
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:  # UnicodeEncodeError included: PEM is ASCII
        raise InputError(f"tls_certificate: not a PEM X.509 certificate ({exc})") from None


def fingerprint_pem(pem: str | bytes) -> str:
    """SHA-256 over the certificate's DER encoding, as ``sha256:<hex>``."""
    return fingerprint_der(_load_pem(pem).public_bytes(serialization.Encoding.DER))


def valid_since(pem: str | bytes) -> dt.datetime:
    """The certificate's notBefore: a station's certificate is made with its keys, at ``init``
    (backdated a few minutes), so nothing it signed or was sealed to can be older."""
    return _load_pem(pem).not_valid_before_utc


def server_context(cert_file: str, key_file: str, peer_certificates: Iterable[str]) -> ssl.SSLContext:
    """Require a client certificate, trusting only the given (verified peers') certificates."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_cert_chain(cert_file, key_file)
    trust_peer_certificates(ctx, peer_certificates)
    return ctx


def trust_peer_certificates(ctx: ssl.SSLContext, peer_certificates: Iterable[str]) -> None:
    """Add certificates to a live context; new handshakes see them at once."""
    pems = "".join(peer_certificates)
    if pems:
        ctx.load_verify_locations(cadata=pems)


def client_context(cert_file: str, key_file: str, peer_certificate: str) -> ssl.SSLContext:
    """Present our certificate; accept only the peer's pinned one."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_cert_chain(cert_file, key_file)
    ctx.load_verify_locations(cadata=peer_certificate)
    return ctx
