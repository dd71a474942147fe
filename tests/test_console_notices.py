"""Filing, amending and cancelling notices on the console's map, in Debian's Chromium against live stations.

Beijing files an exercise through the API. Washington's duty officer first
draws a bow tie (refused at the map: its edges cross), then a polygon over
Beijing's box with Leaflet-Geoman's toolbar (real mouse clicks on the map),
fills in the form, first with the floor above the ceiling (the error shows at
the floor's input), then correctly, and files it. Beijing's console names the
conflict by both notices' titles with its overlap area on the ellipsoid, and
each side has exactly one conflict alert to acknowledge. Washington then
amends its notice from the console (Beijing sees the new version and title)
and cancels it (Beijing sees it cancelled and the conflict closed). Party
colours are the same on both consoles. Screenshots: docs/screenshots/notices-*.png.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import SHOTS, WAIT_MS
from tests.support.browser import login as shared_login
from tests.support.stations import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]

RED_SWORD = "Exercise RED SWORD"
BLUE_FALCON = "Exercise BLUE FALCON"


def api(station: dict[str, Any], method: str, path: str, body: object = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        station["api_url"] + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {station['token']}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def red_sword() -> dict[str, Any]:
    """Beijing's exercise: a 2 x 2 degree box in the Yellow Sea, surface to 5,000 m, from now for 6 hours."""
    start = datetime.now(UTC) - timedelta(minutes=10)
    return {
        "activity": "live_fire_exercise",
        "title": RED_SWORD,
        "volumes": [{"polygon": [[122.0, 34.0], [124.0, 34.0], [124.0, 36.0], [122.0, 36.0]]}],
        "altitude": {
            "lower": {"value": 0, "unit": "M", "reference": "SFC"},
            "upper": {"value": 5000, "unit": "M", "reference": "MSL"},
        },
        "window": {"start": ts(start), "end": ts(start + timedelta(hours=6))},
    }


def login(browser: Browser, station: dict[str, Any], problems: list[str]) -> Page:
    """The station's deconfliction page; errors in the browser's console go to ``problems``."""
    page = shared_login(browser, station, viewport=(1400, 1100))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(station["console_url"] + "deconfliction")
    return page


def wait_still(page: Page) -> None:
    for _ in range(40):  # (wait_for_function would need eval, which the page's CSP forbids)
        if page.evaluate("() => !document.querySelector('.leaflet-zoom-anim, .leaflet-pan-anim')"):
            return
        page.wait_for_timeout(50)


SQUARE = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
BOW_TIE = [(-1, -1), (1, 1), (1, -1), (-1, 1)]  # its edges cross: not a polygon a notice may have


def draw(page: Page, corners: list[tuple[int, int]], half: int = 90) -> None:
    """Geoman's polygon tool: a click on each corner around the map's centre, then on the first again."""
    page.locator(".leaflet-pm-toolbar .leaflet-pm-icon-polygon").click()
    box = page.locator("#map").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    points = [(cx + dx * half, cy + dy * half) for dx, dy in corners]
    for x, y in [*points, points[0]]:
        page.mouse.click(x, y)
        page.wait_for_timeout(150)


def inbox_alerts(station: dict[str, Any]) -> list[dict[str, Any]]:
    status, body = api(station, "GET", "/messages?box=inbox&kind=conflict_alert&limit=100")
    assert status == 200, body
    return list(body["messages"])


def open_conflicts(station: dict[str, Any]) -> list[dict[str, Any]]:
    status, body = api(station, "GET", "/conflicts")
    assert status == 200, body
    return list(body["conflicts"])


