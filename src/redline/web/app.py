"""ASGI app factories: the operator API app and the link app of one station.

Both take services, never the store or the running station: handlers find
them in ``request.app.state.services`` (a ``StationServices``) or
``request.app.state.link`` (a ``LinkEndpoint``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from redline.errors import RedlineError
from redline.services.queries import LinkEndpoint, StationServices
from redline.web import api, link, links, notices
from redline.web.console import routes as console_routes
from redline.web.errors import redline_error_handler, unexpected_error_handler

# What runs while the app is served (Starlette's ``lifespan=``): the station's background work.
Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]


def _app(routes: list[BaseRoute], lifespan: Lifespan | None = None) -> Starlette:
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={RedlineError: redline_error_handler, Exception: unexpected_error_handler},
    )


def create_api_app(services: StationServices, lifespan: Lifespan | None = None) -> Starlette:
    """The operator API under /api/v1 and the console at /, on one server.

    ``lifespan`` is the running station's (``runtime.Station.lifespan``): the station's
    background work runs while this app is served."""
    app = _app([*api.ROUTES, *links.ROUTES, *notices.ROUTES, *console_routes.ROUTES], lifespan)
    app.state.services = services
    return app


def create_link_app(endpoint: LinkEndpoint) -> Starlette:
    app = _app(list(link.ROUTES))
    app.state.link = endpoint
    return app
