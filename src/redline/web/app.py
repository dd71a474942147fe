"""ASGI app factories: the operator API app and the link app of one station.

Both take services, never the store or the running station: handlers find
them in ``request.app.state.services`` (a ``StationServices``) or
``request.app.state.link`` (a ``LinkEndpoint``).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from redline.errors import RedlineError
from redline.services.queries import LinkEndpoint, StationServices
from redline.web import api, link, links, notices
from redline.web.console import routes as console_routes
from redline.web.errors import redline_error_handler, unexpected_error_handler


def _app(routes: list[BaseRoute]) -> Starlette:
    return Starlette(
        routes=routes,
        exception_handlers={RedlineError: redline_error_handler, Exception: unexpected_error_handler},
    )


def create_api_app(services: StationServices) -> Starlette:
    """The operator API under /api/v1 and the console at /, on one server."""
    app = _app([*api.ROUTES, *links.ROUTES, *notices.ROUTES, *console_routes.ROUTES])
    app.state.services = services
    return app


def create_link_app(endpoint: LinkEndpoint) -> Starlette:
    app = _app(list(link.ROUTES))
    app.state.link = endpoint
    return app
