"""Operating a station over HTTP: ``GET /metrics`` (Prometheus) and ``GET /api/v1/ready``.

``/metrics`` tells how much traffic flows on which link and how fast: an auditor's or an
administrator's bearer token reads it (docs/operations.md, "Who may read /metrics").
``/api/v1/ready`` needs no token; it answers 200 when this site can do its work and 503, naming
what is not ready, when it cannot. ``/api/v1/health`` (``web.api``) only says the process answers.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from redline.domain.stations import Role
from redline.errors import Forbidden
from redline.web.services import operator_of, services_of

METRICS_ROLES = (Role.AUDITOR, Role.ADMIN)


async def metrics(request: Request) -> Response:
    operator = await operator_of(request)
    if operator.role not in METRICS_ROLES:
        raise Forbidden("/metrics is for auditors and administrators (give Prometheus an auditor's token)")
    body = await services_of(request).operations.scrape()
    return Response(body, media_type=CONTENT_TYPE_LATEST)


async def ready(request: Request) -> JSONResponse:
    readiness = await services_of(request).operations.ready()
    return JSONResponse(readiness.body, status_code=200 if readiness.ready else 503)


ROUTES = [
    Route("/metrics", metrics, methods=["GET"]),
    Route("/api/v1/ready", ready, methods=["GET"]),
]
