"""Every console page in zh-Hans, free of untranslated strings: a walk in Debian's Chromium.

Two live stations with real traffic between them (free text both ways, a phrase request and
its phrase reply, overlapping notices and so a conflict alert, a service message reporting
Beijing's watch). Washington's console is read in Chinese (the browser asks for ``zh-CN``),
and the walk visits every page the console has, including pages a form re-shows with an error,
the TOTP enrolment pages, a 404 and a 400. Each page gets two checks:

1. the station ran in i18n strict mode (``REDLINE_I18N_STRICT``) and recorded no msgid that the
   zh-Hans catalogue lacks (each station appends what it records to its own file, named by
   ``REDLINE_I18N_STRICT_FILE``, read after every page);
2. the text a reader sees (``document.body.innerText``, the title, placeholder, aria-label and
   title attributes, option texts, button values) holds no English word: no run of three or
   more Latin letters outside a short allow-list (names, ids, units, protocol words, and the
   words this test typed itself).

Findings from all pages are collected and reported at once, page by page. The walk also checks
that it covers every route in routes.py: a route that is neither visited nor on the commented
list of routes that are not pages fails the test. Screenshots: docs/screenshots/zh-hans-*.png.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from starlette.routing import Mount, Route

from redline.web.console import i18n
from redline.web.console.routes import ROUTES
from tests.support.browser import SHOTS, WAIT_MS
from tests.support.console import Account, ConsoleClient, api_messages, create_account
from tests.support.stations import StationProcess, two_stations, wait_for, wait_until_links_up

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# What the test types: message texts and notice titles are the officers' own words, never translated.
TEXT_OUT = "Exercise BLUE FALCON begins at dawn"
CALL_PURPOSE = "Unidentified aircraft east of the median line"
CALL_ROLE = "Watch commander"
TEXT_IN = "Confirm your patrol boundary"
NOTICE_OURS = "Exercise BLUE FALCON"
NOTICE_THEIRS = "Exercise RED SWORD"
HANDOVER = "Quiet watch"
BAD_PRECEDENCE = "BOGUS"  # a search for it is refused, the error quoting it as given
TYPED = " ".join(
    [TEXT_OUT, TEXT_IN, NOTICE_OURS, NOTICE_THEIRS, HANDOVER, BAD_PRECEDENCE, CALL_PURPOSE, CALL_ROLE]
)

# Words that stay in Latin letters on a Chinese page, each for a reason.
ALLOWED = {
    # station ids and names, shown as the stations call themselves
    "washington", "beijing",
    # officers' user names (made below); they log in with them
    "adm", "hale", "duty", "brooks",
    # the product's name, as its mark in the header
    "redline",
    # the language selector names each language in that language
    "english",
    # units and time zone, as written in Chinese technical text too
    "utc", "km", "nm", "ms",
    # protocol words and formats, shown as such (GET: the API call the traffic page names)
    "sha", "https", "http", "tls", "totp", "json", "csv", "pdf", "qr", "get",
    # ICAO altitude references, kept as codes beside their Chinese names (see "STD" in the .po)
    "sfc", "msl", "std", "agl",
    # the map's attribution: the names of the map library and of the coastline data set
    "leaflet", "natural", "earth", "world", "atlas",
    # the language code beside a text's language (zh-Hans), a standard tag
    "hans",
} | {w.lower() for w in re.findall(r"[A-Za-z]{3,}", TYPED)}  # fmt: skip
# Literal names an officer types as they are: a setting in station.json, an audit action to filter by.
ALLOWED_CHUNKS = {"station.json", "ack_deadlines", "transcript_exported"}

# Random data, not words: a TOTP secret in base32.
DATA_SELECTORS = [".totp-secret"]
# The audit log shows each record as stored, by design: its actor, action code, target and detail
# fields are the exact values the API returns and the filter takes (operator_add, login_failed,
# {"second_factor": true}), compared across stations. Its headings and controls are checked.
RECORD_SELECTORS = ["table.audit tbody td:not(:first-child)"]

# Routes that are not pages a reader sees, or that only redirect: not part of the walk.
NOT_PAGES = {
    ("GET", "/"): "redirects to /traffic or /login",
    ("POST", "/logout"): "redirects to /login (visited at the end)",
    ("POST", "/messages/{message_id}/ack"): "redirects back to the message page",
    ("POST", "/messages/{message_id}/translation"): "redirects back to the message page",
    ("POST", "/messages/{message_id}/certify"): "redirects back to the message page",
    ("POST", "/settings/language"): "redirects back to the page it came from",
    ("POST", "/links/{peer}/test"): "redirects back to /links",
    ("GET", "/links/{peer}/transcript/export"): "a PDF, JSON or CSV download, not a page",
    ("POST", "/admin/operators/{name}/password"): "re-shows admin.html (visited as GET /admin)",
    ("POST", "/admin/operators/{name}/unlock"): "re-shows admin.html (visited as GET /admin)",
    ("POST", "/admin/operators/{name}/disable"): "re-shows admin.html (visited as GET /admin)",
    ("POST", "/admin/operators/{name}/enable"): "re-shows admin.html (visited as GET /admin)",
    ("POST", "/account/totp/confirm"): "redirects to /account, or re-shows it as POST /account/totp does",
    ("POST", "/watch/{position}/sign-off"): "redirects to /watch",
    ("POST", "/watch/{position}/accept"): "redirects to /watch",
    ("POST", "/watch/{position}/relieve"): "redirects to /watch",
    ("GET", "/deconfliction/data"): "JSON for the map (its strings are in the page, checked there)",
    ("POST", "/deconfliction/notices"): "JSON answer to the notice form's script",
    ("POST", "/deconfliction/notices/{notice_id}"): "JSON answer to the notice form's script",
    ("POST", "/deconfliction/notices/{notice_id}/cancel"): "JSON answer to the notice form's script",
    ("GET", "/vendor/{path:path}"): "map library files",
    ("GET", "/events"): "the live event stream (SSE); the fragments it sends are in the pages",
    ("POST", "/calls"): "redirects to the new call (visited as GET /calls/{call_id})",
    ("POST", "/calls/{call_id}/{action}"): "redirects back to the call (visited as GET /calls/{call_id})",
    ("GET", "/static"): "stylesheets and scripts",
}

# The text a reader sees; the skipped elements are made invisible for the reading (innerText leaves
# out what is not visible), then restored.
SCAN = """([skip]) => {
  const hidden = [];
  for (const sel of skip) for (const el of document.querySelectorAll(sel)) {
    hidden.push([el, el.style.visibility]);
    el.style.visibility = "hidden";
  }
  const text = document.body.innerText;
  for (const [el, was] of hidden) el.style.visibility = was;
  const parts = [text, document.title];
  for (const el of document.querySelectorAll("[placeholder], [aria-label], [title]")) {
    for (const a of ["placeholder", "aria-label", "title"]) {
      if (el.hasAttribute(a)) parts.push(el.getAttribute(a));
    }
  }
  for (const o of document.querySelectorAll("option")) parts.push(o.text);
  for (const b of document.querySelectorAll("input[type=submit], input[type=button]")) parts.push(b.value);
  return parts.join("\\n");
}"""


def english_words(text: str) -> list[str]:
    """Runs of 3+ Latin letters not on the allow-list, each once with the line it is on; chunks
    with a digit (ids, codes such as REQ-01, times, URLs with ports, SHA-256) are data, not words."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        for chunk in re.findall(r"[A-Za-z0-9_.:/?=&@#'-]+", line):
            if re.search(r"\d", chunk) or chunk.strip(".:'") in ALLOWED_CHUNKS:
                continue
            for word in re.findall(r"[A-Za-z]{3,}", chunk):
                if word.lower() not in ALLOWED and word not in found:
                    found[word] = " ".join(line.split())[:100]
    return [f"{word!r} in {context!r}" for word, context in found.items()]


@dataclass
class Walk:
    page: Page
    stations: dict[str, StationProcess]
    records: dict[str, Path]
    findings: dict[str, list[str]] = field(default_factory=dict)
    visited: set[tuple[str, str]] = field(default_factory=set)
    seen: dict[str, int] = field(default_factory=dict)

    def untranslated(self) -> list[str]:
        """Msgids the stations recorded since the last page."""
        new: list[str] = []
        for sid, path in self.records.items():
            lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
            new += [f"{sid}: {json.loads(line)!r}" for line in lines[self.seen.get(sid, 0) :]]
            self.seen[sid] = len(lines)
        return new

    def check(self, name: str, route: tuple[str, str], shot: str | None = None) -> None:
        """Both checks on the page now shown; ``route`` is the (method, path) it stands for."""
        self.visited.add(route)
        self.page.wait_for_load_state("load")
        expect(self.page.locator("html")).to_have_attribute("lang", "zh-Hans")
        if shot:
            self.page.screenshot(path=str(SHOTS / f"zh-hans-{shot}.png"))
        problems = [f"untranslated msgid {m}" for m in self.untranslated()]
        text = self.page.evaluate(SCAN, [DATA_SELECTORS + RECORD_SELECTORS])
        problems += [f"English word {w}" for w in english_words(text)]
        if problems:
            self.findings.setdefault(f"{name} ({self.page.url})", []).extend(problems)

    def goto(self, name: str, route: tuple[str, str], url: str, shot: str | None = None) -> None:
        answer = self.page.goto(self.stations["washington"].console_url + url.lstrip("/"))
        assert answer is not None
        self.check(name, route, shot)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StationProcess, StationProcess, Path]]:
    root = tmp_path_factory.mktemp("zh")
    saved = {k: os.environ.get(k) for k in (i18n.STRICT_ENV, i18n.STRICT_FILE_ENV)}
    with two_stations(root, start=False) as (w, b):
        try:
            os.environ[i18n.STRICT_ENV] = "1"  # the station processes inherit it at start
            for s in (w, b):
                os.environ[i18n.STRICT_FILE_ENV] = str(root / f"{s.station_id}-untranslated.jsonl")
                s.start()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        wait_until_links_up(w, b)
        yield w, b, root


