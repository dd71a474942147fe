"""The operator console over HTTP against real stations: logins, CSRF, roles, traffic, phrases,
translations and the live event stream. (The browser test drives the same pages in Chromium.)"""

from __future__ import annotations

import html
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pyotp
import pytest

from redline.services.accounts import FREE_FAILURES, LOGIN_REFUSED
from tests.support.console import (
    SECRET,
    Account,
    ConsoleClient,
    api_audit,
    api_message,
    api_messages,
    create_account,
    error_text,
    server_sent_events,
    set_cookie_headers,
)
from tests.support.stations import StationProcess, wait_for

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
XSS = "<script>alert(1)</script><b>bold</b>"


def has_message(station: StationProcess, message_id: str, state: str | None = None) -> dict[str, Any] | None:
    with station.client() as c:
        r = c.get(f"/messages/{message_id}")
    if r.status_code != 200:
        return None
    view = dict(r.json())
    return view if state is None or view["state"] == state else None


def assert_security_headers(response: httpx.Response) -> None:
    csp = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, csp
    assert response.headers.get("x-frame-options") == "DENY"
    assert response.headers.get("cache-control") == "no-store"
    assert response.headers.get("x-content-type-options") == "nosniff"


def assert_strict_cookie(header: str) -> None:
    attributes = {a.strip().lower() for a in header.split(";")[1:]}
    assert "httponly" in attributes, header
    assert "samesite=strict" in attributes, header
    assert "secure" in attributes, header
    assert "path=/" in attributes, header


def nothing_sent(w: StationProcess, b: StationProcess) -> None:
    """The outbox is written before the console answers, so an empty outbox is final."""
    assert api_messages(w, "outbox") == []
    assert api_messages(b, "inbox") == []


# -- the one flow on both backends ----------------------------------------------------------------


def test_send_flash_and_acknowledge_between_two_consoles(station_pair):
    w, b = station_pair
    alice = create_account(w, "alice")
    li = create_account(b, "li")
    with ConsoleClient(w) as wc, ConsoleClient(b) as bc:
        # Logging in sets a strict session cookie; every page carries the security headers.
        form = wc.get("/login")
        assert_security_headers(form)
        assert_strict_cookie(set_cookie_headers(form)["redline_login_washington"])
        answer = wc.try_login(alice.name, alice.password)
        assert answer.status_code == 303, answer.text
        assert_strict_cookie(set_cookie_headers(answer)["redline_session_washington"])
        assert_security_headers(answer)
        page = wc.get("/traffic")
        assert page.status_code == 200 and wc.csrf
        assert_security_headers(page)
        bc.login(li)

        text = f"Unsafe intercept at 1402Z {XSS}"
        mid = wc.send_text(text, "FLASH")
        received = wait_for(lambda: has_message(b, mid), timeout=20, what="delivery to beijing")
        assert received["text"] == text and received["precedence"] == "FLASH"

        inbox = bc.get("/traffic")
        assert inbox.status_code == 200
        assert mid in inbox.text
        assert "<script>alert(1)" not in inbox.text and "<b>bold</b>" not in inbox.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in inbox.text
        assert "flashing" in inbox.text  # an unacknowledged FLASH is an alarm
        opened = bc.get(f"/messages/{mid}")
        assert opened.status_code == 200 and "<script>alert(1)" not in opened.text
        assert html.escape(XSS, quote=False) in opened.text

        ack = bc.post(f"/messages/{mid}/ack")
        assert ack.status_code == 303 and ack.headers["location"] == f"/messages/{mid}"
        assert api_message(b, mid)["state"] == "acknowledged"
        acked = wait_for(lambda: has_message(w, mid, "acknowledged"), timeout=20, what="acknowledgement")
        assert acked["acknowledgement"]["by"] == "beijing/li"

        outbox = wc.get("/traffic")
        row = re.search(rf'<tr class="[^"]*" data-id="{mid}">.*?</tr>', outbox.text, re.S)
        assert row, outbox.text
        assert "state-acknowledged" in row.group(0) and "beijing/li" in row.group(0)
        assert "<script>alert(1)" not in outbox.text


# -- logins -------------------------------------------------------------------------------------------


