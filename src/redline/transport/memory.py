"""The ``memory`` path, FOR TESTS: stations in one process, delivering to each other's link app directly.

A running station never mounts this. Fast tests run two (or more) stations in
one process on temporary databases and join them with it: each station's link
ASGI app is registered under a URL such as ``memory://beijing``, and each
station mounts its own :class:`MemoryPathTransport` (made with
:meth:`MemoryPathTransport.for_station` from the first, so all share one
registry) under the ``memory`` scheme::

    network = MemoryPathTransport(client_cert_der=washington_der)
    network.register("memory://beijing", beijing_link_app)
    beijing_side = network.for_station(beijing_der)
    beijing_side.register("memory://washington", washington_link_app)

A delivery POSTs the body to the app's link endpoint through
``httpx.ASGITransport``, with the sending station's certificate in
``scope["extensions"]["tls"]["client_cert_der"]``, exactly where
``tls_server.ClientCertProtocol`` puts it for a real mutual-TLS connection, so
the link app maps it to a peer the same way. The answer is read as the HTTPS
path reads it (``https.link_answer``). A URL with nothing registered fails like
a refused connection (``TransportError``), and :meth:`unregister` takes a
station off the network to test failover.

The app is a value handed in: this module imports nothing from ``redline.web``.
"""

from __future__ import annotations

from typing import Any

import httpx

from redline.domain.stations import PeerRecord
from redline.errors import TransportError, _t
from redline.transport.https import LINK_PATH, failure_text, link_answer
from redline.transport.tls_server import with_client_cert

ASGIApp = Any


class MemoryPathTransport:
    """Delivers to ASGI apps registered under ``memory://`` URLs, presenting one station's certificate."""

    def __init__(self, client_cert_der: bytes | None, apps: dict[str, ASGIApp] | None = None) -> None:
        self._der = client_cert_der
        self._apps: dict[str, ASGIApp] = {} if apps is None else apps
        self._clients: dict[str, tuple[ASGIApp, httpx.AsyncClient]] = {}

    def for_station(self, client_cert_der: bytes | None) -> MemoryPathTransport:
        """Another station's transport on the same network (the same registered apps)."""
        return MemoryPathTransport(client_cert_der, self._apps)

    def register(self, url: str, app: ASGIApp) -> None:
        self._apps[url] = app

    def unregister(self, url: str) -> None:
        self._apps.pop(url, None)

    def _client(self, url: str) -> httpx.AsyncClient | None:
        app = self._apps.get(url)
        if app is None:
            return None
        cached = self._clients.get(url)
        if cached is None or cached[0] is not app:
            transport = httpx.ASGITransport(app=with_client_cert(app, self._der), raise_app_exceptions=False)
            cached = (app, httpx.AsyncClient(transport=transport, base_url="http://memory.invalid"))
            self._clients[url] = cached
        return cached[1]

    async def send(self, peer: PeerRecord, url: str, body: bytes) -> bytes:
        client = self._client(url)
        if client is None:
            raise TransportError(_t("{url}: no station registered there (refused)", url=url))
        try:
            response = await client.post(
                LINK_PATH, content=body, headers={"content-type": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise TransportError(failure_text(exc)) from None
        return link_answer(peer, response)

    async def close(self) -> None:
        for _app, client in self._clients.values():
            await client.aclose()
        self._clients.clear()
