"""The NATS JetStream relay path: store-and-forward when no HTTPS path answers.

Uses the NATS server with JetStream that runs on these machines at
127.0.0.1:4222 (the Makefile's `services` target checks it is up).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from redline.services.station import load_identity
from redline.transport.relay import station_fingerprint
from tests.support.stations import Placement, StationProcess, free_port, two_stations, wait_for

RELAY = "nats://127.0.0.1:4222"
pytestmark = pytest.mark.slow


def _send(w: StationProcess, text: str) -> str:
    with w.client() as c:
        r = c.post("/messages", json={"to": "beijing", "precedence": "PRIORITY", "text": text})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _states(w: StationProcess, ids: list[str]) -> dict[str, str]:
    with w.client() as c:
        return {i: c.get(f"/messages/{i}").json()["state"] for i in ids}


@pytest.fixture
def relay_pair(tmp_path: Path) -> Iterator[tuple[StationProcess, StationProcess]]:
    """beijing's card: a dead HTTPS endpoint first, then the relay. washington: plain HTTPS."""
    beijing = Placement(endpoints=lambda _link: [f"https://127.0.0.1:{free_port()}", RELAY])
    with two_stations(tmp_path, start=False, placements={"beijing": beijing}) as pair:
        yield pair


def test_messages_travel_through_the_relay_when_https_fails(relay_pair):
    w, b = relay_pair
    w.start()
    b.start()
    ids = [_send(w, f"via relay {i}") for i in range(20)]
    wait_for(lambda: set(_states(w, ids).values()) == {"delivered"}, timeout=60, what="delivery via relay")
    with b.client() as c:
        inbox = c.get("/messages", params={"box": "inbox", "limit": 100}).json()["messages"]
    assert sorted(m["text"] for m in inbox) == sorted(f"via relay {i}" for i in range(20))
    with w.client() as c:
        paths = c.get("/links/beijing").json()["paths"]
    assert paths[0]["state"] == "down" and paths[1]["url"] == RELAY and paths[1]["state"] == "up"


def test_the_relay_stores_and_forwards_while_the_peer_is_away(relay_pair):
    w, b = relay_pair
    w.start()
    ids = [_send(w, f"stored {i}") for i in range(10)]
    wait_for(lambda: True, timeout=0.1)
    assert set(_states(w, ids).values()) <= {"queued", "sent"}
    b.start()  # takes what the relay stored, answers; washington records the receipts
    wait_for(lambda: set(_states(w, ids).values()) == {"delivered"}, timeout=60, what="store and forward")
    with b.client() as c, w.client() as cw:
        inbox = c.get("/messages", params={"box": "inbox", "limit": 100}).json()["messages"]
        assert len([m for m in inbox if m["text"].startswith("stored ")]) == 10  # exactly once
        assert c.get("/transcript/washington").json() == {
            **cw.get("/transcript/beijing").json(),
            "link": "beijing<->washington",
        }


def test_a_forged_batch_on_the_relay_is_refused_and_changes_nothing(relay_pair):
    """Anyone who can publish to the relay can only deliver what the peer signed."""
    _w, b = relay_pair
    b.start()
    before = b.counts()
    card = json.loads((b.data_dir / "station.json").read_text())
    assert RELAY in card["endpoints"]
    fp = station_fingerprint(load_identity(b.data_dir).keys.signing_public)
    forged = {
        "envelopes": [
            {
                "v": 1,
                "id": "a" * 32,
                "from": "washington",
                "to": "beijing",
                "seq": 1,
                "prev": "0" * 64,
                "ts": "2026-01-01T00:00:00.000000Z",
                "precedence": "FLASH",
                "kind": "text",
                "payload": "AAAA",
                "sig": "AAAA",
            }
        ]
    }

    async def publish() -> dict:
        nc = await nats.connect(RELAY)
        try:
            js = nc.jetstream()
            sub = await nc.subscribe("redline.v1.forger.answers")
            await js.publish(
                f"redline.v1.{fp}.in",
                json.dumps(forged).encode(),
                headers={
                    "Redline-From": "washington",
                    "Redline-Correlation": "c" * 32,
                    "Redline-Answer-To": "redline.v1.forger.answers",
                },
            )
            msg = await sub.next_msg(timeout=20)
            return dict(json.loads(msg.data))
        finally:
            await nc.close()

    answer = asyncio.run(publish())
    assert answer["error"]["code"] in ("bad_signature", "malformed"), answer
    assert b.counts() == before