@SQLITE_ONLY
def test_logins_lockout_second_factor_and_logout(station_pair):
    w, _b = station_pair
    alice = create_account(w, "alice")
    mallory_target = create_account(w, "carol")
    sup = create_account(w, "sam", "supervisor")
    auditor = create_account(w, "audrey", "auditor")

    with ConsoleClient(w) as anon:
        # No session: pages redirect to the login form, POSTs and the event stream are refused.
        for path in ("/", "/traffic", "/compose", "/audit", "/admin", "/links"):
            r = anon.get(path)
            assert r.status_code == 303 and r.headers["location"] == "/login", (path, r.status_code)
        r = anon.post(
            "/compose", {"mode": "text", "to": "beijing", "precedence": "FLASH", "text": "x"}, csrf="x"
        )
        assert r.status_code == 401
        assert anon.get("/events?page=traffic").status_code == 401

        # The login form's own CSRF token is required.
        anon.get("/login")
        no_csrf = anon.post("/login", {"name": alice.name, "password": alice.password}, with_csrf=False)
        assert no_csrf.status_code == 403 and "redline_session_washington" not in anon.cookies
        wrong_csrf = anon.post("/login", {"name": alice.name, "password": alice.password}, csrf="forged")
        assert wrong_csrf.status_code == 403 and "redline_session_washington" not in anon.cookies

        # A wrong password and an unknown user read the same.
        wrong = anon.try_login(alice.name, "not the password at all")
        assert wrong.status_code == 401 and "redline_session_washington" not in anon.cookies
        unknown = anon.try_login("nobody", "not the password at all")
        assert unknown.status_code == 401
        assert error_text(wrong) == error_text(unknown) == LOGIN_REFUSED

        # Five failures lock the account, and then even the right password is refused, in the same
        # words as a wrong one (tests/unit/test_console_login.py compares the bytes).
        for attempt in range(1, 6):
            r = anon.try_login(mallory_target.name, f"wrong password {attempt}")
            assert r.status_code == 401 and error_text(r) == LOGIN_REFUSED, (attempt, r.status_code)
        locked = anon.try_login(mallory_target.name, mallory_target.password)
        assert locked.status_code == 401 and "redline_session_washington" not in anon.cookies
        assert error_text(locked) == LOGIN_REFUSED

        # A supervisor needs the second factor; each code works once.
        no_code = anon.try_login(sup.name, sup.password)
        assert no_code.status_code == 401 and error_text(no_code) == LOGIN_REFUSED
        assert sup.totp is not None
        bad_code = anon.try_login(
            sup.name, sup.password, "000000" if sup.totp.now() != "000000" else "111111"
        )
        assert bad_code.status_code == 401 and "redline_session_washington" not in anon.cookies
        code = sup.code()
        assert anon.try_login(sup.name, sup.password, code).status_code == 303
    with ConsoleClient(w) as replay:
        again = replay.try_login(sup.name, sup.password, code)
        assert again.status_code == 401 and "redline_session_washington" not in replay.cookies
        assert error_text(again) == LOGIN_REFUSED
        replay.login(sup)  # the next code is fine

    # The audit log holds the failures, with who and why.
    failures = [e for e in api_audit(w, auditor.token) if e["action"] == "login_failed"]
    carol = sorted(
        (e["detail"]["reason"], e["detail"]["failures"]) for e in failures if e["actor"] == "carol"
    )
    assert carol == [("locked", 5)] + [("password", n) for n in range(1, 6)]
    sam = {e["detail"]["reason"] for e in failures if e["actor"] == "sam"}
    assert sam == {"one-time code", "one-time code replayed"}
    assert any(e["actor"] == "alice" and e["detail"]["reason"] == "password" for e in failures)
    with ConsoleClient(w) as audit_console:
        audit_console.login(auditor)
        page = audit_console.get("/audit")
        assert page.status_code == 200 and "login_failed" in page.text
        assert "No older events." in page.text  # fewer than a page: the page says it holds them all
        refused = audit_console.get("/audit?cursor=garbage")
        assert refused.status_code == 400 and "cursor: not a cursor of this list" in refused.text

    # Logging out ends the session on the server, not only in the browser.
    with ConsoleClient(w) as wc:
        wc.login(alice)
        old_cookies, old_csrf = dict(wc.cookies), wc.csrf
        out = wc.post("/logout")
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert "redline_session_washington" not in wc.cookies
        wc.cookies = old_cookies  # a stolen copy of the cookie
        stale = wc.get("/traffic")
        assert stale.status_code == 303 and stale.headers["location"] == "/login"
        refused = wc.post(
            "/compose", {"mode": "text", "to": "beijing", "precedence": "ROUTINE", "text": "x"}, csrf=old_csrf
        )
        assert refused.status_code == 401
        assert wc.get("/events").status_code == 401
    assert api_messages(w, "outbox") == []


