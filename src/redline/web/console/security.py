"""Who is asking, and may they: console sessions, CSRF, roles, and the headers every page gets.

A session lives in the ``redline_session_<station id>`` cookie: HttpOnly,
SameSite=Strict, Secure, path ``/``. Every state-changing request must carry the
session's CSRF token, in the ``csrf`` form field or the ``X-CSRF-Token`` header,
and, when the browser sends one, an ``Origin`` equal to the console's own. The
login form, which has no session yet, uses a double-submit token in the
``redline_login_<station id>`` cookie instead.

Why the station id is in the names: browsers keep cookies per host, not per port
(RFC 6265, section 8.5), so two consoles on 127.0.0.1 (the demo's Washington on
one port, Beijing on another) see each other's cookies. With one shared name,
logging in to one replaced the other's session. With a name per station each
console reads only its own cookie and never overwrites the other's; a token set by
one station is in any case unknown to the other's ``console_sessions``, so even a
cookie copied under the other's name is refused there.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from redline.domain.stations import Role
from redline.errors import AuthError, Forbidden, _t
from redline.services.accounts import MAX_SESSION_SECONDS, AccountService, Session
from redline.web.services import services_of

SESSION_COOKIE = "redline_session"  # the prefix of each station's name; see session_cookie()
LOGIN_COOKIE = "redline_login"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

HEADERS = {
    # Every script, style, image and connection comes from the station itself.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Not "no-referrer": with it, browsers send "Origin: null" on the console's own forms.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class NotLoggedIn(AuthError):
    """No live console session: pages redirect to the login form, scripts get 401."""


class CsrfRejected(Forbidden):
    code = "csrf"


def session_cookie(request: Request) -> str:
    """This station's session cookie name (station ids are lowercase letters, digits and '-',
    all valid in a cookie name)."""
    return f"{SESSION_COOKIE}_{services_of(request).station.station_id}"


def login_cookie(request: Request) -> str:
    return f"{LOGIN_COOKIE}_{services_of(request).station.station_id}"


def session_token(request: Request) -> str | None:
    """The token of this station's session cookie, if the browser sent one."""
    return request.cookies.get(session_cookie(request))


def accounts_of(request: Request) -> AccountService:
    return services_of(request).accounts


async def current_session(request: Request) -> Session | None:
    return await accounts_of(request).session(session_token(request))


async def require_session(request: Request, *roles: Role, what: str = _t("open this page")) -> Session:
    """The caller's session, or NotLoggedIn; Forbidden when its role is not among ``roles``."""
    session = await current_session(request)
    if session is None:
        raise NotLoggedIn(_t("log in first: no console session, or it has expired"))
    if roles and session.operator.role not in roles:
        raise Forbidden(_t("role {role!r} may not {what}", role=session.operator.role.value, what=what))
    await services_of(request).watch.posts()  # every page's header shows who is on watch
    return session


def _same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        if origin == "null":
            raise CsrfRejected(_t("the request came from an opaque origin"))
        return
    expected = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin != expected:
        raise CsrfRejected(_t("the request came from {origin}, not from this console", origin=origin))


def check_csrf(request: Request, session: Session, form: Mapping[str, object]) -> None:
    _same_origin(request)
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not isinstance(sent, str) or not secrets.compare_digest(sent, session.csrf_token):
        raise CsrfRejected(_t("missing or wrong CSRF token: reload the page and try again"))


def login_csrf_token(request: Request) -> str:
    """The pre-session token for the login form (reused while its cookie lives)."""
    existing = request.cookies.get(login_cookie(request))
    return existing if existing and len(existing) <= 64 else secrets.token_urlsafe(24)


def check_login_csrf(request: Request, form: Mapping[str, object]) -> None:
    _same_origin(request)
    cookie = request.cookies.get(login_cookie(request))
    sent = form.get(CSRF_FIELD)
    if not cookie or not isinstance(sent, str) or not secrets.compare_digest(sent, cookie):
        raise CsrfRejected(_t("missing or wrong CSRF token on the login form: reload the page and try again"))


def set_login_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        login_cookie(request), token, max_age=3600, httponly=True, secure=True, samesite="strict"
    )


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        session_cookie(request),
        token,
        max_age=MAX_SESSION_SECONDS,
        httponly=True,
        secure=True,
        samesite="strict",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(session_cookie(request), httponly=True, secure=True, samesite="strict")
