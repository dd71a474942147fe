"""The services a request's app was built with (see ``redline.web.app``)."""

from __future__ import annotations

from starlette.requests import Request

from redline.domain.stations import OperatorRecord
from redline.errors import AuthError
from redline.services.queries import StationServices


def services_of(request: Request) -> StationServices:
    services: StationServices = request.app.state.services
    return services


async def operator_of(request: Request) -> OperatorRecord:
    """The API caller, by its bearer token, within the station's rate limit.

    Each operator has a bucket of requests (``api_rate_limit``, ``api_rate_burst``); requests
    whose token fails count against their client address, and while that address's bucket is
    empty no token it sends is even looked at, so tokens cannot be guessed faster than the limit."""
    services = services_of(request)
    address = request.client.host if request.client else "unknown"
    services.api_limits.check(f"address:{address}", f"client {address} (failed authentications)")
    try:
        operator = await services.auth.authenticate(request.headers.get("authorization"))
    except AuthError:
        services.api_limits.take(f"address:{address}", f"client {address} (failed authentications)")
        raise
    services.api_limits.take(f"operator:{operator.name}", f"operator {operator.name}")
    return operator
