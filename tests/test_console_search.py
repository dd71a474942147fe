"""Search in Debian's Chromium against two live stations (issue 11): a message sent 1,000
messages earlier is found from the console's search page. The stations take bulk sending
through the API (``BULK_SENDING``, as tests/test_console_alarm.py); the screenshot goes to
docs/screenshots/search-1000-earlier.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.browser import SHOTS, WAIT_MS, chromium, login
from tests.support.checker import BULK_SENDING
from tests.support.console import console_info
from tests.support.stations import StationProcess, two_stations

pytestmark = [pytest.mark.slow, pytest.mark.browser]
LATER = 1_000


@pytest.fixture(scope="module")
def washington(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StationProcess]:
    settings = {"washington": BULK_SENDING, "beijing": BULK_SENDING}
    with two_stations(tmp_path_factory.mktemp("search"), links_up=True, settings=settings) as stations:
        # The search is Washington's own: with Beijing stopped, each of the 1,001 sends is
        # Washington's work alone (queued, no delivery and receipt), which halves the test's time.
        next(s for s in stations if s.station_id == "beijing").stop()
        yield next(s for s in stations if s.station_id == "washington")


def test_search_finds_a_message_sent_1000_messages_earlier(washington: StationProcess) -> None:
    with washington.client() as client:
        body = {"to": "beijing", "precedence": "PRIORITY", "text": "Osprey corridor closes at dusk"}
        target = client.post("/messages", json=body)
        assert target.status_code == 201, target.text
        for i in range(LATER):
            body = {"to": "beijing", "precedence": "ROUTINE", "text": f"routine report {i}"}
            answer = client.post("/messages", json=body)
            assert answer.status_code == 201, answer.text
    target_id = target.json()["id"]
    station = console_info(washington)
    with chromium() as browser:
        page = login(browser, station)
        page.goto(station["console_url"] + "search")
        page.fill("input[name=q]", "osprey")
        page.click("form.search-form button[type=submit]")
        row = page.locator(f"tr[data-id='{target_id}']")
        expect(row).to_be_visible(timeout=WAIT_MS)
        expect(page.locator(".found-count")).to_have_text("Showing 1 of 1.")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / "search-1000-earlier.png"))
        row.locator("a.open").click()
        expect(page).to_have_url(station["console_url"] + f"messages/{target_id}")
