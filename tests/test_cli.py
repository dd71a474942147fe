"""The real ``redline`` command, run as a subprocess: init, cards, pairing, operators, help, demo."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509

from redline.crypto.keys import StationKeys
from redline.crypto.tls import fingerprint_pem, make_self_signed_certificate
from redline.domain.stations import Role
from redline.services.operators import hash_token
from redline.store.station import Store
from redline.wire.card import parse_card
from tests.support.stations import create_pg_database, drop_pg_database, free_port, wait_for

CODE = re.compile(r"\b(\d{5} \d{5} \d{5} \d{5})\b")
EMPTY = {"peers": 0, "operators": 0, "links": 0, "messages": 0, "receipts": 0, "equivocations": 0}


def redline(*args: str | Path, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDLINE_DATA_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "redline", *map(str, args)],
        cwd=cwd,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (
        f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    )
    return result


def fails(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Exit code 1 and one clear line on stderr naming the fault, no traceback."""
    assert result.returncode == 1, (
        f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("redline: error: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, f"{fragment!r} not in stderr {result.stderr!r}"
    return result.stderr


def init(tmp: Path, station: str, *extra: str) -> Path:
    data_dir = tmp / station
    ok(
        redline(
            "init", "--data-dir", data_dir, "--station", station, "--name", station.title(),
            "--api-port", str(free_port()), "--link-port", str(free_port()), *extra, cwd=tmp,
        )
    )  # fmt: skip
    return data_dir


def store_counts(database_url: str) -> dict[str, int]:
    async def go() -> dict[str, int]:
        store = await Store.open(database_url)
        try:
            return await store.counts()
        finally:
            await store.close()

    return asyncio.run(go())


def config(data_dir: Path) -> dict[str, Any]:
    return dict(json.loads((data_dir / "station.json").read_text()))


def code_in(text: str) -> str:
    found = CODE.findall(text)
    assert len(found) == 1, f"expected one verification code in {text!r}"
    return str(found[0])


def export_card(tmp: Path, data_dir: Path) -> Path:
    out = tmp / f"{data_dir.name}.card.json"
    ok(redline("card", "export", "--data-dir", data_dir, "--out", out, cwd=tmp))
    return out


# -- init ---------------------------------------------------------------------------------------------


# Files a station writes that hold nothing secret and may be readable by others.
PUBLIC_FILES = {"tls.crt"}


def assert_private(root: Path) -> list[str]:
    """Every file under ``root`` (but the public ones) is 0600 and every directory 0700 or
    tighter: the keys, the configuration (its database URL may hold a password), the SQLite file
    and its journals (password hashes, TOTP secrets, sessions), tokens. Returns what it checked."""
    checked = []
    for path in sorted(root.rglob("*")):
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_dir():
            assert mode & 0o077 == 0, f"{path} is a directory others can enter: {oct(mode)}"
        elif path.name not in PUBLIC_FILES:
            assert mode == 0o600, f"{path} is {oct(mode)}, not 0600"
            checked.append(path.name)
    return checked


def test_init_creates_a_station_and_refuses_to_run_twice(tmp_path):
    data_dir = tmp_path / "washington"
    api_port, link_port = free_port(), free_port()
    args = ["init", "--data-dir", data_dir, "--station", "washington", "--name", "Washington NMCC"]
    result = ok(redline(*args, "--api-port", str(api_port), "--link-port", str(link_port), cwd=tmp_path))
    assert "initialised station 'washington'" in result.stdout

    cfg = config(data_dir)
    assert cfg["station_id"] == "washington" and cfg["name"] == "Washington NMCC"
    assert cfg["api_port"] == api_port and cfg["link_port"] == link_port
    assert cfg["endpoints"] == [f"https://127.0.0.1:{link_port}"]
    assert cfg["database_url"].startswith("sqlite:///")
    database = Path(cfg["database_url"].removeprefix("sqlite:///"))
    assert database.is_file() and database.parent == data_dir.resolve()
    assert store_counts(cfg["database_url"]) == EMPTY

    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    keys = data_dir / "keys"
    for name in ("signing.key", "encryption.key", "tls.key"):
        assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600, name
        assert (keys / name).read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    pem = (keys / "tls.crt").read_bytes()
    cert = x509.load_pem_x509_certificate(pem)
    assert "redline-washington" in cert.subject.rfc4514_string()
    assert fingerprint_pem(pem) in result.stdout
    assert {"station.json", "redline.db", "signing.key"} <= set(assert_private(data_dir))

    # A second init in the same directory changes nothing.
    before = {p.name: p.read_bytes() for p in [data_dir / "station.json", *keys.iterdir()]}
    again = redline(*args, "--api-port", str(free_port()), cwd=tmp_path)
    fails(again, "already exists", str(data_dir / "station.json"))
    assert {p.name: p.read_bytes() for p in [data_dir / "station.json", *keys.iterdir()]} == before
    again = redline("init", "--data-dir", data_dir, "--station", "beijing", "--name", "Beijing", cwd=tmp_path)
    fails(again, "already exists")
    assert config(data_dir)["station_id"] == "washington"


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--station", "Washington!", "--name", "W"], ["'Washington!'", "not a station id"]),
        (["--station", "w", "--name", "W"], ["'w'", "not a station id"]),
        (["--station", "washington", "--name", "   "], ["name"]),
        (["--station", "washington", "--name", "W", "--api-port", "70000"], ["--api-port", "70000"]),
        (
            ["--station", "washington", "--name", "W", "--database", "mysql://db/x"],
            ["mysql", "not supported"],
        ),
        (["--station", "washington", "--name", "W", "--endpoint", "http://x:1/path"], ["endpoints", "https"]),
    ],
)
def test_init_refuses_bad_input_and_writes_nothing(tmp_path, extra, fragments):
    data_dir = tmp_path / "station"
    fails(redline("init", "--data-dir", data_dir, *extra, cwd=tmp_path), *fragments)
    assert not (data_dir / "station.json").exists()
    assert not (data_dir / "keys").exists()


