"""``redline doctor``: check a station directory and say what to fix, one line per check.

Each check ends ``OK``, ``WARN`` or ``FAIL`` with what it found and, when not OK, the remedy;
the exit status is 1 when anything FAILs. It reads the database without migrating it, and it
runs whether the station is running or not. docs/operations.md lists the checks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import ssl
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509

from redline.crypto.keys import ENCRYPTION_KEY_FILE, SIGNING_KEY_FILE, TLS_KEY_FILE
from redline.crypto.tls import client_context
from redline.domain.clock import parse_ts
from redline.domain.link_clock import ClockOffset
from redline.errors import RedlineError
from redline.runtime.opening import code_revisions, database_revisions, unmigrated_store
from redline.services.station import CONFIG_FILE, StationIdentity, load_identity

OK, WARN, FAIL = "OK", "WARN", "FAIL"
CERT_WARN_DAYS = 30
PRIVATE_KEYS = (SIGNING_KEY_FILE, ENCRYPTION_KEY_FILE, TLS_KEY_FILE)


@dataclass(frozen=True, slots=True)
class Check:
    check: str
    status: str
    detail: str
    remedy: str = ""

    def line(self) -> str:
        fix = f" -> {self.remedy}" if self.remedy else ""
        return f"{self.status:<4} {self.check}: {self.detail}{fix}"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def check_permissions(data_dir: Path) -> list[Check]:
    checks = []
    for name in PRIVATE_KEYS:
        path = data_dir / "keys" / name
        if not path.exists():
            checks.append(Check(f"key {name}", FAIL, f"{path} is missing", "restore it from a backup"))
            continue
        mode = _mode(path)
        if mode & 0o077:
            checks.append(
                Check(
                    f"key {name}",
                    FAIL,
                    f"{path} is mode {mode:04o}: others may read this private key",
                    f"chmod 600 {path} (and consider the key exposed)",
                )
            )
        else:
            checks.append(Check(f"key {name}", OK, f"mode {mode:04o}"))
    for path, what in ((data_dir, "data directory"), (data_dir / CONFIG_FILE, CONFIG_FILE)):
        if not path.exists():
            continue
        mode = _mode(path)
        if mode & 0o007:
            checks.append(
                Check(what, FAIL, f"{path} is mode {mode:04o}: readable by everyone", f"chmod o-rwx {path}")
            )
        elif mode & 0o070:
            checks.append(
                Check(what, WARN, f"{path} is mode {mode:04o}: readable by its group", f"chmod g-rwx {path}")
            )
        else:
            checks.append(Check(what, OK, f"mode {mode:04o}"))
    return checks


def check_certificate(me: StationIdentity, now: dt.datetime) -> Check:
    cert = x509.load_pem_x509_certificate(me.tls_certificate.encode("ascii"))
    ends = cert.not_valid_after_utc
    left = ends - now
    renew = "make a new TLS key and certificate, send the peers the new card and have them verify it"
    if left <= dt.timedelta(0):
        return Check("certificate", FAIL, f"the TLS certificate expired at {ends:%Y-%m-%d %H:%M}Z", renew)
    if left < dt.timedelta(days=CERT_WARN_DAYS):
        return Check(
            "certificate", WARN, f"the TLS certificate expires in {left.days} days ({ends:%Y-%m-%d})", renew
        )
    return Check("certificate", OK, f"valid until {ends:%Y-%m-%d} ({left.days} days)")


async def check_database(me: StationIdentity) -> tuple[list[Check], bool]:
    """The database answers and is at this code's migration; whether it can be read further."""
    try:
        async with asyncio.timeout(10):
            at = await database_revisions(me)
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        remedy = "start the database server, or correct database_url in station.json"
        return [Check("database", FAIL, f"cannot reach the database: {detail}", remedy)], False
    code = code_revisions()
    checks = [Check("database", OK, "answers")]
    if at == code:
        checks.append(Check("migrations", OK, f"at {', '.join(sorted(at))}"))
        return checks, True
    remedy = "back up the database, then start `redline serve` once: it migrates to this code's revision"
    if not at:
        remedy = "this is not a station's database, or it was never set up: check database_url"
    checks.append(
        Check(
            "migrations",
            FAIL,
            f"the database is at {', '.join(sorted(at)) or 'no revision'}, "
            f"this code at {', '.join(sorted(code))}",
            remedy,
        )
    )
    return checks, False


