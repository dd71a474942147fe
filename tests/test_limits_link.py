"""Limits on real stations: the link port's handshake and header deadlines and its connection cap,
and a bounded flood (API hammered past its rate limit, the link ports full of silent sockets) during
which health answers and a FLASH message is delivered and receipted within seconds."""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from redline.domain.stations import Role
from tests.support.stations import StationProcess, add_operator, two_stations, wait_for

pytestmark = pytest.mark.slow

FAST_DEADLINES = {"link_handshake_timeout": 1.5, "link_header_timeout": 1.5}


def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed ``sock`` (EOF or reset), or None if it stayed open."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        while True:
            if not sock.recv(4096):
                return time.monotonic() - start
    except (ConnectionResetError, ssl.SSLError, ssl.SSLEOFError):
        return time.monotonic() - start
    except TimeoutError:
        return None


def _is_closed(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except ConnectionResetError:
        return True


@contextlib.contextmanager
def _silent_sockets(port: int, count: int) -> Iterator[list[socket.socket]]:
    """``count`` TCP connections to the port that never send a byte (never start TLS)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        yield socks
    finally:
        for s in socks:
            s.close()


def _send(station: StationProcess, text: str, precedence: str = "ROUTINE", token: str | None = None) -> str:
    with station.client(token) as c:
        r = c.post("/messages", json={"to": "beijing", "precedence": precedence, "text": text, "lang": "en"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _state(station: StationProcess, message_id: str, token: str | None = None) -> str:
    with station.client(token) as c:
        return str(c.get(f"/messages/{message_id}").json()["state"])


def test_a_client_that_never_finishes_the_tls_handshake_is_dropped_on_time(tmp_path: Path):
    with two_stations(tmp_path, settings={"washington": FAST_DEADLINES}) as (w, _b):
        with _silent_sockets(w.link_port, 1) as (sock,):
            elapsed = _closed_within(sock, 10)
        assert elapsed is not None, "a silent client still holds its connection after 10 s"
        assert 1.2 <= elapsed <= 4, elapsed


def test_a_peer_that_never_completes_its_request_headers_is_dropped_on_time(tmp_path: Path):
    with two_stations(tmp_path, settings={"washington": FAST_DEADLINES}, links_up=True) as (w, b):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.load_cert_chain(b.data_dir / "keys" / "tls.crt", b.data_dir / "keys" / "tls.key")
        raw = socket.create_connection(("127.0.0.1", w.link_port), timeout=5)
        with context.wrap_socket(raw) as tls:  # beijing's certificate: washington lets it in
            tls.sendall(b"POST /link/v1/envelopes HTTP/1.1\r\nHost: washington\r\n")  # and no more
            elapsed = _closed_within(tls, 10)
        assert elapsed is not None, "a half-sent request still holds its connection after 10 s"
        assert 1.2 <= elapsed <= 4, elapsed


def test_the_link_port_caps_connections_and_a_flood_of_silent_ones_cannot_keep_the_peer_out(
    tmp_path: Path,
):
    cap = {"link_max_connections": 8}
    settings = {"washington": cap, "beijing": cap}
    with (
        two_stations(tmp_path, settings=settings, links_up=True) as (w, b),
        _silent_sockets(b.link_port, 40) as socks,
    ):
        wait_for(lambda: sum(map(_is_closed, socks)) >= 40 - 8, 5, what="the cap enforced")
        assert sum(map(_is_closed, socks)) <= 40 - 8 + 1  # up to 8 open: the newest silent ones
        # washington's next delivery evicts a silent socket (still handshaking) to get in.
        mid = _send(w, "Delivered through a full link port.", "FLASH")
        wait_for(lambda: _state(w, mid) == "delivered", 10, what="delivery through the full port")


def _hammer(station: StationProcess, token: str, until: float, answers: dict[int, int]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=station.api_url, headers=headers, timeout=10) as c:
        while time.monotonic() < until:
            with contextlib.suppress(httpx.HTTPError):
                r = c.post("/messages", json={"to": "beijing", "precedence": "ROUTINE", "text": "flood"})
                answers[r.status_code] = answers.get(r.status_code, 0) + 1


def test_during_a_flood_health_answers_and_flash_traffic_is_delivered(tmp_path: Path):
    with two_stations(tmp_path, links_up=True) as (w, b):
        flash_token = add_operator(w, "flash", Role.OPERATOR)
        until = time.monotonic() + 12
        answers: dict[int, int] = {}
        workers = [threading.Thread(target=_hammer, args=(w, w.token, until, answers)) for _ in range(4)]
        with _silent_sockets(w.link_port, 100), _silent_sockets(b.link_port, 100):
            for t in workers:
                t.start()
            try:
                time.sleep(3)  # the flood is on: the duty token is over its limit by now
                slowest_health = 0.0
                with httpx.Client(timeout=5) as c:
                    for _ in range(5):
                        start = time.monotonic()
                        assert c.get(f"{w.api_url}/health").status_code == 200
                        slowest_health = max(slowest_health, time.monotonic() - start)
                sent = time.monotonic()
                mid = _send(w, "FLASH during the flood: confirm receipt.", "FLASH", token=flash_token)
                wait_for(lambda: _state(w, mid, flash_token) == "delivered", 5, what="the FLASH receipted")
                receipted_after = time.monotonic() - sent
                assert time.monotonic() < until, "the flood ended before the FLASH was receipted"
                with b.client() as c:
                    assert c.get(f"/messages/{mid}").json()["precedence"] == "FLASH"
            finally:
                for t in workers:
                    t.join()
        assert answers.get(429, 0) > 0 and answers.get(201, 0) > 0, answers
        assert slowest_health < 1.0, slowest_health
        assert receipted_after < 5, receipted_after
