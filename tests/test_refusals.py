"""Refusals: whatever a peer or an operator sends wrong is refused clearly and changes no store.

Every case asserts the answer (HTTP status and ``{"error": {"code", "message"}}``
naming the fault, or a refused TLS handshake) and that the row counts of both
stations are exactly what they were before.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from redline.crypto.keys import StationKeys, parse_encryption_key, parse_signing_key
from redline.crypto.tls import client_context, make_self_signed_certificate
from redline.domain.clock import format_ts, utc_now
from redline.domain.messages import MessageKind, Precedence
from redline.domain.stations import Role
from redline.runtime import init_station
from redline.services import operators, pairing
from redline.services.station import load_identity
from redline.store.station import Store
from redline.wire.envelope import Envelope, build_envelope
from redline.wire.receipt import parse_receipt, verify_receipt
from tests.support.stations import StationProcess, two_stations, wait_for

GENESIS = "0" * 64
TIMEOUT = 20.0


# -- helpers ------------------------------------------------------------------------------------------


def tls_files(station_dir: Path) -> tuple[str, str]:
    return str(station_dir / "keys" / "tls.crt"), str(station_dir / "keys" / "tls.key")


def server_cert(station: StationProcess) -> str:
    return (station.data_dir / "keys" / "tls.crt").read_text()


def link_context(client_dir: Path, server: StationProcess) -> ssl.SSLContext:
    """Speak to ``server``'s link as the station (or impostor) whose key files are in ``client_dir``."""
    cert, key = tls_files(client_dir)
    return client_context(cert, key, server_cert(server))


def no_certificate_context(server: StationProcess) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.load_verify_locations(cadata=server_cert(server))
    return ctx


def counts(*stations: StationProcess) -> list[dict[str, int]]:
    return [s.counts() for s in stations]


def assert_error(response: httpx.Response, status: int, code: str, *fragments: str) -> str:
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    message = str(body["error"]["message"])
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in error message {message!r}"
    return message


