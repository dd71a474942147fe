"""``redline demo``: two stations on loopback, paired, verified, with operator tokens.

Each station runs as its own ``redline serve`` process, exactly as in
production; the demo only prepares their directories and watches them.
Re-running with the same ``--data-dir`` reuses the stations and tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from redline.crypto.keys import write_private_file
from redline.domain.stations import Role
from redline.runtime import init_station, stored
from redline.services import operators, pairing
from redline.services.accounts import AccountService
from redline.services.station import StationIdentity, load_identity
from redline.store.console import ConsoleStore
from redline.store.station import Store

STATIONS = (("washington", "Washington NMCC"), ("beijing", "Beijing Joint Staff"))
DEMO_OPERATOR = "duty"
DEMO_TEST_INTERVAL = 5.0  # seconds: link tests visibly flowing in the demo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

# What each console calls the other station, in both languages (`redline peer rename` changes it).
PEER_NAMES = {
    "washington": {"en": "Washington", "zh-Hans": "华盛顿"},
    "beijing": {"en": "Beijing", "zh-Hans": "北京"},
}


async def _prepare(base: Path) -> list[dict[str, Any]]:
    identities: list[StationIdentity] = []
    for station_id, name in STATIONS:
        directory = base / station_id
        if (directory / "station.json").exists():
            identities.append(load_identity(directory))
        else:
            identities.append(
                await init_station(
                    directory,
                    station_id,
                    name,
                    api_port=free_port(),
                    link_port=free_port(),
                    link_test_interval=DEMO_TEST_INTERVAL,
                )
            )
    infos = []
    for me, other in (identities, identities[::-1]):
        async with stored(me) as store:
            if await store.peer(other.station_id) is None:
                await pairing.add_peer(store, me, other.card(), display_names=PEER_NAMES[other.station_id])
            code = pairing.code_for(me, (await pairing.peer_or_fail(store, other.station_id)))
            await pairing.verify_peer(store, me, other.station_id, code)
            token_file = me.files.root / "demo-token"
            if token_file.exists():
                token = token_file.read_text().strip()
            else:
                token = await operators.add_operator(store, DEMO_OPERATOR, Role.OPERATOR)
                fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(token + "\n")
            logins = await _demo_logins(store, me.files.root, me.station_id)
        cfg = me.config
        infos.append(
            {
                "id": me.station_id,
                "name": cfg.name,
                "data_dir": str(me.files.root),
                "api_url": f"http://{cfg.api_host}:{cfg.api_port}/api/v1",
                "console_url": f"http://{cfg.api_host}:{cfg.api_port}/",
                "logins": logins,
                "link_url": cfg.endpoints[0],
                "operator": DEMO_OPERATOR,
                "token": token,
                "verification_code": code,
            }
        )
    return infos


# Console logins of the demo: (name, display name, role, password). Supervisors and admins also need
# a TOTP code. Every station has the shared ``duty`` operator (whose API token the demo prints) and
# its own officers by name: two duty officers, a watch supervisor and a translator (an operator:
# translators attach translations, a supervisor certifies them).
DEMO_LOGINS = (
    (DEMO_OPERATOR, "Duty desk", Role.OPERATOR, "duty-officer-demo"),
    ("watch", "Watch supervisor", Role.SUPERVISOR, "watch-supervisor-demo"),
    ("audit", "Auditor", Role.AUDITOR, "auditor-demo-pass"),
    ("admin", "Administrator", Role.ADMIN, "administrator-demo"),
)
DEMO_OFFICERS = {
    "washington": (
        ("hale", "Lt Col Rebecca Hale", Role.OPERATOR, "hale-duty-officer-demo"),
        ("ortiz", "Maj Daniel Ortiz", Role.OPERATOR, "ortiz-duty-officer-demo"),
        ("brooks", "Col James Brooks", Role.SUPERVISOR, "brooks-supervisor-demo"),
        ("chen", "Capt Grace Chen (translator)", Role.OPERATOR, "chen-translator-demo"),
    ),
    "beijing": (
        ("wang", "Senior Colonel Wang Lei", Role.OPERATOR, "wang-duty-officer-demo"),
        ("zhao", "Lt Col Zhao Min", Role.OPERATOR, "zhao-duty-officer-demo"),
        ("liu", "Maj Gen Liu Jun", Role.SUPERVISOR, "liu-supervisor-demo"),
        ("sun", "Capt Sun Yue (translator)", Role.OPERATOR, "sun-translator-demo"),
    ),
}


async def _demo_logins(store: Store, root: Path, station_id: str) -> list[dict[str, Any]]:
    """Create the demo's console accounts once; re-runs read them back from demo-logins.json."""
    saved = root / "demo-logins.json"
    if saved.exists():
        logins: list[dict[str, Any]] = json.loads(saved.read_text())
        return logins
    accounts = AccountService(ConsoleStore(store))
    logins = []
    for name, display_name, role, password in (*DEMO_LOGINS, *DEMO_OFFICERS.get(station_id, ())):
        if name != DEMO_OPERATOR:
            await operators.add_operator(store, name, role)
        await accounts.set_password(name, password, "demo")
        await accounts.set_display_name(name, display_name, "demo")
        login: dict[str, Any] = {
            "name": name,
            "display_name": display_name,
            "role": role.value,
            "password": password,
        }
        if role.needs_second_factor:
            uri = await accounts.enroll_totp(name, "demo")
            login["totp_secret"] = parse_qs(urlsplit(uri).query)["secret"][0]
        logins.append(login)
    fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(logins, f, indent=2)
    return logins