def api(station: StationProcess, method: str, path: str, body: object = None) -> Any:
    with station.client() as c:
        r = c.request(method, path, json=body)
    assert r.status_code in (200, 201, 202), f"{method} {path}: {r.status_code} {r.text}"
    return r.json()


def notice(lon: float, title: str) -> dict[str, Any]:
    start = datetime.now(UTC) - timedelta(minutes=10)
    stamp = "%Y-%m-%dT%H:%M:%S.000000Z"
    return {
        "activity": "air_operations",
        "volumes": [{"circle": {"centre": [lon, 20.0], "radius_m": 20_000.0}}],
        "altitude": {
            "lower": {"value": 0, "unit": "M", "reference": "SFC"},
            "upper": {"value": 3000, "unit": "M", "reference": "MSL"},
        },
        "window": {"start": start.strftime(stamp), "end": (start + timedelta(hours=3)).strftime(stamp)},
        "title": title,
        "text": title,
    }


def traffic(w: StationProcess, b: StationProcess, li: Account) -> dict[str, str]:
    """Real traffic both ways; the ids of Washington's messages of each kind the walk opens."""
    text = api(
        w, "POST", "/messages", {"to": "beijing", "precedence": "IMMEDIATE", "text": TEXT_OUT, "lang": "en"}
    )
    api(b, "POST", "/messages", {"to": "washington", "precedence": "FLASH", "text": TEXT_IN, "lang": "en"})
    request = api(
        b,
        "POST",
        "/messages",
        {
            "to": "washington",
            "precedence": "PRIORITY",
            "phrase": {"code": "REQ-01", "params": {"minutes": 15}},
        },
    )
    wait_for(lambda: any(m["id"] == request["id"] for m in api_messages(w, "inbox")), what="the request")
    api(
        w,
        "POST",
        "/messages",
        {
            "to": "beijing",
            "precedence": "PRIORITY",
            "phrase": {"code": "REP-06", "params": {}},
            "in_reply_to": request["id"],
        },
    )
    api(w, "POST", "/notices", notice(179.9, NOTICE_OURS))
    api(b, "POST", "/notices", notice(-179.9, NOTICE_THEIRS))
    with ConsoleClient(b) as beijing:  # Beijing's officer signs on: a watch report (a service message)
        beijing.login(li)
        assert beijing.post("/watch/duty_officer/sign-on").status_code == 303

    def kinds() -> dict[str, str] | None:
        found = {m["kind"]: m["id"] for m in api_messages(w, "inbox")}
        return found if {"conflict_alert", "service", "phrase"} <= set(found) else None

    found = wait_for(
        kinds,
        timeout=30,
        what="a conflict alert and a service message at Washington",
    )
    return {"text": text["id"], "phrase": request["id"], **found}


