"""What must never scroll away, on every console page: what needs action, the links, the alarms.

The needs-action panel lists every received message awaiting our acknowledgement and every one
of ours awaiting the peer's, from a query of its own (``MessageQueries.needs_action``), not from
the newest rows of a box: however much traffic follows, an unacknowledged FLASH stays there and
its alarm sounds. The header shows each verified peer's link state; a degraded, down or
suspended link raises a banner with its standing alarms and its paths' last errors, each with
its time. A page's first render takes this from :func:`prepare` (called for every GET before its
handler, see ``pages.console_errors``); the live stream (``live.py``) sends it again whenever
the station's change feed moves, on every page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from redline.domain.clock import format_ts
from redline.domain.stations import OperatorRecord
from redline.services.paging import PageRequest
from redline.services.queries import StationServices
from redline.web.console.i18n import translations
from redline.web.console.render import language_of, render_text
from redline.web.console.security import current_session
from redline.web.console.views import N_
from redline.web.services import services_of

NEEDS_SHOWN = 6  # messages of each direction in the panel; it states how many wait in all
LINK_ALARMS_READ = 200  # standing link alarms read per update (a few per peer at most)
TROUBLE = frozenset({"degraded", "down", "suspended"})  # link states that raise the banner and tone


@dataclass(frozen=True, slots=True)
class LinkLight:
    """One verified peer's link as the header and the link banner show it."""

    peer: str
    name: str
    state: str  # up, degraded, down, suspended (either side), or unknown before the first test
    since: str | None  # UTC: when the shown trouble began (its alarm was raised, the link suspended)
    alarms: list[dict[str, Any]] = field(default_factory=list)  # standing: state, detail, raised_at
    errors: list[dict[str, Any]] = field(default_factory=list)  # paths failing now: url, last_error, at

    @property
    def trouble(self) -> bool:
        return self.state in TROUBLE


async def link_lights(services: StationServices) -> list[LinkLight]:
    """Every verified peer's link, with its standing alarms and its paths' current errors."""
    standing = await services.messages.alarms("link_alarms", PageRequest(LINK_ALARMS_READ), active=True)
    by_peer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for alarm in standing.items:
        by_peer[alarm["peer_id"]].append(alarm)
    lights = []
    for link in await services.links.links():
        alarms = sorted(by_peer[link["peer"]], key=lambda a: str(a["raised_at"]))
        if link["suspended"]:
            state, since = "suspended", link["suspended_at"]
        else:
            state = link["state"]
            since = next((a["raised_at"] for a in alarms if a["state"] == state), None)
        errors = [p for p in link["paths"] if p.get("last_error")]
        lights.append(LinkLight(link["peer"], link["name"], state, since, alarms, errors))
    return lights


async def attention_context(services: StationServices, operator: OperatorRecord, lang: str) -> dict[str, Any]:
    """What the needs-action panel, the link lights and both banners show, seen now."""
    now = services.clock.now()
    needs = await services.messages.needs_action(NEEDS_SHOWN, lang, now)
    lights = await link_lights(services)
    # Each peer by its display name in the reader's language, our own station by its name.
    names = {services.station.station_id: services.station.name, **await services.links.peer_names(lang)}
    return {
        "needs": needs,
        "calls": await services.calls.awaiting_us(NEEDS_SHOWN),  # call requests awaiting our reply
        "shown": NEEDS_SHOWN,
        "flash": [v for v in needs.inbound if v.alarm],
        "lights": lights,
        "peer_names": names,  # render.peer_name reads it
        "trouble": [light for light in lights if light.trouble],
        "now": format_ts(now),
        "may_send": operator.role.may_send,
        "on_watch": await services.watch.posts(),  # the header's on-watch line, kept live
        "link_title": link_title([light for light in lights if light.trouble], lang),
    }


async def prepare(request: Request) -> None:
    """Give a page's first render what it shows above its own content (for a logged-in reader)."""
    session = await current_session(request)
    if session is not None:
        lang = language_of(request, session)
        request.state.attention = await attention_context(services_of(request), session.operator, lang)


def fragments(attention: dict[str, Any], lang: str, **who: Any) -> dict[str, Any]:
    """The live stream's part for every page: the panel, the lights, the banners, the alarm counts."""

    def render(template: str) -> str:
        return render_text(template, lang, attention=attention, streamed=True, **who)

    return {
        "needs": render("_needs.html"),
        "lights": render("_lights.html"),
        "link_banner": render("_link_banner.html"),
        "alarm": attention["needs"].flash,
        "alarm_text": render("_alarm.html"),
        "link_alarm": len(attention["trouble"]),
        "link_title": attention["link_title"],
        "on_watch": render_text("_on_watch.html", lang, on_watch=attention["on_watch"]),
    }


WORST_FIRST = ("down", "suspended", "degraded")


def link_title(trouble: list[LinkLight], lang: str) -> str:
    """What the page title says while a link is in trouble (its worst state), like the FLASH alarm's
    prefix; empty when every link is up."""
    states = {light.state for light in trouble}
    worst = next((s for s in WORST_FIRST if s in states), None)
    if worst is None:
        return ""
    texts = {"down": N_("LINK DOWN"), "suspended": N_("LINK SUSPENDED"), "degraded": N_("LINK DEGRADED")}
    return translations(lang).gettext(texts[worst])
