"""Officers' accounts in the console: what administrators do to an account (password reset,
unlock, disable and enable, a new second factor), and an officer's own second factor.

A new TOTP secret is shown once as a QR code (inline SVG from ``segno``: the
Content-Security-Policy needs no change) and as text, and is *pending*: the
second factor in force stays so until a first valid code from the new secret
is entered (``AccountService.confirm_totp``). Every action is a POST with the
session's CSRF token and is audited by the account service.
"""

from __future__ import annotations

from typing import Any

import segno
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from redline.domain.names import check_operator_name
from redline.domain.stations import Role
from redline.domain.watch import check_display_name
from redline.errors import InputError, _t
from redline.services.accounts import Session, TotpEnrolment, check_password
from redline.web.console.admin import admin_page
from redline.web.console.pages import console_errors, field, redirect, session_and_form
from redline.web.console.render import page
from redline.web.console.security import accounts_of, require_session
from redline.web.services import services_of

ADMIN = _t("administer this station")


def qr_svg(uri: str) -> Markup:
    """The otpauth:// URI as an inline ``<svg>`` QR code (segno's own markup, no user text in it)."""
    return Markup(segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff"))


def enrolment_context(enrolment: TotpEnrolment | None, action: str) -> dict[str, Any]:
    """What ``_totp.html`` shows: the QR code, the secret as text, and where the first code goes."""
    if enrolment is None:
        return {"enrolment": None}
    return {"enrolment": enrolment, "qr": qr_svg(enrolment.uri), "confirm_action": action}


def _name(request: Request) -> str:
    return str(request.path_params["name"])


async def _admin_totp_page(request: Request, name: str, **extra: Any) -> Response:
    enrolment = await accounts_of(request).pending_totp(name)
    action = f"/admin/operators/{name}/totp/confirm"
    return await admin_page(request, **enrolment_context(enrolment, action), **extra)


@console_errors
async def add_operator(request: Request) -> Response:
    """A new officer: name, display name (optional), role, password; a role that needs a second factor is
    given a pending one at once, to be confirmed with its first code."""
    session, form = await session_and_form(request, Role.ADMIN, what=ADMIN)
    name = check_operator_name(field(form, "name"))
    role = Role.parse(field(form, "role"))
    shown = field(form, "display_name").strip()
    display_name = check_display_name(shown) if shown else None
    check_password(field(form, "password"))  # before anything is created: a refusal leaves no account
    accounts = accounts_of(request)
    await services_of(request).console.add_operator(name, role)
    await accounts.set_password(name, field(form, "password"), session.operator.name)
    if display_name:
        await accounts.set_display_name(name, display_name, session.operator.name)
    if role.needs_second_factor:
        await accounts.begin_totp(name, session.operator.name)
    return await _admin_totp_page(request, name, created=name)


@console_errors
async def reset_password(request: Request) -> Response:
    """The admin sets a new password; the officer's sessions end and any lock is cleared."""
    session, form = await session_and_form(request, Role.ADMIN, what=ADMIN)
    name = _name(request)
    await accounts_of(request).set_password(name, field(form, "password"), session.operator.name)
    return await admin_page(request, created=name)


@console_errors
async def unlock(request: Request) -> Response:
    session, _form = await session_and_form(request, Role.ADMIN, what=ADMIN)
    await accounts_of(request).unlock(_name(request), session.operator.name)
    return await admin_page(request, created=_name(request))


@console_errors
async def disable(request: Request) -> Response:
    session, _form = await session_and_form(request, Role.ADMIN, what=ADMIN)
    await accounts_of(request).set_disabled(_name(request), True, session.operator.name)
    return await admin_page(request, created=_name(request))


@console_errors
async def enable(request: Request) -> Response:
    session, _form = await session_and_form(request, Role.ADMIN, what=ADMIN)
    await accounts_of(request).set_disabled(_name(request), False, session.operator.name)
    return await admin_page(request, created=_name(request))


@console_errors
async def admin_totp(request: Request) -> Response:
    """A new pending second factor for an account; the admin (or the officer) confirms it with a code."""
    session, _form = await session_and_form(request, Role.ADMIN, what=ADMIN)
    await accounts_of(request).begin_totp(_name(request), session.operator.name)
    return await _admin_totp_page(request, _name(request))


@console_errors
async def admin_totp_confirm(request: Request) -> Response:
    session, form = await session_and_form(request, Role.ADMIN, what=ADMIN)
    name = _name(request)
    try:
        await accounts_of(request).confirm_totp(name, field(form, "code"), session.operator.name)
    except InputError as exc:
        return await _admin_totp_page(request, name, totp_error=exc.message)
    return await admin_page(request, created=name)


# -- an officer's own account --------------------------------------------------------------


async def _account_page(request: Request, session: Session, **extra: Any) -> Response:
    accounts = accounts_of(request)
    enrolment = await accounts.pending_totp(session.operator.name)
    account = await accounts.account(session.operator.name)
    context = enrolment_context(enrolment, "/account/totp/confirm")
    return page(request, "account.html", session, account=account, **context, **extra)


@console_errors
async def account(request: Request) -> Response:
    session = await require_session(request)
    confirmed = request.query_params.get("totp") == "confirmed"
    return await _account_page(request, session, request_confirmed=confirmed)


@console_errors
async def own_totp(request: Request) -> Response:
    session, _form = await session_and_form(request, what=_t("change your second factor"))
    await accounts_of(request).begin_totp(session.operator.name, session.operator.name)
    return await _account_page(request, session)


@console_errors
async def own_totp_confirm(request: Request) -> Response:
    session, form = await session_and_form(request, what=_t("change your second factor"))
    name = session.operator.name
    try:
        await accounts_of(request).confirm_totp(name, field(form, "code"), name)
    except InputError as exc:
        return await _account_page(request, session, totp_error=exc.message)
    return redirect("/account?totp=confirmed")
