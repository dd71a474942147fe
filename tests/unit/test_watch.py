"""The console's watch (``web/console/attention.py``) over two in-process stations: link lights and
banner for a suspended and a silent link (with since when, why and the paths' dated errors, all gone
on recovery), and the needs-action panel's fragments in both languages and for each role."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from redline.domain.stations import Role
from redline.runtime import Station
from redline.services.assurance import change_suspension
from redline.web.console.attention import LinkLight, attention_context, fragments, link_lights
from tests.support.inprocess import InProcessPair, eventually, inprocess_pair

pytestmark = pytest.mark.anyio
UTC_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ")


async def _light(station: Station, peer: str) -> LinkLight:
    (light,) = [x for x in await link_lights(station.services()) if x.peer == peer]
    return light


async def test_a_suspended_link_is_in_the_banner_on_both_sides(pair: InProcessPair):
    w, b = pair
    assert (await _light(w, "beijing")).state == "up"
    peer = await w.peers.get("beijing")
    assert peer is not None
    await change_suspension(w.outbox, w.store, pair.duty(w), peer, True, "exercise")

    async def suspended_at_beijing() -> LinkLight | None:
        light = await _light(b, "washington")
        return light if light.state == "suspended" else None

    theirs = await eventually(suspended_at_beijing, "beijing to show the link suspended")
    ours = await _light(w, "beijing")
    assert ours.state == "suspended" and ours.trouble and ours.since is not None
    assert theirs.since is not None
    watch = await attention_context(b.services(), pair.duty(b), "zh-Hans")
    shown = fragments(watch, "zh-Hans", operator=pair.duty(b), csrf="t")
    assert shown["link_alarm"] == 1
    assert "已暂停" in shown["link_banner"] and "已暂停" in shown["lights"]
    assert UTC_TIME.search(shown["link_banner"])


async def test_a_silent_link_goes_down_with_its_reasons_dated_and_recovers_clean(tmp_path: Path):
    async with inprocess_pair(tmp_path, test_interval=1.0) as pair:
        w = pair.washington
        pair.silence()

        async def down() -> LinkLight | None:
            light = await _light(w, "beijing")
            # The alarm row commits just after the state changes in memory: wait for both.
            return light if light.state == "down" and light.since and light.errors else None

        light, _took = await pair.advance_until(down, "washington to show beijing down", step=0.25)
        assert light.since is not None and [a["state"] for a in light.alarms] == ["down"]
        assert light.since == light.alarms[0]["raised_at"]
        assert light.errors[0]["last_error"] and light.errors[0]["last_error_at"]
        shown = fragments(await attention_context(w.services(), pair.duty(w), "en"), "en", csrf="t")
        assert "Link to Beijing (beijing):" in shown["link_banner"] and "down" in shown["link_banner"]
        assert "unanswered" in shown["link_banner"] and shown["link_alarm"] == 1

        pair.silence(False)

        async def up() -> LinkLight | None:
            light = await _light(w, "beijing")
            return light if light.state == "up" and not light.alarms and not light.errors else None

        light, _took = await pair.advance_until(up, "beijing up again, nothing standing", step=0.25, limit=30)
        assert light.since is None and not light.trouble
        shown = fragments(await attention_context(w.services(), pair.duty(w), "en"), "en", csrf="t")
        assert shown["link_alarm"] == 0 and shown["link_banner"].strip() == ""


async def test_the_panel_lists_a_flash_with_its_deadline_and_an_acknowledge_button_for_senders(
    pair: InProcessPair,
):
    w, b = pair
    flash = await w.messaging.send_text(pair.duty(w), "beijing", "FLASH", "now", "en")

    async def arrived() -> bool:
        return (await b.services().messages.needs_action(1, "en", b.clock.now())).flash == 1

    await eventually(arrived, "the FLASH at beijing")
    duty = pair.duty(b)
    for lang, due_in in (("en", "due in"), ("zh-Hans", "剩余")):
        shown = fragments(await attention_context(b.services(), duty, lang), lang, csrf="token")
        assert f'data-id="{flash}"' in shown["needs"] and due_in in shown["needs"]
        assert f'action="/messages/{flash}/ack"' in shown["needs"] and 'value="token"' in shown["needs"]
        assert shown["alarm"] == 1 and f"/messages/{flash}" in shown["alarm_text"]
    auditor = replace(duty, role=Role.AUDITOR)
    shown = fragments(await attention_context(b.services(), auditor, "en"), "en", csrf="token")
    assert f'data-id="{flash}"' in shown["needs"] and "/ack" not in shown["needs"]  # reads, cannot ack
    sender = fragments(await attention_context(w.services(), pair.duty(w), "en"), "en", csrf="t")
    assert f'data-id="{flash}"' in sender["needs"] and sender["alarm"] == 0  # awaiting their ack
