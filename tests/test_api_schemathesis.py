"""Property-based API testing: Schemathesis against the OpenAPI document of a live station.

A real station pair (``redline serve`` subprocesses, paired and verified) serves
``/api/v1/openapi.json``; for every operation in it, Schemathesis generates
requests that fit the document (positive) and requests that break it
(negative), each sent with the bearer token of an operator of one of the four
roles. Every answer must be no 5xx, a documented status code, a documented
content type, and a body that matches the documented schema.

The budget is bounded (``EXAMPLES`` per operation and mode, no Hypothesis
database, no shrinking past ``SHRINK``): the whole test takes well under three
minutes. Raise ``REDLINE_SCHEMATHESIS_EXAMPLES`` for a longer run by hand.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import Route

from redline.domain.stations import Role
from redline.web import api, calls, links, notices
from redline.web import operations as operations_web
from tests.support.stations import StationProcess, add_operator, two_stations

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("REDLINE_SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


def api_routes() -> set[str]:
    return {
        f"{method} {route.path}"
        for route in (*api.ROUTES, *operations_web.ROUTES, *links.ROUTES, *notices.ROUTES, *calls.ROUTES)
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }


@pytest.fixture(scope="module")
def live_station(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[StationProcess, dict[Role, str]]]:
    """washington (paired with beijing, links up) and a token for an operator of each role."""
    with two_stations(tmp_path_factory.mktemp("schemathesis"), links_up=True) as (washington, _beijing):
        tokens = {role: add_operator(washington, f"st-{role.value}", role) for role in Role}
        yield washington, tokens


def test_every_operation_answers_as_documented_for_every_role(
    live_station: tuple[StationProcess, dict[Role, str]], subtests: Any
) -> None:
    station, tokens = live_station
    base_url = station.api_url.removesuffix("/api/v1")
    schema = schemathesis.openapi.from_url(f"{station.api_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    # Schemathesis (4.x, loading from a URL) leaves out the operation at the document's own
    # address; loading the document is its request, and its schema check is test_docs.py's.
    assert {op.label for op in operations} == api_routes() - {"GET /api/v1/openapi.json"}
    for operation in operations:
        # Negative cases need something to break: a parameter or a body.
        takes_input = any(True for _ in operation.iter_parameters()) or bool(operation.body)
        for mode in MODES if takes_input else MODES[:1]:
            with subtests.test(operation=operation.label, mode=mode.value):
                exercise(operation, mode, base_url, tokens)


def exercise(
    operation: schemathesis.APIOperation,
    mode: schemathesis.GenerationMode,
    base_url: str,
    tokens: dict[Role, str],
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=operation.as_strategy(generation_mode=mode), role=st.sampled_from(sorted(tokens)))
    def one_request(case: schemathesis.Case, role: Role) -> None:
        headers: dict[str, Any] = {"Authorization": f"Bearer {tokens[role]}"}
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, timeout=30)

    one_request()


def test_workflows_along_the_documented_links(live_station: tuple[StationProcess, dict[Role, str]]) -> None:
    """Stateful: Schemathesis chains operations along the document's links (a message sent, then
    read back and acknowledged; a notice filed, then read, amended, cancelled), as a supervisor
    (who may do all of it), with the same checks on every step."""
    station, tokens = live_station
    base_url = station.api_url.removesuffix("/api/v1")
    schema = schemathesis.openapi.from_url(f"{station.api_url}/openapi.json")
    headers = {"Authorization": f"Bearer {tokens[Role.SUPERVISOR]}"}

    class Workflows(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"base_url": base_url, "headers": headers, "timeout": 30}

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Workflows.run(
        settings=settings(
            max_examples=max(EXAMPLES // 2, 5),
            stateful_step_count=6,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
    )
