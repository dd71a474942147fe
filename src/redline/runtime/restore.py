"""``redline restore``: an archive of ``redline backup`` made a working station again, or nothing.

Order of work (docs/backup.md): check the whole archive (its trailer's SHA-256, the manifest,
every member's SHA-256) and the target (absent or an empty directory; for PostgreSQL an empty
database); unpack into a temporary directory beside the target; restore the database (SQLite: a
file in that directory; PostgreSQL: ``pg_restore`` in one transaction); open it as the station
does (migrating an older revision to this Redline's head); check the keys against the manifest's
public keys and every link's hash chains both ways; and only then rename the directory into
place. Any failure on the way removes the temporary directory and empties the database again.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from redline.crypto.keys import StationKeys, write_private_file
from redline.crypto.passphrase import WrongPassphrase, open_with_passphrase
from redline.domain.messages import Direction
from redline.errors import InputError, RedlineError
from redline.runtime.backup import (
    CERT_MEMBER,
    DB_MEMBERS,
    PRIVATE_KEY_FILES,
    SEALED_KEYS,
    BackupError,
    RestoreResult,
    _opened,
    _public,
    _tls_pair_matches,
)
from redline.services.queries.transcript import chain_status
from redline.services.station import CONFIG_FILE, KEY_DIR, load_identity
from redline.store import backup as db
from redline.store.station import Store

SQLITE_FILE = "redline.db"


def _check_target(data_dir: Path) -> None:
    if data_dir.is_symlink() or (data_dir.exists() and not data_dir.is_dir()):
        raise InputError(f"{data_dir} exists and is not a directory: restore into a new directory")
    if data_dir.is_dir() and any(data_dir.iterdir()):
        raise InputError(f"{data_dir} is not empty: restore into a new (or empty) directory")


def _keys_from_dir(source: Path) -> dict[str, bytes]:
    key_dir = source / KEY_DIR if (source / KEY_DIR).is_dir() else source
    try:
        return {name: (key_dir / name).read_bytes() for name in PRIVATE_KEY_FILES}
    except OSError as exc:
        raise InputError(f"--keys-from: cannot read {exc.filename}: {exc.strerror}") from None


async def restore_backup(
    archive: Path,
    data_dir: Path,
    *,
    database_url: str | None = None,
    keys_from: Path | None = None,
    passphrase: Callable[[], str] | None = None,
) -> RestoreResult:
    """Restore ``archive`` into the new station directory ``data_dir``.

    The private keys come from ``keys_from`` (a station directory or its ``keys/``) when given,
    else from the archive, opened with ``passphrase()`` (asked only then); an archive without
    keys and no ``keys_from`` is refused. ``database_url`` is the PostgreSQL database to restore
    into, required for a PostgreSQL backup and refused for an SQLite one; it must be empty.
    SQLite restores into ``DATA_DIR/redline.db``."""
    _check_target(data_dir)
    final = data_dir.resolve()
    final.parent.mkdir(parents=True, exist_ok=True)
    with _opened(archive) as (manifest, extract, check_signature):
        backend = manifest["backend"]
        known, head = db.known_revisions()
        if manifest["revision"] not in known:
            raise BackupError(
                f"the backup's database is at migration {manifest['revision']!r}, which this Redline "
                f"(head {head!r}) does not know: restore it with the Redline that made it, or a newer one"
            )
        if manifest["keys"] != "sealed" and keys_from is None:
            raise BackupError(
                f"{archive} holds no private keys (made without --with-keys): give --keys-from DIR, "
                f"the directory of station {manifest['station_id']!r} (or a copy of its keys/), "
                "or restore a backup made with --with-keys. Without its own keys a station cannot "
                "sign, open its peers' messages or prove itself to them: new keys would be a new "
                "station that every peer must pair with again"
            )
        url = _target_url(backend, database_url, final)
        work = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.restoring-"))
        restored_pg: set[str] | None = None
        try:
            os.chmod(work, 0o700)
            (work / KEY_DIR).mkdir(mode=0o700)
            database = work / (SQLITE_FILE if backend == db.SQLITE else "dump")
            for name, dest in ((CONFIG_FILE, work / CONFIG_FILE), (CERT_MEMBER, work / CERT_MEMBER)):
                extract(name, dest)
            extract(DB_MEMBERS[backend], database)
            if manifest["keys"] == "sealed" and keys_from is None:
                extract(SEALED_KEYS, work / SEALED_KEYS)
                assert passphrase is not None, "a sealed backup needs a passphrase"
                opened = json.loads(_open_keys((work / SEALED_KEYS).read_bytes(), passphrase))
                key_files = {name: str(opened[name]).encode("ascii") for name in PRIVATE_KEY_FILES}
                (work / SEALED_KEYS).unlink()
            else:
                assert keys_from is not None
                key_files = _keys_from_dir(keys_from)
            for name, data in key_files.items():
                write_private_file(work / KEY_DIR / name, data)
            check_signature(_check_keys(work, manifest).signing.public_key())
            settings = json.loads((work / CONFIG_FILE).read_text(encoding="utf-8"))
            settings["database_url"] = url
            write_private_file(work / CONFIG_FILE, (json.dumps(settings, indent=2) + "\n").encode("utf-8"))
            load_identity(work)  # the directory loads as `redline serve` loads it
            if backend == db.SQLITE:
                db.check_sqlite_snapshot(database)
                open_url = f"sqlite:///{database}"
            else:
                restored_pg = await db.postgres_extensions(url)  # refuses a database that is not empty
                db.restore_postgres(database, url)
                database.unlink()
                open_url = url
            revision, peers = await _verify(open_url)
            os.rename(work, final)  # atomic: the station appears whole, or not at all
        except BaseException as exc:
            shutil.rmtree(work, ignore_errors=True)
            if restored_pg is not None:
                try:
                    await db.drop_restored(url, restored_pg)
                except Exception as cleanup:
                    raise BackupError(
                        f"the restore failed ({exc}) and emptying the database again failed too "
                        f"({cleanup}): drop and re-create it before another restore"
                    ) from exc
            if isinstance(exc, RedlineError) and not isinstance(exc, InputError | BackupError):
                raise BackupError(f"{exc.message}: nothing restored") from None
            if isinstance(exc, OSError):  # the target filled up meanwhile, a full disk, ...
                raise BackupError(f"{exc}: nothing restored") from None
            raise
    _fsync_dir(final.parent)
    keys_source = "archive" if keys_from is None else str(keys_from)
    return RestoreResult(final, manifest["station_id"], url, revision, peers, keys_source)


def _open_keys(sealed: bytes, passphrase: Callable[[], str]) -> bytes:
    try:
        return open_with_passphrase(sealed, passphrase())
    except WrongPassphrase as exc:
        raise BackupError(f"{exc.message}: nothing restored") from None


def _target_url(backend: str, database_url: str | None, final: Path) -> str:
    if backend == db.SQLITE:
        if database_url is not None:
            raise InputError(
                "--database-url: this is an SQLite backup; it restores into DATA_DIR/redline.db "
                "(move the station to PostgreSQL with a fresh station, not a restore)"
            )
        return f"sqlite:///{final / SQLITE_FILE}"
    if database_url is None:
        raise InputError(
            "--database-url: a PostgreSQL backup restores into an empty database you name, e.g. "
            "--database-url postgresql://redline@db.example/redline_restored"
        )
    if db.backend_of(database_url) != db.POSTGRES:
        raise InputError("--database-url: a PostgreSQL backup restores into a PostgreSQL database")
    return database_url


def _check_keys(work: Path, manifest: dict[str, object]) -> StationKeys:
    try:
        keys = StationKeys.load(work / KEY_DIR)
    except RedlineError as exc:
        raise BackupError(f"the private keys are unusable: {exc.message}") from None
    if _public(keys) != manifest["public"] or not _tls_pair_matches(keys, (work / CERT_MEMBER).read_bytes()):
        raise BackupError(
            f"the private keys are not those of station {manifest['station_id']!r} "
            "(their public keys differ from the backup's): nothing restored"
        )
    return keys


async def _verify(url: str) -> tuple[str, dict[str, tuple[int, int]]]:
    """Open the restored database as the station would (migrating it to head) and check every
    link's hash chains; the revision it is at and each peer's chain lengths (ours, theirs)."""
    store = await Store.open(url)
    try:
        peers: dict[str, tuple[int, int]] = {}
        for peer in await store.peers():
            lengths = []
            for direction in (Direction.OUTBOUND, Direction.INBOUND):
                status = chain_status(direction, await store.chain(peer.station_id, direction))
                if status.fault is not None:
                    raise BackupError(
                        f"the restored {direction.value} chain with {peer.station_id!r} does not verify "
                        f"after seq {status.verified_to}: {status.fault}"
                    )
                lengths.append(status.verified_to)
            peers[peer.station_id] = (lengths[0], lengths[1])
        revision = await db.current_revision(store)
    finally:
        await store.close()
    return revision, peers


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
