"""ASGI app factories: the operator API app and the link app of one station."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from redline.errors import RedlineError
from redline.runtime import Station
from redline.services.accounts import AccountService
from redline.store.console import ConsoleStore
from redline.web import api, link, links, notices
from redline.web.console import routes as console_routes
from redline.web.console.live import ChangeFeed
from redline.web.errors import redline_error_handler, unexpected_error_handler


def _app(station: Station, routes: list[object], lifespan: Any = None) -> Starlette:
    app = Starlette(
        routes=routes,  # type: ignore[arg-type]
        lifespan=lifespan,
        exception_handlers={RedlineError: redline_error_handler, Exception: unexpected_error_handler},
    )
    app.state.station = station
    return app


def create_api_app(station: Station) -> Starlette:
    """The operator API under /api/v1 and the console at /, on one server."""
    routes: list[object] = [*api.ROUTES, *links.ROUTES, *notices.ROUTES, *console_routes.ROUTES]
    app = _app(station, routes, station.lifespan)  # the station runs while this app is served
    app.state.console_store = ConsoleStore(station.store)
    app.state.accounts = AccountService(app.state.console_store)
    app.state.feed = ChangeFeed(station, app.state.console_store)
    return app


def create_link_app(station: Station) -> Starlette:
    return _app(station, list(link.ROUTES))
