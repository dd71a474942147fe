"""``redline doctor`` on a real station pair, healthy and then with faults planted one at a time.

The stations run as ``redline serve`` subprocesses over real TLS; doctor runs as the real
command. Planted: a private key made 0644, a peer whose link port is closed (the peer stopped),
a database one migration behind (Alembic's own downgrade).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

import redline.store
from tests.support.stations import StationProcess, two_stations

pytestmark = pytest.mark.slow


def doctor(station: StationProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDLINE_DATA_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "redline", "doctor", "--data-dir", str(station.data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def lines(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """Each check's line, by the check's name (what comes before the first ": ")."""
    found = {}
    for line in result.stdout.splitlines():
        _status, rest = line.split(" ", 1)
        found[rest.strip().split(": ", 1)[0]] = line
    return found


def migrations() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(redline.store.__file__).parent / "migrations"))
    return cfg


def head_and_previous() -> tuple[str, str]:
    """The code's migration head and the one before it (whatever the latest migrations are)."""
    script = ScriptDirectory.from_config(migrations())
    head = script.get_current_head()
    assert head is not None
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str), previous
    return head, previous


def downgrade_one_step(database_url: str) -> None:
    cfg = migrations()
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "-1")
    finally:
        engine.dispose()


def test_doctor_passes_a_healthy_pair_and_finds_each_planted_fault(tmp_path: Path) -> None:
    with two_stations(tmp_path, links_up=True) as (washington, beijing):
        healthy = doctor(washington)
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        checks = lines(healthy)
        assert not [line for line in checks.values() if line.startswith("FAIL")], healthy.stdout
        assert checks["clock beijing"].startswith("OK   clock beijing: the peer's clock is"), healthy.stdout
        path = "path beijing https://127.0.0.1"
        assert [line for name, line in checks.items() if name.startswith(path)] == [
            f"OK   path beijing {beijing.link_url}: TCP and TLS"
        ]
        report: dict[str, Any] = json.loads(doctor(washington, "--json").stdout)
        assert report["ok"] is True and {c["status"] for c in report["checks"]} <= {"OK", "WARN"}

        # A private key others may read.
        key = washington.data_dir / "keys" / "signing.key"
        key.chmod(0o644)
        try:
            found = doctor(washington)
            assert found.returncode == 1
            assert (
                f"FAIL key signing.key: {key} is mode 0644: others may read this private key "
                f"-> chmod 600 {key}" in found.stdout
            ), found.stdout
        finally:
            key.chmod(0o600)
        assert doctor(washington).returncode == 0

        # The peer's path leads to a closed port.
        beijing.stop()
        found = doctor(washington, "--timeout", "2")
        assert found.returncode == 1
        line = lines(found)[f"path beijing {beijing.link_url}"]
        assert line.startswith(f"FAIL path beijing {beijing.link_url}: cannot connect"), found.stdout
        assert "check the peer is up" in line
        report = json.loads(doctor(washington, "--json", "--timeout", "2").stdout)
        assert report["ok"] is False
        assert [c["check"] for c in report["checks"] if c["status"] == "FAIL"] == [
            f"path beijing {beijing.link_url}"
        ]
        beijing.start()

        # A database one migration behind this code (doctor itself never migrates).
        washington.stop()
        downgrade_one_step(washington.database_url)
        for _ in range(2):
            found = doctor(washington)
            assert found.returncode == 1
            line = lines(found)["migrations"]
            head, previous = head_and_previous()
            assert line.startswith(f"FAIL migrations: the database is at {previous}, this code at {head}"), (
                found.stdout
            )
            assert "start `redline serve` once" in line
        washington.start()  # serve migrates it
        assert doctor(washington).returncode == 0
