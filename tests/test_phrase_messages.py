"""Standard phrases over a real link: sent as code + parameters, rendered by the reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.stations import two_stations, wait_for
from tests.test_delivery import get


@pytest.mark.slow
def test_a_phrase_travels_as_code_and_parameters_and_is_acknowledged(tmp_path: Path) -> None:
    with two_stations(tmp_path, links_up=True) as (w, b):
        with w.client() as c:
            bad = c.post(
                "/messages",
                json={
                    "to": "beijing",
                    "precedence": "IMMEDIATE",
                    "phrase": {"code": "REQ-01", "params": {"minutes": 0}},
                },
            )
            assert bad.status_code == 400 and "params.minutes" in bad.json()["error"]["message"]
            unknown = c.post(
                "/messages",
                json={"to": "beijing", "precedence": "ROUTINE", "phrase": {"code": "XXX-99", "params": {}}},
            )
            assert unknown.status_code == 400 and "XXX-99" in unknown.json()["error"]["message"]
            both = c.post(
                "/messages",
                json={
                    "to": "beijing",
                    "precedence": "ROUTINE",
                    "text": "hi",
                    "phrase": {"code": "REQ-01", "params": {}},
                },
            )
            assert both.status_code == 400
            r = c.post(
                "/messages",
                json={
                    "to": "beijing",
                    "precedence": "IMMEDIATE",
                    "phrase": {"code": "REQ-01", "params": {"minutes": 15}},
                },
            )
            assert r.status_code == 201, r.text
        mid = r.json()["id"]
        inbound = wait_for(
            lambda: b.client().get(f"/messages/{mid}").status_code == 200 and get(b, mid), what="arrival"
        )
        assert inbound["kind"] == "phrase"
        assert inbound["phrase"]["code"] == "REQ-01" and inbound["phrase"]["params"] == {"minutes": 15}
        assert inbound["phrase"]["text"] == {
            "en": "Request a voice call within 15 minutes.",
            "zh-Hans": "请求在15分钟内进行语音通话。",
        }
        assert inbound["phrase"]["catalogue_mismatch"] is False
        assert inbound["deadline"] is not None  # a phrase needs a person's acknowledgement, like text
        with b.client() as c:
            assert c.post(f"/messages/{mid}/ack").status_code == 201
        wait_for(lambda: get(w, mid)["state"] == "acknowledged", what="acknowledgement")
        with b.client() as c:
            listed = c.get("/messages", params={"box": "inbox"}).json()["messages"]
        assert [m["id"] for m in listed] == [mid]  # phrases are in the default box listing