async def check_peers(me: StationIdentity, timeout: float) -> list[Check]:
    checks = []
    async with unmigrated_store(me) as store:
        peers = [p for p in await store.peers() if p.verified]
        readings = await store.clock_readings()
    if not peers:
        return [
            Check("peers", WARN, "no verified peer", "pair with a peer: `redline peer add` and `peer verify`")
        ]
    window, alarm = me.config.clock_window_seconds, me.config.clock_alarm_seconds
    for peer in peers:
        name = f"clock {peer.station_id}"
        reading = readings.get(peer.station_id)
        if reading is None:
            checks.append(
                Check(name, WARN, "no link test answered yet", "send one: POST /api/v1/links/PEER/test")
            )
        else:
            sent, reply_ts, arrived = reading
            offset = ClockOffset.measure(
                parse_ts(sent, "ts"), parse_ts(reply_ts, "ts"), parse_ts(arrived, "at")
            )
            text = f"{offset.describe()} (measured {offset.measured_at})"
            fix = "check NTP on both stations"
            if offset.beyond(window):
                checks.append(Check(name, FAIL, f"{text}: beyond the {window:g} s window", fix))
            elif offset.beyond(alarm):
                checks.append(Check(name, WARN, f"{text}: above the {alarm:g} s alarm", fix))
            else:
                checks.append(Check(name, OK, text))
        for url in peer.endpoints:
            checks.append(await check_path(me, peer.station_id, peer.tls_certificate, url, timeout))
    return checks


async def check_path(me: StationIdentity, peer_id: str, peer_cert: str, url: str, timeout: float) -> Check:
    name = f"path {peer_id} {url}"
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 4222)
    tls: ssl.SSLContext | None = None
    if parts.scheme == "https":
        tls = client_context(str(me.files.tls_cert), str(me.files.tls_key), peer_cert)
    try:
        async with asyncio.timeout(timeout):
            _reader, writer = await asyncio.open_connection(host, port, ssl=tls)
        writer.close()
        with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
            await asyncio.wait_for(writer.wait_closed(), 1)
    except TimeoutError:
        return Check(
            name, FAIL, f"no answer within {timeout:g} s", "check the peer is up and the network path"
        )
    except ssl.SSLError as exc:
        return Check(
            name,
            FAIL,
            f"TLS failed: {exc.reason or exc}",
            "check the peer's certificate matches its verified card",
        )
    except OSError as exc:
        return Check(
            name, FAIL, f"cannot connect: {exc.strerror or exc}", "check the peer is up and the network path"
        )
    return Check(name, OK, "TCP and TLS" if tls else "TCP")


async def diagnose(data_dir: Path, timeout: float) -> list[Check]:
    checks: list[Check] = []
    try:
        me = load_identity(data_dir)
    except RedlineError as exc:
        checks.append(
            Check("config", FAIL, exc.message, "fix station.json or the keys, or run `redline init`")
        )
        return checks + check_permissions(data_dir)
    checks.append(Check("config", OK, f"station {me.config.station_id} at {data_dir}"))
    checks += check_permissions(data_dir)
    checks.append(check_certificate(me, dt.datetime.now(dt.UTC)))
    found, readable = await check_database(me)
    checks += found
    if readable:
        checks += await check_peers(me, timeout)
    return checks


async def cmd_doctor(args: argparse.Namespace, data_dir: Path) -> int:
    checks = await diagnose(data_dir, args.timeout)
    failed = any(c.status == FAIL for c in checks)
    if args.json:
        print(json.dumps({"ok": not failed, "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        for check in checks:
            print(check.line())
    return 1 if failed else 0
