"""Console logins under concurrency, on a real database (a SQLite file, and PostgreSQL): parallel
guesses get no more password checks than the lockout allows, every refusal reads the same, and a
one-time code opens one session however many copies of it race.

The password checks are counted by wrapping the service's own ``_verify`` (argon2 still runs);
the database is the real store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import pyotp
import pytest

from redline.domain.clock import MockClock, format_ts
from redline.domain.stations import Role
from redline.errors import AuthError
from redline.services.accounts import FREE_FAILURES, LOGIN_REFUSED, AccountService, Session
from redline.store import schema as t
from redline.store.console import ConsoleStore
from redline.store.station import Store

PASSWORD = "the right password, long enough"
PARALLEL = 16
R = TypeVar("R")


class CountedChecks:
    """Wraps an AccountService's ``_verify``: counts the checks against each digest, runs argon2 as usual."""

    def __init__(self, service: AccountService) -> None:
        self.digests: list[str] = []
        real = service._verify

        def counted(digest: str, password: str) -> bool:
            self.digests.append(digest)
            return real(digest, password)

        service._verify = counted  # type: ignore[method-assign]

    def against(self, digest: str | None) -> int:
        return sum(1 for d in self.digests if d == digest)


def run(url: str, scenario: Callable[[Store, AccountService, MockClock], Awaitable[R]]) -> R:
    async def go() -> R:
        store = await Store.open(url)
        clock = MockClock()
        try:
            return await scenario(store, AccountService(ConsoleStore(store), clock), clock)
        finally:
            await store.close()

    return asyncio.run(go())


async def operator(store: Store, accounts: AccountService, name: str, role: Role = Role.OPERATOR) -> str:
    """Add an operator with ``PASSWORD``; its password hash."""
    await store.add_operator(name, role, name.ljust(64, "0"), format_ts(accounts._clock.now()))
    await accounts.set_password(name, PASSWORD, "admin")
    account = await accounts.store.account(name)
    assert account is not None and account.password_hash
    return account.password_hash


async def refusal(attempt: Awaitable[object]) -> str:
    """The message a refused login gives (and that it is a plain AuthError, no subclass)."""
    with pytest.raises(AuthError) as refused:
        await attempt
    assert type(refused.value) is AuthError, repr(refused.value)
    return refused.value.message


async def login_failures(store: Store, name: str) -> list[dict[str, object]]:
    events = await store.audit_log(1000)
    return [json.loads(e.detail) for e in reversed(events) if e.action == "login_failed" and e.actor == name]


def test_parallel_wrong_passwords_get_at_most_the_free_checks_then_read_like_the_right_one(url: str) -> None:
    async def scenario(store: Store, accounts: AccountService, clock: MockClock) -> None:
        digest = await operator(store, accounts, "carol")
        checks = CountedChecks(accounts)
        guesses = [accounts.login("carol", f"wrong guess number {i:02d}", "") for i in range(PARALLEL)]
        answers = await asyncio.gather(*(refusal(g) for g in guesses))
        assert set(answers) == {LOGIN_REFUSED}
        assert checks.against(digest) <= FREE_FAILURES, checks.against(digest)

        # The right password, while locked: refused in the very same words, and not checked.
        before = checks.against(digest)
        assert await refusal(accounts.login("carol", PASSWORD, "")) == LOGIN_REFUSED
        assert checks.against(digest) == before
        assert await refusal(accounts.login("nobody", PASSWORD, "")) == LOGIN_REFUSED

        # The audit log keeps the reasons the client is not told.
        reasons = [f["reason"] for f in await login_failures(store, "carol")]
        assert reasons.count("password") == before and reasons.count("locked") == PARALLEL + 1 - before

        # After the lock runs out, the right password gets in and the count starts again.
        await clock.advance(15 * 60 + 1)
        await accounts.login("carol", PASSWORD, "")
        account = await accounts.store.account("carol")
        assert account is not None and (account.failed_logins, account.locked_until) == (0, None)

    run(url, scenario)


def test_every_refusal_costs_one_hash_check(url: str) -> None:
    """An unknown name, a locked account and a known one all cost the same argon2 verification."""

    async def scenario(store: Store, accounts: AccountService, clock: MockClock) -> None:
        digest = await operator(store, accounts, "dave")
        checks = CountedChecks(accounts)
        await refusal(accounts.login("nobody", PASSWORD, ""))
        await refusal(accounts.login("x" * 65, PASSWORD, ""))
        for i in range(FREE_FAILURES + 3):
            await refusal(accounts.login("dave", f"wrong guess number {i:02d}", ""))
        assert len(checks.digests) == 2 + FREE_FAILURES + 3
        assert checks.against(digest) == FREE_FAILURES

    run(url, scenario)


def test_parallel_totp_guesses_and_replays(url: str) -> None:
    async def scenario(store: Store, accounts: AccountService, clock: MockClock) -> None:
        digest = await operator(store, accounts, "sam", Role.SUPERVISOR)
        totp = pyotp.parse_uri(await accounts.enroll_totp("sam", "admin"))
        assert isinstance(totp, pyotp.TOTP)
        code = totp.at(clock.now())
        wrong = "000000" if code != "000000" else "111111"
        assert await refusal(accounts.login("sam", PASSWORD, "")) == LOGIN_REFUSED

        # One valid code sent many times at once opens exactly one session.
        attempts = await asyncio.gather(
            *(accounts.login("sam", PASSWORD, code) for _ in range(4)), return_exceptions=True
        )
        sessions = [a for a in attempts if isinstance(a, tuple)]
        refused = [a for a in attempts if not isinstance(a, tuple)]
        assert len(sessions) == 1 and isinstance(sessions[0][1], Session)
        assert all(type(r) is AuthError and r.message == LOGIN_REFUSED for r in refused), refused
        rows = await store.database.fetch(t.console_sessions.select())
        assert len(rows) == 1

        # Parallel code guesses with the right password: no more checks than the lockout allows,
        # and the next valid code is then refused like the guesses.
        checks = CountedChecks(accounts)
        guesses = await asyncio.gather(
            *(refusal(accounts.login("sam", PASSWORD, wrong)) for _ in range(PARALLEL))
        )
        assert set(guesses) == {LOGIN_REFUSED}
        assert checks.against(digest) <= FREE_FAILURES
        next_code = totp.at(clock.now() + timedelta(seconds=30))  # one step ahead: within the drift
        assert await refusal(accounts.login("sam", PASSWORD, next_code)) == LOGIN_REFUSED
        reasons = {f["reason"] for f in await login_failures(store, "sam")}
        assert {"one-time code", "one-time code replayed", "locked"} <= reasons, reasons

    run(url, scenario)