def test_file_amend_and_cancel_on_the_map(demo: dict[str, Any], browser: Browser) -> None:
    w, b = demo["washington"], demo["beijing"]
    status, filed = api(b, "POST", "/notices", red_sword())
    assert status == 201, filed
    theirs = filed["notice"]["id"]

    problems: list[str] = []
    page = login(browser, w, problems)
    expect(page.locator("#deconfliction")).to_have_attribute("data-notices", "1", timeout=WAIT_MS)
    assert page.locator(".leaflet-pm-toolbar").count() > 0, problems
    expect(page.locator(".leaflet-pm-toolbar").first).to_be_visible()
    wait_still(page)

    # A shape whose edges cross is refused at the map.
    form = page.locator("#notice-form")
    draw(page, BOW_TIE)
    expect(page.locator("#notice-form-card")).to_have_attribute("data-drawn", "1")
    page.locator("#notice-submit").click()
    map_error = form.locator("[data-error-for='volumes']")
    expect(map_error).to_contain_text("volumes[0].polygon: the ring intersects itself", timeout=WAIT_MS)
    expect(page.locator("#map")).to_have_attribute("aria-invalid", "true")
    page.reload()  # starts again: nothing drawn
    expect(page.locator("#deconfliction")).to_have_attribute("data-notices", "1", timeout=WAIT_MS)
    expect(page.locator("#notice-form-card")).to_have_attribute("data-drawn", "0")
    wait_still(page)

    # Draw over Beijing's box (the map has fitted itself to it) and fill in the form.
    draw(page, SQUARE)
    expect(page.locator("#notice-form-card")).to_have_attribute("data-drawn", "1")
    form.locator("select[name=activity]").select_option("air_operations")
    form.locator("input[name=title]").fill(BLUE_FALCON)
    form.locator("input[name='altitude.lower.value']").fill("6000")  # above the ceiling: refused
    form.locator("input[name='altitude.upper.value']").fill("3000")
    form.locator("input[name='buffers.horizontal_m']").fill("2000")
    form.locator("textarea[name=text]").fill("Air combat training, two flights.")
    page.locator("#notice-submit").click()
    floor_error = form.locator("[data-error-for='altitude.lower']")
    expect(floor_error).to_be_visible(timeout=WAIT_MS)
    expect(floor_error).to_contain_text("above the upper limit")
    expect(form.locator("input[name='altitude.lower.value']")).to_have_attribute("aria-invalid", "true")
    expect(form.locator("[data-error-for='volumes']")).to_be_hidden()
    page.screenshot(path=str(SHOTS / "notices-field-error.png"), full_page=True)
    assert api(w, "GET", "/notices")[1]["count"] == 1  # nothing was filed

    form.locator("input[name='altitude.lower.value']").fill("0")
    page.locator("#notice-submit").click()
    expect(page.locator("#notice-form-done")).to_have_text("Filed.", timeout=WAIT_MS)
    expect(floor_error).to_be_hidden()
    ours = [n for n in api(w, "GET", "/notices")[1]["notices"] if n["party"] == "washington"]
    assert len(ours) == 1 and ours[0]["title"] == BLUE_FALCON
    assert "polygon" in ours[0]["volumes"][0] and len(ours[0]["volumes"][0]["polygon"]) == 4
    mine = ours[0]["id"]

    # Beijing's console names the conflict by both titles, with the overlap area.
    conflict = wait_for(lambda: (open_conflicts(b) or [None])[0], timeout=30, what="the conflict at beijing")
    assert conflict["title_a"] and conflict["title_b"] and conflict["overlap"]
    km2 = f"{conflict['overlap_area_m2'] / 1e6:,.1f}"
    peking = login(browser, b, problems)
    listed = peking.locator("#conflict-list li.conflict")
    expect(listed).to_have_count(1, timeout=WAIT_MS)
    for text in (RED_SWORD, BLUE_FALCON, "live-fire exercise", "air operations", f"overlap area {km2} km²"):
        expect(listed).to_contain_text(text)
    expect(listed).not_to_contain_text(mine[:8])
    expect(page.locator("#conflict-list li.conflict")).to_contain_text(
        f"overlap area {km2} km²", timeout=WAIT_MS
    )

    # The same party colours on both consoles, with a legend naming each party and the conflict colour.
    def legend(p: Page) -> dict[str, str]:
        items = p.locator("#map-legend li")
        expect(items).to_have_count(3)
        found = {}
        for i in range(3):
            item = items.nth(i)
            found[item.inner_text().split(" ")[0].strip()] = item.locator("rect").get_attribute("fill") or ""
        return found

    colours = legend(page)
    assert colours == legend(peking) and len(set(colours.values())) == 3
    assert set(colours) == {"Washington", "Beijing", "Conflict"}  # display names (the demo names its peers)

    # One conflict, one item to acknowledge on each side (and still one a little later).
    wait_for(lambda: inbox_alerts(w) and inbox_alerts(b), timeout=30, what="an alert on each side")
    time.sleep(3)
    for station in (w, b):
        alerts = inbox_alerts(station)
        assert len(alerts) == 1, [(a["conflict"]["action"], a["conflict"]["pair"]) for a in alerts]
        assert sorted(alerts[0]["conflict"]["pair"]) == sorted([mine, theirs])
        assert alerts[0]["conflict"]["conflict"]["title_a"] in (RED_SWORD, BLUE_FALCON)
    peking.goto(b["console_url"] + "traffic")
    row = peking.locator("#inbox tr.msg").filter(has_text="Conflict")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(BLUE_FALCON)
    expect(row).to_contain_text(RED_SWORD)
    expect(row).to_contain_text(f"overlap area {km2} km²")
    peking.screenshot(path=str(SHOTS / "notices-conflict-alert-beijing.png"), full_page=True)
    peking.goto(b["console_url"] + f"messages/{inbox_alerts(b)[0]['id']}")
    names = peking.locator(".conflict-names")
    expect(names).to_contain_text(f"air operations “{BLUE_FALCON}” (Washington)")
    # The peer by its display name; our own station by its configured name.
    expect(names).to_contain_text(f"live-fire exercise “{RED_SWORD}” (Beijing)")
    expect(peking.locator(".conflict-extent")).to_have_text(f"overlap area {km2} km²")
    peking.goto(b["console_url"] + "deconfliction")
    expect(peking.locator("#conflict-list li.conflict")).to_have_count(1, timeout=WAIT_MS)
    peking.wait_for_timeout(500)
    peking.screenshot(path=str(SHOTS / "notices-conflict-beijing.png"), full_page=True)

    # Amend from Washington's console: Beijing sees version 2 and the new title.
    page.locator("#notice-pick").select_option(mine)
    expect(page.locator("#notice-submit")).to_have_text("Amend")
    expect(form.locator("input[name=title]")).to_have_value(BLUE_FALCON)
    expect(page.locator("#notice-form-card")).to_have_attribute("data-drawn", "1")
    form.locator("input[name=title]").fill(BLUE_FALCON + " II")
    form.locator("input[name='altitude.upper.value']").fill("4000")
    page.locator("#notice-submit").click()
    expect(page.locator("#notice-form-done")).to_have_text("Amended.", timeout=WAIT_MS)

    def amended_at_beijing() -> dict[str, Any] | None:
        status, body = api(b, "GET", f"/notices/{mine}")
        return body if status == 200 and body["version"] == 2 else None

    seen = wait_for(amended_at_beijing, timeout=30, what="the amendment at beijing")
    assert seen["title"] == BLUE_FALCON + " II" and seen["altitude"]["upper"]["value"] == 4000
    assert seen["volumes"] == ours[0]["volumes"]
    expect(peking.locator("#conflict-list li.conflict")).to_contain_text(BLUE_FALCON + " II", timeout=WAIT_MS)

    # Cancel it from the console: Beijing sees it cancelled and the conflict closed.
    page.locator("#notice-pick").select_option(mine)
    form.locator("input[name=reason]").fill("Weather")
    page.locator("#notice-cancel").click()
    expect(page.locator("#notice-form-done")).to_have_text("Cancelled.", timeout=WAIT_MS)
    wait_for(
        lambda: api(b, "GET", f"/notices/{mine}")[1]["state"] == "cancelled",
        timeout=30,
        what="the cancellation at beijing",
    )
    wait_for(lambda: not open_conflicts(b), timeout=30, what="the conflict closed at beijing")
    expect(peking.locator("#conflict-list li.conflict")).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#notice-pick option")).to_have_count(1, timeout=WAIT_MS)
    # Nothing went wrong in either browser but the refusals of the bow tie and of the floor.
    refused = "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    assert problems == [refused, refused]


