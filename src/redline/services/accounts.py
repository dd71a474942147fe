"""Console logins: argon2id passwords, TOTP second factor, lockout, sessions.

Passwords are hashed with argon2id (argon2-cffi's defaults). Supervisors and
admins must also give a TOTP code (RFC 6238, 30 s steps, one step of clock
drift either way); each step is accepted once. A session is a 256-bit cookie
token (only its SHA-256 is stored) with its own CSRF token; it ends after
``IDLE_SECONDS`` without use or ``MAX_SESSION_SECONDS`` after login,
whichever comes first.

One login attempt is one decision, safe under parallel attempts
---------------------------------------------------------------
1. **Claim.** Before any hash is computed, the store counts the attempt with
   one atomic UPDATE that succeeds only while the account is not locked
   (``claim_login_attempt``: ``failed_logins + 1``, and the attempt that
   reaches ``FREE_FAILURES`` or more also sets ``locked_until``, 30 s doubling
   up to ``MAX_LOCK_SECONDS``, from :func:`lock_schedule`). Every attempt is
   counted as a failure until it succeeds, so however many guesses arrive at
   once, at most ``FREE_FAILURES`` of them (then one per lock period) reach the
   password hash; the others are refused before it.
2. **Check.** Only a claimed attempt verifies the password and the TOTP code.
   An unknown name, a locked account and an account without a password verify
   against a dummy hash instead: the same cost, never the account's own hash.
3. **Succeed.** One transaction (``start_session``) resets the count and the
   lock, spends the TOTP step (only if it is later than the last one spent)
   and opens the session; of parallel logins with one code exactly one passes.

Every refusal is the same :class:`AuthError` with the same words
(``LOGIN_REFUSED``): unknown name, wrong password, wrong or replayed code,
locked account (even with the right password), a second factor not enrolled.
So no answer tells whether a password was right while the account is locked.
The precise reason goes to the audit log (``login_failed``, with the count).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts, parse_ts
from redline.domain.names import check_operator_name
from redline.domain.stations import Account, OperatorRecord
from redline.domain.watch import check_display_name
from redline.errors import AuthError, InputError, NotFound, _t
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
# The one answer to every refused login, whatever the reason (the console shows its translation).
LOGIN_REFUSED = (
    "Login refused: wrong user name, password or one-time code, or the account is locked after "
    f"too many failed attempts (for up to {MAX_LOCK_SECONDS // 60} minutes): wait and try again."
)

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Hashed on first use, not at import: every `redline` command imports this module."""
    return _hasher.hash("redline-no-such-operator")


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_password(password: object) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InputError(
            _t(
                "password: must be {MIN_PASSWORD} to {MAX_PASSWORD} characters",
                MIN_PASSWORD=MIN_PASSWORD,
                MAX_PASSWORD=MAX_PASSWORD,
            )
        )
    return password


def lock_seconds(failures: int) -> int:
    """How long an account stays locked after its ``failures``-th failed attempt in a row."""
    if failures < FREE_FAILURES:
        return 0
    return int(min(MAX_LOCK_SECONDS, FIRST_LOCK_SECONDS * 2 ** (failures - FREE_FAILURES)))


def lock_schedule(now: datetime) -> list[tuple[int, str]]:
    """Each attempt count that locks the account, with when a lock set ``now`` would end; the
    last entry (the first that locks for ``MAX_LOCK_SECONDS``) holds for every count beyond it."""
    schedule: list[tuple[int, str]] = []
    failures = FREE_FAILURES
    while not schedule or lock_seconds(failures - 1) < MAX_LOCK_SECONDS:
        schedule.append((failures, format_ts(now + timedelta(seconds=lock_seconds(failures)))))
        failures += 1
    return schedule


def _enrolment(name: str, secret: str) -> TotpEnrolment:
    return TotpEnrolment(name, secret, pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name="Redline"))


def _valid_step(secret: str, code: object, now: datetime) -> int | None:
    """The time step (now, or one either side) whose code ``code`` is for ``secret``, or None."""
    if not isinstance(code, str) or not code.strip().isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if secrets.compare_digest(totp.generate_otp(step), code.strip()):
            return step
    return None


