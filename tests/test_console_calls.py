"""Call requests in both consoles, in Chromium: Washington asks, Beijing answers, and each branch
(counter-proposed then accepted and held, declined with a reason, unanswered: escalated and
missed) shows the same timeline — times, officers, moves, states — on both consoles.
Screenshot: docs/screenshots/call-timeline.png."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import SHOTS, WAIT_MS, tab_login
from tests.support.console import create_account
from tests.support.stations import StationProcess, two_stations

pytestmark = [pytest.mark.slow, pytest.mark.browser]
FAST = {"urgent": 0.1, "priority": 60, "routine": 1440}  # an urgent request: 6 s to answer


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StationProcess, StationProcess]]:
    settings = {"washington": {"call_reply_deadlines": FAST}, "beijing": {"call_reply_deadlines": FAST}}
    with two_stations(tmp_path_factory.mktemp("calls"), links_up=True, settings=settings) as stations:
        yield stations


def minute(hours: float) -> str:
    """A datetime-local value (UTC) ``hours`` from now, whole minutes."""
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def timeline(page: Page) -> list[tuple[str, ...]]:
    """The timeline as the console shows it: time, officer, move, state after (the station column
    names the other side by its display name, so it differs by side) and the move's code."""
    rows = page.locator("table.call-timeline tbody tr")
    shown = []
    for i in range(rows.count()):
        row = rows.nth(i)
        cells = row.locator("td")
        shown.append(
            (
                cells.nth(0).inner_text(),
                cells.nth(2).inner_text(),
                cells.nth(3).inner_text(),
                cells.nth(4).inner_text(),
                row.get_attribute("data-action") or "",
            )
        )
    return shown


