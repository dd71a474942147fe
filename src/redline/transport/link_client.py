"""Delivery over HTTPS with mutual TLS, pinned to the peer's card, on keep-alive connections."""

from __future__ import annotations

import json
import ssl

import httpx

from redline.crypto.tls import client_context
from redline.domain.stations import PeerRecord
from redline.errors import RemoteProtocolError, TransportError

LINK_PATH = "/link/v1/envelopes"


class HttpsLinkTransport:
    """One httpx client per peer; tries the peer's endpoints in order, sticking to one that works."""

    def __init__(self, cert_file: str, key_file: str, timeout: float = 10.0) -> None:
        self._cert_file, self._key_file = cert_file, key_file
        self._timeout = timeout
        self._clients: dict[tuple[str, str], httpx.AsyncClient] = {}
        self._preferred: dict[str, int] = {}

    def _client(self, peer: PeerRecord) -> httpx.AsyncClient:
        key = (peer.station_id, peer.tls_fingerprint)
        if key not in self._clients:
            ctx = client_context(self._cert_file, self._key_file, peer.tls_certificate)
            self._clients[key] = httpx.AsyncClient(
                verify=ctx,
                timeout=httpx.Timeout(self._timeout, connect=3.0),
                limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
            )
        return self._clients[key]

    async def deliver(self, peer: PeerRecord, body: bytes) -> bytes:
        client = self._client(peer)
        first = self._preferred.get(peer.station_id, 0)
        order = list(range(first, len(peer.endpoints))) + list(range(first))
        failures: list[str] = []
        for index in order:
            url = peer.endpoints[index] + LINK_PATH
            try:
                response = await client.post(url, content=body, headers={"content-type": "application/json"})
            except (httpx.TransportError, ssl.SSLError, OSError) as exc:
                failures.append(f"{url}: {type(exc).__name__}: {exc}")
                continue
            self._preferred[peer.station_id] = index
            if response.status_code == 200 or response.status_code == 409:
                return response.content
            if response.status_code >= 500:
                failures.append(f"{url}: HTTP {response.status_code}")
                continue
            raise RemoteProtocolError(
                f"{peer.station_id} refused the batch: HTTP {response.status_code} {_error(response)}"
            )
        raise TransportError(f"no path to {peer.station_id} answered: {'; '.join(failures)}")

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


def _error(response: httpx.Response) -> str:
    try:
        return str(json.loads(response.content)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]
