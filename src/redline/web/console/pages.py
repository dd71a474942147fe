"""The console's pages: login, traffic, compose, one message, settings.

Every handler starts by resolving the session (``require_session``) with the
roles allowed, and every POST checks the CSRF token before it reads anything
else. Redline errors become an HTML page with the error's own message (see
``console_errors``); a missing session becomes a redirect to the login form.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from redline.domain.clock import format_ts
from redline.domain.messages import Direction, Precedence
from redline.domain.names import check_lang
from redline.domain.phrases import load_catalogue
from redline.domain.stations import Role
from redline.domain.threads import suggested_replies
from redline.errors import AuthError, Forbidden, InputError, RedlineError, _t
from redline.services.accounts import LANGUAGES, MAX_LOCK_SECONDS, Session
from redline.services.paging import PageRequest
from redline.web.console import attention
from redline.web.console.phrase_form import LABELS as PARAM_LABELS
from redline.web.console.phrase_form import phrase_choices
from redline.web.console.render import language_of, page
from redline.web.console.security import (
    HEADERS,
    NotLoggedIn,
    accounts_of,
    check_csrf,
    check_login_csrf,
    clear_session_cookie,
    current_session,
    login_csrf_token,
    require_session,
    set_login_cookie,
    set_session_cookie,
)
from redline.web.errors import status_for
from redline.web.services import services_of

MAX_FORM_BYTES = 64 * 1024
THREAD_SHOWN = 100  # messages of a conversation on the message page (the API pages through all)
BOX_LIMIT = 100  # the newest messages of each box (the page says so; the API pages through all)
ESCALATIONS_SHOWN = 20  # open escalations in the banner (it says when more are open)
Handler = Callable[[Request], Awaitable[Response]]
SENDERS = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=HEADERS)


def console_errors(handler: Handler) -> Handler:
    """Turn Redline errors into pages: the login form when there is no session, else an error page."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            if request.method == "GET":
                await attention.prepare(request)  # the needs-action panel and link lights of every page
            return await handler(request)
        except NotLoggedIn:
            if request.method == "GET":
                return redirect("/login")
            return page(request, "error.html", None, status=401, message=_t("log in first"))
        except RedlineError as exc:
            session = await current_session(request)
            return page(request, "error.html", session, status=status_for(exc), message=exc.message)

    return wrapped


async def read_form(request: Request) -> FormData:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        raise InputError(_t("the form is larger than {MAX_FORM_BYTES} bytes", MAX_FORM_BYTES=MAX_FORM_BYTES))
    try:
        return await request.form(max_files=0, max_fields=64)
    except Exception as exc:  # python-multipart raises several kinds of parse errors
        raise InputError(_t("the form could not be read: {exc}", exc=exc)) from None