# -- CSRF and roles -------------------------------------------------------------------------------


@SQLITE_ONLY
def test_csrf_origin_and_roles(station_pair):
    w, b = station_pair
    alice = create_account(w, "alice")
    auditor = create_account(w, "audrey", "auditor")
    admin = create_account(w, "root", "admin")
    message = {"mode": "text", "to": "beijing", "precedence": "FLASH", "text": "forged", "lang": "en"}

    with ConsoleClient(w) as wc:
        wc.login(alice)
        assert wc.post("/compose", message, with_csrf=False).status_code == 403
        assert wc.post("/compose", message, csrf="not-the-token").status_code == 403
        # The right token from a foreign page (or an opaque origin) is refused as well.
        for origin in ("http://evil.example", "null", f"http://127.0.0.1:{b.api_port}"):
            r = wc.post("/compose", message, headers={"Origin": origin})
            assert r.status_code == 403, origin
        assert wc.post("/logout", with_csrf=False).status_code == 403
        assert wc.get("/traffic").status_code == 200  # still logged in
        nothing_sent(w, b)
        # The console's own origin passes.
        sent = wc.post("/compose", {**message, "text": "genuine"}, headers={"Origin": wc.base_url})
        assert sent.status_code == 303

        # An operator may not read the audit log or administer.
        assert wc.get("/admin").status_code == 403
        assert wc.get("/audit").status_code == 403
        assert (
            wc.post("/admin/operators", {"name": "eve", "role": "admin", "password": "x" * 16}).status_code
            == 403
        )

    with ConsoleClient(w) as ac:
        ac.login(auditor)
        page = ac.get("/audit")
        assert page.status_code == 200 and "login" in page.text
        assert ac.get("/compose").status_code == 403
        assert ac.post("/compose", {**message, "text": "from the auditor"}).status_code == 403
        assert ac.get("/admin").status_code == 403
    assert [m["text"] for m in api_messages(w, "outbox")] == ["genuine"]

    with ConsoleClient(w) as root:
        root.login(admin)
        page = root.get("/admin")
        assert page.status_code == 200 and "alice" in page.text and "audrey" in page.text
        created = root.post(
            "/admin/operators", {"name": "bob", "role": "operator", "password": "bob's long password"}
        )
        assert created.status_code == 200 and "Saved: bob" in created.text
        assert "otpauth://" not in created.text
        supervisor = root.post(
            "/admin/operators", {"name": "sue", "role": "supervisor", "password": "sue's long password"}
        )
        assert supervisor.status_code == 200
        # Her second factor is pending until a first code from it is entered (docs/console.md).
        secret = SECRET.search(supervisor.text)
        assert secret and "<svg" in supervisor.text, supervisor.text
        sue_account = Account(
            "sue", "supervisor", "sue's long password", token="", totp=pyotp.TOTP(secret.group(1))
        )
        confirmed = root.post("/admin/operators/sue/totp/confirm", {"code": sue_account.code()})
        assert confirmed.status_code == 200 and "Saved: sue" in confirmed.text, confirmed.text
    with ConsoleClient(w) as bob:
        bob.login(Account("bob", "operator", "bob's long password", token=""))
        assert "bob · operator" in bob.get("/traffic").text
    with ConsoleClient(w) as sue:
        sue.login(sue_account)
    creations = [
        e for e in api_audit(w, auditor.token) if e["action"] == "password_set" and e["actor"] == "root"
    ]
    assert {e["detail"]["operator"] for e in creations} == {"bob", "sue"}


