"""The console's transcript of a link, its exports and print, and the audit log page, against two
live stations (real TLS, SQLite) and, for the page, the print media and the PDF, Debian's Chromium
and poppler (pdftotext, pdftoppm).

Washington sends three messages to Beijing, Beijing answers with one in Chinese; each side
acknowledges what it received and Washington attaches a translation of the Chinese one. Every
check reads Washington's console.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import SHOTS, WAIT_MS
from tests.support.console import Account, ConsoleClient, create_account, error_text
from tests.support.stations import StationProcess, two_stations, wait_for

pytestmark = pytest.mark.slow

SENT = [
    ("FLASH", "Transcript first: aircraft turning away from the line at 0412Z", "en"),
    ("ROUTINE", "Second message\nwith two lines", "en"),
    ("PRIORITY", "Third message: exercise window confirmed", "en"),
]
CHINESE = "北京收到 正在核实飞行计划"  # Beijing's answer, which the PDF must carry as text
TRANSLATION = "Beijing received it and is checking the flight plan"


@pytest.fixture(scope="module")
def link(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two stations with the conversation above, acknowledged both ways; Washington's accounts."""
    with two_stations(tmp_path_factory.mktemp("transcript"), links_up=True) as (w, b):
        accounts = {role: create_account(w, f"t-{role}", role) for role in ("operator", "auditor")}
        ids = [_send(w, "beijing", p, text, lang) for p, text, lang in SENT]
        ids.append(_send(b, "washington", "IMMEDIATE", CHINESE, "zh-Hans"))
        for station, message_id in [*((b, i) for i in ids[:3]), (w, ids[3])]:
            _wait_received(station, message_id)
            with station.client() as c:
                assert c.post(f"/messages/{message_id}/ack").status_code == 201
        for message_id in ids:
            _wait_acknowledged(w, message_id)
        with ConsoleClient(w) as console:
            console.login(accounts["operator"])
            done = console.post(f"/messages/{ids[3]}/translation", {"text": TRANSLATION, "lang": "en"})
            assert done.status_code == 303, done.text[:1000]
        yield {"w": w, "b": b, "accounts": accounts, "ids": ids}


def _send(station: StationProcess, to: str, precedence: str, text: str, lang: str) -> str:
    with station.client() as c:
        r = c.post("/messages", json={"to": to, "precedence": precedence, "text": text, "lang": lang})
    assert r.status_code in (200, 201, 202), r.text
    return str(r.json()["id"])


def _message(station: StationProcess, message_id: str) -> dict[str, Any] | None:
    with station.client() as c:
        r = c.get(f"/messages/{message_id}")
    return dict(r.json()) if r.status_code == 200 else None


def _wait_received(station: StationProcess, message_id: str) -> None:
    wait_for(lambda: _message(station, message_id) is not None, timeout=60, what=f"{message_id} to arrive")


def _wait_acknowledged(station: StationProcess, message_id: str) -> None:
    def acknowledged() -> bool:
        m = _message(station, message_id)
        return bool(m and m["acknowledgement"] and (m["direction"] == "inbound" or m["receipt"]))

    wait_for(acknowledged, timeout=60, what=f"{message_id} acknowledged")


def _console(link: dict[str, Any], role: str) -> ConsoleClient:
    client = ConsoleClient(link["w"])
    return client.login(link["accounts"][role])


def _export(console: ConsoleClient, fmt: str, query: str = "") -> bytes:
    r = console.get(f"/links/beijing/transcript/export?format={fmt}{query}")
    assert r.status_code == 200, r.text[:1500]
    assert "attachment" in r.headers["content-disposition"]
    return r.content


# -- exports, roles, audit, bad input (HTTP) -------------------------------------------------


def test_json_and_csv_exports_hold_every_message_in_order(link: dict[str, Any]) -> None:
    with _console(link, "auditor") as auditor:
        document = json.loads(_export(auditor, "json"))
        raw = _export(auditor, "csv")
    assert [m["id"] for m in document["messages"]] == link["ids"]  # stored in this order here
    assert [m["text"] for m in document["messages"]] == [t for _, t, _ in SENT] + [CHINESE]
    assert [(m["direction"], m["seq"]) for m in document["messages"]][-1][0] == "inbound"
    assert all(m["acked_by"] and m["acked_at"] for m in document["messages"])
    assert document["messages"][3]["translation"] == TRANSLATION
    assert {c["direction"]: c["fault"] for c in document["chains"]} == {"outbound": None, "inbound": None}
    assert document["exported_by"] == "t-auditor" and document["link"] == "washington<->beijing"
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV is UTF-8 with a byte-order mark"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert [r["id"] for r in rows] == link["ids"]
    assert rows[1]["text"] == SENT[1][1]  # the line break survives quoting
    assert rows[3]["text"] == CHINESE and rows[3]["lang"] == "zh-Hans"


