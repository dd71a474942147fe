"""The services a request's app was built with (see ``redline.web.app``)."""

from __future__ import annotations

from starlette.requests import Request

from redline.domain.stations import OperatorRecord
from redline.services.queries import StationServices


def services_of(request: Request) -> StationServices:
    services: StationServices = request.app.state.services
    return services


async def operator_of(request: Request) -> OperatorRecord:
    """The API caller, by its bearer token."""
    return await services_of(request).auth.authenticate(request.headers.get("authorization"))
