"""The watch on every console page, in Debian's Chromium against two live stations: the needs-action
panel and its FLASH alarm after 500 messages more, the link banner while the peer's process is
frozen, and the armed-sound check under the browser's own autoplay policy.

The stations test their link every second (``test_interval=1.0``: one unanswered test makes the link
degraded, three down) and take bulk sending through the API (``BULK_SENDING``). Each test saves a
screenshot to docs/screenshots/ (docs/console.md shows them).
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import SHOTS, WAIT_MS, another_chromium, chromium, login
from tests.support.checker import BULK_SENDING
from tests.support.console import console_info
from tests.support.stations import StationProcess, two_stations, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]

BULK = 500
FLASH_TITLE = re.compile(r"^⚠ FLASH · ")
DUE = re.compile(r"^due in (\d+:)?\d\d:\d\d · (\d\d-\d\d )?\d\d:\d\d:\d\dZ$")  # a date when not today


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, tuple[StationProcess, dict[str, Any]]]]:
    """washington and beijing testing their link every second, taking bulk sends; by station id,
    the process and what the browser tests need of its console (``console_info``)."""
    settings = {"washington": BULK_SENDING, "beijing": BULK_SENDING}
    root = tmp_path_factory.mktemp("alarm")
    with two_stations(root, links_up=True, test_interval=1.0, settings=settings) as stations:
        yield {s.station_id: (s, console_info(s)) for s in stations}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def send(station: StationProcess, precedence: str, text: str) -> str:
    with station.client() as client:
        answer = client.post(
            "/messages", json={"to": "beijing", "precedence": precedence, "text": text, "lang": "en"}
        )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def send_many(station: StationProcess, count: int) -> str:
    """``count`` ROUTINE texts to beijing through one API client; the last one's id."""
    with station.client() as client:
        for i in range(count):
            body = {"to": "beijing", "precedence": "ROUTINE", "text": f"routine {i}", "lang": "en"}
            answer = client.post("/messages", json=body)
            assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def has(station: StationProcess, message_id: str) -> bool:
    with station.client() as client:
        return client.get(f"/messages/{message_id}").status_code == 200


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(SHOTS) / name))


def test_a_flash_stays_in_sight_and_sounding_after_500_messages_more(pair, browser: Browser) -> None:
    (w, w_console), (b, b_console) = pair["washington"], pair["beijing"]
    beij = login(browser, b_console)
    wash = login(browser, w_console)
    flash = send(w, "FLASH", "Unannounced launch detected: acknowledge")
    need = beij.locator(f"#needs li[data-id='{flash}']")
    expect(need).to_be_visible(timeout=WAIT_MS)
    expect(need.locator(".due")).to_have_text(re.compile(r"^due in 0[45]:\d\d · \d\d:\d\d:\d\dZ$"))
    expect(beij.locator("#alarm")).to_be_visible()
    expect(wash.locator(f"#needs li[data-id='{flash}']")).to_be_visible(timeout=WAIT_MS)  # theirs to ack

    last = send_many(w, BULK)
    wait_for(lambda: has(b, last), 120.0, 0.5, f"beijing to have all {BULK} messages")
    expect(beij.locator(f"#inbox tr[data-id='{last}']")).to_be_visible(timeout=WAIT_MS)
    expect(beij.locator(f"#inbox tr[data-id='{flash}']")).to_have_count(0)  # the box moved on...
    beij.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # ...and the reader scrolled down it
    assert beij.evaluate("window.scrollY") > 1000
    expect(need).to_be_in_viewport()  # the panel did not move
    expect(need.locator(".prec")).to_have_text("FLASH")
    expect(beij.locator("#needs li.need").first).to_have_attribute("data-id", flash)  # FLASH first
    expect(beij.locator("#needs .more").first).to_contain_text(f"of {BULK + 1} shown")
    expect(beij.locator("#needs .more a").first).to_have_attribute("href", "/traffic")
    alarm = beij.locator("#alarm")
    expect(alarm).to_be_visible()
    expect(alarm).to_be_in_viewport()
    expect(alarm).to_have_attribute("data-audible", "on")
    expect(beij).to_have_title(FLASH_TITLE)
    expect(beij.locator("#inbox .due").first).to_have_text(DUE)  # the box's deadlines read the same way
    shot(beij, "alarm-needs-action-after-500.png")

    # Every page carries the watch: the alarm holds on the link panel too.
    other = login(browser, b_console)
    other.goto(b_console["console_url"] + "links")
    expect(other.locator("#alarm")).to_be_visible()
    expect(other.locator(f"#needs li[data-id='{flash}']")).to_be_visible()
    other.context.close()

    need.locator("button.ack").click()
    expect(alarm).to_be_hidden(timeout=WAIT_MS)
    expect(need).to_have_count(0)
    expect(beij).not_to_have_title(FLASH_TITLE)
    expect(wash.locator(f"#needs li[data-id='{flash}']")).to_have_count(0, timeout=WAIT_MS)
    wash.goto(w_console["console_url"] + f"messages/{flash}")
    expect(wash.locator(".state")).to_have_text("acknowledged")
    expect(wash.locator("main")).to_contain_text("beijing/duty")


