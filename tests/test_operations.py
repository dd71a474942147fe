"""Operating a station: ``GET /metrics``, ``GET /api/v1/ready`` and the log, on real stations.

Two ``redline serve`` subprocesses over real TLS: the figures a Prometheus scrape reads (parsed
with ``prometheus_client.parser``) are compared with the database read directly; readiness is
503, naming the database, while a PostgreSQL station's database connection is cut (a TCP
forwarder in front of the server, stopped), and 200 again once it is back; the JSON log names
the station and site on every line and never carries the token or password used.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from redline.domain.stations import Role
from tests.support.console import ConsoleClient, create_account
from tests.support.forwarder import TcpForwarder
from tests.support.stations import (
    StationProcess,
    add_operator,
    free_port,
    two_stations,
    wait_for,
)

pytestmark = pytest.mark.slow


def scrape(station: StationProcess, token: str) -> dict[str, list[Any]]:
    with station.client(token) as c:
        r = c.get(f"http://127.0.0.1:{station.api_port}/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    samples: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def db_message_counts(station: StationProcess) -> Counter[tuple[str, str, str, str]]:
    path = station.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT direction, kind, state, precedence, COUNT(*) FROM messages "
            "GROUP BY direction, kind, state, precedence"
        ).fetchall()
    return Counter({(d, k, s, p): n for d, k, s, p, n in rows})


def test_metrics_match_the_database_and_ready_is_200(tmp_path: Path) -> None:
    with two_stations(tmp_path, links_up=True) as (washington, beijing):
        auditor = add_operator(washington, "prom", Role.AUDITOR)
        beijing_auditor = add_operator(beijing, "prom", Role.AUDITOR)
        sent = []
        with washington.client() as c:
            for i, precedence in enumerate(["ROUTINE", "ROUTINE", "PRIORITY", "IMMEDIATE", "FLASH"]):
                r = c.post("/messages", json={"to": "beijing", "precedence": precedence, "text": f"m{i}"})
                assert r.status_code == 201, r.text
                sent.append(r.json()["id"])

        def delivered() -> bool:
            with washington.client() as c:
                states = [c.get(f"/messages/{i}").json()["state"] for i in sent]
            return all(s == "delivered" for s in states)

        wait_for(delivered, what="all five delivered")
        with beijing.client() as c:
            r = c.post(f"/messages/{sent[-1]}/ack")
            assert r.status_code == 201, r.text
        wait_for(
            lambda: db_message_counts(washington)[("outbound", "text", "acknowledged", "FLASH")] == 1,
            what="washington to record beijing's acknowledgement",
        )

        # Who may read it: not an operator, not without a token.
        with washington.client() as c:
            assert c.get(f"http://127.0.0.1:{washington.api_port}/metrics").status_code == 403
        assert httpx.get(f"http://127.0.0.1:{washington.api_port}/metrics").status_code == 401

        samples = scrape(washington, auditor)
        scraped = Counter(
            {
                (s.labels["direction"], s.labels["kind"], s.labels["state"], s.labels["precedence"]): int(
                    s.value
                )
                for s in samples["redline_messages"]
            }
        )
        assert scraped == db_message_counts(washington)
        assert scraped[("outbound", "text", "delivered", "ROUTINE")] == 2
        assert scraped[("outbound", "text", "acknowledged", "FLASH")] == 1

        depth = {s.labels["peer"]: s.value for s in samples["redline_queue_depth"]}
        assert depth == {"beijing": 0}
        states = {
            s.labels["state"]: s.value for s in samples["redline_link_state"] if s.labels["peer"] == "beijing"
        }
        assert states == {"unknown": 0, "up": 1, "degraded": 0, "down": 0}
        assert [s.value for s in samples["redline_conflicts_open"]] == [0]
        duties = {s.labels["duty"] for s in samples["redline_duty_owner"] if s.value == 1}
        assert {"outbox", "escalation", "deconfliction", "delivery:beijing", "link_tests:beijing"} <= duties
        site = {s.labels["site"] for s in samples["redline_duty_owner"]}
        assert len(site) == 1

        # Histograms observed as things happened: every text (and the start-up link test and the
        # ack's own envelope...) receipted; the start-up link test's round trip timed.
        receipts = {s.labels["peer"]: s.value for s in samples["redline_time_to_receipt_seconds_count"]}
        assert receipts["beijing"] >= len(sent)
        rtts = {s.labels["peer"]: s.value for s in samples["redline_link_test_rtt_seconds_count"]}
        assert rtts["beijing"] >= 1

        # beijing acknowledged one FLASH: its time to acknowledge has one observation.
        acks = scrape(beijing, beijing_auditor)["redline_time_to_ack_seconds_count"]
        assert {(s.labels["precedence"], s.labels["by"]): s.value for s in acks} == {("FLASH", "us"): 1}
        # ... and washington timed beijing's acknowledgement of its FLASH.
        acks = samples["redline_time_to_ack_seconds_count"]
        assert {(s.labels["precedence"], s.labels["by"]): s.value for s in acks} == {("FLASH", "peer"): 1}

        r = httpx.get(f"{washington.api_url}/ready")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "ready"
        assert {name: check["ok"] for name, check in body["checks"].items()} == {
            "database": True,
            "migrations": True,
            "conflict_index": True,
            "duties": True,
        }
        assert "delivery:beijing" in body["checks"]["duties"]["held"]


def test_ready_is_503_naming_the_database_while_it_is_unreachable(tmp_path: Path) -> None:
    with two_stations(tmp_path, "postgres", start=False) as (washington, beijing):
        # washington reaches PostgreSQL through a forwarder this test can cut.
        port = free_port()
        forwarder = TcpForwarder(port, 5432)
        forwarder.start()
        try:
            washington.configure(database_url=washington.database_url.replace(":5432/", f":{port}/"))
            washington.start()
            beijing.start()
            assert httpx.get(f"{washington.api_url}/ready").status_code == 200
            forwarder.stop()

            def not_ready() -> dict[str, Any] | None:
                r = httpx.get(f"{washington.api_url}/ready", timeout=15)
                return r.json() if r.status_code == 503 else None

            body = wait_for(not_ready, timeout=20, what="/ready to answer 503")
            assert body["status"] == "not ready"
            assert body["checks"]["database"]["ok"] is False
            assert "the database does not answer" in body["checks"]["database"]["detail"]
            assert body["checks"]["conflict_index"]["ok"] is True  # the rest still says what it is
            # alive, though not ready
            assert httpx.get(f"{washington.api_url}/health").status_code == 200

            forwarder = TcpForwarder(port, 5432)
            forwarder.start()
            wait_for(
                lambda: httpx.get(f"{washington.api_url}/ready", timeout=15).status_code == 200,
                timeout=30,
                what="/ready to answer 200 once the database is back",
            )
        finally:
            forwarder.stop()


def test_json_log_names_station_and_site_and_holds_no_secret(tmp_path: Path) -> None:
    settings = {"washington": {"log_format": "json", "site": "alpha"}}
    with two_stations(tmp_path, links_up=True, settings=settings) as (washington, _beijing):
        account = create_account(washington, "logwatch")
        with ConsoleClient(washington) as console:
            console.login(account)
            console.send_text("for the log")
        with ConsoleClient(washington) as stranger:
            bad = stranger.try_login(account.name, account.password + "-wrong")
            assert bad.status_code != 303
        with washington.client(account.token) as c:
            assert (
                c.post("/messages", json={"to": "beijing", "precedence": "ROUTINE", "text": "x"}).status_code
                == 201
            )
        with washington.client(account.token + "x") as c:
            assert c.get("/whoami").status_code == 401
        washington.stop()
        text = washington.log_path.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip()]
    events = [json.loads(line) for line in lines if line.startswith("{")]
    assert events, text[-2000:]
    # Once the station is open, every line is one JSON event naming it.
    first = next(
        i for i, line in enumerate(lines) if line.startswith("{") and '"station": "washington"' in line
    )
    for line in lines[first:]:
        event = json.loads(line)
        assert {"ts", "level", "event", "station", "site"} <= set(event), line
        assert (event["station"], event["site"]) == ("washington", "alpha"), line
    assert any("station washington: API" in e["event"] for e in events)
    for secret in (account.token, account.password, washington.token):
        assert secret not in text