def field(form: Mapping[str, object], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def session_and_form(request: Request, *roles: Role, what: str) -> tuple[Session, FormData]:
    session = await require_session(request, *roles, what=what)
    form = await read_form(request)
    check_csrf(request, session, form)
    return session, form


# -- login -----------------------------------------------------------------


@console_errors
async def home(request: Request) -> Response:
    return redirect("/traffic" if await current_session(request) else "/login")


def _login_page(
    request: Request, error: str | None = None, status: int = 200, name: str = "", refused: bool = False
) -> Response:
    token = login_csrf_token(request)
    response = page(
        request,
        "login.html",
        None,
        status=status,
        login_csrf=token,
        error=error,
        refused=refused,
        name=name,
        lock_minutes=MAX_LOCK_SECONDS // 60,
    )
    set_login_cookie(request, response, token)
    return response


@console_errors
async def login_form(request: Request) -> Response:
    if await current_session(request):
        return redirect("/traffic")
    return _login_page(request)


@console_errors
async def login(request: Request) -> Response:
    form = await read_form(request)
    check_login_csrf(request, form)
    name = field(form, "name")
    try:
        token, _session = await accounts_of(request).login(name, field(form, "password"), field(form, "code"))
    except AuthError as exc:
        # Every refused login, whatever the reason, is this one page (see services/accounts.py).
        return _login_page(request, status=status_for(exc), name=name, refused=True)
    except RedlineError as exc:
        return _login_page(request, exc.message, status_for(exc), name)
    response = redirect("/traffic")
    set_session_cookie(request, response, token)
    return response


@console_errors
async def logout(request: Request) -> Response:
    session, _form = await session_and_form(request, what=_t("log out"))
    await accounts_of(request).logout(session)
    response = redirect("/login")
    clear_session_cookie(request, response)
    return response


# -- traffic -----------------------------------------------------------------


async def traffic_context(request: Request, session: Session, lang: str) -> dict[str, Any]:
    """Inbox, outbox, alarm and escalations: the initial page and every live update share this."""
    services = services_of(request)
    now = services.clock.now()
    boxes: dict[str, list[Any]] = {}
    for box in (Direction.INBOUND, Direction.OUTBOUND):
        boxes[box.value] = await services.messages.watch_box(box, BOX_LIMIT, lang, now)
        await services.threads.references(boxes[box.value], lang)  # "↳ reply to …", reminders
    escalations = []
    if session.operator.role in (Role.SUPERVISOR, Role.ADMIN):
        # Escalation rows carry what the banner shows: id, direction, peer, precedence, deadline.
        escalations = await services.messages.open_escalations(ESCALATIONS_SHOWN + 1)
    return {
        "box_limit": BOX_LIMIT,
        "escalations_more": len(escalations) > ESCALATIONS_SHOWN,
        "inbox": boxes["inbound"],
        "outbox": boxes["outbound"],
        "overdue": [v for v in [*boxes["inbound"], *boxes["outbound"]] if v.state == "overdue"],
        "escalations": escalations[:ESCALATIONS_SHOWN],
        "now": format_ts(now),
        "may_send": session.operator.role.may_send,
    }


@console_errors
async def traffic(request: Request) -> Response:
    session = await require_session(request)
    context = await traffic_context(request, session, language_of(request, session))
    return page(request, "traffic.html", session, **context)


# -- compose -----------------------------------------------------------------


async def _compose_page(
    request: Request, session: Session, error: str | None = None, status: int = 200, **values: Any
) -> Response:
    peers = await services_of(request).links.verified_peers()
    lang = language_of(request, session)
    return page(
        request,
        "compose.html",
        session,
        status=status,
        peers=peers,
        precedences=[p.value for p in Precedence],
        phrases=_reply_order(phrase_choices(lang), values),
        catalogue_version=load_catalogue().version,
        error=error,
        values=values,
    )


@console_errors
async def compose_form(request: Request) -> Response:
    session = await require_session(request, *SENDERS, what=_t("send messages"))
    reply_to = request.query_params.get("reply_to")
    values: dict[str, Any] = {"mode": request.query_params.get("mode", "text")}
    if reply_to:
        target = await services_of(request).messages.message(reply_to, signed_receipt=False)
        values.update(in_reply_to=target.id, to=target.peer, precedence=target.precedence)
        if target.phrase is not None:
            values["request_code"] = target.phrase.code
    return await _compose_page(request, session, **values)


@console_errors
async def compose(request: Request) -> Response:
    session, form = await session_and_form(request, *SENDERS, what=_t("send messages"))
    messaging = services_of(request).messaging
    mode = field(form, "mode")
    values = {k: field(form, k) for k in ("to", "precedence", "text", "lang", "code", "mode", "in_reply_to")}
    in_reply_to = field(form, "in_reply_to") or None
    try:
        if mode == "phrase":
            code, params = phrase_from_form(form)
            message_id = await messaging.send_phrase(
                session.operator, field(form, "to"), field(form, "precedence"), code, params, in_reply_to
            )
        else:
            message_id = await messaging.send_text(
                session.operator,
                field(form, "to"),
                field(form, "precedence"),
                field(form, "text"),
                field(form, "lang") or "en",
                in_reply_to,
            )
    except (InputError, Forbidden) as exc:
        return await _compose_page(request, session, exc.message, status_for(exc), **values)
    return redirect(f"/traffic?sent={message_id}")


def _reply_order(phrases: list[dict[str, Any]], values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Replying to a request: the replies it usually takes first (domain/threads.py)."""
    if not values.get("in_reply_to"):
        return phrases
    replies = [p["code"] for p in phrases if p["group"] == "reply"]
    order = suggested_replies(values.get("request_code"), replies)
    by_code = {p["code"]: p for p in phrases}
    return [by_code[c] for c in order] + [p for p in phrases if p["group"] != "reply"]


def phrase_from_form(form: Mapping[str, object]) -> tuple[str, dict[str, object]]:
    """The compose form's phrase code and parameters, typed (the catalogue checks their ranges)."""
    code = field(form, "code")
    phrase = load_catalogue().get(code)
    return code, {p.name: _typed(field(form, f"param.{p.name}").strip(), p.type) for p in phrase.params}


def _typed(raw: str, kind: str) -> object:
    """Form fields are text; numeric parameter types become numbers (the catalogue checks ranges)."""
    if kind in ("integer", "bearing"):
        try:
            return int(raw)
        except ValueError:
            return raw
    if kind in ("number", "distance_nm"):
        try:
            return float(raw) if "." in raw else int(raw)
        except ValueError:
            return raw
    return raw


# -- one message ---------------------------------------------------------------


@console_errors
async def message(request: Request) -> Response:
    session = await require_session(request)
    messages = services_of(request).messages
    view = await messages.message(request.path_params["message_id"], language_of(request, session))
    now = format_ts(services_of(request).clock.now())
    officers = await services_of(request).console.display_names()
    lang = language_of(request, session)
    threads = services_of(request).threads
    await threads.references([view], lang)
    thread = await threads.thread(view.id, PageRequest(THREAD_SHOWN), lang)
    return page(
        request,
        "message.html",
        session,
        m=view,
        param_labels=PARAM_LABELS,
        languages=LANGUAGES,
        now=now,
        officers=officers,
        thread=thread.items if len(thread.items) > 1 else [],
        thread_more=thread.next is not None,
    )


@console_errors
async def acknowledge(request: Request) -> Response:
    session, _form = await session_and_form(request, *SENDERS, what=_t("acknowledge messages"))
    message_id = request.path_params["message_id"]
    await services_of(request).messaging.acknowledge(session.operator, message_id)
    if request.headers.get("x-requested-with") == "fetch":
        return Response(status_code=204, headers=HEADERS)
    return redirect(f"/messages/{message_id}")


@console_errors
async def translate(request: Request) -> Response:
    session, form = await session_and_form(request, *SENDERS, what=_t("attach translations"))
    services = services_of(request)
    row = await services.messages.message(request.path_params["message_id"], signed_receipt=False)
    if row.direction != "inbound" or row.kind != "text":
        raise InputError(_t("only a received free-text message takes a translation"))
    text = field(form, "text").strip()
    if not text or len(text) > 16_000 or "\x00" in text:
        raise InputError(_t("translation: enter 1 to 16,000 characters of text"))
    lang = check_lang(field(form, "lang"))
    await services.console.translate(session.operator, row.id, text, lang)
    return redirect(f"/messages/{row.id}")


@console_errors
async def certify(request: Request) -> Response:
    session, form = await session_and_form(
        request, Role.SUPERVISOR, Role.ADMIN, what=_t("certify translations")
    )
    message_id = request.path_params["message_id"]
    await services_of(request).console.certify(session.operator, message_id, field(form, "translated_at"))
    return redirect(f"/messages/{message_id}")


# -- settings ------------------------------------------------------------------


@console_errors
async def set_language(request: Request) -> Response:
    session, form = await session_and_form(request, what=_t("change settings"))
    await accounts_of(request).set_language(session.operator, field(form, "language"))
    back = field(form, "back")
    return redirect(back if back.startswith("/") and not back.startswith("//") else "/traffic")