@pytest.mark.postgres
def test_init_on_postgresql(tmp_path):
    url = create_pg_database()
    try:
        data_dir = init(tmp_path, "beijing", "--database", url)
        assert config(data_dir)["database_url"] == url
        assert not (data_dir / "redline.db").exists()
        assert store_counts(url) == EMPTY
        assert "no peers" in ok(redline("peer", "list", "--data-dir", data_dir, cwd=tmp_path)).stdout
        token = ok(redline("operator", "add", "duty", "--data-dir", data_dir, cwd=tmp_path)).stdout.strip()
        assert token.startswith("rl_")
        assert store_counts(url)["operators"] == 1
    finally:
        drop_pg_database(url)


# -- cards and pairing -------------------------------------------------------------------------------


def test_card_export_and_pairing_with_verification_codes(tmp_path):
    w, b = init(tmp_path, "washington"), init(tmp_path, "beijing")
    w_card, b_card = export_card(tmp_path, w), export_card(tmp_path, b)
    card = parse_card(json.loads(w_card.read_text()))
    assert card.station == "washington" and card.name == "Washington"
    assert card.tls_fingerprint == fingerprint_pem((w / "keys" / "tls.crt").read_text())
    assert card.endpoints == (config(w)["endpoints"][0],)
    # Without --out the card goes to standard output: beijing's, as exported to the file.
    stdout_card = parse_card(json.loads(ok(redline("card", "export", "--data-dir", b, cwd=tmp_path)).stdout))
    assert stdout_card.signing_key == json.loads(b_card.read_text())["signing_key"]

    added_at_w = ok(redline("peer", "add", b_card, "--data-dir", w, cwd=tmp_path)).stdout
    assert "added peer 'beijing'" in added_at_w and "NOT verified" in added_at_w
    added_at_b = ok(
        redline("peer", "add", "-", "--data-dir", b, cwd=tmp_path, stdin=w_card.read_text())
    ).stdout
    code = code_in(added_at_w)
    assert code_in(added_at_b) == code  # both administrators read the same code

    # A wrong code is refused and leaves the peer unverified.
    wrong = "12345 67890 12345 67890" if code != "12345 67890 12345 67890" else "00000 00000 00000 00000"
    result = redline("peer", "verify", "beijing", "--code", wrong, "--data-dir", w, cwd=tmp_path)
    fails(result, "does not match", "beijing")
    assert code_in(result.stdout) == code
    listed = ok(redline("peer", "list", "--data-dir", w, cwd=tmp_path)).stdout
    assert re.search(r"^beijing\s.*NOT verified", listed, re.MULTILINE), listed
    assert store_counts(config(w)["database_url"])["peers"] == 1

    # The right code verifies (spacing does not matter).
    result = ok(
        redline("peer", "verify", "beijing", "--code", code.replace(" ", ""), "--data-dir", w, cwd=tmp_path)
    )
    assert "peer 'beijing' verified" in result.stdout
    listed = ok(redline("peer", "list", "--data-dir", w, cwd=tmp_path)).stdout
    assert re.search(r"^beijing\s.*verified 20", listed, re.MULTILINE) and "NOT verified" not in listed

    result = ok(redline("peer", "verify", "washington", "--yes", "--data-dir", b, cwd=tmp_path))
    assert code_in(result.stdout) == code and "peer 'washington' verified" in result.stdout
    assert "NOT verified" not in ok(redline("peer", "list", "--data-dir", b, cwd=tmp_path)).stdout

    # A verified peer's card cannot be silently replaced by re-importing.
    fails(redline("peer", "add", b_card, "--data-dir", w, cwd=tmp_path), "beijing", "verified already")
    # Verifying an unknown peer names it.
    fails(redline("peer", "verify", "tokyo", "--yes", "--data-dir", w, cwd=tmp_path), "no peer 'tokyo'")


