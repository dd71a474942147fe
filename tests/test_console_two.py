"""Two consoles on one host, side by side: Washington and Beijing in two tabs of one Chromium
context (one cookie jar, as one browser has), both logged in at once; a FLASH sent from one tab is
acknowledged in the other without either being logged out. Browsers share cookies across ports,
so this works only because each station names its cookies after itself. Over plain HTTP against
the same live stations: a session cookie of one station is refused by the other.
Screenshot: docs/screenshots/two-consoles.png (the two tabs side by side)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.support.browser import SHOTS, WAIT_MS, tab_login
from tests.support.console import ConsoleClient, create_account
from tests.support.stations import StationProcess, two_stations, wait_for

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StationProcess, StationProcess]]:
    with two_stations(tmp_path_factory.mktemp("two"), links_up=True) as stations:
        yield stations


def test_a_session_cookie_of_one_station_is_refused_by_the_other(
    pair: tuple[StationProcess, StationProcess],
) -> None:
    w, b = pair
    alice = create_account(w, "alice2")
    with ConsoleClient(w) as wc, ConsoleClient(b) as bc:
        wc.login(alice)
        token = wc.cookies["redline_session_washington"]
        bc.cookies = {"redline_session_washington": token}  # what one browser sends to both ports
        assert bc.get("/traffic").headers["location"] == "/login"
        bc.cookies = {"redline_session_beijing": token}  # copied under Beijing's own name
        assert bc.get("/traffic").headers["location"] == "/login"
        assert bc.get("/events?page=traffic").status_code == 401
        assert wc.get("/traffic").status_code == 200  # Washington's session is untouched


@pytest.mark.browser
def test_two_consoles_logged_in_at_once_in_one_browser(
    pair: tuple[StationProcess, StationProcess], browser: Browser
) -> None:
    w, b = pair
    hale, wang = create_account(w, "hale"), create_account(b, "wang")
    context = browser.new_context(viewport={"width": 900, "height": 860}, locale="en-US")
    try:
        wash = tab_login(context, w, hale.name, hale.password)
        beij = tab_login(context, b, wang.name, wang.password)  # after Washington's: must not log it out
        names = {c["name"] for c in context.cookies()}
        assert {"redline_session_washington", "redline_session_beijing"} <= names

        wash.goto(w.console_url + "compose")
        wash.select_option("select[name=to]", "beijing")
        wash.select_option("#precedence", "FLASH")
        wash.fill("textarea[name=text]", "Two consoles, one browser: acknowledge this FLASH")
        wash.click("#compose-form button[type=submit]")
        expect(wash).to_have_url(re.compile(r".*/traffic\?sent=([0-9a-f]{32})$"))
        sent = wash.url.rsplit("=", 1)[1]

        # Beijing's tab, logged in all along, shows the FLASH live and acknowledges it.
        beij.bring_to_front()
        expect(beij.locator("#alarm")).to_be_visible(timeout=WAIT_MS)
        beij.goto(b.console_url + f"messages/{sent}")
        beij.locator("main button.ack").click()
        expect(beij.locator("dl.facts")).to_contain_text("acknowledged", timeout=WAIT_MS)

        # Washington's tab is still logged in and sees the acknowledgement. A message page shows its
        # state as of its loading (it is not live), so it is opened once the acknowledgement is in.
        with w.client() as api:
            wait_for(
                lambda: api.get(f"/messages/{sent}").json().get("state") == "acknowledged",
                what="Beijing's acknowledgement at Washington",
            )
        wash.bring_to_front()
        wash.goto(w.console_url + f"messages/{sent}")
        expect(wash).to_have_url(w.console_url + f"messages/{sent}")
        expect(wash.locator("dl.facts")).to_contain_text("acknowledged", timeout=WAIT_MS)
        beij.goto(b.console_url + "traffic")
        expect(beij).to_have_url(b.console_url + "traffic")

        shots = [SHOTS / "two-consoles-washington.png", SHOTS / "two-consoles-beijing.png"]
        wash.screenshot(path=str(shots[0]))
        beij.screenshot(path=str(shots[1]))
        side_by_side(context, shots, SHOTS / "two-consoles.png")
    finally:
        context.close()


def side_by_side(context: BrowserContext, shots: list[Path], target: Path) -> None:
    """Both tabs' screenshots in one image, drawn by the browser itself (no imaging library)."""
    images = "".join(
        f'<img src="data:image/png;base64,{base64.b64encode(s.read_bytes()).decode()}">' for s in shots
    )
    page = context.new_page()
    page.set_viewport_size({"width": 1800, "height": 860})
    page.set_content(f'<body style="margin:0;display:flex">{images}</body>')
    page.screenshot(path=str(target))
    page.close()


@pytest.mark.browser
def test_the_on_watch_line_and_the_link_title_change_live(
    pair: tuple[StationProcess, StationProcess], browser: Browser
) -> None:
    """Another officer signs on (from another browser, over HTTP): the open page's header says so
    without a reload. The link is suspended: the title carries the link alarm until it resumes."""
    w, _b = pair
    ortiz, sup = create_account(w, "ortiz"), create_account(w, "brooks", "supervisor")
    viewer = create_account(w, "viewer")
    context = browser.new_context(viewport={"width": 1200, "height": 860}, locale="en-US")
    try:
        page = tab_login(context, w, viewer.name, viewer.password)
        expect(page.locator("#on-watch")).not_to_contain_text("ortiz")
        with ConsoleClient(w) as other:
            other.login(ortiz)
            assert other.post("/watch/duty_officer/sign-on").status_code == 303
        expect(page.locator("#on-watch")).to_contain_text("Duty officer: ortiz", timeout=WAIT_MS)

        with w.client(sup.token) as api:
            r = api.post("/links/beijing/suspend", json={"reason": "title test"})
            assert r.status_code in (200, 201, 202), r.text
            expect(page).to_have_title(re.compile(r"^⚠ LINK SUSPENDED · "), timeout=WAIT_MS)
            page.screenshot(path=str(SHOTS / "two-consoles-live-watch.png"))
            r = api.post("/links/beijing/resume", json={"reason": "title test over"})
            assert r.status_code in (200, 201, 202), r.text
        expect(page).not_to_have_title(re.compile("LINK"), timeout=WAIT_MS)
    finally:
        context.close()
