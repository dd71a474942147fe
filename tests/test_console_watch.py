"""The watch, the handover and a second factor's enrolment in a real browser: Debian's Chromium
under Playwright against two live stations (their officers made with the real CLI).

A handover lists the open items (an unacknowledged FLASH from the peer, and our message the peer
has not acknowledged), each linked; the incoming officer acknowledges it; the watch log shows the
events; the peer's console shows who is now on watch. A new TOTP secret is shown as a QR code and
as text, and is in force only once a first code from it is entered: until then the old one works.
Screenshots go to docs/screenshots/ (watch-*.png, totp-enrolment.png)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import SHOTS, WAIT_MS
from tests.support.console import Account, ConsoleClient, api_audit, redline_cli, totp_from_uri
from tests.support.stations import StationProcess, two_stations, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def officer(station: StationProcess, name: str, display_name: str) -> Account:
    """``redline operator add --display-name`` and ``password``: an operator by name."""
    token = redline_cli(station, "operator", "add", name, "--display-name", display_name).strip()
    password = f"pw-{name}-correct horse battery"
    redline_cli(station, "operator", "password", name, "--password-stdin", stdin=password + "\n")
    return Account(name, "operator", password, token)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StationProcess, StationProcess]]:
    with two_stations(tmp_path_factory.mktemp("watch"), links_up=True) as stations:
        yield stations


def browser_login(browser: Browser, station: StationProcess, account: Account, code: str = "") -> Page:
    context = browser.new_context(viewport={"width": 1360, "height": 980}, locale="en-US")
    page = context.new_page()
    page.goto(station.console_url + "login")
    page.fill("input[name=name]", account.name)
    page.fill("input[name=password]", account.password)
    if code:
        page.fill("input[name=code]", code)
    page.click("button[type=submit]")
    expect(page).to_have_url(station.console_url + "traffic")
    return page


def api_send(station: StationProcess, to: str, precedence: str, text: str) -> str:
    with station.client() as c:
        r = c.post("/messages", json={"to": to, "precedence": precedence, "text": text, "lang": "en"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def arrived(station: StationProcess, message_id: str, state: str | None = None) -> bool:
    with station.client() as c:
        r = c.get(f"/messages/{message_id}")
    return r.status_code == 200 and (state is None or r.json()["state"] == state)


def test_handover_lists_the_open_items_and_the_peer_sees_who_is_on_watch(
    pair: tuple[StationProcess, StationProcess], browser: Browser
) -> None:
    w, b = pair
    hale = officer(w, "hale", "Lt Col Rebecca Hale")
    ortiz = officer(w, "ortiz", "Maj Daniel Ortiz")
    li = officer(b, "li", "Capt Li Na")
    # Open items: a FLASH from Beijing we have not acknowledged, ours Beijing has not acknowledged.
    flash = api_send(b, "washington", "FLASH", "Unidentified contact, confirm your aircraft")
    ours = api_send(w, "beijing", "IMMEDIATE", "Exercise area moves 20 nm east")
    wait_for(lambda: arrived(w, flash) and arrived(w, ours, "delivered"), what="both messages delivered")

    peer = browser_login(browser, b, li)
    peer.goto(b.console_url + "links")

    outgoing = browser_login(browser, w, hale)
    expect(outgoing.locator("#on-watch")).to_contain_text("nobody has signed on")
    outgoing.goto(w.console_url + "watch")
    duty = outgoing.locator("tr[data-position=duty_officer]")
    duty.get_by_role("button", name="Sign on").click()
    expect(outgoing.locator("#on-watch")).to_contain_text("Duty officer: Lt Col Rebecca Hale")
    expect(duty).to_contain_text("Lt Col Rebecca Hale (hale)")
    outgoing.fill("form.handover-form textarea[name=note]", "FLASH from Beijing needs an answer first.")
    outgoing.locator("form.handover-form button[type=submit]").click()

    incoming = browser_login(browser, w, ortiz)
    incoming.goto(w.console_url + "watch")
    pending = incoming.locator("tr.handover-pending")
    expect(pending).to_contain_text("FLASH from Beijing needs an answer first.")
    expect(pending).to_contain_text("Handover note by Lt Col Rebecca Hale")
    awaiting_us = pending.locator("ul[data-kind=awaiting_our_ack] a")
    awaiting_them = pending.locator("ul[data-kind=awaiting_their_ack] a")
    expect(awaiting_us).to_have_count(1)
    expect(awaiting_us).to_have_attribute("href", f"/messages/{flash}")
    expect(awaiting_us).to_contain_text("FLASH")
    expect(awaiting_them).to_have_count(1)
    expect(awaiting_them).to_have_attribute("href", f"/messages/{ours}")
    incoming.screenshot(path=str(SHOTS / "watch-handover-note.png"), full_page=True)
    pending.get_by_role("button", name="Acknowledge the handover and take over").click()

    expect(incoming.locator("#on-watch")).to_contain_text("Duty officer: Maj Daniel Ortiz")
    expect(incoming.locator("tr[data-position=duty_officer]")).to_contain_text("Maj Daniel Ortiz (ortiz)")
    log = incoming.locator("table.watch-log tbody tr")
    expect(log).to_have_count(3)
    actions = [log.nth(i).get_attribute("data-action") for i in range(3)]
    assert actions == ["handover", "handover_note", "sign_on"], actions
    expect(log.nth(0)).to_contain_text("ortiz")
    expect(log.nth(0)).to_contain_text("from hale")
    expect(log.nth(2)).to_contain_text("hale")
    incoming.screenshot(path=str(SHOTS / "watch-handover.png"), full_page=True)
    # The link in the note leads to the message, which can be acknowledged from there.
    incoming.locator("table.watch-log details summary").first.click()
    incoming.locator(f"table.watch-log a[href='/messages/{flash}']").first.click()
    expect(incoming).to_have_url(w.console_url + f"messages/{flash}")
    # Acknowledged there, it names the officer: display name and account.
    incoming.locator("main button.ack").click()
    expect(incoming.locator("dl.facts")).to_contain_text("acknowledged by Maj Daniel Ortiz (ortiz)")

    # Beijing's link page shows the new watch, live.
    expect(peer.locator(".peer-watch")).to_contain_text(
        re.compile(r"On watch at washington: Maj Daniel Ortiz \(Duty officer\) since 20\d\d-"),
        timeout=WAIT_MS,
    )
    peer.screenshot(path=str(SHOTS / "watch-peer-links.png"), full_page=True)
    for page in (peer, outgoing, incoming):
        page.context.close()


def test_totp_enrolment_shows_a_qr_code_and_needs_a_first_code(
    pair: tuple[StationProcess, StationProcess], browser: Browser
) -> None:
    w, _b = pair
    carol = officer(w, "carol", "Capt Carol Diaz")
    carol.totp = totp_from_uri(redline_cli(w, "operator", "totp", "carol").strip())  # the old factor

    page = browser_login(browser, w, carol, carol.code())
    page.goto(w.console_url + "account")
    page.get_by_role("button", name="Enrol a new second factor").click()
    enrolment = page.locator("#totp-enrolment")
    expect(enrolment.locator(".qr svg")).to_be_visible()
    secret = enrolment.locator(".totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    new_factor = pyotp.TOTP(secret)
    page.screenshot(path=str(SHOTS / "totp-enrolment.png"), full_page=True)

    # A wrong code is refused; the old factor still logs in, the new one does not yet.
    wrong = "000000" if new_factor.now() != "000000" else "111111"
    enrolment.locator("input[name=code]").fill(wrong)
    enrolment.get_by_role("button", name="Confirm the new second factor").click()
    expect(page.locator("#totp-enrolment .error")).to_contain_text("not valid for the new secret")
    with ConsoleClient(w) as other:
        other.login(carol)  # a fresh code of the old secret
    pending = Account(carol.name, carol.role, carol.password, carol.token, new_factor)
    with ConsoleClient(w) as other:
        assert other.try_login(carol.name, carol.password, pending.code()).status_code == 401

    # The first valid code from the new secret puts it in force.
    page.locator("#totp-enrolment input[name=code]").fill(pending.code())
    page.get_by_role("button", name="Confirm the new second factor").click()
    expect(page).to_have_url(w.console_url + "account?totp=confirmed")
    expect(page.locator(".ok")).to_contain_text("The new second factor is in force.")
    page.context.close()

    # From now on only the new secret logs in.
    with ConsoleClient(w) as other:
        assert other.try_login(carol.name, carol.password, carol.code()).status_code == 401
    with ConsoleClient(w) as other:
        other.login(pending)
    auditor = redline_cli(w, "operator", "add", "auditor1", "--role", "auditor").strip()
    events = [e["action"] for e in api_audit(w, auditor) if e["detail"].get("operator") == "carol"]
    assert events[:2] == ["totp_enroll", "totp_begin"], events
