"""Deeply nested JSON is refused with a 400 naming the nesting, stores nothing and logs no traceback.

An outside probe sent 100,000 levels of ``[`` to the link endpoint, ``POST
/api/v1/messages`` and ``POST /api/v1/notices``: each answered 500 with a
``RecursionError`` in the log. Every JSON parse of outside input now goes
through ``redline.json_input.parse_json``, which measures the nesting first.
"""

from __future__ import annotations

import logging
import ssl

import httpx
import pytest

from redline.errors import InputError
from redline.services import pairing
from redline.transport.tls_server import with_client_cert
from redline.web.app import create_link_app
from tests.support.inprocess import InProcessPair, api_client

pytestmark = pytest.mark.anyio

SHAPES = ("arrays", "objects", "unclosed")


def deep(shape: str, levels: int = 100_000) -> bytes:
    """``levels`` arrays or objects inside each other (far beyond Python's recursion limit)."""
    if shape == "arrays":
        return b"[" * levels + b"]" * levels
    if shape == "objects":
        return b'{"a":' * levels + b"1" + b"}" * levels
    return b"[" * levels



def assert_nesting_refused(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert "nests deeper than 64 levels" in response.json()["error"]["message"], response.text


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    logged = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not logged, [r.getMessage() for r in logged]


@pytest.mark.parametrize("shape", SHAPES)
async def test_the_api_refuses_deep_json_and_stores_nothing(
    pair: InProcessPair, shape: str, caplog: pytest.LogCaptureFixture
) -> None:
    w = pair.washington
    async with api_client(w, "prober") as client:
        before = await w.store.counts()
        # A message body is at most 64 KiB: 10,000 levels fit under it.
        assert_nesting_refused(await client.post("/api/v1/messages", content=deep(shape, 10_000)))
        for path in (
            "/api/v1/notices",
            "/api/v1/notices/import?format=geojson",
            "/api/v1/notices/import?format=f3548",
        ):
            assert_nesting_refused(await client.post(path, content=deep(shape)))
        assert await w.store.counts() == before
    assert_no_traceback(caplog)


@pytest.mark.parametrize("shape", SHAPES)
async def test_the_link_refuses_a_deep_batch_from_a_verified_peer(
    pair: InProcessPair, shape: str, caplog: pytest.LogCaptureFixture
) -> None:
    w, b = pair
    before = await w.store.counts()
    beijing_cert = ssl.PEM_cert_to_DER_cert(b.me.tls_certificate)
    app = with_client_cert(create_link_app(w.link_endpoint()), beijing_cert)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://washington") as client:
        response = await client.post("/link/v1/envelopes", content=deep(shape))
    assert_nesting_refused(response)
    assert response.json()["error"]["code"] == "malformed"
    assert await w.store.counts() == before
    assert_no_traceback(caplog)


def test_a_deep_contact_card_is_refused() -> None:
    for body in (deep(shape, 10_000) for shape in SHAPES):  # a card is at most 64 KiB
        with pytest.raises(InputError, match="contact card nests deeper than 64 levels"):
            pairing.read_card(body)


async def test_json_just_inside_the_bound_is_read(pair: InProcessPair) -> None:
    """64 levels parse (and are refused for what they are, not for their depth)."""
    async with api_client(pair.washington, "prober") as client:
        response = await client.post("/api/v1/messages", content=b"[" * 64 + b"]" * 64)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "request body must be a JSON object"
