"""The link port's connections: a bounded number, TLS with a deadline, and the client certificate.

uvicorn serves the link app over plain TCP; :func:`link_protocol` gives it a
protocol class that does TLS itself (the standard library's TLS protocol with
a handshake deadline, which uvicorn has no way to set), so that every
connection is seen from its first byte:

- at most ``max_connections`` at once, handshaking or not. When a new one would
  be one too many, the oldest connection still in its handshake is dropped to
  make room (a flood of silent sockets cannot keep a peer out); when every
  connection has finished its handshake (only verified peers can), the new one
  is closed.
- a client has ``handshake_timeout`` seconds to finish the TLS handshake, which
  refuses any certificate that is not a verified peer's;
- once a request has begun, its headers must be complete within
  ``header_timeout`` seconds, and a new connection must begin one within as
  long, so a slow sender cannot hold a slot either. Between requests uvicorn's
  keep-alive timeout applies.

uvicorn does not put the peer certificate into the ASGI scope, so the HTTP
protocol reads it from the TLS transport and adds it as
``scope["extensions"]["tls"]["client_cert_der"]`` (the shape of the ASGI TLS
extension); the app maps the DER to a peer.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from asyncio import sslproto
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

ASGIApp = Any
log = logging.getLogger(__name__)


def with_client_cert(app: ASGIApp, der: bytes | None) -> ASGIApp:
    """``app``, seeing ``der`` as the client certificate of every HTTP request it serves."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "extensions": {**scope.get("extensions", {}), "tls": {"client_cert_der": der}}}
        await app(scope, receive, send)

    return wrapped


@dataclass(frozen=True, slots=True)
class LinkLimits:
    max_connections: int = 64
    handshake_timeout: float = 10.0
    header_timeout: float = 10.0


class ClientCertProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol over a finished TLS handshake, with the client certificate in the
    scope and a deadline for each request's headers."""

    header_timeout: float | None = None
    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        self.app = with_client_cert(self.app, der)
        self._arm_header_deadline()  # a connection that never starts a request does not stay

    def _arm_header_deadline(self) -> None:
        if self.header_timeout is not None and self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_late)

    def _headers_late(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            log.info(
                "link client %s sent no complete request headers in %s s: closed",
                self.client,
                self.header_timeout,
            )
            self.transport.close()

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_deadline()

    def on_headers_complete(self) -> None:
        self._disarm_header_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)


class LinkConnections:
    """Every open connection on one link server, oldest first, and whether it finished its handshake."""

    def __init__(self, limits: LinkLimits, tls: Callable[[], ssl.SSLContext]) -> None:
        self.limits = limits
        self.tls = tls
        self.handshaking: dict[asyncio.BaseTransport, None] = {}  # insertion order: oldest first
        self.established: set[asyncio.BaseTransport] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self.handshaking) + len(self.established)

    def admit(self, raw: asyncio.BaseTransport) -> bool:
        if len(self) >= self.limits.max_connections:
            if not self.handshaking:
                log.warning(
                    "link port: %d connections open, all past their handshake; refused one more",
                    len(self),
                )
                return False
            oldest = next(iter(self.handshaking))
            self.release(oldest)
            oldest.abort()  # type: ignore[attr-defined]
        self.handshaking[raw] = None
        return True

    def handshake_done(self, raw: asyncio.BaseTransport) -> bool:
        """Move ``raw`` to the established; False if it was dropped meanwhile."""
        if raw not in self.handshaking:
            return False
        del self.handshaking[raw]
        self.established.add(raw)
        return True

    def release(self, raw: asyncio.BaseTransport) -> None:
        self.handshaking.pop(raw, None)
        self.established.discard(raw)


def link_protocol(connections: LinkConnections) -> type[asyncio.Protocol]:
    """The protocol class to give uvicorn (``http=``) for a link server over plain TCP.

    Each connection is the standard library's TLS protocol (``asyncio.sslproto.SSLProtocol``,
    what ``loop.create_server(ssl=...)`` itself uses, here with our handshake deadline) from its
    first byte, with uvicorn's HTTP protocol inside it once the handshake is done. Being the TLS
    protocol from the start matters: handing a running connection to ``loop.start_tls`` later
    loses a ClientHello that arrives in between (seen with uvloop), stalling that handshake.
    """

    class LinkConnection(sslproto.SSLProtocol):
        def __init__(
            self,
            config: Any,
            server_state: Any,
            app_state: dict[str, Any],
            _loop: asyncio.AbstractEventLoop | None = None,
        ) -> None:
            loop = _loop or asyncio.get_event_loop()
            http = ClientCertProtocol(
                config=config, server_state=server_state, app_state=app_state, _loop=loop
            )
            http.header_timeout = connections.limits.header_timeout
            handshake: asyncio.Future[None] = loop.create_future()
            handshake.add_done_callback(self._handshake_over)
            super().__init__(
                loop,
                http,
                connections.tls(),
                handshake,
                server_side=True,
                # typeshed says int; asyncio takes any number of seconds
                ssl_handshake_timeout=connections.limits.handshake_timeout,  # type: ignore[arg-type]
            )
            self._raw: asyncio.BaseTransport | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            if not connections.admit(transport):
                transport.abort()  # type: ignore[attr-defined]
                return
            self._raw = transport
            super().connection_made(transport)

        def _handshake_over(self, handshake: asyncio.Future[None]) -> None:
            # A refused certificate, the deadline or a reset: the connection is aborted and its slot
            # freed; else it counts as established from now on.
            if self._raw is None:
                return
            if handshake.cancelled() or handshake.exception() is not None:
                connections.release(self._raw)
                log.debug("link port: TLS handshake failed: %s", handshake.exception())
            elif not connections.handshake_done(self._raw):  # dropped meanwhile to make room
                self._raw.abort()  # type: ignore[attr-defined]

        def connection_lost(self, exc: BaseException | None) -> None:
            if self._raw is None:
                return  # refused at admission: TLS never started on it
            connections.release(self._raw)
            super().connection_lost(exc)

    # uvicorn types ``http=`` as a Protocol class; it only instantiates it and hands it to the loop,
    # which takes a BufferedProtocol (as SSLProtocol is) as well.
    return cast(type[asyncio.Protocol], LinkConnection)
