"""The in-memory path transport (for in-process tests): bodies reach the registered ASGI app with the
sender's certificate in the scope, answers are read as the HTTPS path reads them, and failover works
across it like across any other scheme."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from redline.domain.clock import MockClock
from redline.errors import RemoteProtocolError, TransportError
from redline.transport.failover import FailoverTransport
from redline.transport.https import LINK_PATH
from redline.transport.memory import MemoryPathTransport
from redline.transport.mounts import Mounts
from tests.support.records import peer_record

BEIJING, WASHINGTON = "memory://beijing", "memory://washington"
W_DER, B_DER = b"washington-certificate-der", b"beijing-certificate-der"


class LinkApp:
    """A stand-in for the link app: records what it was sent and by which certificate."""

    def __init__(self, status: int = 200, answer: dict[str, Any] | None = None) -> None:
        self.status = status
        self.answer = answer if answer is not None else {"receipts": []}
        self.seen: list[tuple[str, str, bytes | None, bytes]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        der = scope.get("extensions", {}).get("tls", {}).get("client_cert_der")
        self.seen.append((scope["method"], scope["path"], der, body))
        if self.status == 599:
            raise RuntimeError("the app crashed")
        content = json.dumps(self.answer).encode()
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": content})


def test_a_body_reaches_the_registered_app_with_the_senders_certificate():
    beijing, washington = LinkApp(), LinkApp()
    from_w = MemoryPathTransport(client_cert_der=W_DER)
    from_b = from_w.for_station(B_DER)
    from_w.register(BEIJING, beijing)
    from_b.register(WASHINGTON, washington)

    async def main() -> tuple[bytes, bytes]:
        try:
            return (
                await from_w.send(peer_record("beijing", (BEIJING,)), BEIJING, b'{"envelopes": []}'),
                await from_b.send(peer_record("washington", (WASHINGTON,)), WASHINGTON, b"{}"),
            )
        finally:
            await from_w.close()
            await from_b.close()

    assert asyncio.run(main()) == (b'{"receipts": []}', b'{"receipts": []}')
    assert beijing.seen == [("POST", LINK_PATH, W_DER, b'{"envelopes": []}')]
    assert washington.seen == [("POST", LINK_PATH, B_DER, b"{}")]


@pytest.mark.parametrize(
    ("status", "raised", "match"),
    [
        (409, None, None),
        (400, RemoteProtocolError, "beijing refused the batch: HTTP 400 the batch is bad"),
        (503, TransportError, "HTTP 503"),
        (599, TransportError, "HTTP 500"),  # an app that raises answers 500, as a server would
    ],
)
def test_answers_are_read_as_the_https_path_reads_them(status, raised, match):
    transport = MemoryPathTransport(client_cert_der=W_DER)
    answer = {"error": {"code": "malformed", "message": "the batch is bad"}} if status == 400 else None
    transport.register(BEIJING, LinkApp(status, answer))

    async def main() -> bytes:
        try:
            return await transport.send(peer_record("beijing", (BEIJING,)), BEIJING, b"{}")
        finally:
            await transport.close()

    if raised is None:
        assert asyncio.run(main()) == b'{"receipts": []}'
    else:
        with pytest.raises(raised, match=match):
            asyncio.run(main())


def test_an_unregistered_station_is_a_failed_path_and_failover_goes_on():
    other = "memory://beijing-backup"
    memory = MemoryPathTransport(client_cert_der=W_DER)
    backup = LinkApp()
    memory.register(BEIJING, LinkApp())
    memory.register(other, backup)
    memory.unregister(BEIJING)
    transport = FailoverTransport(Mounts({"memory": memory}), MockClock())
    peer = peer_record("beijing", (BEIJING, other))

    async def main() -> bytes:
        try:
            return await transport.deliver(peer, b"{}")
        finally:
            await transport.close()

    assert asyncio.run(main()) == b'{"receipts": []}'
    assert len(backup.seen) == 1
    status = transport.path_status(peer)
    assert [p["state"] for p in status] == ["down", "up"]
    assert status[0]["last_error"] == f"{BEIJING}: no station registered there (refused)"
