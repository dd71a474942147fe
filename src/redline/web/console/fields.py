"""Field names in error messages, as a reader of another language calls them.

An error names the field it is about by its machine path, first, before a colon:
``text: must be a non-empty string``, ``volumes[0].polygon[1]: latitude 95 is out of
range``, ``params.minutes: 5000 is out of range``. The API and the English console keep
that path as it is (it is what the request said). A translated console shows each name in
the path by its label here (``正文`` for ``text``, ``活动区域[0]·多边形[1]`` for
``volumes[0].polygon[1]``): indexes stay, names not listed stay as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from redline.web.console.views import N_

# Each name that leads an error's path: form and API fields, notice fields, phrase parameters.
FIELD_LABELS = {
    # messages, compose, search
    "to": N_("recipient"), "text": N_("message text"), "precedence": N_("precedence"),
    "lang": N_("language of the text"), "language": N_("language"), "in_reply_to": N_("reply to"),
    "phrase": N_("phrase"), "params": N_("parameters"), "catalogue": N_("phrase catalogue"),
    "phrases": N_("phrases"), "version": N_("version"), "translation": N_("translation"),
    "q": N_("search text"), "peer": N_("peer station"), "kind": N_("kind"), "box": N_("box"),
    "state": N_("state"), "since": N_("from"), "until": N_("until"), "limit": N_("page size"),
    "cursor": N_("page"), "awaiting_ack": N_("awaiting our acknowledgement"),
    "awaiting_theirs": N_("awaiting theirs"), "overdue": N_("overdue"), "format": N_("format"),
    # accounts, watch, links
    "name": N_("name"), "password": N_("password"), "code": N_("code"), "role": N_("role"),
    "display_name": N_("display name"), "active": N_("active"), "position": N_("position"),
    "note": N_("note"), "watch": N_("watch"), "reason": N_("reason"), "action": N_("action"),
    "interval": N_("interval"), "scorecard": N_("scorecard"), "nonce": N_("nonce"),
    # notices and conflicts
    "notice": N_("notice"), "notice_id": N_("notice"), "party": N_("party"), "pair": N_("pair"),
    "conflict": N_("conflict"), "title": N_("title"), "activity": N_("activity"),
    "volumes": N_("volumes"), "polygon": N_("polygon"), "circle": N_("circle"),
    "centre": N_("centre"), "radius_m": N_("radius (m)"), "corridor": N_("corridor"),
    "path": N_("path"), "half_width_m": N_("half width (m)"), "window": N_("window"),
    "start": N_("start"), "end": N_("end"), "estimated_end": N_("estimated end"),
    "permanent": N_("permanent"), "altitude": N_("altitude"), "lower": N_("lower limit"),
    "upper": N_("upper limit"), "value": N_("value"), "unit": N_("unit"),
    "reference": N_("reference"), "buffers": N_("buffers"),
    "horizontal_m": N_("horizontal (m)"), "vertical_m": N_("vertical (m)"), "time_s": N_("time (s)"),
    # phrase parameters (as the compose form labels them)
    "area": N_("area"), "callsign": N_("callsign"), "message": N_("message"), "time": N_("time"),
    "distance": N_("distance (NM)"), "bearing": N_("bearing (°)"), "minutes": N_("minutes"),
    "hazard": N_("hazard"), "exercise": N_("exercise"), "speed": N_("speed (kn)"),
    "sequence": N_("sequence number"),
}  # fmt: skip

_SEGMENT = r"[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])*"
# A path first, then the colon: ASCII (the English text) or full-width (a Chinese translation).
_LEADING_PATH = re.compile(rf"^({_SEGMENT}(?:\.{_SEGMENT})*)(: |\uff1a)")
_NAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(.*)$")


def label_path(path: str, gettext: Callable[[str], str]) -> str:
    """``volumes[0].polygon[1]`` as ``gettext`` names it: each known name by its label."""
    shown = []
    for segment in path.split("."):
        found = _NAME.match(segment)
        assert found is not None  # every segment of a _LEADING_PATH match starts with a name
        name, indexes = found.groups()
        shown.append((gettext(FIELD_LABELS[name]) if name in FIELD_LABELS else name) + indexes)
    return "·".join(shown)


def label_leading_path(text: str, gettext: Callable[[str], str]) -> str:
    """``text`` with the path it starts with, if any, named by labels."""
    found = _LEADING_PATH.match(text)
    if found is None:
        return text
    return label_path(found.group(1), gettext) + found.group(2) + text[found.end() :]
