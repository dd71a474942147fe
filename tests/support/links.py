"""Two real stations on loopback, testing their link every second, and the HTTP calls the link
tests make: shared by tests/test_link_assurance.py and tests/test_link_paths.py.

Stations here test every second (``two_stations(test_interval=1.0)``): an unanswered test is missed
after 1 s, one miss makes the link degraded, three make it down.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from redline.domain.stations import Role
from tests.support.stations import Placement, StationProcess, add_operator, two_stations, wait_for

INTERVAL = 1.0
SUPERVISOR = "chief"


def add_supervisor(station: StationProcess) -> str:
    return add_operator(station, SUPERVISOR, Role.SUPERVISOR)


@contextlib.contextmanager
def running_pair(
    root: Path,
    backend: str = "sqlite",
    *,
    beijing_endpoints: list[str] | None = None,
    beijing_link_port: int | None = None,
    beijing_first: bool = False,
) -> Iterator[tuple[StationProcess, StationProcess, str]]:
    """washington and beijing testing every second, running; yields them and a supervisor token
    for washington. ``beijing_endpoints`` (with ``beijing_link_port``) is what beijing's card
    advertises, in order of preference."""
    placements = {}
    if beijing_endpoints is not None:
        assert beijing_link_port is not None
        listed = beijing_endpoints
        placements["beijing"] = Placement(link_port=beijing_link_port, endpoints=lambda _port: listed)
    with two_stations(root, backend, start=False, test_interval=INTERVAL, placements=placements) as (w, b):
        chief = add_supervisor(w)
        for s in (b, w) if beijing_first else (w, b):
            s.start()
        yield w, b, chief


def get(station: StationProcess, path: str, token: str | None = None, **params: Any) -> Any:
    with station.client(token) as c:
        r = c.get(path, params=params)
    assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text}"
    return r.json()


def status(station: StationProcess, path: str) -> int:
    with station.client() as c:
        return c.get(path).status_code


def post(station: StationProcess, path: str, token: str | None = None, **body: Any) -> httpx.Response:
    with station.client(token) as c:
        return c.post(path, json=body)


def send_text(station: StationProcess, to: str, text: str) -> httpx.Response:
    return post(station, "/messages", to=to, precedence="ROUTINE", text=text, lang="en")


def send_ok(station: StationProcess, to: str, text: str) -> str:
    r = send_text(station, to, text)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def link(station: StationProcess, peer: str) -> dict[str, Any]:
    return dict(get(station, f"/links/{peer}"))


def state(station: StationProcess, peer: str) -> str:
    return str(link(station, peer)["state"])


def wait_up(station: StationProcess, peer: str, timeout: float = 20.0) -> None:
    wait_for(lambda: state(station, peer) == "up", timeout, 0.1, f"{station.station_id}'s link to {peer} up")


def delivered(station: StationProcess, message_id: str) -> bool:
    return get(station, f"/messages/{message_id}")["state"] in ("delivered", "acknowledged")


def wait_for_receipts(station: StationProcess, message_ids: list[str], peer: str) -> None:
    def missing() -> list[str]:
        return [m for m in message_ids if get(station, f"/messages/{m}")["receipt"] is None]

    left: list[str] = []

    def all_receipted() -> bool:
        left[:] = missing()
        return not left

    with contextlib.suppress(AssertionError):
        wait_for(all_receipted, 8.0, 0.2, "receipts")
    rows = [get(station, f"/messages/{m}") for m in left]
    assert not left, f"{station.station_id} never recorded {peer}'s receipt for: " + "; ".join(
        f"{r['kind']} seq {r['seq']} state {r['state']} delivered_at {r['delivered_at']}" for r in rows
    )
    for m in message_ids:
        receipt = get(station, f"/messages/{m}")["receipt"]
        assert receipt["by"] == peer and receipt["signature_verified"] is True
