"""The mount table: which path transport carries a URL, decided by its scheme.

Like httpx's ``mounts``, a :class:`Mounts` maps a URL scheme (``"https"``,
``"nats"``, ``"memory"`` in tests) to the :class:`PathTransport` that carries
it. A URL whose scheme nothing is mounted for is refused with a
``TransportError`` that names the scheme and what is mounted; cards are checked
against the same list of schemes when they are made or imported
(``redline.wire.card.ENDPOINT_SCHEMES``, which a test keeps equal to
:func:`station_mounts`'s).

The table also answers which of a station's *own* endpoints need an inbox
(batches come to an ``https`` endpoint through the station's HTTP server, but
must be taken from a relay), so the runtime never looks at URL schemes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from redline.domain.clock import SYSTEM_CLOCK, Clock
from redline.errors import TransportError, _t
from redline.transport.https import HttpsPathTransport
from redline.transport.paths import AnswerHandler, Inbox, PathTransport, Spawner, StoreAndForward
from redline.transport.relay import NatsRelayTransport, station_fingerprint


class Mounts:
    """URL scheme → path transport; closes what it holds."""

    def __init__(self, transports: Mapping[str, PathTransport]) -> None:
        for scheme in transports:
            if not scheme or scheme != scheme.lower() or not scheme.isalpha():
                raise ValueError(f"mount a scheme as its bare lower-case name (like 'https'), not {scheme!r}")
        self._transports = dict(transports)

    @property
    def schemes(self) -> tuple[str, ...]:
        return tuple(self._transports)

    def transport_for(self, url: str) -> PathTransport:
        scheme = urlsplit(url).scheme
        transport = self._transports.get(scheme)
        if transport is None:
            mounted = ", ".join(f"{s}://" for s in self._transports) or "nothing"
            raise TransportError(
                _t(
                    "{url}: no transport for {scheme} URLs (mounted: {mounted})",
                    url=url,
                    scheme=scheme or "scheme-less",
                    mounted=mounted,
                )
            )
        return transport

    def inboxes(self, own_endpoints: Iterable[str]) -> list[Inbox]:
        """One inbox per own endpoint whose transport brings batches in (a relay), in card order."""
        found = []
        for url in own_endpoints:
            transport = self.transport_for(url)
            if isinstance(transport, StoreAndForward):
                found.append(transport.inbox(url))
        return found

    def route_late_answers(self, handler: AnswerHandler, spawn: Spawner) -> None:
        for transport in self._transports.values():
            if isinstance(transport, StoreAndForward):
                transport.route_late_answers(handler, spawn)

    async def close(self) -> None:
        for transport in self._transports.values():
            await transport.close()


def station_mounts(
    cert_file: str, key_file: str, me_id: str, signing_public: str, clock: Clock = SYSTEM_CLOCK
) -> Mounts:
    """The schemes a running station speaks: HTTPS with mutual TLS, and NATS JetStream relays."""
    return Mounts(
        {
            "https": HttpsPathTransport(cert_file, key_file),
            "nats": NatsRelayTransport(me_id, station_fingerprint(signing_public), clock),
        }
    )
