"""Import and export through the API: several NOTAMs at once, F3548 round trips, what cannot be exported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.records import circle_notice
from tests.support.stations import two_stations, wait_for
from tests.test_deconfliction_link import all_notices, file


def corridor() -> dict[str, Any]:
    body = circle_notice(140.0, 30.0, 1)
    body["volumes"] = [{"corridor": {"path": [[140.0, 30.0], [141.0, 31.0]], "half_width_m": 5000}}]
    return body


@pytest.mark.slow
def test_exports_import_back_and_say_what_they_left_out(tmp_path: Path) -> None:
    with two_stations(tmp_path, start=False) as (w, _b):
        w.start()  # beijing stays down: only the export and import at washington matter
        window = (1, 23)
        file(w, circle_notice(130.0, 20.0, 10_000, window))
        file(w, circle_notice(131.0, 21.0, 20_000, window))
        file(w, corridor())
        with w.client() as c:
            # The notices are in 2030: export everything live (not only in force now).
            notam = c.get("/notices/export", params={"format": "notam"})
            assert notam.status_code == 200 and notam.headers["x-redline-skipped"] == "1"  # the corridor
            assert notam.text.count("NOTAMN") == 2
            assert "A0001/30 NOTAMN" in notam.text and "A0002/30 NOTAMN" in notam.text
            again = c.post("/notices/import", params={"format": "notam"}, content=notam.text)
            assert again.status_code == 201, again.text
            assert again.json()["count"] == 2  # both NOTAMs, not just the last

            f3548 = c.get("/notices/export", params={"format": "f3548"})
            assert f3548.status_code == 200
            assert len(f3548.json()["notices"]) == 4 and len(f3548.json()["skipped"]) == 1
            back = c.post("/notices/import", params={"format": "f3548"}, content=f3548.content)
            assert back.status_code == 201, back.text
            assert back.json()["count"] == 4
            sent = sorted(n["activity"] for n in f3548.json()["notices"])
            assert sorted(n["activity"] for n in back.json()["notices"]) == sent  # kept, not all "uav"

            before = len(c.get("/notices").json()["notices"])
            broken = notam.text.replace("A0002/30 NOTAMN\nQ)", "A0002/30 NOTAMN\nQ) XXXX/QRTCA")
            refused = c.post("/notices/import", params={"format": "notam"}, content=broken)
            assert refused.status_code == 400 and "NOTAM 2" in refused.json()["error"]["message"]
            assert len(c.get("/notices").json()["notices"]) == before  # all or nothing
            garbage = c.post(
                "/notices/import", params={"format": "notam"}, content="hello\nA0001/26 NOTAMN\n"
            )
            assert garbage.status_code == 400 and "line 1" in garbage.json()["error"]["message"]
            assert c.get("/notices/export", params={"format": "kml"}).status_code == 400


ISSUE_NOTAM = """A0417/30 NOTAMN
Q) ZJSA/QRDCA/IV/BO/W/000/350/1830N11130E025
A) ZJSA B) 3001010100 C) 3001011100
E) MILITARY EXERCISE WI AREA BOUNDED BY: N183000E1113000-N184500E1120000-N180000E1121500-N175000E1112000
BACK TO START.
F) SFC G) FL350
"""


@pytest.mark.slow
def test_a_notam_area_in_item_e_is_checked_at_its_real_shape(tmp_path: Path) -> None:
    """The issue's NOTAM: a notice outside its polygon but inside the Q-line's 46 km circle is clear."""
    with two_stations(tmp_path) as (w, b):
        outside = file(b, circle_notice(111.2, 18.3, 5000))  # ~25 km west of the polygon
        inside = file(b, circle_notice(111.8, 18.4, 3000))
        wait_for(
            lambda: {outside, inside} <= {n["id"] for n in all_notices(w)}, what="beijing's notices at w"
        )
        with w.client() as c:
            answer = c.post("/notices/import", params={"format": "notam"}, content=ISSUE_NOTAM)
            assert answer.status_code == 201, answer.text
            body = answer.json()
            notam_id = body["notices"][0]["id"]
            assert body["sources"] == [{"id": notam_id, "geometry_source": "item_e", "areas": 1, "notes": []}]
            assert body["notices"][0]["volumes"][0]["polygon"][0] == [111.5, 18.5]

            def partners(notice_id: str) -> set[str]:
                found = c.get("/conflicts", params={"notice": notice_id}).json()["conflicts"]
                return {n for k in found for n in (k["notice_a"], k["notice_b"])} - {notice_id}

            assert partners(notam_id) == {inside}

            # Without an area in E) the Q-line circle stands in, and then both conflict.
            bare = (
                ISSUE_NOTAM.replace("WI AREA BOUNDED BY:", "NEAR").split("N183000E")[0]
                + "\nF) SFC G) FL350\n"
            )
            answer = c.post("/notices/import", params={"format": "notam"}, content=bare)
            assert answer.status_code == 201, answer.text
            fallback = answer.json()["sources"][0]
            assert fallback["geometry_source"] == "q_line"
            assert partners(fallback["id"]) == {inside, outside}

            # A navigational warning over the same area, daily for two days: a notice per day.
            warning = (
                "NAVAREA XI 0007/30\nSOUTH CHINA SEA.\n"
                "1. GUNNERY EXERCISES 0100Z TO 1100Z DAILY 01 THRU 02 JAN\n"
                "IN AREA BOUNDED BY 18-30.00N 111-30.00E, 18-45.00N 112-00.00E,\n"
                "18-00.00N 112-15.00E, 17-50.00N 111-20.00E.\n2. CANCEL THIS MSG 021100Z JAN 30.\n"
            )
            answer = c.post("/notices/import", params={"format": "navwarn"}, content=warning)
            assert answer.status_code == 201, answer.text
            sources = answer.json()["sources"]
            assert [s["geometry_source"] for s in sources] == ["text", "text"]
            assert [partners(s["id"]) for s in sources] == [{inside}, set()]  # beijing's are on 1 Jan only

            before = len(c.get("/notices").json()["notices"])
            broken = warning.replace("18-45.00N", "18-75.00N")
            refused = c.post("/notices/import", params={"format": "navwarn"}, content=broken)
            assert refused.status_code == 400
            assert "warning 1: line 4: '18-75.00N 112-00.00E'" in refused.json()["error"]["message"]
            assert len(c.get("/notices").json()["notices"]) == before  # nothing half-filed
