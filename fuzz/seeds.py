"""Write a valid seed input per target into ``<dir>/<target>/`` (the fuzzers mutate from there).

``python fuzz/seeds.py fuzz/corpus`` before a long run; tests/test_fuzz.py does the same in a
temporary directory.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.records import circle_notice

from redline.crypto.keys import StationKeys
from redline.crypto.tls import make_self_signed_certificate
from redline.domain.messages import MessageKind, Precedence
from redline.geo import parse_notice
from redline.geo.formats.f3548 import to_volume4d
from redline.geo.formats.geojson import to_geojson
from redline.geo.formats.notam import to_notam
from redline.wire.card import make_card
from redline.wire.envelope import build_envelope

NOTAM_AREAS = """A0417/26 NOTAMN
Q) ZJSA/QRDCA/IV/BO/W/000/350/1830N11130E025
A) ZJSA B) 2612050100 C) 2612080900
E) AREA A: N183000E1113000-N184500E1120000-N180000E1121500-N175000E1112000 BACK TO START.
AREA B: WI 10NM RADIUS OF 1900N11200E. AREA C: 5NM EITHER SIDE OF LINE JOINING 1910N11210E-1930N11230E.
F) SFC G) UNL
"""
NAVWARN = """NAVAREA XI 1234/26
SOUTH CHINA SEA.
1. GUNNERY EXERCISES 0100Z TO 0900Z DAILY 05 THRU 08 DEC
   IN AREA BOUNDED BY 18-30.00N 111-30.00E, 18-45.00N 112-00.00E,
   18-00.00N 112-15.00E, 17-50.00N 111-20.00E.
2. CANCEL THIS MSG 080900Z DEC 26.
HYDROPAC 3456/26(81).
ROCKET LAUNCHING 050100Z TO 071500Z DEC 26 WITHIN 2 MILES OF 35-00.00N 139-00.00E, SFC TO FL600.
"""


def seeds() -> dict[str, list[bytes]]:
    keys = StationKeys.generate()
    cert = make_self_signed_certificate("beijing", keys.tls).decode()
    card = make_card(keys, "beijing", "Beijing", cert, ["https://127.0.0.1:8443"], "2030-01-01T00:00:00Z")
    env = build_envelope(
        keys,
        keys.encryption.public_key(),
        message_id="0" * 32,
        sender="beijing",
        recipient="washington",
        seq=1,
        prev="0" * 64,
        ts="2030-01-01T00:00:00.000000Z",
        precedence=Precedence.ROUTINE,
        kind=MessageKind.TEXT,
        body={"text": "hello", "lang": "en"},
    )
    notice = parse_notice(
        {**circle_notice(30.0, 40.0, 5000), "id": "a" * 32, "party": "beijing", "version": 1}
    )
    return {
        "envelope": [json.dumps({"envelopes": [env.to_json()]}).encode()],
        "card": [json.dumps(card.to_json()).encode()],
        "notice_import": [
            b"\x00" + json.dumps(to_geojson([notice])).encode(),
            b"\x01" + json.dumps(to_volume4d(notice)).encode(),
            b"\x02" + to_notam(notice).encode(),
            b"\x02" + NOTAM_AREAS.encode(),
            b"\x03" + NAVWARN.encode(),
        ],
        "console_form": [
            urlencode({"code": "WRN-01", "lang": "en", "role": "operator", "name": "duty"}).encode(),
            urlencode({"code": "WRN-02", "param.bearing": "90", "param.distance_nm": "1.5"}).encode(),
        ],
    }


def write(root: Path) -> None:
    for target, inputs in seeds().items():
        (root / target).mkdir(parents=True, exist_ok=True)
        for i, data in enumerate(inputs):
            (root / target / f"seed-{i}").write_bytes(data)


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus"))
