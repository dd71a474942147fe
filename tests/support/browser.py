"""Browser tests' shared parts: Debian's Chromium under Playwright, and logging in to a console.

The stations come from the ``demo`` fixture (tests/conftest.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.support.stations import StationProcess

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright never downloads a browser here
AUTOPLAY = "--autoplay-policy=no-user-gesture-required"  # audio without a click first (see chromium())
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    AUTOPLAY,
]
WAIT_MS = 20_000


def launch_args(autoplay: bool = True) -> list[str]:
    """Chromium's arguments; ``autoplay=False`` keeps the browser's own autoplay policy (a page may
    start audio only after a user gesture), as an operator's browser has it."""
    return ARGS if autoplay else [a for a in ARGS if a != AUTOPLAY]


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make setup` installs it"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=launch_args(), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def another_chromium(beside: Browser, autoplay: bool = True) -> Iterator[Browser]:
    """A second Chromium, from the Playwright that runs ``beside`` (a thread runs one Playwright)."""
    other = beside.browser_type.launch(executable_path=CHROMIUM, args=launch_args(autoplay), headless=True)
    try:
        yield other
    finally:
        other.close()


def login(
    browser: Browser, station: dict[str, Any], name: str = "duty", viewport: tuple[int, int] = (1360, 860)
) -> Page:
    """A new browser context logged in to ``station``'s console as the demo account ``name``."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="en-US")
    page = context.new_page()
    account = next(a for a in station["logins"] if a["name"] == name)
    page.goto(station["console_url"] + "login")
    page.fill("input[name=name]", account["name"])
    page.fill("input[name=password]", account["password"])
    page.click("button[type=submit]")
    expect(page).to_have_url(station["console_url"] + "traffic")
    return page


def tab_login(context: BrowserContext, station: StationProcess, name: str, password: str) -> Page:
    """A new tab of ``context`` logged in to ``station``'s console as ``name``."""
    page = context.new_page()
    page.goto(station.console_url + "login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(station.console_url + "traffic")
    return page
