"""Limits of the operator API and console, in-process on the mock clock: the rate limit per operator
token and per failing client address (429 + Retry-After), the allowed Host names, and the cap on
live streams per console session."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from redline.domain.stations import Role
from redline.errors import StationConfigError
from redline.services import operators
from redline.services.limits import RateLimit, RateLimiter
from redline.services.queries import StationServices
from redline.services.station import StationConfig
from redline.web.app import create_api_app
from redline.web.console.live import MAX_STREAMS_PER_SESSION
from tests.support.inprocess import InProcessPair

pytestmark = pytest.mark.anyio


def _limited(pair: InProcessPair, rate: float, burst: int) -> StationServices:
    services = pair.washington.services()
    return dataclasses.replace(services, api_limits=RateLimiter(RateLimit(rate, burst), pair.clock))


@asynccontextmanager
async def _client(app: Any, host: str = "127.0.0.1:8080") -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as client:
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_an_operator_over_the_rate_limit_gets_429_with_retry_after_and_others_do_not(
    pair: InProcessPair,
):
    app = create_api_app(_limited(pair, rate=2, burst=3))
    w = pair.washington
    duty = await operators.add_operator(w.store, "busy", Role.OPERATOR)
    other = await operators.add_operator(w.store, "calm", Role.OPERATOR)
    async with _client(app) as c:
        for _ in range(3):
            assert (await c.get("/api/v1/whoami", headers=_bearer(duty))).status_code == 200
        refused = await c.get("/api/v1/whoami", headers=_bearer(duty))
        assert refused.status_code == 429, refused.text
        assert refused.headers["Retry-After"] == "1"
        error = refused.json()["error"]
        assert error["code"] == "rate_limited" and "operator busy" in error["message"]
        assert (await c.get("/api/v1/whoami", headers=_bearer(other))).status_code == 200
        for _ in range(10):  # health is never limited
            assert (await c.get("/api/v1/health")).status_code == 200
        await pair.clock.advance(0.5)  # one request back at 2 a second
        assert (await c.get("/api/v1/whoami", headers=_bearer(duty))).status_code == 200
        assert (await c.get("/api/v1/whoami", headers=_bearer(duty))).status_code == 429


async def test_failed_tokens_are_limited_per_client_address_before_any_token_is_checked(
    pair: InProcessPair,
):
    app = create_api_app(_limited(pair, rate=0.2, burst=3))
    good = await operators.add_operator(pair.washington.store, "guard", Role.OPERATOR)
    async with _client(app) as c:
        for i in range(3):
            r = await c.get("/api/v1/whoami", headers=_bearer(f"rl_guess{i}"))
            assert r.status_code == 401
        guessed = await c.get("/api/v1/whoami", headers=_bearer("rl_guess3"))
        assert guessed.status_code == 429 and guessed.headers["Retry-After"] == "5"
        assert "client 127.0.0.1" in guessed.json()["error"]["message"]
        # While the address is over its limit, even a right token from it is not looked at.
        assert (await c.get("/api/v1/whoami", headers=_bearer(good))).status_code == 429
        await pair.clock.advance(5)
        assert (await c.get("/api/v1/whoami", headers=_bearer(good))).status_code == 200


async def test_the_limiter_forgets_idle_callers_and_stays_bounded(pair: InProcessPair):
    limiter = RateLimiter(RateLimit(10, 5), pair.clock, max_buckets=100)
    for i in range(1000):
        limiter.take(f"address:{i}", "someone")
        assert len(limiter) <= 100
    await pair.clock.advance(1)  # every bucket has refilled: the next sweep drops them all
    for i in range(101):
        limiter.take(f"operator:{i}", "someone")
    assert len(limiter) <= 100
    off = RateLimiter(RateLimit(0, 1), pair.clock)
    for _ in range(1000):
        off.take("operator:x", "x")
    assert len(off) == 0


async def test_a_foreign_host_is_refused_and_the_stations_own_names_are_answered(pair: InProcessPair):
    config = pair.washington.me.config
    hosts = dataclasses.replace(config, api_host="127.0.0.1").api_hosts()
    assert hosts == ["127.0.0.1", "localhost", "[::1]"]
    app = create_api_app(pair.washington.services(), allowed_hosts=hosts)
    for host in ("127.0.0.1:8080", "localhost:8080", "[::1]:8080", "LOCALHOST"):
        async with _client(app, host) as c:
            assert (await c.get("/api/v1/health")).status_code == 200, host
    for host in ("attacker.example:8080", "127.0.0.2:8080", "localhost.attacker.example"):
        async with _client(app, host) as c:
            assert (await c.get("/api/v1/health")).status_code == 400, host
            assert (await c.get("/login")).status_code == 400, host
    named = create_api_app(pair.washington.services(), allowed_hosts=["hotline.example.mil"])
    async with _client(named, "hotline.example.mil:443") as c:
        assert (await c.get("/api/v1/health")).status_code == 200
    async with _client(named, "127.0.0.1:8080") as c:
        assert (await c.get("/api/v1/health")).status_code == 400


def test_allowed_hosts_follow_api_host_unless_set(tmp_path: Path):
    base = StationConfig("washington", "Washington", "sqlite:///x")
    assert dataclasses.replace(base, api_host="10.1.2.3").api_hosts() == ["10.1.2.3"]
    assert dataclasses.replace(base, api_host="0.0.0.0").api_hosts() == ["127.0.0.1", "localhost", "[::1]"]
    assert dataclasses.replace(base, api_host="::1").api_hosts() == ["[::1]", "127.0.0.1", "localhost"]
    chosen = dataclasses.replace(base, allowed_hosts=["Hotline.example.mil", "::1", "*.example.org"])
    assert chosen.api_hosts() == ["hotline.example.mil", "[::1]", "*.example.org"]
    data = {k: v for k, v in dataclasses.asdict(base).items()}
    for bad in (
        {"allowed_hosts": "localhost"},
        {"allowed_hosts": ["localhost:8080"]},
        {"allowed_hosts": ["bad host"]},
        {"api_rate_limit": -1},
        {"api_rate_burst": 0},
        {"api_rate_burst": 2.5},
        {"link_max_connections": 0},
        {"link_handshake_timeout": 0},
        {"link_header_timeout": "10"},
    ):
        with pytest.raises(StationConfigError, match=next(iter(bad))):
            StationConfig.from_json({**data, **bad}, tmp_path / "station.json")


class _Stream:
    """One GET /events driven through the app by hand: its status, and a way to close it."""

    def __init__(self, app: Any, cookie: str) -> None:
        self.started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.headers: dict[str, str] = {}
        self.gone = asyncio.Event()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/events",
            "raw_path": b"/events",
            "query_string": b"page=traffic",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1:8080"),
                (b"cookie", f"redline_session_washington={cookie}".encode()),
            ],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8080),
        }
        self.task = asyncio.create_task(app(scope, self._receive, self._send))

    async def _receive(self) -> dict[str, Any]:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and not self.started.done():
            self.headers = {k.decode(): v.decode() for k, v in message["headers"]}
            self.started.set_result(message["status"])

    async def close(self) -> None:
        self.gone.set()
        await asyncio.wait_for(self.task, 5)


async def test_a_session_holds_at_most_four_live_streams_and_a_closed_one_frees_its_slot(
    pair: InProcessPair,
):
    services = pair.washington.services()
    await operators.add_operator(pair.washington.store, "watcher", Role.OPERATOR)
    await services.accounts.set_password("watcher", "correct horse battery", actor="test")
    token, session = await services.accounts.login("watcher", "correct horse battery", None)
    app = create_api_app(services)
    streams = [_Stream(app, token) for _ in range(MAX_STREAMS_PER_SESSION)]
    assert [await asyncio.wait_for(s.started, 5) for s in streams] == [200] * MAX_STREAMS_PER_SESSION
    refused = _Stream(app, token)
    assert await asyncio.wait_for(refused.started, 5) == 429
    assert refused.headers["retry-after"] == "5"
    await asyncio.wait_for(refused.task, 5)
    await streams[0].close()
    again = _Stream(app, token)
    assert await asyncio.wait_for(again.started, 5) == 200
    for s in [*streams[1:], again]:
        await s.close()
    assert app.state.live_streams.open(session.token_hash) == 0