def test_peer_add_refuses_corrupted_cards(tmp_path):
    w, b = init(tmp_path, "washington"), init(tmp_path, "beijing")
    good = json.loads(export_card(tmp_path, b).read_text())
    other_keys = StationKeys.generate()
    other_cert = make_self_signed_certificate("beijing", other_keys.tls).decode()
    own = export_card(tmp_path, w)

    def variant(name: str, content: str | bytes) -> Path:
        path = tmp_path / f"bad-{name}.json"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    cases: list[tuple[Path | str, list[str]]] = [
        (variant("name", json.dumps({**good, "name": "Beijing (altered)"})), ["contact card", "altered"]),
        (
            variant("keys", json.dumps({**good, "signing_key": other_keys.signing_public})),
            ["signature", "altered"],
        ),
        (
            variant("cert", json.dumps({**good, "tls_certificate": other_cert})),
            ["tls_fingerprint does not match"],
        ),
        (variant("truncated", json.dumps(good)[:-40]), ["contact card", "not valid JSON"]),
        (variant("binary", b"\x89PNG\r\n\x1a\n\x00\x00"), ["contact card", "not valid JSON"]),
        (variant("missing", json.dumps({k: v for k, v in good.items() if k != "sig"})), ["missing sig"]),
        (variant("extra", json.dumps({**good, "comment": "hi"})), ["unexpected comment"]),
        (variant("station", json.dumps({**good, "station": "Beijing!"})), ["station", "not a station id"]),
        (tmp_path / "no-such-card.json", ["cannot read", "no-such-card.json"]),
        (own, ["washington", "this station itself"]),
    ]
    for path, fragments in cases:
        fails(redline("peer", "add", path, "--data-dir", w, cwd=tmp_path), *fragments)
    fails(redline("peer", "add", "-", "--data-dir", w, cwd=tmp_path, stdin="{not json"), "not valid JSON")

    assert "no peers" in ok(redline("peer", "list", "--data-dir", w, cwd=tmp_path)).stdout
    assert store_counts(config(w)["database_url"]) == EMPTY


# -- operators and help -------------------------------------------------------------------------------


def test_operator_add_prints_a_token_and_refuses_bad_roles(tmp_path):
    w = init(tmp_path, "washington")
    result = ok(redline("operator", "add", "alice", "--role", "operator", "--data-dir", w, cwd=tmp_path))
    token = result.stdout.strip()
    assert re.fullmatch(r"rl_[A-Za-z0-9_-]{40,}", token), result.stdout
    assert "alice" in result.stderr and token not in result.stderr
    supervisor = ok(redline("operator", "add", "bob", "--role", "supervisor", "--data-dir", w, cwd=tmp_path))
    assert supervisor.stdout.strip().startswith("rl_") and supervisor.stdout.strip() != token

    async def lookup() -> Any:
        store = await Store.open(config(w)["database_url"])
        try:
            return await store.operator_by_token_hash(hash_token(token))
        finally:
            await store.close()

    record = asyncio.run(lookup())
    assert record is not None and record.name == "alice" and record.role is Role.OPERATOR

    fails(
        redline("operator", "add", "carol", "--role", "pilot", "--data-dir", w, cwd=tmp_path),
        "role",
        "'pilot'",
    )
    fails(
        redline("operator", "add", "bad name", "--data-dir", w, cwd=tmp_path), "operator name", "'bad name'"
    )
    fails(redline("operator", "add", "alice", "--data-dir", w, cwd=tmp_path), "alice", "already exists")
    assert store_counts(config(w)["database_url"])["operators"] == 2
    # Without a station, a clear pointer to `redline init`.
    fails(redline("operator", "add", "dan", "--data-dir", tmp_path / "nowhere", cwd=tmp_path), "redline init")