def open_call(page: Page, station: StationProcess, call_id: str, state: str) -> None:
    """Show the call's page until it is in ``state`` (moves cross the link in the background)."""

    def shown() -> None:
        page.goto(station.console_url + f"calls/{call_id}")
        expect(page.locator(".call-view")).to_have_attribute("data-state", state, timeout=1000)

    for _ in range(WAIT_MS // 1000):
        try:
            shown()
            return
        except AssertionError:
            continue
    shown()


def reload_until(page: Page, selector: str) -> None:
    """The call pages are not live: reload until ``selector`` shows (time alone adds entries)."""
    for _ in range(WAIT_MS // 500):
        if page.locator(selector).count():
            return
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator(selector)).to_have_count(1)


def request_call(page: Page, station: StationProcess, purpose: str, urgency: str = "priority") -> str:
    page.goto(station.console_url + "calls")
    form = page.locator("form.call-request")
    form.locator("select[name=to]").select_option("beijing")
    form.locator("input[name=purpose]").fill(purpose)
    form.locator("select[name=urgency]").select_option(urgency)
    form.locator("input[name=role]").fill("Watch commander")
    form.locator("select[name=level]").select_option("commander")
    form.locator("input[name=start]").fill(minute(1))
    form.locator("input[name=end]").fill(minute(2))
    form.locator("button[type=submit]").click()
    expect(page.locator(".call-view")).to_have_attribute("data-state", "requested")
    return str(page.locator(".call-view").get_attribute("data-call"))


def both_agree(
    wash: Page, beij: Page, w: StationProcess, b: StationProcess, call_id: str, state: str
) -> list:
    open_call(wash, w, call_id, state)
    open_call(beij, b, call_id, state)
    here, there = timeline(wash), timeline(beij)
    assert here == there, (here, there)
    return here


def test_call_requests_through_every_branch_in_both_consoles(
    pair: tuple[StationProcess, StationProcess], browser: Browser
) -> None:
    w, b = pair
    hale, wang = create_account(w, "hale"), create_account(b, "wang")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        wash = tab_login(context, w, hale.name, hale.password)
        beij = tab_login(context, b, wang.name, wang.password)

        # 1. Requested, acknowledged, another time proposed, accepted by the caller, held.
        first = request_call(wash, w, "Unannounced aircraft east of the median line")
        beij.goto(b.console_url + "calls")
        expect(beij.locator(f"#needs .needs-calls li[data-call='{first}']")).to_be_visible(timeout=WAIT_MS)
        open_call(beij, b, first, "received")
        expect(beij.locator(".call-view")).to_contain_text("due in")
        beij.locator("form.call-move[data-move=acknowledge] button").click()
        expect(beij.locator(".call-view")).to_have_attribute("data-state", "acknowledged")
        counter = beij.locator("form.call-move[data-move=counter]")
        now = minute(0)  # the current minute: the call can be held at once
        counter.locator("input[name=start]").fill(now)
        counter.locator("input[name=end]").fill(minute(1))
        counter.locator("input[name=note]").fill("The commander is free later")
        counter.locator("button[type=submit]").click()
        expect(beij.locator(".call-view")).to_have_attribute("data-state", "countered")
        expect(beij.locator("form.call-move[data-move=accept]")).to_have_count(0)  # not its turn

        open_call(wash, w, first, "countered")
        wash.locator("form.call-move[data-move=accept] button").click()
        expect(wash.locator(".call-view")).to_have_attribute("data-state", "scheduled")
        expect(wash.locator(".call-window")).to_contain_text(now.replace("T", " "))
        wash.locator("form.call-move[data-move=held] button").click()
        expect(wash.locator(".call-view")).to_have_attribute("data-state", "held")
        shown = both_agree(wash, beij, w, b, first, "held")
        assert [(r[1], r[4]) for r in shown] == [
            ("hale", "request"),
            ("(automatic)", "received"),
            ("wang", "acknowledge"),
            ("wang", "counter"),
            ("hale", "accept"),
            ("hale", "held"),
        ]
        assert [r[3] for r in shown][-1] == "call held"
        wash.screenshot(path=str(SHOTS / "call-timeline.png"), full_page=True)
        # The transcript words each call envelope as its move, linking to the call.
        beij.goto(b.console_url + "links/washington/transcript")
        expect(beij.locator("main")).to_contain_text(f"Call {first[:8]}: accepted (hale)")
        expect(beij.locator(f"main a[href='/calls/{first}']").first).to_be_visible()

        # 2. Declined with a coded reason, shown in words on both sides.
        second = request_call(wash, w, "Fishing vessels near the exercise area", "routine")
        open_call(beij, b, second, "received")
        decline = beij.locator("form.call-move[data-move=decline]")
        decline.locator("select[name=reason]").select_option("use_other_channel")
        decline.locator("button[type=submit]").click()
        expect(beij.locator(".call-state")).to_contain_text("use another agreed channel")
        both_agree(wash, beij, w, b, second, "declined")
        expect(wash.locator(".call-state")).to_contain_text("call declined — use another agreed channel")

        # 3. Urgent and unanswered: the reply deadline passes (escalated at Beijing), then the window.
        with w.client() as c:
            start = datetime.now(UTC)
            stamp = "%Y-%m-%dT%H:%M:%SZ"
            window = {"start": start.strftime(stamp), "end": (start + timedelta(seconds=15)).strftime(stamp)}
            body = {
                "to": "beijing",
                "purpose": "Close approach by a patrol aircraft",
                "urgency": "urgent",
                "asked_for": {"role": "Duty officer", "level": "duty_officer"},
                "window": window,
            }
            third = c.post("/calls", json=body).json()["call"]["call_id"]
        open_call(beij, b, third, "received")
        reload_until(beij, "table.call-timeline tr[data-action=reply_overdue]")
        reload_until(beij, "dt:has-text('Escalated to supervisors')")
        expect(beij.locator(f"#needs .needs-calls li[data-call='{third}']")).to_have_class(
            "prec-flash state-overdue"
        )
        missed = both_agree(wash, beij, w, b, third, "missed")
        assert [r[4] for r in missed] == ["request", "received", "reply_overdue", "missed"]
        assert missed[2][1] == "—" and missed[3][3] == "call missed"
        expect(wash.locator("form.call-move")).to_have_count(0)
    finally:
        context.close()
