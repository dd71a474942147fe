"""``redline backup`` / ``redline restore`` (docs/backup.md), on real stations and both databases.

The round trip: a live, paired washington and beijing exchange messages; washington is backed up
(with its keys, sealed) while it runs and keeps taking messages; it is stopped and restored into a
new directory (and, on PostgreSQL, a new database); the restored station starts with the same
identity, its chains verify and agree with beijing's, it holds at least what it held when the
backup began, and it exchanges new messages with beijing, whose chain checks accept them.

Refusals leave nothing behind: a changed byte anywhere in the archive, a wrong passphrase, a
non-empty target, a backup without keys (unless ``--keys-from``), and a station whose chains do
not verify (on PostgreSQL the database is emptied again).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from redline.crypto.keys import ENCRYPTION_KEY_FILE, SIGNING_KEY_FILE, TLS_KEY_FILE
from redline.runtime import backup
from redline.services.station import load_identity
from redline.store import backup as db
from tests.support.checker import api_get, check_chain, check_no_equivocation
from tests.support.links import send_ok, wait_for_receipts
from tests.support.stations import (
    StationProcess,
    create_pg_database,
    drop_pg_database,
    two_stations,
    wait_for,
    wait_until_links_up,
)

PASSPHRASE = "correct horse battery staple"
pytestmark = pytest.mark.slow


def redline(*args: str | Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """The ``redline`` command as an operator runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "redline", *map(str, args)], capture_output=True, text=True, timeout=300
    )
    if ok:
        assert done.returncode == 0, f"redline {args}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def refused(*args: str | Path) -> str:
    done = redline(*args, ok=False)
    assert done.returncode == 1, f"expected a refusal: {done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    return done.stderr


@contextlib.contextmanager
def target_database(backend: str, root: Path) -> Iterator[tuple[str | None, list[str]]]:
    """The restore's ``--database-url`` argument (PostgreSQL: a new empty database, dropped after)."""
    if backend == "sqlite":
        yield None, []
        return
    url = create_pg_database()
    try:
        yield url, ["--database-url", url]
    finally:
        drop_pg_database(url)


def user_tables(url: str) -> list[str]:
    async def go() -> list[str]:
        conn = await db._pg(url)
        try:
            return [r["relname"] for r in await conn.fetch(db._USER_RELATIONS)]
        finally:
            await conn.close()

    return asyncio.run(go())


def transcript(station: StationProcess, peer: str) -> dict[str, Any]:
    return dict(api_get(station, f"/transcript/{peer}"))


class Sender(threading.Thread):
    """Sends washington -> beijing messages until stopped; records each send's id and time."""

    def __init__(self, station: StationProcess) -> None:
        super().__init__(daemon=True)
        self.station, self.stopping = station, threading.Event()
        self.sent: list[tuple[float, str]] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                self.sent.append(
                    (time.monotonic(), send_ok(self.station, "beijing", f"online {len(self.sent)}"))
                )
        except BaseException as exc:
            self.error = exc

    def finish(self) -> None:
        self.stopping.set()
        self.join(30)
        assert self.error is None, f"sending during the backup failed: {self.error!r}"


