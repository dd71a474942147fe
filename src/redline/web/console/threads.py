"""The console's unanswered requests: both ways, newest first, a page at a time."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from redline.domain.clock import format_ts
from redline.services.paging import PageRequest, parse_limit
from redline.web.console.pages import console_errors
from redline.web.console.render import language_of, page
from redline.web.console.security import require_session
from redline.web.services import services_of

UNANSWERED_PAGE, UNANSWERED_MAX = 50, 500


@console_errors
async def unanswered(request: Request) -> Response:
    session = await require_session(request)
    services = services_of(request)
    lang = language_of(request, session)
    limit = parse_limit(request.query_params.get("limit"), UNANSWERED_PAGE, UNANSWERED_MAX)
    found = await services.threads.unanswered(
        None, PageRequest(limit, request.query_params.get("cursor")), lang
    )
    return page(
        request,
        "unanswered.html",
        session,
        rows=found.items,
        next=found.next,
        limit=limit,
        now=format_ts(services.clock.now()),
    )
