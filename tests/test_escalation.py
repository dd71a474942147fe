"""A message left unacknowledged past its deadline is overdue on both sides and escalated once."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from redline.services.escalation import SCAN_SECONDS
from tests.support.console import ConsoleClient, create_account
from tests.support.stations import StationProcess, two_stations, wait_for

# Real stations with a real 2 s deadline; the same rules on a mock clock, faster and with more
# cases, are in tests/unit/test_inprocess_time.py. This one also checks the supervisors' console.
pytestmark = pytest.mark.slow

SHORT = {"FLASH": 2.0, "IMMEDIATE": 600.0, "PRIORITY": 3600.0, "ROUTINE": 86400.0}


def _shorten_deadlines(station: StationProcess) -> None:
    path = station.data_dir / "station.json"
    config = json.loads(path.read_text())
    config["ack_deadlines"] = SHORT
    path.write_text(json.dumps(config))


def _escalations(station: StationProcess) -> list[dict]:
    with station.client() as c:
        r = c.get("/alarms", params={"type": "escalations"})
    assert r.status_code == 200, r.text
    assert r.json()["next"] is None
    return list(r.json()["alarms"])


def test_overdue_flash_is_escalated_on_both_sides_and_ack_still_lands(tmp_path: Path):
    with two_stations(tmp_path, start=False) as (w, b):
        for station in (w, b):
            _shorten_deadlines(station)
        w.start()
        b.start()
        with w.client() as c:
            r = c.post("/messages", json={"to": "beijing", "precedence": "FLASH", "text": "Respond now."})
            routine = c.post("/messages", json={"to": "beijing", "precedence": "ROUTINE", "text": "Later."})
        assert r.status_code == 201 and routine.status_code == 201
        mid, routine_id = r.json()["id"], routine.json()["id"]

        def overdue(station: StationProcess) -> bool:
            with station.client() as c:
                return c.get(f"/messages/{mid}").json()["state"] == "overdue"

        wait_for(lambda: overdue(w) and overdue(b), timeout=20, what="overdue on both sides")
        for station, direction in ((w, "outbound"), (b, "inbound")):
            escalations = wait_for(
                lambda s=station: [e for e in _escalations(s) if e["id"] == mid],
                timeout=15,
                what=f"escalation at {station.station_id}",
            )
            assert len(escalations) == 1 and escalations[0]["direction"] == direction
            assert all(e["id"] != routine_id for e in _escalations(station))

        # The sender reminded the peer with a signed service message naming the message.
        def reminders() -> list[dict]:
            with b.client() as c:
                inbox = c.get("/messages", params={"box": "inbox"}).json()["messages"]
            return [
                m for m in inbox if m["kind"] == "service" and m["action"] == "remind" and mid in m["reason"]
            ]

        [reminder] = wait_for(reminders, timeout=20, what="a reminder at beijing")
        assert reminder["precedence"] == "FLASH" and reminder["by"] == "system"

        # Escalated once, not at every scan: let the escalator scan again (a scenario wait, not a sync).
        time.sleep(SCAN_SECONDS + 0.5)
        with w.client() as c:
            assert len([e for e in _escalations(w) if e["id"] == mid]) == 1

        # The supervisors on duty see it at the top of their console; an operator's console does not.
        with ConsoleClient(b).login(create_account(b, "zhao", "supervisor")) as supervisor:
            page = supervisor.get("/traffic").text
            assert 'class="escalations"' in page and f"/messages/{mid}" in page.split("</section>")[0]
        with ConsoleClient(b).login(create_account(b, "li")) as operator:
            assert 'class="escalations"' not in operator.get("/traffic").text

        # A late acknowledgement still lands and ends the overdue state on both sides.
        with b.client() as c:
            assert c.post(f"/messages/{mid}/ack").status_code == 201

        def acknowledged(station: StationProcess) -> bool:
            with station.client() as c:
                return c.get(f"/messages/{mid}").json()["state"] == "acknowledged"

        wait_for(lambda: acknowledged(w) and acknowledged(b), timeout=20, what="late acknowledgement")


def test_bad_deadline_configuration_is_refused_at_start(tmp_path: Path):
    with two_stations(tmp_path, start=False) as (w, _b):
        path = w.data_dir / "station.json"
        config = json.loads(path.read_text())
        config["ack_deadlines"] = {"FLASH": -1}
        path.write_text(json.dumps(config))
        with pytest.raises(RuntimeError, match="ack_deadlines"):
            w.start(timeout=10)
