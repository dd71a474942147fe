"""The ``https`` path: a POST to the peer's link endpoint with mutual TLS, pinned to its card.

One httpx client (with its keep-alive connection pool) per peer certificate:
the client's TLS context trusts exactly the certificate in the peer's card and
presents this station's own. A failure to reach the peer (refused, TLS error,
timeout) or a 5xx answer is a ``TransportError``: the path failed. A 200 or
409 answer (409: the peer found an equivocation and says so in the body) is
returned as is; any other status is the peer refusing the batch, a
``RemoteProtocolError`` carrying its JSON error message.
"""

from __future__ import annotations

import ssl

import httpx

from redline.crypto.tls import client_context
from redline.domain.stations import PeerRecord
from redline.errors import RemoteProtocolError, Text, TransportError, _t
from redline.json_input import parse_json

LINK_PATH = "/link/v1/envelopes"


class HttpsPathTransport:
    """Delivers over HTTPS with mutual TLS on keep-alive connections, one client per peer certificate."""

    def __init__(self, cert_file: str, key_file: str, timeout: float = 10.0) -> None:
        self._cert_file, self._key_file = cert_file, key_file
        self._timeout = timeout
        self._clients: dict[tuple[str, str], httpx.AsyncClient] = {}

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

    async def send(self, peer: PeerRecord, url: str, body: bytes) -> bytes:
        try:
            response = await self._client(peer).post(
                url + LINK_PATH, content=body, headers={"content-type": "application/json"}
            )
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            raise TransportError(failure_text(exc)) from None
        return link_answer(peer, response)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


def failure_text(exc: BaseException) -> Text:
    """Why a request on a path failed, as ``Type: detail``.

    The English is the exception's type and text; the template picks, by type, the explanation
    a translated console puts before that technical detail (docs/console.md, Translations).
    """
    detail = str(exc)
    match type(exc).__name__:
        case "ConnectError":
            return _t("ConnectError: {detail}", detail=detail)
        case "ConnectTimeout":
            return _t("ConnectTimeout: {detail}", detail=detail)
        case "ReadTimeout":
            return _t("ReadTimeout: {detail}", detail=detail)
        case "WriteTimeout":
            return _t("WriteTimeout: {detail}", detail=detail)
        case "ReadError":
            return _t("ReadError: {detail}", detail=detail)
        case "RemoteProtocolError":
            return _t("RemoteProtocolError: {detail}", detail=detail)
        case "SSLError":
            return _t("SSLError: {detail}", detail=detail)
        case "SSLCertVerificationError":
            return _t("SSLCertVerificationError: {detail}", detail=detail)
    return _t("{error}: {detail}", error=type(exc).__name__, detail=detail)


def link_answer(peer: PeerRecord, response: httpx.Response) -> bytes:
    """The answer body of the link endpoint, or the error its status means."""
    if response.status_code >= 500:
        raise TransportError(_t("HTTP {status_code}", status_code=response.status_code))
    if response.status_code in (200, 409):
        return response.content
    raise RemoteProtocolError(
        _t(
            "{station_id} refused the batch: HTTP {status_code} {value}",
            station_id=peer.station_id,
            status_code=response.status_code,
            value=_error(response),
        )
    )


def _error(response: httpx.Response) -> str:
    try:
        return str(parse_json(response.content, "answer", TransportError)["error"]["message"])
    except (TransportError, KeyError, TypeError):
        return response.text[:200]