# -- phrases, translations, live updates ----------------------------------------------------------


@SQLITE_ONLY
def test_phrase_translation_certification_and_live_updates(station_pair):
    w, b = station_pair
    alice = create_account(w, "alice")
    li = create_account(b, "li")
    wang = create_account(b, "wang", "supervisor")

    with ConsoleClient(w) as wc, ConsoleClient(b) as bc, ConsoleClient(b) as sc:
        wc.login(alice)
        bc.login(li)
        sc.login(wang)

        # Live: an update carrying a message sent after the stream opened.
        live_text = f"live {time.time_ns()}"
        with bc.events("traffic") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert stream.headers.get("cache-control") == "no-store"
            events = server_sent_events(stream)
            name, first = next(events)
            assert name == "update" and live_text not in first["inbox"]
            live_id = wc.send_text(live_text)
            deadline = time.monotonic() + 15
            for name, data in events:
                if name == "update" and live_text in data["inbox"]:
                    assert live_id in data["inbox"]
                    break
                assert time.monotonic() < deadline, "no live update with the new message in 15 s"

        # A standard phrase: parameters are checked and named.
        phrase = {"mode": "phrase", "to": "beijing", "precedence": "PRIORITY", "code": "REQ-01"}
        for bad in ("0", "soon"):
            refused = wc.post("/compose", {**phrase, "param.minutes": bad})
            assert refused.status_code == 400, refused.text
            assert "params.minutes" in error_text(refused)
        phrase_id = (
            wc.post("/compose", {**phrase, "param.minutes": "15"}).headers["location"].split("=", 1)[1]
        )
        wait_for(lambda: has_message(b, phrase_id), timeout=20, what="phrase delivery")

        # Free text, then its translation and certification.
        original = "Request you keep 5 NM separation from our vessel."
        text_id = wc.send_text(original, "IMMEDIATE")
        wait_for(lambda: has_message(b, text_id), timeout=20, what="text delivery")

        english = bc.get("/traffic").text
        assert "Request a voice call within 15 minutes." in english

        # The supervisor may not certify a translation of their own.
        assert (
            sc.post(f"/messages/{text_id}/translation", {"text": "草稿", "lang": "zh-Hans"}).status_code
            == 303
        )
        page = sc.get(f"/messages/{text_id}")
        assert 'name="translated_at"' not in page.text  # the form is not offered ...
        own_stamp = re.search(r"Translated by wang · (\S+)</p>", page.text)
        assert own_stamp, page.text
        own = sc.post(f"/messages/{text_id}/certify", {"translated_at": own_stamp.group(1)})
        assert own.status_code == 403 and "other than its translator" in error_text(own)  # ... nor accepted

        translation = "请求贵方与我方船舶保持5海里间距。"
        attached = bc.post(f"/messages/{text_id}/translation", {"text": translation, "lang": "zh-Hans"})
        assert attached.status_code == 303 and attached.headers["location"] == f"/messages/{text_id}"
        page = bc.get(f"/messages/{text_id}")
        assert translation in page.text and "Translated by li" in page.text and "Not certified" in page.text
        assert 'action="/messages/' + text_id + '/certify"' not in page.text  # operators are not offered it
        translated_at = re.search(r"Translated by li · (\S+)</p>", page.text)
        assert translated_at
        refused = bc.post(f"/messages/{text_id}/certify", {"translated_at": translated_at.group(1)})
        assert refused.status_code == 403 and "operator" in error_text(refused)
        outbound = wc.post(f"/messages/{text_id}/translation", {"text": "x", "lang": "zh-Hans"})
        assert outbound.status_code in (400, 404)  # washington sent it: nothing to translate there

        page = sc.get(f"/messages/{text_id}")
        at = re.search(r'name="translated_at" value="([^"]+)"', page.text)
        assert at and at.group(1) == translated_at.group(1)
        certified = sc.post(f"/messages/{text_id}/certify", {"translated_at": at.group(1)})
        assert certified.status_code == 303, certified.text
        shown = bc.get(f"/messages/{text_id}").text
        assert original in shown and translation in shown
        assert "Certified by wang" in shown and "Not certified" not in shown
        again = sc.post(f"/messages/{text_id}/certify", {"translated_at": at.group(1)})
        assert again.status_code == 400  # once only

        audit_events = api_audit(b, wang.token)
        assert any(
            e["action"] == "translate" and e["actor"] == "li" and e["detail"]["message"] == text_id
            for e in audit_events
        )
        assert any(
            e["action"] == "certify" and e["actor"] == "wang" and e["detail"]["message"] == text_id
            for e in audit_events
        )

        # The phrase in the reader's language, once they choose Chinese.
        switched = bc.post("/settings/language", {"language": "zh-Hans", "back": "/traffic"})
        assert switched.status_code == 303 and switched.headers["location"] == "/traffic"
        chinese = bc.get("/traffic").text
        assert "请求在15分钟内进行语音通话。" in chinese
        assert "Request a voice call within 15 minutes." not in chinese
        assert bc.post("/settings/language", {"language": "fr"}).status_code == 400
        assert "Request a voice call within 15 minutes." in wc.get(f"/messages/{phrase_id}").text


