"""``redline backup`` and ``redline restore``: one archive file holding a station, and a restore
that is all or nothing (docs/backup.md).

The archive is a tar file (``tar tf`` lists it) followed by one trailer line,
``REDLINE-BACKUP-SHA256 <hex>``, the SHA-256 of every byte before it, so a changed byte anywhere
(tar headers and padding included) is caught before anything is restored. Its members:

- ``manifest.sig``: the station's Ed25519 signature over ``SIGNED_AS`` + ``manifest.json``,
  checked at restore with the restored signing key (hashes catch damage, this catches forgery);
- ``manifest.json``: format and version, station id and name, when it was made, the Redline
  version, the database backend and migration revision, the station's public keys, whether the
  private keys are inside, and the size and SHA-256 of every other member;
- ``station.json``: the station's settings (a password in the database URL is masked);
- ``keys/tls.crt``: its TLS certificate;
- ``database/redline.db`` (an SQLite snapshot) or ``database/redline.pgdump`` (``pg_dump
  --format=custom``);
- ``keys.sealed``, only with ``--with-keys``: the three private key files, sealed under a
  passphrase (``redline.crypto.passphrase``: scrypt and AES-256-GCM).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import make_url

from redline import __version__
from redline.crypto.keys import (
    ENCRYPTION_KEY_FILE,
    SIGNING_KEY_FILE,
    TLS_CERT_FILE,
    TLS_KEY_FILE,
    StationKeys,
    verify_signature,
)
from redline.crypto.passphrase import seal_with_passphrase
from redline.domain.clock import SYSTEM_CLOCK, format_ts
from redline.errors import BadSignature, InputError, RedlineError
from redline.services.station import CONFIG_FILE, KEY_DIR, load_identity
from redline.store import backup as db

FORMAT, VERSION = "redline-backup", 1
TRAILER_TAG = b"REDLINE-BACKUP-SHA256 "
TRAILER_SIZE = len(TRAILER_TAG) + 64 + 1
MANIFEST = "manifest.json"
MANIFEST_SIG = "manifest.sig"
SIGNED_AS = b"redline/backup-manifest/v1\n"  # what the station's Ed25519 key signs: this + manifest.json
SEALED_KEYS = "keys.sealed"
CERT_MEMBER = f"{KEY_DIR}/{TLS_CERT_FILE}"
DB_MEMBERS = {db.SQLITE: "database/redline.db", db.POSTGRES: "database/redline.pgdump"}
PRIVATE_KEY_FILES = (SIGNING_KEY_FILE, ENCRYPTION_KEY_FILE, TLS_KEY_FILE)
_CHUNK = 1 << 20


class BackupError(RedlineError):
    """A backup cannot be made, or an archive cannot be restored."""

    code = "backup"


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    station_id: str
    backend: str
    revision: str
    with_keys: bool
    size: int


@dataclass(frozen=True, slots=True)
class RestoreResult:
    data_dir: Path
    station_id: str
    database_url: str
    revision: str
    peers: dict[str, tuple[int, int]]  # peer -> (outbound chain length, inbound chain length)
    keys_from: str  # "archive" or the directory they were copied from


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _public(keys: StationKeys) -> dict[str, str]:
    return {"signing_key": keys.signing_public, "encryption_key": keys.encryption_public}


def _tls_pair_matches(keys: StationKeys, cert_pem: bytes) -> bool:
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    cert = x509.load_pem_x509_certificate(cert_pem)
    return cert.public_key().public_bytes(*raw) == keys.tls.public_key().public_bytes(*raw)


def _masked_url(url: str) -> str:
    parsed = make_url(url)
    return parsed.render_as_string(hide_password=True) if parsed.password else url


# -- backup -----------------------------------------------------------------------------------


async def make_backup(data_dir: Path, out: Path, passphrase: str | None) -> BackupResult:
    """Write the station at ``data_dir`` (running or not) to the archive ``out`` (which must not
    exist); its private keys too, sealed, when a ``passphrase`` is given."""
    me = load_identity(data_dir)
    if out.exists():
        raise InputError(f"{out} exists already: give a new file name (backups are never overwritten)")
    url = me.config.database_url
    backend = db.backend_of(url)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as work_dir:
        work = Path(work_dir)
        members: dict[str, Path] = {}
        settings = json.loads(me.files.config.read_text(encoding="utf-8"))
        settings["database_url"] = _masked_url(url)
        (work / CONFIG_FILE).write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
        members[CONFIG_FILE] = work / CONFIG_FILE
        members[CERT_MEMBER] = me.files.tls_cert
        snapshot = work / "database"
        if backend == db.SQLITE:
            revision = db.snapshot_sqlite(url, snapshot)
        else:
            revision = await db.postgres_revision(url)
            db.dump_postgres(url, snapshot)
        members[DB_MEMBERS[backend]] = snapshot
        if passphrase is not None:
            files = {name: (me.files.keys / name).read_text(encoding="ascii") for name in PRIVATE_KEY_FILES}
            sealed = seal_with_passphrase(json.dumps(files).encode("ascii"), passphrase)
            (work / SEALED_KEYS).write_bytes(sealed)
            members[SEALED_KEYS] = work / SEALED_KEYS
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "station_id": me.station_id,
            "name": me.config.name,
            "created_at": format_ts(SYSTEM_CLOCK.now()),
            "redline_version": __version__,
            "backend": backend,
            "revision": revision,
            "keys": "sealed" if passphrase is not None else "absent",
            "public": _public(me.keys),
            "members": {
                name: {"size": path.stat().st_size, "sha256": _sha256_file(path)}
                for name, path in members.items()
            },
        }
        partial = work / "archive"
        _write_archive(partial, manifest, members, me.keys.sign)
        os.replace(partial, out)  # whole or absent: never a half-written backup under its name
    return BackupResult(out, me.station_id, backend, revision, passphrase is not None, out.stat().st_size)


def _write_archive(
    path: Path, manifest: dict[str, Any], members: dict[str, Path], sign: Callable[[bytes], str]
) -> None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w+b") as f:
        with tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT) as tar:
            body = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
            tar.addfile(_entry(MANIFEST, len(body), time.time()), io.BytesIO(body))
            signature = (sign(SIGNED_AS + body) + "\n").encode("ascii")
            tar.addfile(_entry(MANIFEST_SIG, len(signature), time.time()), io.BytesIO(signature))
            for name, source in members.items():
                with source.open("rb") as data:
                    tar.addfile(_entry(name, source.stat().st_size, time.time()), data)
        f.flush()
        f.seek(0)
        digest = hashlib.sha256()
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
        f.write(TRAILER_TAG + digest.hexdigest().encode("ascii") + b"\n")
        f.flush()
        os.fsync(f.fileno())


def _entry(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(mtime)
    return info


# -- reading an archive -------------------------------------------------------------------------


def _damaged(archive: Path, why: str) -> BackupError:
    return BackupError(f"{archive} is not an intact Redline backup ({why}): nothing restored")


def _check_trailer(archive: Path) -> int:
    """The archive's whole-file SHA-256 holds; the length of the tar part."""
    try:
        size = archive.stat().st_size
        with archive.open("rb") as f:
            if size < TRAILER_SIZE:
                raise _damaged(archive, "too short")
            f.seek(size - TRAILER_SIZE)
            trailer = f.read()
            f.seek(0)
            digest, left = hashlib.sha256(), size - TRAILER_SIZE
            while left and (chunk := f.read(min(_CHUNK, left))):
                digest.update(chunk)
                left -= len(chunk)
    except OSError as exc:
        raise BackupError(f"cannot read {archive}: {exc.strerror}") from None
    expected = TRAILER_TAG + digest.hexdigest().encode("ascii") + b"\n"
    if not trailer.startswith(TRAILER_TAG):
        raise _damaged(archive, "no Redline backup trailer at its end")
    if trailer != expected:
        raise _damaged(archive, "its SHA-256 does not match: the file was changed or cut short")
    return size - TRAILER_SIZE