def test_online_backup_restores_a_working_station(backend: str, tmp_path: Path) -> None:
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text(PASSPHRASE + "\n")
    archive = tmp_path / "washington.rlb"
    with two_stations(tmp_path, backend, links_up=True) as (w, b):
        before = [send_ok(w, "beijing", f"before {i}") for i in range(3)]
        answers = [send_ok(b, "washington", f"answer {i}") for i in range(2)]
        wait_for_receipts(w, before, "beijing")
        wait_for_receipts(b, answers, "washington")
        # Beijing goes away, so what washington takes from here stays in its outbox: the restored
        # washington then holds exactly what beijing has not yet seen of it (see docs/backup.md on
        # restoring a station whose peer received more than the backup holds).
        b.stop()
        sender = Sender(w)
        sender.start()
        wait_for(lambda: len(sender.sent) >= 3, 20, what="messages accepted before the backup")
        at_start = w.counts()["messages"]
        started = time.monotonic()
        redline("backup", "--data-dir", w.data_dir, "--out", archive, "--with-keys",
                "--passphrase-file", passphrase_file)  # fmt: skip
        ended = time.monotonic()
        wait_for(lambda: sender.sent[-1][0] > ended, 20, what="a message accepted after the backup")
        sender.finish()
        during = [m for t, m in sender.sent if started < t < ended]
        assert during, "the station took no message while the backup ran: it was not online"
        at_end = w.counts()["messages"]
        w.stop()

        key_bytes = [
            (w.data_dir / "keys" / f).read_bytes()
            for f in (SIGNING_KEY_FILE, ENCRYPTION_KEY_FILE, TLS_KEY_FILE)
        ]
        raw = archive.read_bytes()
        for key in key_bytes:
            body = b"".join(key.splitlines()[1:-1])  # the base64 body of the PEM
            assert key not in raw and body not in raw, "a private key is in the archive in plaintext"
        keys = load_identity(w.data_dir).keys
        for secret in (keys.signing, keys.encryption):  # the raw 32-byte keys, unencoded
            value = secret.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
            assert value not in raw, "a private key's raw bytes are in the archive"
        tls_der = keys.tls.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        assert tls_der not in raw
        assert archive.stat().st_mode & 0o077 == 0, "the archive is for its owner only"

        with target_database(backend, tmp_path) as (url, url_args):
            new_dir = tmp_path / "restored" / "washington"
            out = redline(
                "restore", archive, "--data-dir", new_dir, "--passphrase-file", passphrase_file, *url_args
            )
            assert "chains verify" in out.stdout, out.stdout
            me = load_identity(new_dir)
            old = load_identity(w.data_dir)
            assert me.station_id == "washington"
            assert me.card().signing_key == old.card().signing_key
            assert me.card().tls_fingerprint == old.card().tls_fingerprint
            restored_url = url or f"sqlite:///{new_dir.resolve()}/redline.db"
            assert me.config.database_url == restored_url
            w2 = StationProcess("washington", new_dir, restored_url, w.api_port, w.link_port, w.token)
            try:
                assert at_start <= w2.counts()["messages"] <= at_end
                b.start()
                w2.start()
                wait_until_links_up(w2, b)
                ours, theirs = transcript(w2, "beijing"), transcript(b, "washington")
                for direction in ("washington->beijing", "beijing->washington"):
                    check_chain(ours[direction], len(ours[direction]), f"restored {direction}")
                    assert ours[direction] == theirs[direction], f"{direction}: the two stations disagree"
                sent_before = len(ours["washington->beijing"])
                new = send_ok(w2, "beijing", "after the restore")
                reply = send_ok(b, "washington", "received after the restore")
                wait_for_receipts(w2, [new], "beijing")
                wait_for_receipts(b, [reply], "washington")
                assert api_get(w2, f"/messages/{new}")["seq"] == sent_before + 1
                check_no_equivocation(w2, b)
                ours, theirs = transcript(w2, "beijing"), transcript(b, "washington")
                assert ours == {**theirs, "link": ours["link"]}
            finally:
                w2.stop()


@pytest.fixture
def station(backend: str, tmp_path: Path) -> Iterator[StationProcess]:
    """washington, paired with beijing, not running (a backup works on a stopped station too)."""
    with two_stations(tmp_path, backend, start=False) as (w, _b):
        yield w


def test_refusals_leave_nothing_behind(station: StationProcess, backend: str, tmp_path: Path) -> None:
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text(PASSPHRASE + "\n")
    archive = tmp_path / "w.rlb"
    redline("backup", "--data-dir", station.data_dir, "--out", archive, "--with-keys",
            "--passphrase-file", passphrase_file)  # fmt: skip
    assert "exists" in refused("backup", "--data-dir", station.data_dir, "--out", archive)
    short = tmp_path / "short"
    short.write_text("too short\n")
    assert "12 characters" in refused("backup", "--data-dir", station.data_dir, "--out", tmp_path / "x.rlb",
                                      "--with-keys", "--passphrase-file", short)  # fmt: skip
    assert not (tmp_path / "x.rlb").exists()

    with target_database(backend, tmp_path) as (url, url_args):
        target = tmp_path / "new"
        wrong = tmp_path / "wrong"
        wrong.write_text("not the passphrase at all\n")
        assert "wrong passphrase" in refused(
            "restore", archive, "--data-dir", target, "--passphrase-file", wrong, *url_args
        )
        assert not target.exists()

        data = archive.read_bytes()
        positions = [
            100,
            len(data) // 2,
            len(data) - 200,
            len(data) - 5,
        ]  # a tar header, data, padding, trailer
        for at in positions:
            bad = tmp_path / f"bad-{at}.rlb"
            bad.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :])
            said = refused(
                "restore", bad, "--data-dir", target, "--passphrase-file", passphrase_file, *url_args
            )
            assert "not an intact Redline backup" in said, said
            assert not target.exists()

        forged = forge(archive, tmp_path / "forged", signer=load_identity(tmp_path / "beijing").keys.sign)
        said = refused(
            "restore", forged, "--data-dir", target, "--passphrase-file", passphrase_file, *url_args
        )
        assert "not signed by station 'washington'" in said, said
        assert not target.exists()
        if url:
            assert user_tables(url) == []

        target.mkdir()
        (target / "something").write_text("x")
        assert "not empty" in refused(
            "restore", archive, "--data-dir", target, "--passphrase-file", passphrase_file, *url_args
        )
        assert sorted(p.name for p in target.iterdir()) == ["something"]

        nokeys = tmp_path / "nokeys.rlb"
        redline("backup", "--data-dir", station.data_dir, "--out", nokeys)
        fresh = tmp_path / "fresh"
        assert "--keys-from" in refused("restore", nokeys, "--data-dir", fresh, *url_args)
        # beijing's keys are another station's
        said = refused("restore", nokeys, "--data-dir", fresh, "--keys-from", tmp_path / "beijing", *url_args)
        assert "not those of station 'washington'" in said, said
        assert not fresh.exists()
        if url:
            assert user_tables(url) == []
        redline("restore", nokeys, "--data-dir", fresh, "--keys-from", station.data_dir, *url_args)
        assert load_identity(fresh).card().signing_key == load_identity(station.data_dir).card().signing_key
        leftovers = [
            p.name for p in tmp_path.iterdir() if ".restoring-" in p.name or p.name.startswith(".w.rlb")
        ]
        assert leftovers == []


