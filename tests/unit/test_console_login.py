"""The console's login form over HTTP, in process (httpx's ASGITransport into the station's own app):
every refusal is the same answer, byte for byte, even the right password on a locked account."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from redline.domain.stations import Role
from redline.services import operators
from redline.services.accounts import FREE_FAILURES, LOGIN_REFUSED
from redline.web.app import create_api_app
from tests.support.inprocess import InProcessPair

pytestmark = pytest.mark.anyio

PASSWORD = "carol's right password, long enough"
FORM_CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]*)">')
ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)


@pytest.fixture
async def console(pair: InProcessPair) -> AsyncIterator[httpx.AsyncClient]:
    """A browser on washington's console (https, so its Secure cookies are kept), with carol's account."""
    w = pair.washington
    await operators.add_operator(w.store, "carol", Role.OPERATOR, pair.clock)
    await w.services().accounts.set_password("carol", PASSWORD, "admin")
    app = create_api_app(w.services())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1") as client:
        yield client


async def submit(console: httpx.AsyncClient, name: str, password: str, **headers: str) -> httpx.Response:
    form = await console.get("/login", headers=headers)
    found = FORM_CSRF.search(form.text)
    assert form.status_code == 200 and found, form.text
    data = {"csrf": html.unescape(found.group(1)), "name": name, "password": password, "code": ""}
    return await console.post("/login", data=data, headers=headers)


def answer(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    return response.status_code, sorted(response.headers.multi_items()), response.content


def error_text(response: httpx.Response) -> str:
    found = ERROR.search(response.text)
    assert found, response.text
    return html.unescape(found.group(1).strip())


async def test_a_locked_account_with_the_right_password_reads_exactly_like_a_wrong_password(
    pair: InProcessPair, console: httpx.AsyncClient
) -> None:
    first = await submit(console, "carol", "a wrong password, number 0")
    assert first.status_code == 401 and "redline_session_washington" not in console.cookies
    assert error_text(first) == LOGIN_REFUSED
    for attempt in range(1, FREE_FAILURES):
        wrong = await submit(console, "carol", f"a wrong password, number {attempt}")
        assert answer(wrong) == answer(first), attempt

    # Locked now: the right password is refused in exactly the same bytes, and so is a wrong one.
    locked = await submit(console, "carol", PASSWORD)
    assert answer(locked) == answer(first)
    assert answer(await submit(console, "carol", "yet another wrong one")) == answer(first)
    unknown = await submit(console, "nobody", PASSWORD)
    assert unknown.status_code == 401 and error_text(unknown) == LOGIN_REFUSED
    assert "redline_session_washington" not in console.cookies

    # The one message is translated; a form left empty is a different, plain input error.
    chinese = await submit(console, "carol", PASSWORD, **{"accept-language": "zh-CN"})
    assert chinese.status_code == 401
    assert error_text(chinese).startswith("登录被拒绝") and "一次性验证码" in error_text(chinese)
    empty = await submit(console, "carol", "")
    assert empty.status_code == 400 and error_text(empty) == "user name and password: both are required"

    # When the lock has run out, the right password gets in.
    await pair.clock.advance(31)
    welcome = await submit(console, "carol", PASSWORD)
    assert welcome.status_code == 303 and welcome.headers["location"] == "/traffic"
    assert "redline_session_washington" in console.cookies


async def test_each_station_reads_only_its_own_cookie_and_refuses_the_others_token(
    pair: InProcessPair,
) -> None:
    """Two consoles on one host share the browser's cookies (ports do not separate them): each
    station names its cookies after itself, and a token one station issued is unknown to the other."""
    w, b = pair.washington, pair.beijing
    for station in (w, b):
        await operators.add_operator(station.store, "carol", Role.OPERATOR, pair.clock)
        await station.services().accounts.set_password("carol", PASSWORD, "admin")
    w_app, b_app = create_api_app(w.services()), create_api_app(b.services())
    base = "https://127.0.0.1"
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=w_app), base_url=base) as wc,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=b_app), base_url=base) as bc,
    ):
        assert (await submit(wc, "carol", PASSWORD)).status_code == 303
        assert set(wc.cookies) == {"redline_login_washington", "redline_session_washington"}
        w_token = wc.cookies["redline_session_washington"]
        assert (await wc.get("/traffic")).status_code == 200

        # Beijing ignores Washington's cookie, even with the same account name and password ...
        shared = {"redline_session_washington": w_token}
        assert (await sending(bc, "/traffic", shared)).headers["location"] == "/login"
        # ... and refuses Washington's token under its own name: its sessions are its own.
        copied = {"redline_session_beijing": w_token}
        assert (await sending(bc, "/traffic", copied)).headers["location"] == "/login"
        assert (await sending(bc, "/events?page=traffic", copied)).status_code == 401

        # Logging in to Beijing in the same "browser" (both cookies sent to both) logs nobody out.
        bc.cookies.update(wc.cookies)
        assert (await submit(bc, "carol", PASSWORD)).status_code == 303
        both = {**wc.cookies, **bc.cookies}
        assert {"redline_session_washington", "redline_session_beijing"} <= set(both)
        assert both["redline_session_washington"] == w_token
        assert (await sending(wc, "/traffic", both)).status_code == 200
        assert (await sending(bc, "/traffic", both)).status_code == 200


async def sending(client: httpx.AsyncClient, path: str, cookies: dict[str, str]) -> httpx.Response:
    """GET with exactly these cookies (an explicit Cookie header; the client's jar then stays out)."""
    header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return await client.get(path, headers={"cookie": header})
