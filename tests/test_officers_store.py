"""Officers' accounts and the watch on a real database (a SQLite file, and PostgreSQL), in process
on a MockClock: a pending TOTP secret leaves the factor in force until a first code confirms it;
a disabled account's login, session and API token are refused; the watch holds one officer per
position, a handover moves it only with the current note, and the log pages with cursors."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from redline.domain.clock import MockClock
from redline.domain.stations import Role
from redline.domain.watch import Position, WatchAction
from redline.errors import InputError
from redline.services.accounts import LOGIN_REFUSED, AccountService
from redline.services.operators import TokenAuthenticator, add_operator
from redline.store.station import Store
from redline.store.watch import WatchStore
from tests.test_accounts import PASSWORD, operator, refusal, run


def test_pending_totp_takes_effect_only_after_its_first_code(url: str) -> None:
    async def scenario(store: Store, accounts: AccountService, clock: MockClock) -> None:
        await operator(store, accounts, "sue", Role.SUPERVISOR)
        old = pyotp.parse_uri(await accounts.enroll_totp("sue", "admin"))
        enrolment = await accounts.begin_totp("sue", "sue")
        new = pyotp.TOTP(enrolment.secret)
        assert enrolment.uri.startswith("otpauth://totp/") and enrolment.secret in enrolment.uri
        # Pending: the old factor logs in, the new one does not; a wrong code changes nothing.
        await accounts.login("sue", PASSWORD, old.at(clock.now()))
        await clock.advance(30)
        assert await refusal(accounts.login("sue", PASSWORD, new.at(clock.now()))) == LOGIN_REFUSED
        wrong = "000000" if new.at(clock.now()) != "000000" else "111111"
        with pytest.raises(InputError, match="not valid for the new secret"):
            await accounts.confirm_totp("sue", wrong, "sue")
        assert (await accounts.pending_totp("sue")) == enrolment
        # Confirmed: the new secret is in force (its first code spent), the old one no longer is.
        await clock.advance(30)
        first = new.at(clock.now())
        await accounts.confirm_totp("sue", first, "sue")
        assert await accounts.pending_totp("sue") is None
        assert await refusal(accounts.login("sue", PASSWORD, first)) == LOGIN_REFUSED  # spent
        await clock.advance(30)
        assert await refusal(accounts.login("sue", PASSWORD, old.at(clock.now()))) == LOGIN_REFUSED
        await accounts.login("sue", PASSWORD, new.at(clock.now() + timedelta(seconds=30)))
        with pytest.raises(InputError, match="no second factor awaiting"):
            await accounts.confirm_totp("sue", first, "sue")
        actions = [e.action for e in await store.audit_log(50) if '"sue"' in e.detail]
        assert actions[:2] == ["totp_enroll", "totp_begin"], actions

    run(url, scenario)


def test_disabled_account_loses_login_sessions_and_token(url: str) -> None:
    async def scenario(store: Store, accounts: AccountService, clock: MockClock) -> None:
        token = await add_operator(store, "bob", Role.OPERATOR, clock)
        await accounts.set_password("bob", PASSWORD, "admin")
        auth = TokenAuthenticator(store, clock)
        forgotten: list[bool] = []
        accounts._tokens_changed = lambda: (auth.forget(), forgotten.append(True))  # as the runtime wires it
        cookie, _ = await accounts.login("bob", PASSWORD, "")
        assert (await auth.authenticate(f"Bearer {token}")).name == "bob"  # now cached
        await accounts.set_disabled("bob", True, "root")
        assert forgotten == [True]
        assert await accounts.session(cookie) is None
        assert await refusal(accounts.login("bob", PASSWORD, "")) == LOGIN_REFUSED
        with pytest.raises(Exception, match="not valid"):
            await auth.authenticate(f"Bearer {token}")
        with pytest.raises(InputError, match="own account"):
            await accounts.set_disabled("root", True, "root")
        await accounts.set_disabled("bob", False, "root")
        await accounts.login("bob", PASSWORD, "")
        assert (await auth.authenticate(f"Bearer {token}")).name == "bob"

    run(url, scenario)


def test_one_officer_a_position_handover_and_the_paged_log(url: str) -> None:
    async def scenario(store: Store, accounts: AccountService, clock: MockClock) -> None:
        watch = WatchStore(store)
        duty = Position.DUTY_OFFICER
        assert await watch.sign_on(duty, "hale", "2030-01-01T00:00:00.000000Z")
        assert not await watch.sign_on(duty, "ortiz", "2030-01-01T00:00:01.000000Z")
        assert await watch.write_handover_note(duty, "ortiz", "2030-01-01T00:00:02.000000Z", {}) is None
        note = await watch.write_handover_note(duty, "hale", "2030-01-01T00:00:03.000000Z", {"note": "n"})
        assert note is not None
        assert not await watch.accept_handover(duty, "ortiz", "hale", note + 1, "2030-01-01T00:00:04.000000Z")
        assert await watch.accept_handover(duty, "ortiz", "hale", note, "2030-01-01T00:00:05.000000Z")
        assert not await watch.accept_handover(duty, "zhao", "hale", note, "2030-01-01T00:00:06.000000Z")
        [post] = await watch.posts()
        assert (post.officer, post.since, post.handover_id) == ("ortiz", "2030-01-01T00:00:05.000000Z", None)
        assert not await watch.sign_off(duty, "hale", "2030-01-01T00:00:07.000000Z")
        assert await watch.sign_off(duty, "ortiz", "2030-01-01T00:00:08.000000Z")
        assert await watch.posts() == []
        events = await watch.log(2)
        assert [e.action for e in events] == [WatchAction.SIGN_OFF, WatchAction.HANDOVER]
        older = await watch.log(10, after=events[-1].id)
        assert [e.action for e in older] == [WatchAction.HANDOVER_NOTE, WatchAction.SIGN_ON]
        assert events[1].detail == {"from": "hale", "note_id": note, "acknowledged": True}
        audited = [e.action for e in await store.audit_log(10) if e.action.startswith("watch_")]
        assert audited == ["watch_sign_off", "watch_handover", "watch_handover_note", "watch_sign_on"]

    run(url, scenario)
