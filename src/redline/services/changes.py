"""A change feed for live pages: a version number that moves after every committed write.

The store calls :meth:`ChangeFeed.bump` after each successful commit (wired
through :meth:`ChangeFeed.listen_to` to ``add_commit_listener``), and the
station bumps it for changes that live in memory only. A live page remembers
the version it rendered and awaits :meth:`ChangeFeed.wait`, which returns at
once if the version has moved since, else when it moves or after ``seconds``
on the injected clock. Nothing polls: with nobody watching, a bump costs an
increment and setting an event nobody waits on.

A commit listener may be called from a worker thread (a store that commits in
one); the bump is then handed to the event loop the feed was first used on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from redline.domain.clock import SYSTEM_CLOCK, Clock


class CommitSource(Protocol):
    def add_commit_listener(self, callback: Callable[[], None]) -> None: ...


class ChangeFeed:
    """Counts changes to what the live pages show; waiters wake when the count moves."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self._clock = clock
        self.version = 0
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def listen_to(self, source: CommitSource) -> None:
        source.add_commit_listener(self.bump)

    def bump(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._bump)
        else:
            self._bump()

    def _bump(self) -> None:
        self.version += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait(self, seen: int, seconds: float) -> bool:
        """True when the version differs from ``seen`` (now or within ``seconds``), else False."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        if self.version != seen:
            return True
        return await self._clock.wait(self._changed, seconds)
