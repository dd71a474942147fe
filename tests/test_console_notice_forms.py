"""The console's notice routes over HTTP: roles, CSRF, every error naming its field, file/amend/cancel.

The form-to-notice translation is checked on its own first; then a live pair
of stations (SQLite; the storage is the API's) takes the console's posts the
way ``static/notices.js`` sends them.
"""

from __future__ import annotations

from typing import Any

import pytest

from redline.errors import InputError
from redline.web.console.notice_forms import notice_from_form
from tests.support.console import ConsoleClient, create_account
from tests.support.stations import StationProcess, two_stations, wait_for

SQUARE = '[{"polygon": [[10.0, 50.0], [10.5, 50.0], [10.5, 50.5], [10.0, 50.5]]}]'


def form(**changes: str) -> dict[str, str]:
    base = {
        "volumes": SQUARE,
        "activity": "uav_operations",
        "title": " Exercise GREY OWL ",
        "altitude.lower.value": "0",
        "altitude.lower.unit": "M",
        "altitude.lower.reference": "SFC",
        "altitude.upper.value": "120",
        "altitude.upper.unit": "FL",
        "altitude.upper.reference": "STD",
        "window.start": "2030-01-01T10:00",
        "window.end": "2030-01-01T12:30",
        "buffers.horizontal_m": "500",
        "buffers.vertical_m": "",
        "buffers.time_s": "600",
        "priority": "5",
        "text": "Two drones.",
    }
    return {**base, **changes}


def test_the_form_becomes_the_notice_json() -> None:
    notice = notice_from_form(form())
    assert notice == {
        "activity": "uav_operations",
        "title": "Exercise GREY OWL",
        "volumes": [{"polygon": [[10.0, 50.0], [10.5, 50.0], [10.5, 50.5], [10.0, 50.5]]}],
        "altitude": {
            "lower": {"value": 0.0, "unit": "M", "reference": "SFC"},
            "upper": {"value": 120.0, "unit": "FL", "reference": "STD"},
        },
        "window": {
            "start": "2030-01-01T10:00:00.000000Z",
            "end": "2030-01-01T12:30:00.000000Z",
            "permanent": False,
            "estimated_end": False,
        },
        "priority": 5,
        "buffers": {"horizontal_m": 500.0, "vertical_m": 0.0, "time_s": 600.0},
        "text": "Two drones.",
    }
    permanent = notice_from_form(form(**{"window.permanent": "on", "window.end": ""}))
    assert "end" not in permanent["window"] and permanent["window"]["permanent"] is True


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"volumes": ""}, "volumes: draw the area on the map first"),
        ({"volumes": "[{"}, "volumes: the drawing is not valid JSON"),
        ({"altitude.upper.value": "high"}, "altitude.upper.value: 'high' is not a number"),
        ({"altitude.lower.value": ""}, "altitude.lower.value: missing"),
        ({"window.end": ""}, "window.end: missing; give an end time or tick permanent"),
        ({"window.start": "tomorrow"}, "window.start: 'tomorrow' is not a UTC time like 2026-03-01T10:00"),
        ({"priority": "1.5"}, "priority: '1.5' is not a whole number"),
        ({"buffers.time_s": "soon"}, "buffers.time_s: 'soon' is not a number"),
    ],
)
def test_form_errors_name_their_field(changes: dict[str, str], message: str) -> None:
    with pytest.raises(InputError) as caught:
        notice_from_form(form(**changes))
    assert caught.value.message.startswith(message), caught.value.message


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with two_stations(tmp_path_factory.mktemp("forms"), "sqlite", links_up=True) as stations:
        yield stations


@pytest.mark.slow
def test_roles_csrf_and_field_errors(pair: tuple[StationProcess, StationProcess]) -> None:
    w, b = pair
    with ConsoleClient(w).login(create_account(w, "watcher", "auditor")) as auditor:
        page = auditor.get("/deconfliction")
        assert page.status_code == 200 and 'id="notice-form"' not in page.text
        refused = auditor.post("/deconfliction/notices", form())
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"

    with ConsoleClient(w).login(create_account(w, "pilot")) as console:
        page = console.get("/deconfliction")
        assert 'id="notice-form"' in page.text and "/vendor/geoman/leaflet-geoman.js" in page.text
        assert console.post("/deconfliction/notices", form(), with_csrf=False).status_code == 403

        def error(data: dict[str, str]) -> dict[str, Any]:
            answer = console.post("/deconfliction/notices", data)
            assert answer.status_code == 400, answer.text
            return dict(answer.json()["error"])

        assert error(form(**{"altitude.lower.value": "20000"}))["field"] == "altitude.lower"
        assert error(form(**{"window.end": "2029-12-31T00:00"}))["field"] == "window.end"
        assert error(form(activity="picnic"))["field"] == "activity"
        crossing = '[{"polygon": [[0, 0], [1, 1], [1, 0], [0, 1]]}]'
        assert error(form(volumes=crossing))["field"] == "volumes[0].polygon"
        assert error(form(title="x" * 121))["field"] == "title"
        with w.client() as c:
            assert c.get("/notices").json()["count"] == 0  # nothing half-filed

        filed = console.post("/deconfliction/notices", form())
        assert filed.status_code == 201, filed.text
        notice = filed.json()["notice"]
        assert notice["title"] == "Exercise GREY OWL" and notice["party"] == "washington"

        amended = console.post(f"/deconfliction/notices/{notice['id']}", form(title="GREY OWL II"))
        assert amended.status_code == 200 and amended.json()["notice"]["version"] == 2

        with b.client() as c:
            theirs = c.post(
                "/notices", json={k: v for k, v in notice.items() if k not in ("id", "party", "version")}
            )
        assert theirs.status_code == 201, theirs.text
        theirs_id = theirs.json()["notice"]["id"]
        wait_for(lambda: w.client().get(f"/notices/{theirs_id}").status_code == 200, what="beijing's notice")
        foreign = console.post(f"/deconfliction/notices/{theirs_id}", form())
        assert foreign.status_code == 403 and "belongs to beijing" in foreign.json()["error"]["message"]

        cancelled = console.post(f"/deconfliction/notices/{notice['id']}/cancel", {"reason": "done"})
        assert cancelled.status_code == 200 and cancelled.json()["notice"]["state"] == "cancelled"
        again = console.post(f"/deconfliction/notices/{notice['id']}/cancel", {"reason": "done"})
        assert again.status_code == 409, again.text
        wait_for(
            lambda: b.client().get(f"/notices/{notice['id']}").json()["state"] == "cancelled",
            what="the cancellation at beijing",
        )
