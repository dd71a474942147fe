# ruff: noqa: RUF001  (the expected Chinese uses full-width punctuation)
"""Errors a zh-Hans reader sees on a live console are Chinese; the API's stay English.

One pair of real stations (SQLite, TLS links) where beijing's card lists a dead first endpoint,
so washington's first path to it fails with a real connection error (as in test_link_paths.py).
An operator whose console language is zh-Hans composes an empty message, files a notice with a
latitude of 95 and opens the links page; the same mistakes through /api/v1 answer in English.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.console import ConsoleClient, create_account, error_text
from tests.support.links import link, post, running_pair, send_ok
from tests.support.stations import StationProcess, free_port, wait_for

pytestmark = pytest.mark.slow

BAD_LATITUDE = '[{"polygon": [[10.0, 50.0], [10.5, 95.0], [10.5, 50.5], [10.0, 50.5]]}]'
NOTICE_FORM = {
    "volumes": BAD_LATITUDE,
    "activity": "uav_operations",
    "title": "Exercise GREY OWL",
    "altitude.lower.value": "0",
    "altitude.lower.unit": "M",
    "altitude.lower.reference": "SFC",
    "altitude.upper.value": "120",
    "altitude.upper.unit": "M",
    "altitude.upper.reference": "AGL",
    "window.start": "2030-01-01T10:00",
    "window.end": "2030-01-01T12:30",
    "buffers.horizontal_m": "500",
    "buffers.vertical_m": "",
    "buffers.time_s": "600",
    "priority": "5",
    "text": "",
}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Any:
    dead, real_port = free_port(), free_port()
    endpoints = [f"https://127.0.0.1:{dead}", f"https://127.0.0.1:{real_port}"]  # nobody on `dead`
    root = tmp_path_factory.mktemp("errors-zh")
    with running_pair(root, beijing_endpoints=endpoints, beijing_link_port=real_port, beijing_first=True) as (
        w,
        b,
        _chief,
    ):
        yield w, b, endpoints[0]


def chinese_console(station: StationProcess, name: str) -> ConsoleClient:
    console = ConsoleClient(station).login(create_account(station, name))
    changed = console.post("/settings/language", {"language": "zh-Hans", "back": "/traffic"})
    assert changed.status_code == 303, changed.text[:1500]
    assert 'lang="zh-Hans"' in console.get("/traffic").text
    return console


def test_compose_and_notice_errors_in_chinese_api_in_english(pair: tuple[Any, Any, str]) -> None:
    w, _b, _dead = pair
    with chinese_console(w, "zhou") as console:
        page = console.post(
            "/compose", {"mode": "text", "to": "beijing", "precedence": "ROUTINE", "text": ""}
        )
        assert page.status_code == 400, page.text[:1500]
        assert error_text(page) == "正文：必须是非空字符串"

        page = console.post(
            "/compose", {"mode": "text", "to": "nowhere", "precedence": "ROUTINE", "text": "hi"}
        )
        assert error_text(page) == "收件方：'nowhere' 不是本站的对方站"

        # a phrase parameter out of its range: the range is a Text inside the message's Text
        phrase = {"mode": "phrase", "to": "beijing", "precedence": "ROUTINE", "code": "REQ-01"}
        page = console.post("/compose", {**phrase, "param.minutes": "5000"})
        assert page.status_code == 400, page.text[:1500]
        assert error_text(page) == "参数·分钟：5000 超出范围（1 至 1440）"

        answer = console.post("/deconfliction/notices", NOTICE_FORM)
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert error["field"] == "volumes[0].polygon[1]"  # the machine path, as the script needs it
        assert (
            error["message"] == "活动区域[0]·多边形[1]：纬度 95.0 超出范围；请使用 -90 至 90 度（北纬为正）"
        )

    api = post(
        w,
        "/messages",
        to="beijing",
        precedence="ROUTINE",
        phrase={"code": "REQ-01", "params": {"minutes": 5000}},
    )
    assert api.status_code == 400, api.text
    assert (
        api.json()["error"]["message"]
        == "params.minutes: 5000 is out of range; expected a value from 1 to 1440"
    )
    api = post(w, "/messages", to="beijing", precedence="ROUTINE", text="", lang="en")
    assert api.status_code == 400 and api.json()["error"]["message"] == "text: must be a non-empty string"
    notice = {
        "activity": "uav_operations",
        "title": "Exercise GREY OWL",
        "volumes": [{"polygon": [[10.0, 50.0], [10.5, 95.0], [10.5, 50.5], [10.0, 50.5]]}],
        "altitude": {
            "lower": {"value": 0, "unit": "M", "reference": "SFC"},
            "upper": {"value": 120, "unit": "M", "reference": "AGL"},
        },
        "window": {"start": "2030-01-01T10:00:00.000000Z", "end": "2030-01-01T12:30:00.000000Z"},
    }
    api = post(w, "/notices", **notice)
    assert api.status_code == 400, api.text
    assert api.json()["error"]["message"] == (
        "volumes[0].polygon[1]: latitude 95.0 is out of range; use -90..90 degrees (north positive)"
    )


def test_a_dead_path_is_explained_in_chinese_on_the_links_page(pair: tuple[Any, Any, str]) -> None:
    w, _b, dead = pair
    send_ok(w, "beijing", "over the second path")  # the first path is tried first and refuses

    def first_path() -> dict[str, Any]:
        return dict(link(w, "beijing")["paths"][0])

    wait_for(lambda: first_path()["last_error"], 15.0, 0.1, "the dead path's error")
    path = first_path()
    assert path["url"] == dead and path["last_error"].startswith("ConnectError: "), path  # API: English
    detail = path["last_error"].removeprefix("ConnectError: ")

    with chinese_console(w, "wang") as console:
        page = console.get("/links")
        assert page.status_code == 200
        assert f"无法连接对方站点（ConnectError：{detail}）" in page.text, page.text[:4000]
        assert "ConnectError: " not in page.text  # no English sentence left for the path
    with ConsoleClient(w).login(create_account(w, "smith")) as english:
        assert f"ConnectError: {detail}" in english.get("/links").text
