"""A link test the outbox could not store is tried again within seconds, not an interval later."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from redline.domain.clock import MockClock, settle
from redline.errors import StoreError
from redline.services.assurance import RETRY_UNQUEUED_SECONDS, LinkTester
from redline.services.outbox import Outbox
from redline.services.ports import StationStore
from tests.support.records import peer_record

pytestmark = pytest.mark.anyio
HOUR = 3600.0
PEER = peer_record("beijing", ("https://b:1",))


class FlakyOutbox:
    """Refuses the first ``failures`` drafts as a store error would, then takes them."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.taken: list[Any] = []

    async def submit(self, draft: Any) -> str:
        if self.failures:
            self.failures -= 1
            raise StoreError("could not store the message: the database went away")
        self.taken.append(draft)
        return f"{len(self.taken):032x}"


class EmptyHistory:
    """A store with no traffic yet: what the scorecard reads."""

    async def kind_counts(self, *args: Any) -> tuple[int, int]:
        return 0, 0

    async def answered_history(self, *args: Any) -> list[Any]:
        return []


async def test_an_unqueued_start_up_test_is_retried_within_seconds() -> None:
    clock = MockClock()
    outbox = FlakyOutbox(failures=1)
    tester = LinkTester(
        cast(StationStore, EmptyHistory()),
        cast(Outbox, outbox),
        "washington",
        PEER,
        HOUR,
        lambda _peer, _transition: None,
        {},
        clock,
    )
    running = asyncio.ensure_future(tester.run())
    try:
        await settle()
        assert outbox.taken == [] and outbox.failures == 0, "the start-up test was tried and refused"
        await clock.advance(RETRY_UNQUEUED_SECONDS + 1)
        assert len(outbox.taken) == 1, "tried again within seconds, not an hour later"
        await clock.advance(RETRY_UNQUEUED_SECONDS * 4)
        assert len(outbox.taken) == 1, "then back on the hourly slots"
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
