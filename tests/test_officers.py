"""Officers' accounts against real stations, on SQLite and PostgreSQL: an administrator resets a
password, unlocks and disables an account (each audited, each refused to anyone else); a disabled
account can neither log in nor use its API token, and its sessions end at once; an acknowledgement
records the named officer at both stations; the watch holds one officer per position and the peer
hears who is on watch. (The browser tests are in test_console_watch.py.)"""

from __future__ import annotations

import html
import re
from typing import Any

from redline.services.accounts import FREE_FAILURES
from tests.support.console import (
    ConsoleClient,
    api_audit,
    api_message,
    create_account,
    error_text,
)
from tests.support.stations import StationProcess, wait_for

# Beijing names the peer by its name (a display name, else its card's name), not its station id.
ON_WATCH_ORTIZ = re.compile(r"On watch at Washington: ortiz \(Duty officer\)")

def _logged_in(client: ConsoleClient) -> bool:
    return client.get("/traffic").status_code == 200


def _token_works(station: StationProcess, token: str) -> int:
    with station.client(token) as c:
        return c.get("/messages", params={"box": "inbox"}).status_code


def _admin_actions(station: StationProcess, token: str, operator: str) -> list[tuple[str, str]]:
    """(actor, action) of every audit event about ``operator``, oldest first."""
    events = [e for e in api_audit(station, token) if e["detail"].get("operator") == operator]
    return [(e["actor"], e["action"]) for e in reversed(events)]


def test_reset_unlock_disable_enable_each_audited_and_only_by_an_admin(station_pair: Any) -> None:
    w, _b = station_pair
    root = create_account(w, "root", "admin")
    bob = create_account(w, "bob")
    carol = create_account(w, "carol")

    with ConsoleClient(w) as bc, ConsoleClient(w) as cc, ConsoleClient(w) as admin:
        bc.login(bob)
        cc.login(carol)
        admin.login(root)
        # Nobody but an admin: an operator's POSTs are refused and change nothing.
        for action in ("unlock", "disable", "enable", "totp"):
            assert cc.post(f"/admin/operators/bob/{action}").status_code == 403, action
        assert (
            cc.post("/admin/operators/bob/password", {"password": "carol sets bob's pw"}).status_code == 403
        )
        assert _logged_in(bc)
        # Without the CSRF token even the admin is refused.
        assert admin.post("/admin/operators/bob/disable", with_csrf=False).status_code == 403
        assert _logged_in(bc)

        # Unlock: bob's account is locked after failed attempts; the right password is refused ...
        with ConsoleClient(w) as guesser:
            for _ in range(FREE_FAILURES):
                assert guesser.try_login("bob", "not bob's password!").status_code == 401
            assert guesser.try_login("bob", bob.password).status_code == 401
            assert "locked until" in admin.get("/admin").text
            # ... until the admin unlocks it.
            assert admin.post("/admin/operators/bob/unlock").status_code == 200
            assert guesser.try_login("bob", bob.password).status_code == 303

        # Reset: the admin sets a new password; bob's sessions end, the old password no longer works.
        new_password = "bob's brand-new password"
        short = admin.post("/admin/operators/bob/password", {"password": "short"})
        assert short.status_code == 400 and "12 to 1024" in error_text(short)
        assert _logged_in(bc)
        assert admin.post("/admin/operators/bob/password", {"password": new_password}).status_code == 200
        assert not _logged_in(bc)
        assert bc.try_login("bob", bob.password).status_code == 401
        bob.password = new_password
        bc.login(bob)

        # Disable: the session ends at once, the login and the API token are refused.
        assert _token_works(w, bob.token) == 200
        page = admin.post("/admin/operators/bob/disable")
        assert page.status_code == 200 and "disabled since" in page.text
        assert not _logged_in(bc)
        assert bc.try_login("bob", bob.password).status_code == 401
        assert _token_works(w, bob.token) == 401
        assert _logged_in(cc)  # nobody else is touched
        # The admin cannot disable themselves (they would lock the station's administration out).
        assert admin.post("/admin/operators/root/disable").status_code == 400
        # Enable: both work again.
        assert admin.post("/admin/operators/bob/enable").status_code == 200
        bc.login(bob)
        assert _token_works(w, bob.token) == 200

    actions = _admin_actions(w, root.token, "bob")
    by_root = [a for actor, a in actions if actor == "root"]
    assert by_root == ["unlock", "password_set", "disable", "enable"], actions
    refusals = [e for e in api_audit(w, root.token) if e["action"] == "login_failed" and e["actor"] == "bob"]
    assert any(e["detail"]["reason"] == "disabled" for e in refusals)


