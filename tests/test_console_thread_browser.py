"""A reply is threaded under its request, in real Chromium against the live demo stations:
Washington sends a REQ phrase, Beijing replies with a REP phrase from the message page, and
both consoles show the conversation (screenshot docs/screenshots/thread-reply.png)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.support.browser import SHOTS, WAIT_MS, login
from tests.test_console_browser import send

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_a_reply_is_threaded_under_its_request(demo: dict[str, Any], browser: Browser) -> None:
    w, b = demo["washington"], demo["beijing"]
    wash, beij = login(browser, w), login(browser, b)
    send(wash, w["console_url"], "IMMEDIATE", phrase={"code": "REQ-01", "params": {"minutes": "15"}})
    request_id = wash.url.rsplit("sent=", 1)[1]

    beij.goto(b["console_url"] + "unanswered")
    expect(beij.locator(f"tr[data-id='{request_id}']")).to_be_visible(timeout=WAIT_MS)
    beij.goto(b["console_url"] + f"messages/{request_id}")
    beij.click("a.reply-phrase")
    expect(beij.locator("input[name=in_reply_to]")).to_have_value(request_id)
    beij.select_option("#phrase-code", "REP-09")
    beij.fill("input[name='param.time']", "2030-01-01T10:00:00Z")
    beij.click("#compose-form button[type=submit]")
    expect(beij).to_have_url(re.compile(r".*/traffic\?sent=[0-9a-f]{32}$"))
    reply_id = beij.url.rsplit("sent=", 1)[1]
    expect(beij.locator(f"#outbox tr[data-id='{reply_id}'] .reply-to")).to_contain_text(request_id[:8])

    for page, station in ((beij, b), (wash, w)):
        page.goto(station["console_url"] + f"messages/{request_id}")
        item = page.locator(f"#thread li[data-id='{reply_id}']")
        expect(item).to_be_visible(timeout=WAIT_MS)
        expect(item).to_contain_text("REP-09")
        expect(page.locator(f"#thread li[data-id='{request_id}']")).to_contain_text("REQ-01")
    SHOTS.mkdir(parents=True, exist_ok=True)
    wash.screenshot(path=str(SHOTS / "thread-reply.png"), full_page=True)
    beij.goto(b["console_url"] + "unanswered")
    expect(beij.locator(f"tr[data-id='{request_id}']")).to_have_count(0)