def test_a_time_range_exports_only_its_messages(link: dict[str, Any]) -> None:
    with _console(link, "auditor") as auditor:
        everything = json.loads(_export(auditor, "json"))["messages"]
        since = everything[1]["stored_at"]
        part = json.loads(_export(auditor, "json", f"&since={since}"))
    assert [m["id"] for m in part["messages"]] == link["ids"][1:]
    assert part["since"] == since


def test_exports_are_audited_and_the_audit_page_shows_them(link: dict[str, Any]) -> None:
    with _console(link, "auditor") as auditor:
        _export(auditor, "csv")
        page = auditor.get("/audit?action=transcript_exported")
        assert page.status_code == 200
        assert 'data-action="transcript_exported"' in page.text
        assert "washington&lt;-&gt;beijing" in page.text and "<dt>format</dt><dd>csv</dd>" in page.text
        assert "{&#34;" not in page.text, "details are labelled fields, not raw JSON"
        assert "t-auditor" in page.text
        other = auditor.get("/audit?actor=nobody-at-all")
        assert "No events" in other.text


def test_the_audit_log_pages_with_a_cursor(link: dict[str, Any]) -> None:
    with _console(link, "auditor") as auditor:
        first = auditor.get("/audit?limit=2")
        older = re.search(r'class="older" href="([^"]+)"', first.text)
        assert older, "two events a page: an older page follows"
        second = auditor.get(older.group(1).replace("&amp;", "&"))
        assert second.status_code == 200 and "Back to the newest" in second.text
        bad = auditor.get("/audit?cursor=not-a-cursor")
        assert bad.status_code == 400 and "cursor" in error_text(bad)


def test_an_operator_may_read_but_not_export(link: dict[str, Any]) -> None:
    with _console(link, "operator") as operator:
        page = operator.get("/links/beijing/transcript")
        assert page.status_code == 200 and CHINESE in page.text
        assert "/transcript/export" not in page.text
        refused = operator.get("/links/beijing/transcript/export?format=json")
        assert refused.status_code == 403, refused.text[:500]
        assert "export transcripts" in error_text(refused)


def test_headings_and_labels_in_the_readers_language(link: dict[str, Any]) -> None:
    with _console(link, "operator") as operator:
        chosen = operator.post("/settings/language", {"language": "zh-Hans", "back": "/traffic"})
        assert chosen.status_code == 303
        try:
            page = operator.get("/links/beijing/transcript")
            assert "链路 washington&lt;-&gt;beijing 的通信记录" in page.text
            assert "哈希链已验证至序号" in page.text and "回执与确认" in page.text
            assert CHINESE in page.text and SENT[0][1] in page.text  # messages as written
        finally:
            operator.post("/settings/language", {"language": "en", "back": "/traffic"})


def test_bad_input_answers_clearly(link: dict[str, Any]) -> None:
    with _console(link, "auditor") as auditor:
        unknown = auditor.get("/links/nowhere/transcript")
        assert unknown.status_code == 404 and "no peer 'nowhere'" in error_text(unknown)
        assert auditor.get("/links/nowhere/transcript/export?format=csv").status_code == 404
        cases = {
            "/links/beijing/transcript?cursor=garbled": "cursor",
            "/links/beijing/transcript?limit=0": "limit",
            "/links/beijing/transcript?since=yesterday": "since",
            "/links/beijing/transcript?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z": "before",
            "/links/beijing/transcript/export?format=docx": "format",
            f"/links/beijing/transcript?until={'9' * 500}": "until",
        }
        for path, word in cases.items():
            r = auditor.get(path)
            assert r.status_code == 400, (path, r.status_code)
            assert word in error_text(r), (path, error_text(r))


def test_the_transcript_pages_with_cursors(link: dict[str, Any]) -> None:
    with _console(link, "operator") as operator:
        seen: list[str] = []
        path: str | None = "/links/beijing/transcript?limit=3"
        while path:
            page = operator.get(path)
            assert page.status_code == 200
            seen += re.findall(r'<tr class="msg [^"]*" data-id="([0-9a-f]{32})"', page.text)
            found = re.search(r'class="next" href="([^"]+)"', page.text)
            path = found.group(1).replace("&amp;", "&") if found else None
        assert seen == link["ids"]
        assert "End of the transcript for this period." in page.text


