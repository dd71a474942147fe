"""The Merkle log of each direction, live: two `redline serve` stations over real TLS, on SQLite and
on PostgreSQL. Messages go both ways; each station's API gives inclusion proofs that the pure
verifier (redline.domain.merkle) checks against the tree head each station reports, and the two
stations report the same root for the same log and size: Washington's outbound log to Beijing is
Beijing's inbound log from Washington."""

from __future__ import annotations

from typing import Any

import httpx

from redline.domain.merkle import digest_leaf, leaf_hash, verify_consistency, verify_inclusion
from redline.domain.stations import Role
from tests.support.stations import StationProcess, add_operator, wait_for


def get(client: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    r = client.get(path, params=params)
    assert r.status_code == 200, (path, params, r.status_code, r.text)
    return dict(r.json())


def send(station: StationProcess, to: str, text: str) -> str:
    with station.client() as c:
        r = c.post("/messages", json={"to": to, "precedence": "ROUTINE", "text": text})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def head(station: StationProcess, peer: str, direction: str, **params: Any) -> dict[str, Any]:
    with station.client() as c:
        return get(c, f"/links/{peer}/log", direction=direction, **params)


def check_proof(proof: dict[str, Any], reported_root: str) -> None:
    """The pure verifier accepts the proof against ``reported_root``, and refuses it for another
    leaf, another index and another root."""
    path = [bytes.fromhex(p) for p in proof["audit_path"]]
    hashed = bytes.fromhex(proof["leaf_hash"])
    root = bytes.fromhex(reported_root)
    index, size = proof["leaf_index"], proof["tree_size"]
    assert hashed == leaf_hash(digest_leaf(proof["digest"]))
    assert index == proof["seq"] - 1
    assert verify_inclusion(index, size, hashed, path, root)
    other = leaf_hash(digest_leaf(("0" if proof["digest"][0] != "0" else "1") + proof["digest"][1:]))
    assert not verify_inclusion(index, size, other, path, root)
    assert not verify_inclusion((index + 1) % size, size, hashed, path, root) or size == 1
    assert not verify_inclusion(index, size, hashed, path, bytes(32))


def test_proofs_verify_and_both_stations_agree_on_each_log(
    station_pair: tuple[StationProcess, StationProcess],
) -> None:
    washington, beijing = station_pair
    w, b = washington.station_id, beijing.station_id
    before = head(washington, b, "outbound")  # the start-up link tests and replies are in it
    to_beijing = [send(washington, b, f"west to east {i}") for i in range(3)]
    to_washington = [send(beijing, w, f"east to west {i}") for i in range(2)]

    def delivered() -> bool:
        return (
            all(
                head(sender, receiver.station_id, "outbound")["size"]
                == head(receiver, sender.station_id, "inbound")["size"]
                for sender, receiver in ((washington, beijing), (beijing, washington))
            )
            and head(beijing, w, "inbound")["size"] >= before["size"] + 3
        )

    wait_for(delivered, 30, what="every envelope stored on both sides")

    for sender, receiver in ((washington, beijing), (beijing, washington)):
        out = head(sender, receiver.station_id, "outbound")
        inn = head(receiver, sender.station_id, "inbound")
        assert out["origin"] == inn["origin"] == f"redline/{sender.station_id}->{receiver.station_id}"
        assert (out["size"], out["root"]) == (inn["size"], inn["root"]), "one log, one root"
        assert out["direction"] == "outbound" and inn["direction"] == "inbound"

    auditor = add_operator(washington, "merkle-auditor", Role.AUDITOR)
    for message_id, sender, receiver in [
        *((m, washington, beijing) for m in to_beijing),
        *((m, beijing, washington) for m in to_washington),
    ]:
        proofs = []
        for station, peer, direction in ((sender, receiver, "outbound"), (receiver, sender, "inbound")):
            token = auditor if station is washington else None
            with station.client(token) as c:
                proof = get(c, f"/messages/{message_id}/proof")
            reported = head(station, peer.station_id, direction, size=proof["tree_size"])
            assert reported["root"] == proof["root"] and reported["origin"] == proof["origin"]
            assert proof["direction"] == direction and proof["message_id"] == message_id
            check_proof(proof, reported["root"])
            proofs.append(proof)
        mine, theirs = proofs
        assert mine["origin"] == theirs["origin"] and mine["digest"] == theirs["digest"]
        assert mine["leaf_index"] == theirs["leaf_index"]
        # The sender's proof checks against the root the *receiver* reports for the same size.
        theirs_head = head(receiver, sender.station_id, "inbound", size=mine["tree_size"])
        check_proof(mine, theirs_head["root"])

    # An inclusion proof against an earlier size, and a consistency proof from it to now.
    first_id = to_beijing[0]
    with washington.client() as c:
        early = get(c, f"/messages/{first_id}/proof", size=before["size"] + 1)
        assert early["tree_size"] == before["size"] + 1
        now = get(c, f"/links/{b}/log", direction="outbound")
        consistency = get(c, f"/links/{b}/log/consistency", direction="outbound", first=before["size"])
    check_proof(early, head(beijing, w, "inbound", size=before["size"] + 1)["root"])
    assert consistency["first_root"] == before["root"] and consistency["second"] == now["size"]
    proof = [bytes.fromhex(p) for p in consistency["proof"]]
    first_root, second_root = bytes.fromhex(before["root"]), bytes.fromhex(now["root"])
    assert verify_consistency(before["size"], now["size"], first_root, second_root, proof)
    assert not verify_consistency(before["size"], now["size"], bytes(32), second_root, proof)
    # ... and it checks against Beijing's heads of the same log as well.
    theirs_now = head(beijing, w, "inbound", size=now["size"])["root"]
    theirs_before = head(beijing, w, "inbound", size=before["size"])["root"]
    assert verify_consistency(
        before["size"], now["size"], bytes.fromhex(theirs_before), bytes.fromhex(theirs_now), proof
    )


def test_bad_log_requests_are_refused(station_pair: tuple[StationProcess, StationProcess]) -> None:
    washington, beijing = station_pair
    b = beijing.station_id
    size = head(washington, b, "outbound")["size"]
    with washington.client() as c:
        assert c.get(f"/links/{b}/log").status_code == 400  # no direction
        assert c.get(f"/links/{b}/log", params={"direction": "sideways"}).status_code == 400
        assert c.get(f"/links/{b}/log", params={"direction": "outbound", "size": size + 1}).status_code == 400
        assert c.get(f"/links/{b}/log", params={"direction": "outbound", "size": "-1"}).status_code == 400
        assert c.get("/links/nowhere/log", params={"direction": "outbound"}).status_code == 404
        assert c.get("/messages/" + "0" * 32 + "/proof").status_code == 404
        consistency = f"/links/{b}/log/consistency"
        assert c.get(consistency, params={"direction": "outbound"}).status_code == 400  # no first
        assert c.get(consistency, params={"direction": "outbound", "first": 0}).status_code == 400
        assert c.get(consistency, params={"direction": "outbound", "first": size + 1}).status_code == 400
        bad = {"direction": "outbound", "first": 2, "second": 1}
        assert c.get(consistency, params=bad).status_code == 400
        empty = get(c, f"/links/{b}/log", direction="outbound", size=0)
        assert empty["root"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
