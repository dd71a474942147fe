"""Import and export through the API: several NOTAMs at once, F3548 round trips, what cannot be exported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.records import circle_notice
from tests.support.stations import two_stations
from tests.test_deconfliction_link import file


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