@contextmanager
def _opened(
    archive: Path,
) -> Iterator[tuple[dict[str, Any], Callable[[str, Path], None], Callable[[Ed25519PublicKey], None]]]:
    """The manifest, checked; a function extracting one member (its hash checked) to a file; and
    one checking the manifest's signature with the station's public signing key."""
    _check_trailer(archive)
    with archive.open("rb") as raw:
        try:
            # The tar part ends with its end-of-archive blocks: tarfile stops there, before the trailer.
            tar = tarfile.open(fileobj=raw, mode="r:")  # noqa: SIM115 (entered just below)
        except tarfile.TarError as exc:
            raise _damaged(archive, f"not a tar file: {exc}") from None
        with tar:
            entries = {m.name: m for m in tar.getmembers()}
            manifest, signed = _manifest(archive, tar, entries)
            signature = _read(tar, entries, MANIFEST_SIG).decode("ascii", "replace").strip()

            def check_signature(key: Ed25519PublicKey) -> None:
                try:
                    verify_signature(key, signature, SIGNED_AS + signed, "the backup's manifest")
                except BadSignature:
                    raise BackupError(
                        f"{archive}: the manifest is not signed by station {manifest['station_id']!r}'s "
                        "key: the archive was altered or made elsewhere; nothing restored"
                    ) from None

            def extract(name: str, dest: Path) -> None:
                source = tar.extractfile(entries[name])
                assert source is not None
                fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                digest = hashlib.sha256()
                with os.fdopen(fd, "wb") as out:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                if digest.hexdigest() != manifest["members"][name]["sha256"]:
                    raise _damaged(archive, f"{name} does not match its SHA-256 in the manifest")

            yield manifest, extract, check_signature


def _read(tar: tarfile.TarFile, entries: dict[str, tarfile.TarInfo], name: str) -> bytes:
    member = tar.extractfile(entries[name])
    return member.read() if member else b""


def _manifest(
    archive: Path, tar: tarfile.TarFile, entries: dict[str, tarfile.TarInfo]
) -> tuple[dict[str, Any], bytes]:
    if MANIFEST not in entries or MANIFEST_SIG not in entries:
        raise _damaged(archive, "no manifest.json and manifest.sig")
    body = _read(tar, entries, MANIFEST)
    try:
        manifest = json.loads(body)
        if manifest["format"] != FORMAT:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise _damaged(archive, "manifest.json is not a Redline backup manifest") from None
    if manifest["version"] != VERSION:
        raise BackupError(
            f"{archive} is a version {manifest['version']} backup; this Redline reads version {VERSION}"
        )
    listed = manifest["members"]
    backend = manifest.get("backend")
    needed = {CONFIG_FILE, CERT_MEMBER, DB_MEMBERS.get(backend, "?")}
    if manifest.get("keys") == "sealed":
        needed.add(SEALED_KEYS)
    if set(listed) != needed or set(entries) != needed | {MANIFEST, MANIFEST_SIG}:
        raise _damaged(archive, f"its members {sorted(entries)} are not the manifest's {sorted(needed)}")
    for name, info in entries.items():
        if not info.isfile() or (name in listed and info.size != listed[name]["size"]):
            raise _damaged(archive, f"{name} is not the file the manifest lists")
    return dict(manifest), body


def read_manifest(archive: Path) -> dict[str, Any]:
    """The archive's manifest, after checking the whole file's SHA-256."""
    with _opened(archive) as (manifest, _extract, _check_signature):
        return manifest