def assert_handshake_refused(ctx: ssl.SSLContext, station: StationProcess) -> None:
    """The link answers nothing at HTTP level: the TLS layer drops the connection."""
    try:
        with (
            socket.create_connection(("127.0.0.1", station.link_port), timeout=5) as raw,
            ctx.wrap_socket(raw) as tls,
        ):
            tls.sendall(b"GET /link/v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = tls.recv(4096)
    except (ssl.SSLError, ConnectionError):
        data = b""
    assert data == b"", f"the link answered a refused certificate at HTTP level: {data[:300]!r}"
    with pytest.raises(httpx.TransportError), httpx.Client(verify=ctx, timeout=5) as client:
        client.post(f"{station.link_url}/link/v1/envelopes", json={"envelopes": []})


class Crafter:
    """Builds washington->beijing envelopes by hand, as washington (or an impostor) would."""

    def __init__(self, sender: StationProcess, recipient: StationProcess) -> None:
        self.keys = StationKeys.load(sender.data_dir / "keys")
        card = load_identity(recipient.data_dir).card()
        self.recipient_key = parse_encryption_key(card.encryption_key)
        self.recipient_signing_key = parse_signing_key(card.signing_key)
        self.sender = sender.station_id
        self.recipient = recipient.station_id

    def envelope(
        self,
        seq: int,
        prev: str,
        text: str = "Request you hold position.",
        *,
        keys: StationKeys | None = None,
        sender: str | None = None,
        recipient: str | None = None,
        message_id: str | None = None,
        seal_to: Any = None,
        ts: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> Envelope:
        return build_envelope(
            keys or self.keys,
            seal_to or self.recipient_key,
            message_id=message_id or uuid.uuid4().hex,
            sender=sender or self.sender,
            recipient=recipient or self.recipient,
            seq=seq,
            prev=prev,
            ts=ts or format_ts(utc_now()),
            precedence=Precedence.PRIORITY,
            kind=MessageKind.TEXT,
            body=body if body is not None else {"text": text, "lang": "en"},
        )


def batch(*items: Envelope | dict[str, Any]) -> bytes:
    return json.dumps({"envelopes": [i.to_json() if isinstance(i, Envelope) else i for i in items]}).encode()


def inbox_texts(station: StationProcess) -> list[str]:
    with station.client() as c:
        r = c.get("/messages", params={"box": "inbox", "limit": 1000})
    assert r.status_code == 200, r.text
    return [m["text"] for m in sorted(r.json()["messages"], key=lambda m: m["seq"])]


# -- the link: TLS -----------------------------------------------------------------------------------


def test_link_handshake_refuses_every_certificate_but_the_pinned_one(station_pair, tmp_path):
    w, b = station_pair
    before = counts(w, b)

    # A fresh key and certificate, even one calling itself washington.
    rogue = tmp_path / "rogue"
    rogue_keys = StationKeys.generate()
    rogue_keys.save(rogue / "keys")
    (rogue / "keys" / "tls.crt").write_bytes(make_self_signed_certificate("washington", rogue_keys.tls))
    assert_handshake_refused(link_context(rogue, b), b)
    assert_handshake_refused(link_context(rogue, w), w)

    # No client certificate at all.
    assert_handshake_refused(no_certificate_context(b), b)
    assert_handshake_refused(no_certificate_context(w), w)

    # A real, properly initialised station that neither side has paired with.
    tokyo = asyncio.run(
        init_station(tmp_path / "others" / "tokyo", "tokyo", "Tokyo", f"sqlite:///{tmp_path}/tokyo.db")
    )
    assert_handshake_refused(link_context(tokyo.files.root, b), b)
    assert_handshake_refused(link_context(tokyo.files.root, w), w)

    assert counts(w, b) == before
    # The pinned certificate still gets through.
    with httpx.Client(verify=link_context(w.data_dir, b), timeout=TIMEOUT) as client:
        r = client.get(f"{b.link_url}/link/v1/ping")
    assert r.status_code == 200 and r.json() == {"station": "beijing", "peer": "washington"}
    assert counts(w, b) == before


# -- the link: envelopes -----------------------------------------------------------------------------


def chain_head(b: StationProcess) -> tuple[int, str]:
    """Where beijing holds washington's chain: crafted envelopes continue it (the start-up link
    test is on it already)."""
    with b.client() as c:
        chain = c.get("/transcript/washington").json()["washington->beijing"]
    return len(chain) + 1, (chain[-1]["digest"] if chain else GENESIS)


def test_link_refuses_bad_envelopes_and_stores_nothing(station_pair, tmp_path):
    w, b = station_pair
    w.stop()  # washington's own delivery worker must not use the link's sequence numbers meanwhile
    craft = Crafter(w, b)
    next_seq, last = chain_head(b)
    url = f"{b.link_url}/link/v1/envelopes"
    client = httpx.Client(verify=link_context(w.data_dir, b), timeout=TIMEOUT)
    try:
        before = counts(w, b)

        def post(raw: bytes) -> httpx.Response:
            return client.post(url, content=raw, headers={"content-type": "application/json"})

        def refused(raw: bytes, status: int, code: str, *fragments: str) -> str:
            message = assert_error(post(raw), status, code, *fragments)
            assert counts(w, b) == before, f"store changed after refusal {code}: {message}"
            return message

        # Bad signatures: signed by another key; a signature character altered.
        impostor = StationKeys.generate()
        forged = craft.envelope(next_seq, last, keys=impostor)
        refused(batch(forged), 422, "bad_signature", forged.id, "signature")
        altered = craft.envelope(next_seq, last).to_json()
        altered["sig"] = ("B" if altered["sig"][0] == "A" else "A") + altered["sig"][1:]
        refused(batch(altered), 422, "bad_signature", altered["id"], "signature")
        # A signed field changed after signing.
        tampered = craft.envelope(next_seq, last).to_json()
        tampered["precedence"] = "FLASH"
        refused(batch(tampered), 422, "bad_signature", tampered["id"])

        # Addressed to another station, properly signed.
        elsewhere = craft.envelope(next_seq, last, recipient="tokyo")
        refused(batch(elsewhere), 421, "wrong_recipient", "tokyo", "beijing")

        # Claims another sender, properly signed by washington's key.
        spoofed = craft.envelope(next_seq, last, sender="tokyo")
        refused(batch(spoofed), 403, "unknown_peer", "tokyo", "washington")

        # Sealed to a key that is not beijing's: signed fine, cannot be opened.
        other_key = StationKeys.generate().encryption.public_key()
        missealed = craft.envelope(next_seq, last, seal_to=other_key)
        refused(batch(missealed), 400, "malformed", "payload")
        # A payload that opens but is not a text body.
        odd_body = craft.envelope(next_seq, last, body={"text": "x", "lang": "en", "extra": 1})
        refused(batch(odd_body), 400, "malformed", "payload")

        # Malformed bodies, each naming what is wrong.
        good = craft.envelope(next_seq, last).to_json()
        without_sig = {k: v for k, v in good.items() if k != "sig"}
        refused(b"this is not json{", 400, "malformed", "batch", "not valid JSON")
        refused(b"\xff\xfe\x00garbage", 400, "malformed", "batch", "not valid JSON")
        refused(json.dumps([good]).encode(), 400, "malformed", "batch", "JSON object")
        refused(b"{}", 400, "malformed", "batch", "envelopes")
        refused(json.dumps({"messages": [good]}).encode(), 400, "malformed", "batch", "missing", "envelopes")
        refused(json.dumps({"envelopes": [good], "more": 1}).encode(), 400, "malformed", "more")
        refused(json.dumps({"envelopes": []}).encode(), 400, "malformed", "batch.envelopes")
        refused(json.dumps({"envelopes": good}).encode(), 400, "malformed", "batch.envelopes")
        refused(batch(*[good] * 1025), 400, "malformed", "batch.envelopes", "1024")
        refused(json.dumps({"envelopes": ["envelope"]}).encode(), 400, "malformed", "envelope")
        refused(batch(without_sig), 400, "malformed", "envelope", "missing", "sig")
        refused(batch({**good, "priority": "high"}), 400, "malformed", "envelope", "unexpected", "priority")
        refused(batch({**good, "seq": "1"}), 400, "malformed", "envelope.seq")
        refused(batch({**good, "seq": 0}), 400, "malformed", "envelope.seq")
        refused(batch({**good, "seq": True}), 400, "malformed", "envelope.seq")
        refused(batch({**good, "prev": "abc"}), 400, "malformed", "envelope.prev")
        refused(batch({**good, "v": 2}), 400, "malformed", "envelope.v")
        refused(batch({**good, "kind": "fax"}), 400, "malformed", "envelope.kind")
        refused(batch({**good, "id": "not-an-id"}), 400, "malformed", "message id")
        refused(batch({**good, "precedence": "URGENT"}), 400, "malformed", "precedence")
        refused(batch({**good, "to": "Beijing!"}), 400, "malformed", "envelope.to")

        # Oversized, declared and streamed (chunked, no Content-Length).
        refused(b"x" * (17 * 1024 * 1024), 413, "payload_too_large", "limit")

        def chunks() -> Iterator[bytes]:
            for _ in range(17):
                yield b" " * (1024 * 1024)

        r = client.post(url, content=chunks(), headers={"content-type": "application/json"})
        assert_error(r, 413, "payload_too_large", "limit")
        assert counts(w, b) == before

        # One bad envelope refuses the whole batch: the good one before it is not stored either.
        first = craft.envelope(next_seq, last, "first of a refused batch")
        second = craft.envelope(next_seq + 1, first.digest, keys=impostor)
        refused(batch(first, second), 422, "bad_signature", second.id)

        # Replay: accepted once, then the identical body returns the same receipt and changes nothing.
        one = craft.envelope(next_seq, last, "Replayed message, seq 1.")
        body = batch(one)
        r = post(body)
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["gap"] is None and answer["equivocation"] is None
        [receipt] = answer["receipts"]
        assert receipt["by"] == "beijing" and receipt["for"] == "washington"
        assert receipt["entries"] == [[next_seq, one.digest]]
        verify_receipt(parse_receipt(receipt), craft.recipient_signing_key)
        after_one = counts(w, b)
        assert after_one[0] == before[0]
        assert after_one[1]["messages"] == before[1]["messages"] + 1
        assert after_one[1]["receipts"] == before[1]["receipts"] + 1

        for _ in range(2):
            r = post(body)
            assert r.status_code == 200, r.text
            assert r.json()["receipts"] == [receipt]  # same id, same signature
            assert counts(w, b) == after_one

        # The same id again at the next seq: refused, whatever the signature says.
        before = after_one
        reused = craft.envelope(next_seq + 1, one.digest, "Same id, new seq.", message_id=one.id)
        refused(batch(reused), 400, "malformed", one.id, "used before")
        # ... also when it rides behind a legitimate replay in one batch.
        refused(batch(one, reused), 400, "malformed", one.id, "used before")

        # The chain is intact: the next envelope is accepted normally.
        two = craft.envelope(next_seq + 1, one.digest, "Next message, seq 2.")
        r = post(batch(two))
        assert r.status_code == 200, r.text
        assert r.json()["receipts"][0]["entries"] == [[next_seq + 1, two.digest]]
        assert inbox_texts(b) == ["Replayed message, seq 1.", "Next message, seq 2."]
    finally:
        client.close()


def test_link_refuses_envelopes_with_impossible_timestamps(station_pair, subtests):
    """A signed envelope whose ts is not a usable time is the peer's fault: 400 malformed, never a 500."""
    w, b = station_pair
    w.stop()
    craft = Crafter(w, b)
    next_seq, last = chain_head(b)
    before = counts(w, b)
    with httpx.Client(verify=link_context(w.data_dir, b), timeout=TIMEOUT) as client:

        def post(env: Envelope) -> httpx.Response:
            return client.post(
                f"{b.link_url}/link/v1/envelopes",
                content=batch(env),
                headers={"content-type": "application/json"},
            )

        for ts in ("yesterday noon", "2026-13-45T00:00:00.000000Z", "2026-01-31T12:00:00.000000+08:00"):
            with subtests.test(msg="unparseable ts", ts=ts):
                r = post(craft.envelope(next_seq, last, ts=ts))
                assert counts(w, b) == before
                assert_error(r, 400, "malformed", "ts")

        # Parseable, but its acknowledgement deadline (ts + 3 h for PRIORITY) lies past year 9999.
        with subtests.test(msg="ts at the end of time"):
            env = craft.envelope(next_seq, last, ts="9999-12-31T23:59:59.999999Z")
            r = post(env)
            assert r.status_code == 200 or counts(w, b) == before
            assert r.status_code < 500, f"server error for a peer's fault: {r.status_code} {r.text}"
            if r.status_code == 200:  # accepting it is acceptable, if it is then stored and receipted
                assert r.json()["receipts"][0]["entries"] == [[1, env.digest]]
            else:
                assert counts(w, b) == before
                assert_error(r, 400, "malformed", "ts")


# -- the operator API --------------------------------------------------------------------------------


def test_operator_api_refusals_change_nothing(station_pair):
    w, b = station_pair
    with w.client() as c:
        r = c.post(
            "/messages", json={"to": "beijing", "precedence": "ROUTINE", "text": "baseline", "lang": "en"}
        )
        assert r.status_code == 201, r.text
        sent = r.json()["id"]
        wait_for(lambda: c.get(f"/messages/{sent}").json()["state"] == "delivered", what="delivery")

    async def add_auditor() -> str:
        store = await Store.open(w.database_url)
        try:
            return await operators.add_operator(store, "watcher", Role.AUDITOR)
        finally:
            await store.close()

    auditor_token = asyncio.run(add_auditor())
    before = counts(w, b)
    api = w.api_url

    def refused(response: httpx.Response, status: int, code: str, *fragments: str) -> None:
        message = assert_error(response, status, code, *fragments)
        assert counts(w, b) == before, f"store changed after refusal {code}: {message}"

    good = {"to": "beijing", "precedence": "FLASH", "text": "hold", "lang": "en"}
    with httpx.Client(timeout=TIMEOUT) as anon:
        r = anon.post(f"{api}/messages", json=good)
        refused(r, 401, "unauthenticated", "Bearer")
        assert r.headers.get("www-authenticate") == "Bearer"
        refused(anon.get(f"{api}/messages"), 401, "unauthenticated")
        refused(
            anon.post(f"{api}/messages", json=good, headers={"Authorization": w.token}),
            401,
            "unauthenticated",
        )
    with w.client(token="rl_" + "x" * 43) as wrong:
        refused(wrong.post("/messages", json=good), 401, "unauthenticated", "not valid")
        refused(wrong.get(f"/messages/{sent}"), 401, "unauthenticated")
    with w.client(token=b.token) as other_station:  # beijing's token means nothing at washington
        refused(other_station.post("/messages", json=good), 401, "unauthenticated")
    with w.client(token=auditor_token) as auditor:
        refused(auditor.post("/messages", json=good), 403, "forbidden", "auditor")

    with w.client() as c:

        def post(raw: bytes | dict[str, Any]) -> httpx.Response:
            if isinstance(raw, bytes):
                return c.post("/messages", content=raw, headers={"content-type": "application/json"})
            return c.post("/messages", json=raw)

        refused(post(b'{"to": "beijing", '), 400, "invalid_input", "not valid JSON")
        refused(post(b"\xff\xfe"), 400, "invalid_input", "not valid JSON")
        refused(post(b'["beijing"]'), 400, "invalid_input", "JSON object")
        refused(post({**good, "precedence": "URGENT"}), 400, "invalid_input", "precedence", "URGENT")
        refused(post({**good, "text": ""}), 400, "invalid_input", "text")
        refused(post({**good, "text": "   \n "}), 400, "invalid_input", "text")
        refused(post({**good, "text": "x" * 16_001}), 400, "invalid_input", "text", "limit")
        refused(post({**good, "lang": "english please"}), 400, "invalid_input", "lang")
        refused(post({**good, "to": "tokyo"}), 404, "not_found", "tokyo")
        refused(post({**good, "to": "washington"}), 404, "not_found", "washington")
        refused(post({**good, "to": "Not A Station"}), 400, "invalid_input", "to")
        refused(post({**good, "cc": "tokyo"}), 400, "invalid_input", "unknown field", "cc")
        refused(
            post({"to": "beijing", "text": "no precedence"}), 400, "invalid_input", "missing", "precedence"
        )
        refused(
            post(b'{"to":"beijing","precedence":"FLASH","text":"' + b"x" * 70_000 + b'"}'),
            413,
            "payload_too_large",
            "limit",
        )

        refused(c.get("/messages/not-an-id"), 400, "invalid_input", "not-an-id", "message id")
        missing = uuid.uuid4().hex
        refused(c.get(f"/messages/{missing}"), 404, "not_found", missing)
        refused(c.post(f"/messages/{missing}/ack"), 404, "not_found", missing)
        refused(c.post(f"/messages/{sent}/ack"), 409, "conflict", sent, "only the recipient")
        refused(c.get("/messages", params={"box": "spam"}), 400, "invalid_input", "box")
        refused(c.get("/messages", params={"limit": "0"}), 400, "invalid_input", "limit")
        refused(c.get("/messages", params={"limit": "many"}), 400, "invalid_input", "limit")

    with w.client(token=auditor_token) as auditor:
        refused(auditor.post(f"/messages/{sent}/ack"), 403, "forbidden", "auditor")
        # A link test is traffic on the link: an auditor may watch the link panel, not test it.
        refused(auditor.post("/links/beijing/test"), 403, "forbidden", "auditor", "test links")
    with w.client() as c:
        refused(c.get("/audit"), 403, "forbidden", "audit")

    # Still working afterwards, and the refusals left beijing's inbox as it was.
    assert inbox_texts(b) == ["baseline"]


# -- an unverified peer ------------------------------------------------------------------------------


@pytest.fixture
def unverified_pair(backend: str, tmp_path: Path) -> Iterator[tuple[StationProcess, StationProcess]]:
    """washington and beijing with cards exchanged but not verified, both running."""
    with two_stations(tmp_path, backend, verify=False) as pair:
        yield pair


def verify(station: StationProcess, peer_id: str) -> None:
    async def go() -> None:
        me = load_identity(station.data_dir)
        store = await Store.open(station.database_url)
        try:
            peer = await pairing.peer_or_fail(store, peer_id)
            await pairing.verify_peer(store, me, peer_id, pairing.code_for(me, peer))
        finally:
            await store.close()

    asyncio.run(go())


@pytest.mark.slow
def test_unverified_peer_gets_no_traffic_until_verified(unverified_pair):
    w, b = unverified_pair
    before = counts(w, b)
    message = {"to": "beijing", "precedence": "IMMEDIATE", "text": "Are you there?", "lang": "en"}
    with w.client() as c:
        assert_error(c.post("/messages", json=message), 409, "conflict", "beijing", "not verified")
    with b.client() as c:
        assert_error(
            c.post("/messages", json={**message, "to": "washington"}),
            409,
            "conflict",
            "washington",
            "not verified",
        )
    assert counts(w, b) == before

    # At the link, each side's certificate is refused by the other at the handshake.
    assert_handshake_refused(link_context(w.data_dir, b), b)
    assert_handshake_refused(link_context(b.data_dir, w), w)
    assert counts(w, b) == before

    # Verified on both sides, traffic flows (each station picks up the change within seconds).
    verify(b, "washington")
    verify(w, "beijing")

    def ping_ok() -> bool:
        try:
            with httpx.Client(verify=link_context(w.data_dir, b), timeout=5) as client:
                return client.get(f"{b.link_url}/link/v1/ping").status_code == 200
        except httpx.TransportError:
            return False

    wait_for(ping_ok, timeout=15, interval=0.2, what="beijing to trust washington's certificate")
    with w.client() as c:
        r = c.post("/messages", json=message)
        assert r.status_code == 201, r.text
        mid = r.json()["id"]
        wait_for(
            lambda: c.get(f"/messages/{mid}").json()["state"] == "delivered",
            timeout=30,
            interval=0.1,
            what="delivery after verification",
        )
    assert inbox_texts(b) == ["Are you there?"]
