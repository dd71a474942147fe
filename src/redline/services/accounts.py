"""Console logins: argon2id passwords, TOTP second factor, lockout, sessions.

Passwords are hashed with argon2id (argon2-cffi's defaults); an unknown user
name costs the same hash verification as a known one, so timing does not tell
which names exist. After ``FREE_FAILURES`` failed attempts an account is
locked for a period that doubles with each further failure, up to
``MAX_LOCK_SECONDS``. Supervisors and admins must also give a TOTP code
(RFC 6238, 30 s steps, one step of clock drift either way); each step is
accepted once. A session is a 256-bit cookie token (only its SHA-256 is
stored) with its own CSRF token; it ends after ``IDLE_SECONDS`` without use or
``MAX_SESSION_SECONDS`` after login, whichever comes first.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts, parse_ts
from redline.domain.names import check_operator_name
from redline.domain.stations import Account, OperatorRecord
from redline.errors import AuthError, InputError, LockedOut, NotFound
from redline.services.ports import AccountStore

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
FREE_FAILURES = 5
FIRST_LOCK_SECONDS = 30
MAX_LOCK_SECONDS = 15 * 60
IDLE_SECONDS = 60 * 60
MAX_SESSION_SECONDS = 12 * 3600
TOUCH_SECONDS = 60  # write seen_at at most this often per session
LANGUAGES = ("en", "zh-Hans")

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Hashed on first use, not at import: every `redline` command imports this module."""
    return _hasher.hash("redline-no-such-operator")


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_password(password: object) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InputError(f"password: must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def lock_seconds(failures: int) -> int:
    """How long an account stays locked after its ``failures``-th failed attempt in a row."""
    if failures < FREE_FAILURES:
        return 0
    return int(min(MAX_LOCK_SECONDS, FIRST_LOCK_SECONDS * 2 ** (failures - FREE_FAILURES)))


@dataclass(frozen=True, slots=True)
class Session:
    token_hash: str
    operator: OperatorRecord
    csrf_token: str
    language: str


class AccountService:
    def __init__(self, store: AccountStore, clock: Clock = SYSTEM_CLOCK) -> None:
        self.store = store
        self._clock = clock
        self._touched: dict[str, float] = {}

    async def _account(self, name: str) -> Account:
        account = await self.store.account(check_operator_name(name))
        if account is None:
            raise NotFound(f"no operator {name!r}")
        return account

    async def set_password(self, name: str, password: object, actor: str) -> None:
        account = await self._account(name)
        digest = _hasher.hash(check_password(password))
        at = format_ts(self._clock.now())
        await self.store.update_account(
            account.name, at, actor, "password_set", password_hash=digest, failed_logins=0, locked_until=None
        )
        await self.store.end_sessions_of(account.id)

    async def enroll_totp(self, name: str, actor: str) -> str:
        """Give the account a new TOTP secret; returns its otpauth:// URI for an authenticator app."""
        account = await self._account(name)
        secret = pyotp.random_base32()
        await self.store.update_account(
            account.name,
            format_ts(self._clock.now()),
            actor,
            "totp_enroll",
            totp_secret=secret,
            totp_last_step=None,
        )
        return pyotp.TOTP(secret).provisioning_uri(name=account.name, issuer_name="Redline")

    async def set_language(self, operator: OperatorRecord, language: object) -> str:
        if language not in LANGUAGES:
            raise InputError(f"language: {language!r} is not one of {', '.join(LANGUAGES)}")
        assert isinstance(language, str)
        await self.store.update_account(
            operator.name, format_ts(self._clock.now()), operator.name, "settings", language=language
        )
        return language

    async def login(self, name: object, password: object, code: object) -> tuple[str, Session]:
        """Check a login; return the new session's cookie token and the session."""
        now = self._clock.now()
        at = format_ts(now)
        if not isinstance(name, str) or not isinstance(password, str) or not name or not password:
            raise AuthError("enter your user name and password")
        account = await self.store.account(name) if len(name) <= 64 else None
        if account is None or account.password_hash is None:
            await asyncio.to_thread(self._verify, _dummy_hash(), password)  # the same cost as a real check
            raise AuthError("wrong user name or password")
        if account.locked_until and parse_ts(account.locked_until, "locked_until") > now:
            wait = int((parse_ts(account.locked_until, "locked_until") - now).total_seconds()) + 1
            raise LockedOut(f"too many failed attempts; try again in {wait} seconds", wait)
        step: int | None = None
        reason = None
        if not await asyncio.to_thread(self._verify, account.password_hash, password):
            reason = "password"
        elif account.role.needs_second_factor or account.totp_secret:
            if not account.totp_secret:
                raise AuthError(
                    f"role {account.role.value} needs a second factor: an admin must run "
                    f"`redline operator totp {account.name}` first"
                )
            step = self._totp_step(account, code)
            if step is None:
                reason = "one-time code"
        if reason is not None:
            failures = await self.store.record_login_failure(account.name, at, reason)
            lock = lock_seconds(failures)
            if lock:
                await self.store.lock_account(account.name, format_ts(now + timedelta(seconds=lock)))
                raise LockedOut(f"too many failed attempts; try again in {lock} seconds", lock)
            raise AuthError("wrong user name or password" if reason == "password" else "wrong one-time code")
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = format_ts(now + timedelta(seconds=MAX_SESSION_SECONDS))
        if not await self.store.start_session(account, _sha256(token), csrf, at, expires, step):
            raise AuthError("login refused: the account was locked, or the one-time code used, meanwhile")
        operator = OperatorRecord(account.id, account.name, account.role)
        return token, Session(_sha256(token), operator, csrf, account.language)

    @staticmethod
    def _verify(digest: str, password: str) -> bool:
        try:
            return _hasher.verify(digest, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _totp_step(self, account: Account, code: object) -> int | None:
        """The time step the code belongs to, if it is valid and not used before; else None."""
        if not isinstance(code, str) or not code.strip().isdigit() or account.totp_secret is None:
            return None
        totp = pyotp.TOTP(account.totp_secret)
        current = totp.timecode(self._clock.now())
        for step in (current, current - 1, current + 1):
            if secrets.compare_digest(totp.generate_otp(step), code.strip()):
                if account.totp_last_step is not None and step <= account.totp_last_step:
                    return None  # replayed
                return step
        return None

    async def session(self, token: str | None) -> Session | None:
        """The live session for a cookie token, or None (unknown, idle too long, or expired)."""
        if not token or len(token) > 128:
            return None
        token_hash = _sha256(token)
        found = await self.store.session(token_hash)
        if found is None:
            return None
        row, account = found
        now = self._clock.now()
        idle = now - parse_ts(row.seen_at, "seen_at")
        if parse_ts(row.expires_at, "expires_at") <= now or idle.total_seconds() > IDLE_SECONDS:
            await self.store.end_session(token_hash, format_ts(now), account.name, "expired")
            return None
        mono = self._clock.monotonic()
        if mono - self._touched.get(token_hash, 0.0) > TOUCH_SECONDS:
            self._touched[token_hash] = mono
            await self.store.touch_session(token_hash, format_ts(now))
        operator = OperatorRecord(account.id, account.name, account.role)
        return Session(token_hash, operator, row.csrf_token, account.language)

    async def logout(self, session: Session) -> None:
        self._touched.pop(session.token_hash, None)
        await self.store.end_session(
            session.token_hash, format_ts(self._clock.now()), session.operator.name, "logout"
        )