def forge(archive: Path, work: Path, signer: Callable[[bytes], str]) -> Path:
    """``archive`` with its station renamed, every hash and the trailer made to match, and the
    manifest signed by ``signer``: what someone without the station's key could make."""
    work.mkdir()
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        members = {}
        for name in manifest["members"]:
            members[name] = work / name.replace("/", "_")
            members[name].write_bytes(tar.extractfile(name).read())  # type: ignore[union-attr]
    settings = json.loads(members["station.json"].read_text())
    members["station.json"].write_text(json.dumps({**settings, "name": "Not Washington"}))
    for name, path in members.items():
        data = path.read_bytes()
        manifest["members"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    out = work / "forged.rlb"
    backup._write_archive(out, manifest, members, signer)
    return out


def test_a_station_whose_chains_do_not_verify_is_not_restored(backend: str, tmp_path: Path) -> None:
    archive = tmp_path / "broken.rlb"
    with two_stations(tmp_path, backend, links_up=True) as (w, _b):
        sent = [send_ok(w, "beijing", f"m {i}") for i in range(3)]
        wait_for_receipts(w, sent, "beijing")
        w.stop()
        _delete_outbound_seq(w.database_url, 2)  # a hole in washington's own chain
        redline("backup", "--data-dir", w.data_dir, "--out", archive)
        with target_database(backend, tmp_path) as (url, url_args):
            target = tmp_path / "restored"
            said = refused("restore", archive, "--data-dir", target, "--keys-from", w.data_dir, *url_args)
            assert "does not verify" in said and "seq 2 is missing" in said, said
            assert not target.exists()
            assert [p for p in tmp_path.iterdir() if ".restoring-" in p.name] == []
            if url:
                assert user_tables(url) == [], "the failed restore left tables in the database"


def _delete_outbound_seq(url: str, seq: int) -> None:
    from sqlalchemy import text

    from redline.store.station import Store

    async def go() -> None:
        store = await Store.open(url)
        try:
            async with store.write() as tx:
                await tx.conn.execute(
                    text("DELETE FROM messages WHERE direction = 'outbound' AND seq = :seq"), {"seq": seq}
                )
        finally:
            await store.close()

    asyncio.run(go())


def test_messages_the_peer_sent_after_the_backup_are_resent(backend: str, tmp_path: Path) -> None:
    """The restored station lacks what it received after the backup; the peer's next envelope meets
    a gap, and the peer resends from there (docs/backup.md, "After a restore")."""
    archive = tmp_path / "w.rlb"
    with two_stations(tmp_path, backend, links_up=True) as (w, b):
        early = send_ok(b, "washington", "before the backup")
        wait_for_receipts(b, [early], "washington")
        redline("backup", "--data-dir", w.data_dir, "--out", archive)
        late = [send_ok(b, "washington", f"after the backup {i}") for i in range(3)]
        wait_for_receipts(b, late, "washington")
        w.stop()
        with target_database(backend, tmp_path) as (url, url_args):
            new_dir = tmp_path / "restored"
            redline("restore", archive, "--data-dir", new_dir, "--keys-from", w.data_dir, *url_args)
            restored_url = url or f"sqlite:///{new_dir.resolve()}/redline.db"
            w2 = StationProcess("washington", new_dir, restored_url, w.api_port, w.link_port, w.token)
            try:
                assert w2.counts()["messages"] <= w.counts()["messages"] - len(late), "the backup has them"
                w2.start()  # beijing's next envelope (a link-test answer, or the nudge) meets the gap
                nudge = send_ok(b, "washington", "after the restore")
                wait_for_receipts(b, [nudge], "washington")

                def caught_up() -> bool:
                    ours = transcript(w2, "beijing")["beijing->washington"]
                    return ours == transcript(b, "washington")["beijing->washington"]

                wait_for(caught_up, 30, what="the restored station to hold all of beijing's messages")
                ours = transcript(w2, "beijing")["beijing->washington"]
                check_chain(ours, len(ours), "restored beijing->washington")
                for m in [*late, nudge]:
                    assert api_get(w2, f"/messages/{m}")["id"] == m
                check_no_equivocation(w2, b)
            finally:
                w2.stop()