@dataclass(frozen=True, slots=True)
class Session:
    token_hash: str
    operator: OperatorRecord
    csrf_token: str
    language: str
    shown_name: str = ""  # the officer's display name (the account name when none is set)


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    """A new TOTP secret awaiting its first code: shown as text and as a QR code of its URI."""

    name: str
    secret: str
    uri: str


class AccountService:
    """Logins and sessions; and what administrators (and officers, for themselves) change.

    ``tokens_changed`` is called when an account is disabled, so the API's token cache
    (``operators.TokenAuthenticator.forget``) refuses its token at once.
    """

    def __init__(
        self,
        store: AccountStore,
        clock: Clock = SYSTEM_CLOCK,
        tokens_changed: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self._clock = clock
        self._touched: dict[str, float] = {}
        self._tokens_changed = tokens_changed

    async def account(self, name: str) -> Account:
        """The account as its page shows it (NotFound if there is none)."""
        return await self._account(name)

    async def _account(self, name: str) -> Account:
        account = await self.store.account(check_operator_name(name))
        if account is None:
            raise NotFound(_t("no operator {name!r}", name=name))
        return account

    async def set_password(self, name: str, password: object, actor: str) -> None:
        account = await self._account(name)
        digest = _hasher.hash(check_password(password))
        at = format_ts(self._clock.now())
        await self.store.update_account(
            account.name, at, actor, "password_set", password_hash=digest, failed_logins=0, locked_until=None
        )
        await self.store.end_sessions_of(account.id)

    async def _change(
        self, name: str, actor: str, action: str, *, end_sessions: bool = False, **values: object
    ) -> None:
        account = await self._account(name)
        at = format_ts(self._clock.now())
        await self.store.update_account(account.name, at, actor, action, end_sessions=end_sessions, **values)

    async def unlock(self, name: str, actor: str) -> None:
        """Clear the failed-login count and the lock."""
        await self._change(name, actor, "unlock", failed_logins=0, locked_until=None)

    async def set_disabled(self, name: str, disabled: bool, actor: str) -> None:
        """Disable (no login, no API token, its sessions end now) or enable an account."""
        if disabled and name == actor:
            raise InputError(_t("an administrator cannot disable their own account"))
        at = format_ts(self._clock.now()) if disabled else None
        await self._change(
            name, actor, "disable" if disabled else "enable", end_sessions=True, disabled_at=at
        )
        if self._tokens_changed is not None:
            self._tokens_changed()

    async def set_display_name(self, name: str, display_name: object, actor: str) -> None:
        await self._change(name, actor, "display_name", display_name=check_display_name(display_name))

    async def begin_totp(self, name: str, actor: str) -> TotpEnrolment:
        """A new TOTP secret for the account, pending: the second factor in force (if any) stays
        so until :meth:`confirm_totp` is given a first valid code from the new one."""
        account = await self._account(name)
        secret = pyotp.random_base32()
        await self._change(account.name, actor, "totp_begin", totp_pending=secret)
        return _enrolment(account.name, secret)

    async def pending_totp(self, name: str) -> TotpEnrolment | None:
        account = await self._account(name)
        return _enrolment(account.name, account.totp_pending) if account.totp_pending else None

    async def confirm_totp(self, name: str, code: object, actor: str) -> None:
        """Put the pending secret in force once ``code`` is valid for it (the code's step is spent)."""
        account = await self._account(name)
        if account.totp_pending is None:
            raise InputError(
                _t("{name} has no second factor awaiting confirmation: start again", name=account.name)
            )
        step = _valid_step(account.totp_pending, code, self._clock.now())
        if step is None:
            raise InputError(
                _t("code: not valid for the new secret; the second factor in force is unchanged")
            )
        at = format_ts(self._clock.now())
        if not await self.store.confirm_totp(account.name, account.totp_pending, step, at, actor):
            raise InputError(_t("the new secret was replaced meanwhile: scan the newest one"))

    async def enroll_totp(self, name: str, actor: str) -> str:
        """Give the account a new TOTP secret at once (``redline operator totp``, the demo: whoever
        runs them holds the station's files); returns its otpauth:// URI. The console uses
        :meth:`begin_totp` and :meth:`confirm_totp` instead."""
        account = await self._account(name)
        secret = pyotp.random_base32()
        await self.store.update_account(
            account.name,
            format_ts(self._clock.now()),
            actor,
            "totp_enroll",
            totp_secret=secret,
            totp_last_step=None,
            totp_pending=None,
        )
        return _enrolment(account.name, secret).uri

    async def set_language(self, operator: OperatorRecord, language: object) -> str:
        if language not in LANGUAGES:
            raise InputError(
                _t(
                    "language: {language!r} is not one of {choices}",
                    language=language,
                    choices=", ".join(LANGUAGES),
                )
            )
        assert isinstance(language, str)
        await self.store.update_account(
            operator.name, format_ts(self._clock.now()), operator.name, "settings", language=language
        )
        return language

    async def login(self, name: object, password: object, code: object) -> tuple[str, Session]:
        """Check a login; return the new session's cookie token and the session.

        Every refusal is the same ``AuthError(LOGIN_REFUSED)``; the audit log says why.
        """
        now = self._clock.now()
        at = format_ts(now)
        if not isinstance(name, str) or not isinstance(password, str) or not name or not password:
            raise InputError(_t("user name and password: both are required"))
        # The claim counts this attempt before the password is looked at: see the module docstring.
        locks = lock_schedule(now)
        account = await self.store.claim_login_attempt(name, at, locks) if len(name) <= 64 else None
        if account is None or account.password_hash is None or account.disabled_at is not None:
            # Unknown, locked, disabled or without a password: the same hash cost, never the account's own.
            await asyncio.to_thread(self._verify, _dummy_hash(), password)
            if account is not None:
                await self._refuse(account, at, "disabled" if account.disabled_at else "no password set")
            raise AuthError(LOGIN_REFUSED)
        step: int | None = None
        if not await asyncio.to_thread(self._verify, account.password_hash, password):
            await self._refuse(account, at, "password")
        if account.role.needs_second_factor or account.totp_secret:
            if not account.totp_secret:
                await self._refuse(account, at, "second factor not enrolled (`redline operator totp`)")
            step, problem = self._totp_step(account, code)
            if step is None:
                await self._refuse(account, at, problem)
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = format_ts(now + timedelta(seconds=MAX_SESSION_SECONDS))
        if not await self.store.start_session(account, _sha256(token), csrf, at, expires, step):
            now_stored = await self.store.account(account.name)
            changed = now_stored is None or now_stored.password_hash != account.password_hash
            why = "password changed meanwhile" if changed else "one-time code replayed"
            await self._refuse(account, at, why)
        operator = OperatorRecord(account.id, account.name, account.role)
        return token, Session(_sha256(token), operator, csrf, account.language, account.shown_name)

    async def _refuse(self, account: Account, at: str, reason: str) -> NoReturn:
        await self.store.audit_login_failure(account.name, at, reason, account.failed_logins)
        raise AuthError(LOGIN_REFUSED)

    @staticmethod
    def _verify(digest: str, password: str) -> bool:
        try:
            return _hasher.verify(digest, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _totp_step(self, account: Account, code: object) -> tuple[int | None, str]:
        """The time step the code belongs to if it is valid and not used before; else None and why."""
        if account.totp_secret is None:
            return None, "one-time code"
        step = _valid_step(account.totp_secret, code, self._clock.now())
        if step is None:
            return None, "one-time code"
        if account.totp_last_step is not None and step <= account.totp_last_step:
            return None, "one-time code replayed"
        return step, ""

    async def session(self, token: str | None) -> Session | None:
        """The live session for a cookie token, or None (unknown, idle too long, or expired)."""
        if not token or len(token) > 128:
            return None
        token_hash = _sha256(token)
        found = await self.store.session(token_hash)
        if found is None:
            return None
        row, account = found
        if account.disabled_at is not None:  # disabling ends sessions; this covers one opened meanwhile
            return None
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
        return Session(token_hash, operator, row.csrf_token, account.language, account.shown_name)

    async def logout(self, session: Session) -> None:
        self._touched.pop(session.token_hash, None)
        await self.store.end_session(
            session.token_hash, format_ts(self._clock.now()), session.operator.name, "logout"
        )
