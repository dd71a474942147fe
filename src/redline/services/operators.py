"""Operator accounts and their bearer tokens.

Tokens are 256-bit random strings shown once at creation; only their SHA-256
is stored. A fast hash is right here (unlike for passwords): a token has
full entropy, so there is nothing for a slow hash to protect.
"""

from __future__ import annotations

import hashlib
import secrets

from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts
from redline.domain.names import check_operator_name
from redline.domain.stations import OperatorRecord, Role
from redline.errors import AuthError
from redline.services.ports import StationStore

TOKEN_PREFIX = "rl_"
_CACHE_SECONDS = 5.0


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def add_operator(store: StationStore, name: str, role: Role, clock: Clock = SYSTEM_CLOCK) -> str:
    """Create an account; return its token (the only time it is visible)."""
    check_operator_name(name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await store.add_operator(name, role, hash_token(token), format_ts(clock.now()))
    return token


class TokenAuthenticator:
    """Resolves bearer tokens, caching answers briefly so each request costs no query."""

    def __init__(self, store: StationStore, clock: Clock = SYSTEM_CLOCK) -> None:
        self._store = store
        self._clock = clock
        self._cache: dict[str, tuple[float, OperatorRecord]] = {}

    def forget(self) -> None:
        """Drop every cached answer: an account was disabled, its token must fail from now on."""
        self._cache.clear()

    async def authenticate(self, header: str | None) -> OperatorRecord:
        if not header or not header.startswith("Bearer "):
            raise AuthError("missing credentials: send 'Authorization: Bearer TOKEN'")
        token_hash = hash_token(header[len("Bearer ") :].strip())
        now = self._clock.monotonic()
        cached = self._cache.get(token_hash)
        if cached and cached[0] > now:
            return cached[1]
        operator = await self._store.operator_by_token_hash(token_hash)
        if operator is None:
            raise AuthError("the bearer token is not valid for this station")
        if len(self._cache) > 1024:
            self._cache.clear()
        self._cache[token_hash] = (now + _CACHE_SECONDS, operator)
        return operator