def test_a_notice_across_the_antimeridian_is_amended_where_it_is_drawn(
    demo: dict[str, Any], browser: Browser
) -> None:
    """Put back for amending, the ring stays one small shape over the drawn notice; it goes back unchanged."""
    w = demo["washington"]
    ring = [[179.5, -30.0], [-179.5, -30.0], [-179.5, -29.0], [179.5, -29.0]]
    body = {**red_sword(), "title": "Dateline survey", "activity": "maritime_transit"}
    status, filed = api(w, "POST", "/notices", {**body, "volumes": [{"polygon": ring}]})
    assert status == 201, filed
    mine = filed["notice"]["id"]

    problems: list[str] = []
    page = login(browser, w, problems)
    expect(page.locator("#notice-pick option")).to_have_count(2, timeout=WAIT_MS)
    page.locator("#notice-pick").select_option(mine)
    expect(page.locator("#notice-form-card")).to_have_attribute("data-drawn", "1")
    page.locator(".leaflet-control-zoom-out").click()  # both shapes in view, whatever the fit
    wait_still(page)
    drawn = page.locator(".leaflet-overlay-pane svg path.notice.ours").first.bounding_box()
    editing = page.locator(
        ".leaflet-overlay-pane svg path:not(.notice):not(.notice-path)"
    ).first.bounding_box()
    assert drawn is not None and editing is not None
    assert editing["width"] < 200, editing  # not stretched the other way round the world
    assert abs(editing["x"] - drawn["x"]) < 10 and abs(editing["width"] - drawn["width"]) < 10, (
        editing,
        drawn,
    )

    page.locator("#notice-form input[name=title]").fill("Dateline survey, north leg")
    page.locator("#notice-submit").click()
    expect(page.locator("#notice-form-done")).to_have_text("Amended.", timeout=WAIT_MS)
    status, amended = api(w, "GET", f"/notices/{mine}")
    assert status == 200 and amended["version"] == 2, amended
    assert amended["volumes"] == [{"polygon": ring}]
    assert not problems, problems
