"""Templates: one autoescaping Jinja environment, rendered per request in the reader's language.

The environment is shared, so the language is not installed into it: each
render passes ``_`` and ``ngettext`` bound to the request's locale in the
template context (``i18n.gettext_context``; new-style gettext, so
``_("%(n)d left", n=3)`` formats and escapes its values). Autoescaping is on for every template: message text,
names and parameters reach the page as text, never as markup.
"""

from __future__ import annotations

from typing import Any

import jinja2
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from redline.services.accounts import Session
from redline.web.console.due import due
from redline.web.console.i18n import gettext_context, install_jinja, negotiate
from redline.web.console.security import HEADERS
from redline.web.services import services_of

ENV = install_jinja(
    jinja2.Environment(
        loader=jinja2.PackageLoader("redline.web.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
ENV.globals["until"] = due  # the _due.html macro's reading of a deadline


def _names(context: Context) -> dict[str, str]:
    names = context.get("peer_names")
    if names is None:
        attention = context.get("attention")
        names = attention.get("peer_names") if isinstance(attention, dict) else None
    return names or {}


@jinja2.pass_context
def peer_name(context: Context, station_id: str) -> str:
    """What this console calls a peer in the reader's language (``redline peer rename``), as text."""
    return _names(context).get(station_id, station_id)


@jinja2.pass_context
def peer_label(context: Context, station_id: str) -> Markup:
    """A peer's display name, its station id in a tooltip (and in the page for screen readers)."""
    name = _names(context).get(station_id, station_id)
    if name == station_id:
        return Markup('<span class="peer-name" translate="no">{}</span>').format(station_id)
    shown = (
        '<span class="peer-name" title="{id}">{name}'
        '<span class="peer-id" translate="no"> ({id})</span></span>'
    )
    return Markup(shown).format(id=station_id, name=name)


ENV.globals["peer_name"] = peer_name
ENV.globals["peer_label"] = peer_label


def language_of(request: Request, session: Session | None) -> str:
    return negotiate(session.language if session else None, request.headers.get("accept-language"))


def render_text(template: str, lang: str, **context: Any) -> str:
    return ENV.get_template(template).render(**gettext_context(lang), **context)


def page(
    request: Request,
    template: str,
    session: Session | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    station = services_of(request).station
    lang = language_of(request, session)
    html = render_text(
        template,
        lang,
        session=session,
        operator=session.operator if session else None,
        csrf=session.csrf_token if session else "",
        station_id=station.station_id,
        station_name=station.name,
        path=request.url.path,
        attention=getattr(request.state, "attention", None),  # web/console/attention.py:prepare
        on_watch=services_of(request).watch.on_watch(),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers={**HEADERS, **(headers or {})})
