"""Two real stations on loopback: delivery, receipts, acknowledgements, states."""

from __future__ import annotations

from tests.support.stations import StationProcess, wait_for


def send(station: StationProcess, text: str, precedence: str = "ROUTINE", to: str = "beijing") -> str:
    with station.client() as c:
        r = c.post("/messages", json={"to": to, "precedence": precedence, "text": text, "lang": "en"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def get(station: StationProcess, message_id: str) -> dict:
    with station.client() as c:
        r = c.get(f"/messages/{message_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_message_is_delivered_receipted_and_acknowledged(station_pair):
    w, b = station_pair
    mid = send(w, "Unsafe intercept reported at 1402Z; request you keep 5 NM separation.", "FLASH")
    delivered = wait_for(lambda: get(w, mid)["state"] == "delivered" and get(w, mid), what="delivery")
    receipt = delivered["receipt"]
    assert receipt["by"] == "beijing" and receipt["signature_verified"] is True
    assert receipt["signed"]["entries"] == [[delivered["seq"], delivered["digest"]]]
    assert delivered["acknowledgement"] is None

    inbound = get(b, mid)
    assert inbound["direction"] == "inbound" and inbound["state"] == "delivered"
    assert inbound["text"].startswith("Unsafe intercept") and inbound["precedence"] == "FLASH"
    assert inbound["digest"] == delivered["digest"]

    with b.client() as c:
        r = c.post(f"/messages/{mid}/ack")
        assert r.status_code == 201, r.text
        assert c.post(f"/messages/{mid}/ack").status_code == 409  # once only
    assert get(b, mid)["state"] == "acknowledged"
    acked = wait_for(lambda: get(w, mid)["state"] == "acknowledged" and get(w, mid), what="acknowledgement")
    assert acked["acknowledgement"]["by"] == "beijing/duty"
    assert acked["acknowledgement"]["signature_verified"] is True


def test_many_messages_both_ways_arrive_in_order_and_chains_agree(station_pair):
    w, b = station_pair
    sent_w = [send(w, f"w{i}") for i in range(60)]
    sent_b = [send(b, f"b{i}", to="washington") for i in range(60)]

    def all_delivered(station: StationProcess, ids: list[str]) -> bool:
        with station.client() as c:
            rows = c.get("/messages", params={"box": "outbox", "limit": 1000}).json()["messages"]
        states = {m["id"]: m["state"] for m in rows}
        return all(states.get(i) == "delivered" for i in ids)

    wait_for(lambda: all_delivered(w, sent_w), what="washington's messages delivered")
    wait_for(lambda: all_delivered(b, sent_b), what="beijing's messages delivered")
    with b.client() as c:
        inbox = c.get("/messages", params={"box": "inbox", "limit": 1000}).json()["messages"]
    texts = [m["text"] for m in sorted(inbox, key=lambda m: m["seq"])]
    assert texts == [f"w{i}" for i in range(60)]
    with w.client() as cw, b.client() as cb:
        tw = cw.get("/transcript/beijing").json()
        tb = cb.get("/transcript/washington").json()
    assert tw["washington->beijing"] == tb["washington->beijing"]
    assert tw["beijing->washington"] == tb["beijing->washington"]
    chain = tw["washington->beijing"]
    # Link tests and their replies share the chain with the 60 texts.
    assert len(chain) >= 60 and [e["seq"] for e in chain] == list(range(1, len(chain) + 1))
    assert all(chain[i]["prev"] == chain[i - 1]["digest"] for i in range(1, len(chain)))
