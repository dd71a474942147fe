"""ASGI app factories: the operator API app and the link app of one station."""

from __future__ import annotations

from starlette.applications import Starlette

from redline.errors import RedlineError
from redline.runtime import Station
from redline.web import api, link, links
from redline.web.errors import redline_error_handler, unexpected_error_handler


def _app(station: Station, routes: list[object]) -> Starlette:
    app = Starlette(
        routes=routes,  # type: ignore[arg-type]
        exception_handlers={RedlineError: redline_error_handler, Exception: unexpected_error_handler},
    )
    app.state.station = station
    return app


def create_api_app(station: Station) -> Starlette:
    return _app(station, [*api.ROUTES, *links.ROUTES])


def create_link_app(station: Station) -> Starlette:
    return _app(station, list(link.ROUTES))
