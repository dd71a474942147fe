"""The deconfliction map in a real browser: two notices across the antimeridian, one conflict.

Washington and Beijing (the live demo) each file a 20 km circle at 20N, one at
179.9E and one at 179.9W, over the same hours and heights. Washington's duty
officer opens /deconfliction in Debian's Chromium: both circles are drawn side
by side (not a world apart), the conflict is listed with its marker and popup,
the offline coastline lies under them, the timeline marks the conflicting
window, and no request leaves the machine. The screenshot goes to
docs/screenshots/deconfliction-map.png.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import SHOTS, WAIT_MS
from tests.support.browser import login as shared_login

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

pytestmark = [pytest.mark.slow, pytest.mark.browser]


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


def notice(
    volume: dict[str, Any], text: str, activity: str = "air_operations", hours: tuple[int, int] = (0, 3)
) -> dict[str, Any]:
    start = datetime.now(UTC) - timedelta(minutes=10) + timedelta(hours=hours[0])
    return {
        "activity": activity,
        "volumes": [volume],
        "altitude": {
            "lower": {"value": 0, "unit": "M", "reference": "SFC"},
            "upper": {"value": 3000, "unit": "M", "reference": "MSL"},
        },
        "window": {"start": ts(start), "end": ts(start + timedelta(hours=hours[1]))},
        "title": text,
        "text": text,
    }


def circle(lon: float) -> dict[str, Any]:
    return {"circle": {"centre": [lon, 20.0], "radius_m": 20_000.0}}


def login(browser: Browser, station: dict[str, Any]) -> Page:
    return shared_login(browser, station, viewport=(1400, 1000))


def test_map_shows_notices_across_the_antimeridian_and_their_conflict(
    demo: dict[str, Any], browser: Browser
) -> None:
    w, b = demo["washington"], demo["beijing"]
    status, filed = api(w, "POST", "/notices", notice(circle(179.9), "Exercise BLUE FALCON"))
    assert status == 201, filed
    status, theirs = api(b, "POST", "/notices", notice(circle(-179.9), "Exercise RED SWORD"))
    assert status == 201, theirs
    # Two more that conflict with nothing: a corridor near Guam, a polygon in the South China Sea later on.
    corridor = {"corridor": {"path": [[144.8, 13.5], [145.7, 15.2], [150.0, 20.0]], "half_width_m": 15_000.0}}
    assert api(w, "POST", "/notices", notice(corridor, "UAV transit", "uav_operations", (1, 8)))[0] == 201
    polygon = {"polygon": [[112.0, 15.0], [116.0, 15.0], [116.0, 18.0], [112.0, 18.0]]}
    assert api(b, "POST", "/notices", notice(polygon, "Survey", "maritime_transit", (6, 12)))[0] == 201
    ours_id, theirs_id = filed["notice"]["id"], theirs["notice"]["id"]

    page = login(browser, w)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    csp: list[str] = []
    page.on(
        "console",
        lambda m: csp.append(m.text) if "Content Security Policy" in m.text or m.type == "error" else None,
    )
    page.click("nav a[href='/deconfliction']")
    expect(page).to_have_url(w["console_url"] + "deconfliction")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Deconfliction")

    # Beijing's notice reaches Washington over the link; the page polls until both and the conflict show.
    expect(page.locator("#deconfliction")).to_have_attribute("data-notices", "4", timeout=WAIT_MS)
    expect(page.locator("#deconfliction")).to_have_attribute("data-conflicts", "1", timeout=WAIT_MS)
    expect(page.locator(".leaflet-overlay-pane svg path.notice")).to_have_count(4)
    expect(page.locator(".leaflet-overlay-pane svg path.notice-path")).to_have_count(
        1
    )  # corridor centre line
    shapes = page.locator(".leaflet-overlay-pane svg path.notice.conflicting")
    expect(page.locator(".leaflet-overlay-pane svg path.notice.ours.conflicting")).to_have_count(1)
    expect(page.locator(".leaflet-overlay-pane svg path.notice.peer.conflicting")).to_have_count(1)
    assert shapes.first.get_attribute("stroke") == "#e5484d"  # conflicts outlined in red

    # Contiguous across the antimeridian: the two circles (~40 km across each) sit side by side.
    # Measured once the map is still (no zoom or pan animation under way, the coastline drawn).
    expect(page.locator("#map")).to_have_attribute("data-basemap", "drawn", timeout=WAIT_MS)

    def circles() -> tuple[tuple[float, float], tuple[float, float], float]:
        for _ in range(40):  # (wait_for_function would need eval, which the page's CSP forbids)
            if page.evaluate("() => !document.querySelector('.leaflet-zoom-anim, .leaflet-pan-anim')"):
                break
            page.wait_for_timeout(50)
        boxes = [shapes.nth(i).bounding_box() for i in range(2)]
        assert all(box is not None for box in boxes)
        left, right = sorted((box["x"], box["x"] + box["width"]) for box in boxes if box is not None)
        return left, right, max(box["width"] for box in boxes if box is not None)

    left, right, widest = circles()
    for _ in range(20):  # a redraw may still be landing: look again for up to 5 s
        if right[0] < left[1] + 5:
            break
        page.wait_for_timeout(250)
        left, right, widest = circles()
    assert right[0] < left[1] + 5, f"circles are not adjacent on the map: {left} {right}"
    assert widest < 100

    # The offline coastline (world-atlas land, three copies) lies beneath.
    expect(page.locator("#map")).to_have_attribute("data-basemap", "drawn", timeout=WAIT_MS)
    land = page.locator(".leaflet-basemap-pane svg path.land")
    assert land.count() >= 1
    assert max(len(land.nth(i).get_attribute("d") or "") for i in range(land.count())) > 1000

    # The conflict: in the side list, as a marker, with its popup.
    conflicts = page.locator("#conflict-list li.conflict")
    expect(conflicts).to_have_count(1)
    expect(conflicts).to_contain_text("Washington")
    expect(conflicts).to_contain_text("Beijing")
    expect(conflicts).to_contain_text("Volumes overlap")
    marker = page.locator(".leaflet-marker-pane .conflict-marker")
    expect(marker).to_have_count(1)
    marker.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("Conflict")
    # Named by activity and title, not by id; the overlap as an area.
    expect(popup).to_contain_text("air operations “Exercise BLUE FALCON” (Washington)")
    expect(popup).to_contain_text("air operations “Exercise RED SWORD” (Beijing)")
    expect(popup).not_to_contain_text(ours_id[:8])
    expect(popup).not_to_contain_text(theirs_id[:8])
    expect(popup).to_contain_text(re.compile(r"Volumes overlap, overlap area [\d,]+\.\d km²"))
    expect(popup).to_contain_text("Altitude band")

    # Notices by party, and the timeline: a bar each and the conflicting window on both rows.
    expect(page.locator("#notice-list li.notice-item.conflicting")).to_have_count(2)
    expect(page.locator("#notice-list li.notice-item")).to_have_count(4)
    expect(page.locator("#notice-list h3.party")).to_have_count(2)
    expect(page.locator("#timeline svg rect.bar")).to_have_count(4)
    expect(page.locator("#timeline svg rect.bar.planned")).to_have_count(2)
    expect(page.locator("#timeline svg rect.conflict-window")).to_have_count(2)

    page.wait_for_timeout(400)  # the popup's fade-in
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "deconfliction-map.png"), full_page=True)

    # Nothing from the internet, and nothing the Content-Security-Policy had to block.
    outside = [
        u
        for u in requests
        if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).hostname not in LOOPBACK
    ]
    assert not outside, outside
    assert any("/vendor/world-atlas/land-50m.json" in u for u in requests)
    assert not csp, csp

    # The data needs a session; /vendor/ serves only its allow-list.
    anonymous = browser.new_context().request
    answer = anonymous.get(w["console_url"] + "deconfliction/data")
    assert answer.status == 401 and answer.json()["error"]["code"] == "unauthenticated"
    assert page.request.get(w["console_url"] + "vendor/leaflet/leaflet.js").status == 200
    refused = (
        "vendor/leaflet/package.json",
        "vendor/world-atlas/land-10m.json",
        "vendor/..%2f..%2fdeconfliction.py",
    )
    for path in refused:
        assert page.request.get(w["console_url"] + path).status == 404, path