def test_acknowledgement_records_the_named_officer_at_both_stations(station_pair: Any) -> None:
    w, b = station_pair
    hale = create_account(w, "hale")
    wang = create_account(b, "wang")
    with ConsoleClient(w) as wc, ConsoleClient(b) as bc:
        wc.login(hale)
        bc.login(wang)
        message_id = wc.send_text("named officers", "IMMEDIATE")
        assert api_message(w, message_id)["created_by"] == "hale"
        wait_for(lambda: _has(b, message_id), what="the message at beijing")
        assert bc.post(f"/messages/{message_id}/ack").status_code == 303
        wait_for(lambda: api_message(w, message_id)["state"] == "acknowledged", what="the ack at washington")
    at_beijing, at_washington = api_message(b, message_id), api_message(w, message_id)
    assert at_beijing["acknowledgement"]["by"] == "wang", at_beijing
    assert at_washington["acknowledgement"]["by"] == "beijing/wang", at_washington


def _has(station: StationProcess, message_id: str) -> bool:
    with station.client() as c:
        return c.get(f"/messages/{message_id}").status_code == 200


def test_watch_one_officer_a_position_and_the_peer_hears_it(station_pair: Any) -> None:
    w, b = station_pair
    hale, ortiz = create_account(w, "hale"), create_account(w, "ortiz")
    audit = create_account(w, "aud", "auditor")
    li = create_account(b, "li")
    with ConsoleClient(w) as hc, ConsoleClient(w) as oc, ConsoleClient(w) as ac, ConsoleClient(b) as lc:
        hc.login(hale)
        oc.login(ortiz)
        ac.login(audit)
        lc.login(li)
        assert ac.post("/watch/duty_officer/sign-on").status_code == 403  # an auditor holds no position
        assert hc.post("/watch/nonsense/sign-on").status_code == 400
        assert hc.get("/watch?cursor=not-a-cursor").status_code == 400
        assert hc.post("/watch/duty_officer/sign-on").status_code == 303
        taken = oc.post("/watch/duty_officer/sign-on")
        assert taken.status_code == 409 and "handover note" in error_text(taken)
        # Nothing to accept until hale writes the note; ortiz cannot write it for him.
        assert oc.post("/watch/duty_officer/accept", {"note_id": "1"}).status_code == 404
        assert oc.post("/watch/duty_officer/handover", {"note": "mine"}).status_code == 409
        assert hc.post("/watch/duty_officer/handover", {"note": "quiet night"}).status_code == 303
        page = oc.get("/watch").text
        assert "quiet night" in page
        note_id = html.unescape(page).split('name="note_id" value="', 1)[1].split('"', 1)[0]
        assert oc.post("/watch/duty_officer/accept", {"note_id": "999999"}).status_code == 409
        assert oc.post("/watch/duty_officer/accept", {"note_id": note_id}).status_code == 303
        assert 'data-position="duty_officer">' in oc.get("/traffic").text
        assert hc.post("/watch/duty_officer/sign-off").status_code == 409  # no longer his
        wait_for(
            # The peer by its display name, with its station id in small type.
            lambda: ON_WATCH_ORTIZ.search(lc.get("/links").text) is not None,
            what="beijing's links page showing ortiz on watch",
        )
        # Ortiz leaves without a handover: only a supervisor (or admin) may relieve him.
        assert hc.post("/watch/duty_officer/relieve").status_code == 403
        with ConsoleClient(w) as sc:
            sc.login(create_account(w, "sup", "supervisor"))
            assert sc.post("/watch/duty_officer/relieve").status_code == 303
            assert sc.post("/watch/duty_officer/relieve").status_code == 404  # vacant now
            assert "relieved by sup" in sc.get("/watch").text
        wait_for(
            lambda: "Washington has not said who is on watch" in lc.get("/links").text,
            what="beijing's links page showing nobody on watch at washington",
        )
    events = [e for e in api_audit(w, audit.token) if e["action"].startswith("watch_")][::-1]
    actions = [(e["actor"], e["action"]) for e in events]
    assert actions == [
        ("hale", "watch_sign_on"),
        ("hale", "watch_handover_note"),
        ("ortiz", "watch_handover"),
        ("sup", "watch_sign_off"),
    ], actions
    assert events[-1]["detail"]["officer"] == "ortiz" and events[-1]["detail"]["relieved_by"] == "sup"

