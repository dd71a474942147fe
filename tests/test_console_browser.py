"""The console in a real browser: Debian's Chromium driven by Playwright against a live demo.

Two duty officers, one per station, each in their own browser context. Nothing
here reloads a page to see a change: every "appears" is the live event stream
at work. A marker set in the page's JavaScript before each wait must survive
it, which proves no navigation happened. Screenshots of both consoles are
written to docs/screenshots/ (the README shows them).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import SHOTS, WAIT_MS
from tests.support.browser import login as shared_login

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def login(browser: Browser, station: dict[str, Any], name: str = "duty") -> Page:
    page = shared_login(browser, station, name)
    page.on("dialog", lambda d: pytest.fail(f"a dialog opened: {d.message!r} (script injection?)"))
    return page


def mark(page: Page) -> None:
    """Set a marker that only survives if the page is not reloaded or left."""
    page.evaluate("window.__redlineMarker = 'still here'")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__redlineMarker") == "still here", "the page was reloaded"


def send(
    page: Page,
    console_url: str,
    precedence: str,
    text: str | None = None,
    phrase: dict[str, Any] | None = None,
) -> None:
    page.goto(console_url + "compose")
    page.select_option("select[name=to]", "beijing")
    page.select_option("#precedence", precedence)
    if phrase is None:
        page.fill("textarea[name=text]", text or "")
    else:
        page.check("input[name=mode][value=phrase]")
        page.select_option("#phrase-code", phrase["code"])
        for name, value in phrase["params"].items():
            page.fill(f"input[name='param.{name}']", value)
    page.click("#compose-form button[type=submit]")
    expect(page).to_have_url(re.compile(r".*/traffic\?sent=[0-9a-f]{32}$"))


def test_flash_alarm_acknowledgement_language_and_refusals(demo: dict[str, Any], browser: Browser) -> None:
    w, b = demo["washington"], demo["beijing"]
    wash = login(browser, w)
    beij = login(browser, b)
    mark(beij)
    expect(beij.locator("#alarm")).to_be_hidden()

    # A FLASH from Washington, with markup in it, appears in Beijing without a reload, with the alarm.
    hostile = "Close call near 20N 130E <script>alert('x')</script><b>bold?</b>"
    send(wash, w["console_url"], "FLASH", hostile)
    row = beij.locator("#inbox tr.prec-flash").first
    expect(row).to_be_visible(timeout=WAIT_MS)
    assert_not_reloaded(beij)
    expect(row.locator(".text")).to_have_text(hostile)  # shown as text, markup and all
    assert beij.locator("#inbox b").count() == 0, "message HTML was rendered"
    assert beij.evaluate("[...document.scripts].some(s => s.textContent.includes(\"alert('x')\"))") is False
    expect(beij.locator("#alarm")).to_be_visible()
    expect(beij.locator("#alarm")).to_contain_text("FLASH")
    expect(beij.locator("body")).to_have_class(re.compile("alarm-on"))
    expect(beij.locator("#alarm")).to_have_attribute("data-audible", "on")
    expect(row.locator(".countdown")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    beij.screenshot(path=str(SHOTS / "beijing-flash-alarm.png"))

    # Washington watches its outbox while Beijing acknowledges.
    wash.goto(w["console_url"] + "traffic")
    mark(wash)
    out_row = wash.locator("#outbox tr.prec-flash").first
    expect(out_row.locator(".state")).to_have_text("delivered", timeout=WAIT_MS)
    row.locator("button.ack").click()
    expect(beij.locator("#alarm")).to_be_hidden(timeout=WAIT_MS)
    expect(out_row.locator(".state")).to_have_text("acknowledged", timeout=WAIT_MS)
    assert_not_reloaded(wash)
    expect(out_row).to_contain_text("beijing/duty")
    wash.screenshot(path=str(SHOTS / "washington-acknowledged.png"))

    # A standard phrase, read in Chinese once Beijing switches language.
    send(wash, w["console_url"], "IMMEDIATE", phrase={"code": "REQ-01", "params": {"minutes": "15"}})
    beij.goto(b["console_url"] + "traffic")
    expect(beij.locator("#inbox .code", has_text="REQ-01")).to_be_visible(timeout=WAIT_MS)
    beij.select_option("#language", "zh-Hans")
    expect(beij.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(beij.locator("#inbox")).to_contain_text("请求在15分钟内进行语音通话。", timeout=WAIT_MS)
    expect(beij.locator("main h2").first).to_have_text("收件箱")  # the interface itself, not just the phrase
    beij.screenshot(path=str(SHOTS / "beijing-zh-hans.png"))
    wash.goto(w["console_url"] + "compose")
    wash.screenshot(path=str(SHOTS / "washington-compose.png"))
    wash.goto(w["console_url"] + "links")
    expect(wash.locator(".link .link-state")).to_have_text("up", timeout=WAIT_MS)
    wash.screenshot(path=str(SHOTS / "washington-links.png"))

    # Refusals: no session, no CSRF token, an operator on an admin page.
    anonymous = browser.new_context().new_page()
    anonymous.goto(b["console_url"] + "traffic")
    expect(anonymous).to_have_url(b["console_url"] + "login")
    no_csrf = wash.request.post(
        w["console_url"] + "compose",
        form={"to": "beijing", "precedence": "FLASH", "mode": "text", "text": "forged", "lang": "en"},
    )
    assert no_csrf.status == 403, no_csrf.status
    admin = wash.goto(w["console_url"] + "admin")
    assert admin is not None and admin.status == 403
    expect(wash.locator(".error")).to_contain_text("may not administer")
    wash.goto(w["console_url"] + "traffic")
    expect(wash.locator("#outbox")).not_to_contain_text("forged")
