"""A link's transcript and its export bound on two in-process stations: every message read a page
at a time, and a period holding more than the bound refused, not cut."""

from __future__ import annotations

import pytest

from redline.errors import InputError, NotFound
from redline.services.paging import PageRequest
from redline.services.queries.transcript import TimeRange
from redline.web.console import exports
from tests.support.inprocess import InProcessPair, eventually

pytestmark = pytest.mark.anyio


async def test_an_export_reads_every_page_and_refuses_beyond_its_bound(
    pair: InProcessPair, monkeypatch: pytest.MonkeyPatch
):
    w, b = pair
    sent = []
    for i in range(5):  # a second apart: on one mock moment the order would be the ids'
        sent.append(await w.messaging.send_text(pair.duty(w), "beijing", "ROUTINE", f"m{i}", "en"))
        await pair.clock.advance(1.0)

    async def all_in_transcript() -> bool:
        page = await w.services().transcripts.page("beijing", PageRequest(10), TimeRange(), "en")
        return len(page.items) == 5

    await eventually(all_in_transcript, "the five messages stored")
    monkeypatch.setattr(exports, "READ_PAGE", 2)  # three pages: 2, 2, 1
    entries = await exports.read_all(w.services(), "beijing", TimeRange(), "en")
    assert [e.view.id for e in entries] == sent
    monkeypatch.setattr(exports, "EXPORT_LIMIT", 5)
    assert len(await exports.read_all(w.services(), "beijing", TimeRange(), "en")) == 5  # exactly: fine
    monkeypatch.setattr(exports, "EXPORT_LIMIT", 4)
    with pytest.raises(InputError, match="more than 4 messages in this period"):
        await exports.read_all(w.services(), "beijing", TimeRange(), "en")
    with pytest.raises(NotFound, match="no peer 'nowhere'"):
        await exports.read_all(b.services(), "nowhere", TimeRange(), "en")