# -- found bugs: each test states the behaviour the console should have ------------------------------


@SQLITE_ONLY
def test_admin_creating_an_operator_with_a_short_password_creates_nothing(station_pair):
    """A refused form must leave no half-made account behind: the admin fixes the password and retries."""
    w, _b = station_pair
    admin = create_account(w, "root", "admin")
    with ConsoleClient(w) as root:
        root.login(admin)
        short = root.post("/admin/operators", {"name": "bob", "role": "operator", "password": "short"})
        assert short.status_code == 400 and "password" in error_text(short)
        retry = root.post(
            "/admin/operators", {"name": "bob", "role": "operator", "password": "a long password!"}
        )
        assert retry.status_code == 200, f"{retry.status_code}: {error_text(retry)}"


def simultaneous_logins(
    station: StationProcess, name: str, passwords: list[str], code: str = ""
) -> list[int]:
    """One login form per attempt, loaded first; then all submitted at the same moment. Their statuses."""
    clients = [ConsoleClient(station) for _ in passwords]
    try:
        tokens = []
        for client in clients:
            found = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
            assert found
            tokens.append(found.group(1))

        def submit(client: ConsoleClient, token: str, password: str) -> int:
            form = {"name": name, "password": password, "code": code}
            return client.post("/login", form, csrf=token).status_code

        with ThreadPoolExecutor(len(clients)) as pool:
            return list(pool.map(submit, clients, tokens, passwords))
    finally:
        for client in clients:
            client.http.close()


@SQLITE_ONLY
def test_one_code_opens_one_session_even_when_logins_race(station_pair):
    """The replay check must hold when two logins with the same code arrive at the same moment."""
    w, _b = station_pair
    sup = create_account(w, "sam", "supervisor")
    statuses = simultaneous_logins(w, sup.name, [sup.password] * 8, sup.code())
    assert statuses.count(303) == 1, f"one code opened {statuses.count(303)} sessions: {statuses}"


@SQLITE_ONLY
def test_simultaneous_failures_still_lock_the_account(station_pair):
    """Every failed attempt counts, however many arrive at once; else the lockout can be outrun."""
    w, _b = station_pair
    target = create_account(w, "carol")
    statuses = simultaneous_logins(w, target.name, [f"wrong password {i}" for i in range(12)])
    with ConsoleClient(w) as c:
        after = c.try_login(target.name, target.password)
    # The right password is refused like the wrong ones (one answer for every refusal): only the
    # audit log tells why, and it shows the lock held from the fifth failure on.
    assert after.status_code == 401, after.text
    auditor = create_account(w, "otto", "auditor")
    reasons = [
        e["detail"]["reason"]
        for e in api_audit(w, auditor.token)
        if e["action"] == "login_failed" and e["actor"] == target.name
    ]
    assert len(reasons) == 13 and reasons[0] == "locked", f"{statuses}: {reasons}"
    assert reasons.count("password") <= FREE_FAILURES, f"more guesses than allowed were checked: {reasons}"