# -- the page, print and PDF in Chromium and poppler ----------------------------------------------


@pytest.mark.browser
def test_transcript_page_print_and_pdf(link: dict[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from tests.support.browser import chromium

    auditor: Account = link["accounts"]["auditor"]
    base = link["w"].console_url
    with chromium() as browser:
        context = browser.new_context(
            viewport={"width": 1360, "height": 900}, locale="en-US", accept_downloads=True
        )
        page = context.new_page()
        page.goto(base + "login")
        page.fill("input[name=name]", auditor.name)
        page.fill("input[name=password]", auditor.password)
        page.click("button[type=submit]")
        expect(page).to_have_url(base + "traffic")
        page.goto(base + "links")
        page.click("a.transcript-link")
        expect(page).to_have_url(base + "links/beijing/transcript")

        rows = page.locator("table.transcript-table tbody tr.msg")
        expect(rows).to_have_count(4, timeout=WAIT_MS)
        expect(rows.nth(0)).to_contain_text(SENT[0][1])
        expect(rows.nth(0)).to_contain_text(re.compile(r"outbound #\d+"))
        expect(rows.nth(3)).to_contain_text(CHINESE)
        expect(rows.nth(3)).to_contain_text(re.compile(r"inbound #\d+"))  # link tests share the chain
        expect(rows.nth(3)).to_contain_text(TRANSLATION)
        for i in range(4):
            expect(rows.nth(i).locator(".receipt")).to_contain_text("Receipt 20")
            expect(rows.nth(i).locator(".acknowledgement")).to_contain_text("Acknowledged by")
        expect(page.locator(".chain-ok")).to_have_count(2)
        expect(page.locator(".title-block")).to_contain_text("chain verified to seq")
        expect(page.locator("dd.print-only")).to_be_hidden()  # "printed at … by …" is for paper
        page.screenshot(path=str(SHOTS / "washington-transcript.png"), full_page=True)

        page.emulate_media(media="print")
        assert page.locator("header.bar").evaluate("e => getComputedStyle(e).display") == "none"
        assert page.locator("nav").evaluate("e => getComputedStyle(e).display") == "none"
        for hidden in ("p.exports", "form", "button", "select", "input", "a.open"):
            assert page.locator(f"{hidden}:visible").count() == 0, f"{hidden} is shown in print"
        for selector in ("body", "h1", ".title-block dd", "table.transcript-table td", ".small", ".prec"):
            colours = page.locator(selector).evaluate_all(
                "els => els.map(e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor])"
            )
            for colour, background in colours:
                assert colour == "rgb(0, 0, 0)", (selector, colour)
                assert background in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), (selector, background)
        expect(page.locator("dd.print-only")).to_be_visible()
        expect(page.locator(".title-block")).to_contain_text(f"by {auditor.name}")
        page.screenshot(path=str(SHOTS / "washington-transcript-print.png"), full_page=True)
        for other in ("traffic", "audit", f"messages/{link['ids'][0]}"):  # any page prints plainly
            page.goto(base + other)
            assert page.locator("header.bar").evaluate("e => getComputedStyle(e).display") == "none"
            assert page.locator("button:visible, form:visible").count() == 0, other
            colours = page.locator("main *").evaluate_all("els => els.map(e => getComputedStyle(e).color)")
            assert set(colours) == {"rgb(0, 0, 0)"}, other
        page.goto(base + "links/beijing/transcript")
        page.emulate_media(media="screen")

        with page.expect_download() as download:
            page.click("a.export:text('PDF')")
        pdf = tmp_path / "transcript.pdf"
        download.value.save_as(pdf)
        page.goto(base + "audit?action=transcript_exported")
        export_row = page.locator("tr[data-action=transcript_exported]").first
        expect(export_row).to_contain_text(auditor.name)
        expect(export_row.locator("dl.fields")).to_contain_text("pdf")
        expect(export_row).to_contain_text("washington<->beijing")
        page.screenshot(path=str(SHOTS / "washington-audit-export.png"), full_page=True)
        context.close()

    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    flat = " ".join(text.split())
    assert "Transcript of the link washington<->beijing" in flat
    assert SENT[0][1] in flat, flat[:2000]
    assert CHINESE.replace(" ", "") in flat.replace(" ", ""), "the Chinese message comes back out of the PDF"
    assert "Printed at" in flat and auditor.name in flat
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-png", "-r", "80", "-singlefile", str(pdf), str(tmp_path / "p1")],
        check=True, timeout=60,
    )  # fmt: skip
    (SHOTS / "washington-transcript-pdf-page1.png").write_bytes((tmp_path / "p1.png").read_bytes())