async def _wait_healthy(url: str, proc: asyncio.subprocess.Process, timeout: float = 30.0) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(int(timeout / 0.1)):
            if proc.returncode is not None:
                raise RuntimeError(f"station at {url} exited with code {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url + "/health")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"station at {url} did not become healthy in {timeout:.0f}s")


async def run_demo(data_dir: Path | None, info_file: str | None) -> int:
    base = data_dir or Path(tempfile.mkdtemp(prefix="redline-demo-"))
    infos = await _prepare(base)
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "redline", "serve", "--data-dir", info["data_dir"]
        )
        for info in infos
    ]
    try:
        for info, proc in zip(infos, procs, strict=True):
            await _wait_healthy(info["api_url"], proc)
        _announce(base, infos)
        if info_file:
            # Every token, password and TOTP secret of the demo: for its owner only.
            summary = {"data_dir": str(base), "stations": infos}
            write_private_file(Path(info_file), (json.dumps(summary, indent=2) + "\n").encode("utf-8"))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        waits = [asyncio.create_task(p.wait()) for p in procs]
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait([*waits, stopper], return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        crashed = [i["id"] for i, p in zip(infos, procs, strict=True) if p.returncode not in (None, 0)]
        if crashed:
            print(f"demo: station(s) {', '.join(crashed)} stopped unexpectedly", file=sys.stderr)
            return 1
        return 0
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                await asyncio.wait_for(proc.wait(), timeout=10)


def _announce(base: Path, infos: list[dict[str, Any]]) -> None:
    print(f"\nRedline demo: two stations paired and verified (data in {base})\n")
    for info in infos:
        print(f"  {info['id']:<11} API {info['api_url']}   link {info['link_url']}")
        print(f"  {'':<11} operator {info['operator']!r}  token {info['token']}")
        print(f"  {'':<11} console {info['console_url']}")
        for login in info["logins"]:
            second = f"  TOTP secret {login['totp_secret']}" if "totp_secret" in login else ""
            who = f"{login['name']!r} ({login.get('display_name', login['name'])}, {login['role']})"
            print(f"  {'':<13} log in as {who} password {login['password']!r}{second}")
    w, b = infos
    print("\nTry it:\n")
    print(f"  curl -s -H 'Authorization: Bearer {w['token']}' -H 'content-type: application/json' \\")
    print('       -d \'{"to":"beijing","precedence":"FLASH","text":"Hello Beijing","lang":"en"}\' \\')
    print(f"       {w['api_url']}/messages")
    print(f"  curl -s -H 'Authorization: Bearer {b['token']}' '{b['api_url']}/messages?box=inbox'")
    print(f"  curl -s -X POST -H 'Authorization: Bearer {b['token']}' {b['api_url']}/messages/ID/ack")
    print(f"  curl -s -H 'Authorization: Bearer {w['token']}' {w['api_url']}/messages/ID\n")
    print("Deconfliction: file overlapping notices from both sides, then open Deconfliction in a console:\n")
    for info, lon in ((w, 179.9), (b, -179.9)):
        example = {
            "activity": "air_operations",
            "volumes": [{"circle": {"centre": [lon, 20], "radius_m": 20000}}],
            "altitude": {
                "lower": {"value": 0, "unit": "M", "reference": "MSL"},
                "upper": {"value": 120, "unit": "FL", "reference": "STD"},
            },
            "window": {"start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z"},
        }
        print(f"  curl -s -H 'Authorization: Bearer {info['token']}' -H 'content-type: application/json' \\")
        print(f"       -d '{json.dumps(example, separators=(',', ':'))}' \\")
        print(f"       {info['api_url']}/notices")
    print(f"  curl -s -H 'Authorization: Bearer {w['token']}' {w['api_url']}/conflicts\n")
    print("Supervisors and admins also type the current code of their TOTP secret, e.g.")
    print("  .venv/bin/python -c 'import pyotp,sys; print(pyotp.TOTP(sys.argv[1]).now())' SECRET\n")
    print("Ctrl-C stops both stations.", flush=True)
