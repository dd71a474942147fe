"""ASGI app factories: the operator API app and the link app of one station.

Both take services, never the store or the running station: handlers find
them in ``request.app.state.services`` (a ``StationServices``) or
``request.app.state.link`` (a ``LinkEndpoint``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import BaseRoute

from redline.errors import RedlineError
from redline.services.queries import LinkEndpoint, StationServices
from redline.services.station import LOOPBACK_HOSTS
from redline.web import api, calls, link, links, notices, operations
from redline.web.console import routes as console_routes
from redline.web.console.live import StreamSlots
from redline.web.errors import redline_error_handler, unexpected_error_handler

# What runs while the app is served (Starlette's ``lifespan=``): the station's background work.
Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]


def _app(
    routes: list[BaseRoute], lifespan: Lifespan | None = None, middleware: Sequence[Middleware] = ()
) -> Starlette:
    return Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={RedlineError: redline_error_handler, Exception: unexpected_error_handler},
    )


def create_api_app(
    services: StationServices,
    lifespan: Lifespan | None = None,
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
) -> Starlette:
    """The operator API under /api/v1 and the console at /, on one server.

    ``lifespan`` is the running station's (``runtime.Station.lifespan``): the station's
    background work runs while this app is served. A request whose ``Host`` is not one of
    ``allowed_hosts`` (``StationConfig.api_hosts()``) is answered 400 before any route sees it:
    a page on another site whose name was made to resolve to this station (DNS rebinding)
    reads nothing."""
    trusted = Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts), www_redirect=False)
    routes = [
        *api.ROUTES,
        *operations.ROUTES,
        *links.ROUTES,
        *notices.ROUTES,
        *calls.ROUTES,
        *console_routes.ROUTES,
    ]
    app = _app(routes, lifespan, [trusted])
    app.state.services = services
    app.state.live_streams = StreamSlots()
    return app


def create_link_app(endpoint: LinkEndpoint) -> Starlette:
    app = _app(list(link.ROUTES))
    app.state.link = endpoint
    return app