def test_every_zh_hans_page_is_free_of_untranslated_strings(
    pair: tuple[StationProcess, StationProcess, Path], browser: Browser
) -> None:
    w, b, root = pair
    adm, hale, li = create_account(w, "adm", "admin"), create_account(w, "hale"), create_account(b, "li")
    ids = traffic(w, b, li)
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN", bypass_csp=True)
    records = {s.station_id: root / f"{s.station_id}-untranslated.jsonl" for s in (w, b)}
    walk = Walk(context.new_page(), {"washington": w, "beijing": b}, records)
    page = walk.page
    try:
        walk.untranslated()  # what the stations recorded before the walk (none in zh-Hans yet)
        walk.goto("login", ("GET", "/login"), "/login", shot="login")
        page.fill("input[name=name]", adm.name)
        page.fill("input[name=password]", "not the password at all")
        page.click("button[type=submit]")
        walk.check("login refused", ("POST", "/login"))
        page.fill("input[name=name]", adm.name)
        page.fill("input[name=password]", adm.password)
        page.fill("input[name=code]", adm.code())
        page.click("button[type=submit]")
        expect(page).to_have_url(w.console_url + "traffic")
        # The account's saved language (English) outranks the browser's: choose Chinese, as an officer does.
        page.select_option("#language", "zh-Hans")
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
        walk.check("traffic", ("GET", "/traffic"), shot="traffic")

        walk.goto("compose (text)", ("GET", "/compose"), "/compose", shot="compose")
        page.click("#compose-form button[type=submit]")  # no text: the form comes back with an error
        expect(page.locator("p.error")).to_be_visible()
        walk.check("compose (re-shown with an error)", ("POST", "/compose"))
        walk.goto("compose (phrase)", ("GET", "/compose"), "/compose?mode=phrase", shot="compose-phrase")
        walk.goto("compose (phrase reply)", ("GET", "/compose"), f"/compose?reply_to={ids['phrase']}")

        route = ("GET", "/messages/{message_id}")
        walk.goto("message: text", route, f"/messages/{ids['text']}", shot="message")
        walk.goto("message: phrase, its thread", route, f"/messages/{ids['phrase']}", shot="thread")
        walk.goto("message: conflict alert", route, f"/messages/{ids['conflict_alert']}")
        walk.goto("message: service", route, f"/messages/{ids['service']}")

        walk.goto("links", ("GET", "/links"), "/links", shot="links")
        walk.goto("transcripts", ("GET", "/transcripts"), "/transcripts")
        walk.goto(
            "transcript", ("GET", "/links/{peer}/transcript"), "/links/beijing/transcript", shot="transcript"
        )
        walk.goto("audit", ("GET", "/audit"), "/audit", shot="audit")
        walk.goto("search", ("GET", "/search"), "/search?q=FALCON", shot="search")
        expect(page.locator("main")).to_contain_text(TEXT_OUT)
        walk.goto("unanswered", ("GET", "/unanswered"), "/unanswered")

        page.goto(w.console_url + "deconfliction")
        expect(page.locator("#deconfliction")).to_have_attribute("data-conflicts", "1", timeout=WAIT_MS)
        expect(page.locator("#map")).to_have_attribute("data-basemap", "drawn", timeout=WAIT_MS)
        walk.check(
            "deconfliction: map, notices, notice form", ("GET", "/deconfliction"), shot="deconfliction"
        )

        walk.goto("watch", ("GET", "/watch"), "/watch")
        page.click("tr[data-position=duty_officer] button[type=submit]")  # sign on
        walk.check("watch: signed on", ("POST", "/watch/{position}/sign-on"))
        page.fill(".handover-form textarea[name=note]", HANDOVER)
        page.click(".handover-form button[type=submit]")
        expect(page.locator(".handover-pending")).to_be_visible()
        walk.check("watch: handover note", ("POST", "/watch/{position}/handover"), shot="watch")

        walk.goto("calls", ("GET", "/calls"), "/calls")
        form = page.locator("form.call-request")
        form.locator("input[name=purpose]").fill(CALL_PURPOSE)
        form.locator("input[name=role]").fill(CALL_ROLE)
        form.locator("input[name=start]").fill("2031-01-01T10:00")
        form.locator("input[name=end]").fill("2031-01-01T11:00")
        form.locator("button[type=submit]").click()
        expect(page.locator(".call-view")).to_have_attribute("data-state", "requested")
        walk.check("call: ours, requested", ("GET", "/calls/{call_id}"))
        theirs = api(
            b,
            "POST",
            "/calls",
            {
                "to": "washington",
                "purpose": CALL_PURPOSE,
                "urgency": "urgent",
                "asked_for": {"role": CALL_ROLE, "level": "commander"},
                "window": {"start": "2031-01-02T10:00:00Z", "end": "2031-01-02T11:00:00Z"},
            },
        )["call"]["call_id"]
        wait_for(lambda: api(w, "GET", f"/calls/{theirs}")["state"] == "received", what="their call request")
        walk.goto("call: theirs, to answer", ("GET", "/calls/{call_id}"), f"/calls/{theirs}", shot="call")
        counter = page.locator("form.call-move[data-move=counter]")
        counter.locator("input[name=start]").fill("2031-01-02T12:00")
        counter.locator("input[name=end]").fill("2031-01-02T13:00")
        counter.locator("button[type=submit]").click()
        expect(page.locator(".call-view")).to_have_attribute("data-state", "countered")
        walk.check("call: another time proposed", ("GET", "/calls/{call_id}"))
        walk.goto("calls, with both", ("GET", "/calls"), "/calls", shot="calls")

        walk.goto("admin", ("GET", "/admin"), "/admin", shot="admin")
        page.locator(f"form[action='/admin/operators/{hale.name}/totp'] button").click()
        walk.check("admin: TOTP enrolment", ("POST", "/admin/operators/{name}/totp"), shot="totp")
        page.fill("#totp-enrolment input[name=code]", "000000")
        page.click("#totp-enrolment button[type=submit]")
        walk.check("admin: TOTP enrolment, wrong code", ("POST", "/admin/operators/{name}/totp/confirm"))
        walk.goto("admin", ("GET", "/admin"), "/admin")
        form = page.locator("form[action='/admin/operators']")
        form.locator("input[name=name]").fill("brooks")
        form.locator("input[name=password]").fill("pw-brooks-correct horse battery")
        form.locator("select[name=role]").select_option("supervisor")
        form.locator("button[type=submit]").click()
        walk.check("admin: account added", ("POST", "/admin/operators"))

        walk.goto("account", ("GET", "/account"), "/account", shot="account")
        page.locator("form[action='/account/totp'] button").click()
        walk.check("account: TOTP enrolment", ("POST", "/account/totp"))

        walk.goto("404", ("GET", "/messages/{message_id}"), "/messages/" + "0" * 32)
        walk.goto("400", ("GET", "/search"), f"/search?precedence={BAD_PRECEDENCE}")
    finally:
        context.close()

    routes = set()
    for r in ROUTES:
        if isinstance(r, Route):
            routes |= {(m, r.path) for m in r.methods or () if m != "HEAD"}
        elif isinstance(r, Mount):
            routes.add(("GET", r.path))
    missed = sorted(routes - walk.visited - set(NOT_PAGES))
    stale = sorted(set(NOT_PAGES) - routes)
    failures = [f"{name}:\n  " + "\n  ".join(found) for name, found in walk.findings.items()]
    if missed:
        failures.append(f"routes the walk does not visit (visit them or list them in NOT_PAGES): {missed}")
    if stale:
        failures.append(f"NOT_PAGES names routes that no longer exist: {stale}")
    assert not failures, "zh-Hans pages show untranslated strings, or the walk misses pages:\n" + "\n".join(
        failures
    )