def test_a_frozen_peer_raises_the_link_banner_on_the_traffic_page(pair, browser: Browser) -> None:
    (_w, w_console), (b, _b_console) = pair["washington"], pair["beijing"]
    wash = login(browser, w_console)
    light = wash.locator("#link-lights .light[data-peer='beijing']")
    expect(light).to_have_attribute("data-state", "up", timeout=WAIT_MS)
    banner = wash.locator("#link-banner")
    expect(banner).to_be_hidden()
    assert b.proc is not None
    os.kill(b.proc.pid, signal.SIGSTOP)
    try:
        expect(light).to_have_attribute("data-state", "down", timeout=WAIT_MS)  # three missed tests
        expect(banner).to_be_visible()
        expect(banner).to_be_in_viewport()
        expect(banner).to_contain_text("Beijing")
        expect(banner).to_contain_text(re.compile(r"since \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ"))
        expect(banner.locator(".why").first).to_contain_text("link test(s) in a row unanswered")
        expect(banner).to_have_attribute("data-audible", "on")
        assert wash.url.endswith("/traffic")
        shot(wash, "alarm-link-down.png")
    finally:
        os.kill(b.proc.pid, signal.SIGCONT)
    expect(light).to_have_attribute("data-state", "up", timeout=WAIT_MS)
    expect(banner).to_be_hidden(timeout=WAIT_MS)
    wash.goto(w_console["console_url"] + "links")
    errors = wash.locator("table.paths td.small")
    expect(errors.first).to_have_text("—")  # recovered: no stale error on the link panel


def test_a_blocked_audio_context_shows_the_arm_prompt_until_a_click(pair, browser: Browser) -> None:
    (w, _w_console), (_b, b_console) = pair["washington"], pair["beijing"]
    with another_chromium(browser, autoplay=False) as strict:
        page = login(strict, b_console)
        arm = page.locator("#arm-sound")
        # The login click carries over to the page it leads to: Chromium lets that page start audio.
        expect(page.locator("body")).to_have_attribute("data-audible", "on")
        expect(arm).to_be_hidden()
        # A page opened without a click (a reload, a new tab, a bookmark) may not: the prompt shows.
        # (Playwright's own checks give the page a user activation, but only a click resumes audio.)
        page.goto(b_console["console_url"] + "compose")
        expect(page.locator("body")).to_have_attribute("data-audible", "blocked")
        expect(arm).to_be_visible()
        expect(arm).to_be_in_viewport()
        flash = send(w, "FLASH", "Is your alarm armed?")
        expect(page.locator(f"#needs li[data-id='{flash}']")).to_be_visible(timeout=WAIT_MS)
        expect(page.locator("#alarm")).to_have_attribute("data-audible", "blocked")
        expect(arm).to_be_visible()
        shot(page, "alarm-sound-off-prompt.png")
        arm.click()
        expect(arm).to_be_hidden()
        expect(page.locator("#alarm")).to_have_attribute("data-audible", "on")
        expect(page.locator("body")).to_have_attribute("data-audible", "on")
        page.locator(f"#needs li[data-id='{flash}'] button.ack").click()
        expect(page.locator("#alarm")).to_be_hidden(timeout=WAIT_MS)
