"""Expose the client certificate of a mutual-TLS connection to the ASGI app.

uvicorn does not put the peer certificate into the ASGI scope, so this
protocol subclass reads it from the TLS transport when the connection is
made and adds it as ``scope["extensions"]["tls"]["client_cert_der"]`` (the
shape of the ASGI TLS extension). The handshake itself already refused any
certificate that is not a verified peer's; the app maps the DER to a peer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

ASGIApp = Any


def with_client_cert(app: ASGIApp, der: bytes | None) -> ASGIApp:
    """``app``, seeing ``der`` as the client certificate of every HTTP request it serves."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "extensions": {**scope.get("extensions", {}), "tls": {"client_cert_der": der}}}
        await app(scope, receive, send)

    return wrapped


class ClientCertProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        self.app = with_client_cert(self.app, der)
