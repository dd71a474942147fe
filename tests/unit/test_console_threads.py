"""The console's threads on beijing's console: a peer's reminder in the reader's language with a
readable reference, a reply sent from the compose form pre-filled from the message page, the
conversation on the message page, and the unanswered list."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from redline.domain.stations import Role
from redline.services import operators
from redline.services.kinds.service import reminder
from redline.web.app import create_api_app
from tests.support.inprocess import InProcessPair, eventually
from tests.unit.test_console_login import FORM_CSRF, PASSWORD, submit

pytestmark = pytest.mark.anyio
ZH = {"accept-language": "zh-CN"}


@pytest.fixture
async def console(pair: InProcessPair) -> AsyncIterator[httpx.AsyncClient]:
    b = pair.beijing
    await operators.add_operator(b.store, "carol", Role.OPERATOR, pair.clock)
    await b.services().accounts.set_password("carol", PASSWORD, "admin")
    transport = httpx.ASGITransport(app=create_api_app(b.services()))
    async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1", headers=ZH) as client:
        assert (await submit(client, "carol", PASSWORD)).status_code == 303
        csrf = html.unescape(FORM_CSRF.search((await client.get("/traffic")).text).group(1))  # type: ignore[union-attr]
        chosen = await client.post("/settings/language", data={"csrf": csrf, "language": "zh-Hans"})
        assert chosen.status_code == 303
        yield client


async def test_a_reminder_reads_in_chinese_and_a_reply_threads_under_its_request(
    pair: InProcessPair, console: httpx.AsyncClient
) -> None:
    w, b = pair
    req = await w.messaging.send_phrase(pair.duty(w), "beijing", "IMMEDIATE", "REQ-01", {"minutes": 15})
    row = await w.store.message(req)
    assert row is not None
    remind = await w.outbox.submit(reminder(await w.peers.get("beijing"), row))  # type: ignore[arg-type]

    async def held() -> bool:
        return await b.store.message(remind) is not None

    await eventually(held, "the reminder at beijing")
    traffic = (await console.get("/traffic")).text
    assert "提醒：对方等待确认以下消息" in traffic  # noqa: RUF001 (the Chinese colon is the translation)
    assert f'href="/messages/{req}"' in traffic and req[:8] in traffic and "请求在15分钟内" in traffic
    assert "awaits acknowledgement since" not in traffic  # not the sender's English reason

    unanswered = (await console.get("/unanswered")).text
    row_of_req = f'<tr class="msg prec-immediate" data-id="{req}">'
    assert "未答复的请求" in unanswered and row_of_req in unanswered

    page = (await console.get(f"/messages/{req}")).text
    assert f"/compose?reply_to={req}&amp;mode=phrase" in page
    form = (await console.get(f"/compose?reply_to={req}&mode=phrase")).text
    assert f'name="in_reply_to" value="{req}"' in form
    assert form.index('value="REP-09"') < form.index('value="REP-02"')  # the request's usual replies first
    csrf = html.unescape(FORM_CSRF.search(form).group(1))  # type: ignore[union-attr]
    sent = await console.post(
        "/compose",
        data={
            "csrf": csrf,
            "to": "washington",
            "precedence": "IMMEDIATE",
            "mode": "phrase",
            "code": "REP-09",
            "param.time": "2030-01-01T10:00:00Z",
            "in_reply_to": req,
        },
    )
    assert sent.status_code == 303, sent.text
    reply = re.search(r"sent=([0-9a-f]{32})", sent.headers["location"]).group(1)  # type: ignore[union-attr]
    assert (await b.store.message(reply)).in_reply_to == req  # type: ignore[union-attr]

    page = (await console.get(f"/messages/{req}")).text
    assert "对话" in page and f'data-id="{reply}"' in page and "depth-1" in page
    assert row_of_req not in (await console.get("/unanswered")).text
    bad = await console.post(
        "/compose",
        data={
            "csrf": csrf,
            "to": "washington",
            "precedence": "ROUTINE",
            "mode": "text",
            "text": "x",
            "in_reply_to": "0" * 32,
        },
    )
    assert bad.status_code == 400 and "in_reply_to" in bad.text
