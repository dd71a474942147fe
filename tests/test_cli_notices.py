"""``redline notice ...`` as a subprocess against two real stations (SQLite): file, list, conflicts,
amend, cancel, import and export through the operator API, and the errors an operator meets."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from redline.cli.main import main
from tests.support.stations import StationProcess, free_port, two_stations, wait_for

Result = subprocess.CompletedProcess[str]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("REDLINE_DATA_DIR", "REDLINE_TOKEN")}


def run_all(*calls: tuple[list[str], str | None], cwd: Path) -> list[Result]:
    """Several ``redline`` commands at once (each start-up costs a second), in order of the calls."""
    procs = [
        (
            subprocess.Popen(
                [sys.executable, "-m", "redline", *args],
                cwd=cwd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=_env(),
            ),
            stdin,
        )
        for args, stdin in calls
    ]
    results = []
    for proc, stdin in procs:
        out, err = proc.communicate(stdin or "", timeout=60)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def notice_cmd(
    station: StationProcess, *args: str | Path, stdin: str | None = None
) -> tuple[list[str], str | None]:
    base = ["notice", *map(str, args), "--data-dir", str(station.data_dir), "--token", station.token]
    return base, stdin


def in_process(args: list[str], stdin: str | None = None) -> Result:
    """``redline ARGS`` run by ``main()`` in this process: the same code without a second of start-up."""
    raw, err = io.BytesIO(), io.StringIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")
    fake_stdin = io.TextIOWrapper(io.BytesIO((stdin or "").encode("utf-8")), encoding="utf-8")
    with (
        mock.patch.dict(os.environ, clear=True, values=_env()),
        mock.patch.object(sys, "stdin", fake_stdin),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main(args)
    out.flush()
    return subprocess.CompletedProcess(args, code, raw.getvalue().decode("utf-8"), err.getvalue())


def each(*calls: tuple[list[str], str | None]) -> list[Result]:
    return [in_process(args, stdin) for args, stdin in calls]


def cli(station: StationProcess, *args: str | Path, stdin: str | None = None) -> Result:
    return in_process(*notice_cmd(station, *args, stdin=stdin))


def ok(result: Result) -> str:
    assert result.returncode == 0, (
        f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    )
    return result.stdout


def fails(result: Result, *fragments: str) -> str:
    """Exit 1 and one line on stderr naming the fault, no traceback."""
    assert result.returncode == 1, (
        f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("redline: error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, f"{fragment!r} not in {result.stderr!r}"
    return result.stderr


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def notice(centre: tuple[float, float], start: datetime, hours: float, text: str) -> dict[str, Any]:
    return {
        "activity": "air_operations",
        "volumes": [{"circle": {"centre": list(centre), "radius_m": 20000.0}}],
        "altitude": {
            "lower": {"value": 0, "unit": "M", "reference": "SFC"},
            "upper": {"value": 120, "unit": "FL", "reference": "STD"},
        },
        "window": {"start": iso(start), "end": iso(start + timedelta(hours=hours))},
        "buffers": {"horizontal_m": 1000, "vertical_m": 0, "time_s": 0},
        "text": text,
    }


def filed_id(stdout: str, verb: str = "filed") -> str:
    first = stdout.splitlines()[0].split()
    assert first[:2] == [verb, "notice"], stdout
    return first[2]


def api_get(station: StationProcess, path: str, **params: str) -> Any:
    with station.client() as c:
        r = c.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def open_pairs(station: StationProcess) -> set[tuple[str, str]]:
    return {(c["notice_a"], c["notice_b"]) for c in api_get(station, "/conflicts")["conflicts"]}


@pytest.mark.slow
def test_notice_commands_against_two_stations(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with two_stations(tmp_path, "sqlite", links_up=True) as (w, b):
        # Washington files from a file, Beijing an overlapping notice from standard input.
        first = tmp_path / "blue-falcon.json"
        first.write_text(json.dumps(notice((120.0, 25.0), now - timedelta(hours=1), 24, "BLUE FALCON")))
        filed = ok(cli(w, "file", first))
        w_id = filed_id(filed)
        assert "no conflicts" in filed
        wait_for(lambda: any(n["id"] == w_id for n in api_get(b, "/notices")["notices"]), what="notice at b")
        red = notice((120.3, 25.0), now - timedelta(hours=1), 24, "RED DRAGON")
        filed = ok(cli(b, "file", "-", stdin=json.dumps(red)))
        b_id = filed_id(filed)
        assert f"conflict with {w_id} (washington)" in filed and "volumes overlap" in filed, filed
        pair = tuple(sorted((w_id, b_id)))
        wait_for(lambda: open_pairs(w) == open_pairs(b) == {pair}, what="the conflict on both stations")

        # Both stations list the same pair; the in-force list and the whole list.
        late = notice((10.0, 50.0), now + timedelta(days=2), 2, "LATER")
        w_conf, b_conf = run_all(notice_cmd(w, "conflicts"), notice_cmd(b, "conflicts"), cwd=tmp_path)
        late_id = json.loads(ok(cli(w, "file", "-", "--json", stdin=json.dumps(late))))["notice"]["id"]
        lines = [ok(w_conf).splitlines(), ok(b_conf).splitlines()]
        assert lines[0] == lines[1] and len(lines[0]) == 1, lines
        line = lines[0][0]
        assert line.startswith(f"open  {pair[0]} (") and f"~ {pair[1]} (" in line, line
        assert "(washington)" in line and "(beijing)" in line and "0-3658 m" in line, line
        in_force, everything = each(notice_cmd(w, "list", "--in-force"), notice_cmd(w, "list"))
        table = ok(in_force).splitlines()
        assert table[0].split()[:4] == ["ID", "PARTY", "VER", "STATE"], table
        assert {row.split()[0] for row in table[1:-1]} == {w_id, b_id}, table
        assert table[-1].startswith("2 notice(s)") and "beijing 1, washington 1" in table[-1], table
        table = ok(everything).splitlines()
        assert {row.split()[0] for row in table[1:-1]} == {w_id, b_id, late_id}, table
        assert "beijing 1, washington 2" in table[-1], table

        # Beijing moves its notice away: the conflict closes on both sides.
        moved = tmp_path / "red-moved.json"
        moved.write_text(json.dumps(notice((125.0, 25.0), now - timedelta(hours=1), 24, "RED DRAGON")))
        amended = ok(cli(b, "amend", b_id, moved))
        assert amended.splitlines() == [f"amended notice {b_id} (version 2, amended)", "no conflicts"]
        wait_for(lambda: not open_pairs(w) and not open_pairs(b), what="the conflict closed on both")
        results = each(
            notice_cmd(w, "conflicts"),
            notice_cmd(b, "conflicts"),
            notice_cmd(w, "conflicts", "--state", "closed"),
            notice_cmd(b, "conflicts", "--state", "closed", "--json"),
        )
        assert ok(results[0]) == ok(results[1]) == "no open conflicts\n"
        assert ok(results[2]).startswith(f"closed  {pair[0]} ("), results[2].stdout
        closed = json.loads(ok(results[3]))["conflicts"]
        assert [(c["notice_a"], c["notice_b"], c["state"]) for c in closed] == [(*pair, "closed")]

        # Washington cancels its first notice; Beijing hears of it.
        cancelled = ok(cli(w, "cancel", w_id, "--reason", "exercise over"))
        assert cancelled == f"cancelled notice {w_id} (version 2)\n"
        wait_for(lambda: api_get(b, f"/notices/{w_id}")["state"] == "cancelled", what="the cancellation at b")

        # A NOTAM imported at Washington, exported as GeoJSON, imported at Beijing: the same volume.
        start = now + timedelta(days=3)
        notam = tmp_path / "firing.notam"
        notam.write_text(
            "A1234/26 NOTAMN\n"
            "Q) ZBPE/QWMLW/IV/BO/W/000/120/4000N11600E005\n"
            f"A) ZBPE B) {start:%y%m%d%H%M} C) {start + timedelta(hours=2):%y%m%d%H%M} EST\n"
            "E) LIVE FIRING. 2NM RADIUS CENTRED ON 483052N0092008E.\n"
            "F) SFC G) FL120\n"
        )
        result = cli(w, "import", "--format", "notam", notam)
        imported = ok(result).splitlines()
        assert imported[0] == "filed 1 notice(s) from notam" and len(imported) == 2, imported
        notam_id = imported[1]
        assert result.stderr == f"{notam_id}: areas from item E), 1 area(s)\n", result.stderr
        exported = tmp_path / "washington.geojson"
        ok(cli(w, "export", "--format", "geojson", "--party", "washington", "--out", exported))
        doc = json.loads(exported.read_text())
        assert {f["properties"]["id"] for f in doc["features"]} == {notam_id, late_id}, doc
        imported = ok(cli(b, "import", "--format", "geojson", exported)).splitlines()
        assert imported[0] == "filed 2 notice(s) from geojson", imported
        new_ids = set(imported[1:])
        at_b, notam_text = each(
            notice_cmd(b, "export", "--format", "geojson", "--party", "beijing"),
            notice_cmd(w, "export", "--format", "notam", "--party", "washington"),
        )
        again = json.loads(ok(at_b))
        mine = [f for f in again["features"] if f["properties"]["id"] in new_ids]

        def shape(f: dict[str, Any]) -> tuple[str, str, str]:
            p = f["properties"]
            return json.dumps(f["geometry"]), json.dumps(p["window"]), json.dumps(p["altitude"])

        assert sorted(map(shape, mine)) == sorted(map(shape, doc["features"]))
        assert "483052N0092008E" in ok(notam_text), notam_text.stdout

        # A navigational warning: one day's window, the area from its coordinates, said on stderr.
        warning = tmp_path / "navarea.txt"
        warning.write_text(
            f"NAVAREA XI 0042/{start:%y}\nSOUTH CHINA SEA.\n"
            f"1. GUNNERY EXERCISES 0100Z TO 0300Z {start:%d %b %y}\n"
            "IN AREA BOUNDED BY 18-30.00N 111-30.00E, 18-45.00N 112-00.00E, 18-00.00N 112-15.00E.\n"
        )
        result = cli(w, "import", "--format", "navwarn", warning)
        lines = ok(result).splitlines()
        assert lines[0] == "filed 1 notice(s) from navwarn" and len(lines) == 2, lines
        assert result.stderr == (
            f"{lines[1]}: areas from the warning text, 1 area(s); no heights given: surface to UNL (FL999)\n"
        ), result.stderr
        filed = api_get(w, f"/notices/{lines[1]}")
        assert filed["activity"] == "live_fire_exercise" and filed["title"] == f"NAVAREA XI 0042/{start:%y}"
        assert filed["window"]["start"] == f"{start:%Y-%m-%d}T01:00:00.000000Z"

        # What the API refuses comes back as one line.
        bad_token = notice_cmd(w, "list")
        bad_token[0][-1] = "not-a-token"
        results = each(
            bad_token,
            notice_cmd(w, "amend", b_id, moved),
            notice_cmd(w, "cancel", "no-such-notice"),
            notice_cmd(w, "cancel", w_id),
        )
        fails(results[0], "bearer token is not valid")
        fails(results[1], "belongs to beijing")
        fails(results[2], "no notice 'no-such-notice'")
        fails(results[3], "cancelled", "file a new one")

        # The station stopped: the CLI says so and names the URL it tried.
        w.stop()
        stopped = run_all(notice_cmd(w, "list"), cwd=tmp_path)[0]
        fails(stopped, "cannot connect", w.api_url, "redline serve")


def test_notice_errors_without_a_station(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"activity": ')
    nowhere = f"http://127.0.0.1:{free_port()}/api/v1"
    api = ["--api", nowhere]
    # The real command for the first three: exit status 1 and one line, no traceback.
    results = run_all(
        (["notice", "list", *api], None),
        (["notice", "file", str(bad), *api, "--token", "t"], None),
        (["notice", "list", *api, "--token", "t"], None),
        cwd=tmp_path,
    )
    results[3:] = each(
        (["notice", "file", "-", *api, "--token", "t"], "[1, 2"),
        (["notice", "amend", "abc", str(tmp_path / "missing.json"), *api, "--token", "t"], None),
        (["notice", "conflicts", "--data-dir", str(tmp_path / "none"), "--token", "t"], None),
        (["notice", "cancel", "a/b", *api, "--token", "t"], None),
    )
    fails(results[0], "no API token", "--token", "REDLINE_TOKEN")
    fails(results[1], f"{bad} is not valid JSON")
    fails(results[2], "cannot connect", nowhere, "redline serve")
    fails(results[3], "standard input is not valid JSON")
    fails(results[4], "cannot read", "missing.json")
    fails(results[5], "station.json not found", "--api")
    fails(results[6], "notice id 'a/b'")
