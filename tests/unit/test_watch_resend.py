"""The peer's view of our watch is never stale: every change is reported, and the station reports
its watch again when it starts (a change whose report a crash lost, or made while it was down)."""

from __future__ import annotations

import ssl
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from redline.domain.clock import format_ts
from redline.domain.stations import Role
from redline.domain.watch import Position
from redline.runtime import Station
from redline.services import operators
from redline.services.assurance import change_suspension
from redline.services.station import load_identity
from redline.store.watch import WatchStore
from redline.transport.failover import FailoverTransport
from redline.transport.mounts import Mounts
from redline.web.app import create_link_app
from redline.web.console.attention import attention_context, fragments
from tests.support.inprocess import InProcessPair, eventually, inprocess_pair

pytestmark = pytest.mark.anyio


async def _held_at_peer(station: Station, peer: str) -> set[tuple[str, str]]:
    return {(w.position.value, w.officer) for w in await station.watch.peer_watch() if w.peer_id == peer}


async def test_a_change_reaches_the_peer(pair: InProcessPair) -> None:
    w, b = pair
    token = await operators.add_operator(w.store, "hale", Role.OPERATOR, pair.clock)
    hale = await w.auth.authenticate(f"Bearer {token}")
    await w.watch.sign_on(hale, Position.DUTY_OFFICER)

    async def seen() -> bool:
        return await _held_at_peer(b, "washington") == {("duty_officer", "hale")}

    await eventually(seen, "beijing to hear that hale holds duty officer")


async def test_a_restarted_station_reports_its_watch_again(tmp_path: Path) -> None:
    async with inprocess_pair(tmp_path) as pair:
        clock, network, apps = pair.clock, pair.network, pair.apps
    # Stopped: a position taken whose report never left (as if the station died between the
    # change's commit and its report).
    async with AsyncExitStack() as stack:
        stations = {}
        for sid in ("washington", "beijing"):
            directory = tmp_path / sid
            der = ssl.PEM_cert_to_DER_cert(load_identity(directory).tls_certificate)
            transport = FailoverTransport(Mounts({"https": network.for_station(der)}), clock)
            station = await stack.enter_async_context(
                Station.open(directory, clock=clock, transport=transport)
            )
            network.register(apps[sid][0], create_link_app(station.link_endpoint()))
            stations[sid] = station
        w, b = stations["washington"], stations["beijing"]
        await operators.add_operator(w.store, "ortiz", Role.OPERATOR, clock)
        assert await WatchStore(w.store).sign_on(Position.SUPERVISOR, "ortiz", format_ts(clock.now()))
        assert await _held_at_peer(b, "washington") == set()
        await stack.enter_async_context(w.running())
        await stack.enter_async_context(b.running())

        async def seen() -> bool:
            return await _held_at_peer(b, "washington") == {("supervisor", "ortiz")}

        await eventually(seen, "beijing to hear washington's watch after the restart")


async def test_the_live_stream_carries_the_on_watch_line_and_the_link_title(pair: InProcessPair) -> None:
    """What watch.js puts in the header and the page title: the on-watch line once a position
    changes, and the worst link state while a link is in trouble (in the reader's language)."""
    w = pair.washington
    duty = pair.duty(w)
    before = fragments(await attention_context(w.services(), duty, "en"), "en", csrf="t")
    assert "nobody has signed on" in before["on_watch"] and before["link_title"] == ""
    token = await operators.add_operator(w.store, "brooks", Role.OPERATOR, pair.clock)
    await w.services().accounts.set_display_name("brooks", "Col James Brooks", "admin")
    await w.watch.sign_on(await w.auth.authenticate(f"Bearer {token}"), Position.DUTY_OFFICER)
    after = fragments(await attention_context(w.services(), duty, "en"), "en", csrf="t")
    assert "Duty officer: Col James Brooks" in after["on_watch"]
    assert "nobody" not in after["on_watch"]

    peer = await w.peers.get("beijing")
    assert peer is not None
    await change_suspension(w.outbox, w.store, duty, peer, True, "exercise")

    async def titled() -> dict[str, object] | None:
        shown = fragments(await attention_context(w.services(), duty, "zh-Hans"), "zh-Hans", csrf="t")
        return shown if shown["link_alarm"] else None

    shown = await eventually(titled, "the suspended link in washington's watch")
    assert shown["link_title"] == "链路已暂停"
    english = fragments(await attention_context(w.services(), duty, "en"), "en", csrf="t")
    assert english["link_title"] == "LINK SUSPENDED"