def test_help_lists_every_command(tmp_path):
    top = ok(redline("--help", cwd=tmp_path)).stdout
    for command in ("init", "card", "peer", "operator", "serve", "demo"):
        assert re.search(rf"^\s+{command}\s", top, re.MULTILINE), f"{command} missing from:\n{top}"
    groups = {"card": ["export"], "peer": ["add", "list", "verify"], "operator": ["add"]}
    for group, actions in groups.items():
        text = ok(redline(group, "--help", cwd=tmp_path)).stdout
        for action in actions:
            assert re.search(rf"^\s+{action}\s", text, re.MULTILINE), (
                f"{group} {action} missing from:\n{text}"
            )
    assert ok(redline("--version", cwd=tmp_path)).stdout.startswith("redline ")
    unknown = redline("launch", cwd=tmp_path)
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr


# -- demo ---------------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


@pytest.mark.slow
def test_demo_runs_two_stations_that_talk_and_stops_on_sigint(tmp_path):
    info_file = tmp_path / "demo.json"
    log = (tmp_path / "demo.log").open("wb")
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "redline",
            "demo",
            "--data-dir",
            str(tmp_path / "demo"),
            "--info",
            str(info_file),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    children: list[int] = []
    try:

        def read_info() -> dict[str, Any] | None:
            assert demo.poll() is None, (tmp_path / "demo.log").read_text()
            try:
                return dict(json.loads(info_file.read_text()))
            except (OSError, ValueError):
                return None

        info = wait_for(read_info, timeout=60, interval=0.2, what="the demo's --info file")
        # It holds every token, password and TOTP secret of the demo.
        assert stat.S_IMODE(info_file.stat().st_mode) == 0o600
        stations = info["stations"]
        assert [s["id"] for s in stations] == ["washington", "beijing"]
        for s in stations:
            assert {"id", "api_url", "token", "link_url", "data_dir", "operator"} <= s.keys()
            assert s["token"].startswith("rl_") and s["api_url"].startswith("http://127.0.0.1:")
        assert stations[0]["verification_code"] == stations[1]["verification_code"]
        # Each station's officers by name: two duty officers, a supervisor, a translator.
        for s, officers in zip(
            stations, (("hale", "ortiz", "brooks", "chen"), ("wang", "zhao", "liu", "sun")), strict=True
        ):
            logins = {login["name"]: login for login in s["logins"]}
            assert set(officers) <= logins.keys(), logins.keys()
            assert all(logins[name]["display_name"] for name in officers)
            assert logins[officers[2]]["role"] == "supervisor" and "totp_secret" in logins[officers[2]]
        washington, beijing = stations
        children = _children(demo.pid)
        assert len(children) == 2, children

        def client(s: dict[str, Any]) -> httpx.Client:
            return httpx.Client(
                base_url=s["api_url"], timeout=10, headers={"Authorization": f"Bearer {s['token']}"}
            )

        text = "Demo: unsafe intercept reported at 1402Z."
        with client(washington) as c:
            r = c.post("/messages", json={"to": "beijing", "precedence": "FLASH", "text": text, "lang": "en"})
        assert r.status_code == 201, r.text
        mid = r.json()["id"]

        def arrived() -> dict[str, Any] | None:
            with client(beijing) as c:
                inbox = c.get("/messages", params={"box": "inbox"}).json()["messages"]
            return next((m for m in inbox if m["id"] == mid), None)

        message = wait_for(arrived, timeout=30, interval=0.1, what="the message in beijing's inbox")
        assert (
            message["text"] == text and message["peer"] == "washington" and message["precedence"] == "FLASH"
        )

        running = assert_private(tmp_path / "demo")  # the SQLite journals exist while stations run
        assert {"station.json", "redline.db-wal", "demo-token", "demo-logins.json"} <= set(running), running
        os.kill(demo.pid, signal.SIGINT)
        assert demo.wait(timeout=20) == 0, (tmp_path / "demo.log").read_text()
        assert_private(tmp_path / "demo")
        wait_for(lambda: not any(_alive(p) for p in children), timeout=10, what="both stations to exit")
        for s in stations:
            with pytest.raises(httpx.TransportError):
                httpx.get(f"{s['api_url']}/health", timeout=2)
    finally:
        for pid in [demo.pid, *children]:
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            demo.wait(timeout=10)
        with contextlib.suppress(AssertionError):  # cleaning up after a failure: report that one
            wait_for(lambda: not any(_alive(p) for p in children), timeout=10, what="the stations to exit")
