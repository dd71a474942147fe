"""The console's search page over HTTP, in process: a search finds a message among later ones,
pages to older ones with the same search, says how many there are, and refuses a bad field."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from redline.domain.stations import Role
from redline.services import operators
from redline.web.app import create_api_app
from tests.support.inprocess import InProcessPair, api_client
from tests.unit.test_console_login import PASSWORD, submit

pytestmark = pytest.mark.anyio
OLDER = re.compile(r'<a class="older" href="([^"]*)">')


async def test_search_finds_an_early_message_and_pages_with_the_same_search(pair: InProcessPair) -> None:
    w = pair.washington
    await operators.add_operator(w.store, "carol", Role.OPERATOR, pair.clock)
    await w.services().accounts.set_password("carol", PASSWORD, "admin")
    async with api_client(w, "sender", Role.OPERATOR, "http://127.0.0.1/api/v1") as api:
        for i in range(60):
            words = "the Kestrel report" if i < 55 else f"later traffic {i}"
            sent = await api.post("/messages", json={"to": "beijing", "precedence": "ROUTINE", "text": words})
            assert sent.status_code == 201, sent.text
    transport = httpx.ASGITransport(app=create_api_app(w.services()))
    async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1") as console:
        assert (await submit(console, "carol", PASSWORD)).status_code in (302, 303)
        found = await console.get("/search", params={"q": "KESTREL"})
        assert found.status_code == 200, found.text
        assert "Showing 50 of 55." in found.text and "Older messages follow." in found.text
        older = OLDER.search(found.text)
        assert older, found.text
        rest = await console.get(html.unescape(older.group(1)))
        assert rest.status_code == 200 and "Showing 5 of 55." in rest.text, rest.text
        assert 'class="newer"' in rest.text and 'class="older"' not in rest.text
        bad = await console.get("/search", params={"state": "read"})
        assert bad.status_code == 400 and "state:" in html.unescape(bad.text)
