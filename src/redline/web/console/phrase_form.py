"""The compose form's phrase parameters in the reader's language: a label per parameter name and
a hint per parameter type (the catalogue's own ``expected()`` text stays English: the API says it).
"""

from __future__ import annotations

from typing import Any

from redline.domain.phrases import MAX_AREA, MAX_DISTANCE_NM, MAX_TEXT, Param, Phrase, load_catalogue
from redline.web.console.i18n import error_text, translations
from redline.web.console.views import N_

# Every parameter name in data/phrases.json; a name missing here is shown as it is (tests say so).
LABELS = {
    "area": N_("area"), "start": N_("start"), "end": N_("end"), "callsign": N_("callsign"),
    "message": N_("message"), "position": N_("position"), "altitude": N_("altitude"),
    "time": N_("time"), "distance": N_("distance (NM)"), "bearing": N_("bearing (°)"),
    "minutes": N_("minutes"), "reason": N_("reason"), "hazard": N_("hazard"),
    "exercise": N_("exercise"), "speed": N_("speed (kn)"), "sequence": N_("sequence number"),
}  # fmt: skip

HINTS = {
    "text": N_("text of at most %(max)s characters"),
    "area": N_("an area name of at most %(max)s characters"),
    "bearing": N_("a bearing in whole degrees from 0 to 359"),
    "distance_nm": N_("a distance in nautical miles from 0 to %(max)s"),
    "time": N_("a UTC time like 2026-11-29T10:00:00Z"),
    "position": N_("a position like '12.5N 130.25E' (degrees, latitude then longitude)"),
    "message": N_("a message id (32 lowercase hex digits)"),
    "altitude": N_("an altitude like 'FL120', '3000M' or '10000FT'"),
    "callsign": N_("a callsign of 1-16 capital letters, digits or '-'"),
    "integer": N_("a whole number from %(min)s to %(max)s"),
    "number": N_("a number from %(min)s to %(max)s"),
}
_MAXIMA = {"text": MAX_TEXT, "area": MAX_AREA, "distance_nm": MAX_DISTANCE_NM}


# Numbers with an open range: (type, has minimum, has maximum) -> hint.
OPEN_RANGES = {
    ("integer", True, False): N_("a whole number of at least %(min)s"),
    ("integer", False, True): N_("a whole number of at most %(max)s"),
    ("integer", False, False): N_("a whole number"),
    ("number", True, False): N_("a number of at least %(min)s"),
    ("number", False, True): N_("a number of at most %(max)s"),
    ("number", False, False): N_("a number"),
}


def hint(param: Param, lang: str) -> str:
    template = HINTS.get(param.type)
    if param.type in ("integer", "number") and None in (param.minimum, param.maximum):
        template = OPEN_RANGES[(param.type, param.minimum is not None, param.maximum is not None)]
    if template is None:
        return error_text(param.expected(), lang)  # a type without a hint here: the catalogue's words
    low = param.minimum
    high = param.maximum if param.type in ("integer", "number") else _MAXIMA.get(param.type)
    return translations(lang).gettext(template) % {"min": low, "max": high}


def _label(name: str, lang: str) -> str:
    return translations(lang).gettext(LABELS[name]) if name in LABELS else name


def _with_labels(text: str, phrase: Phrase, lang: str) -> str:
    """The phrase's text with each ``{parameter}`` named by its label in ``lang``: "{分钟}"."""
    for a in phrase.params:
        text = text.replace("{" + a.name + "}", "{" + _label(a.name, lang) + "}")
    return text


def phrase_choices(lang: str) -> list[dict[str, Any]]:
    return [
        {
            "code": p.code,
            "group": p.group,
            "text": _with_labels(p.text.get(lang, p.text["en"]), p, lang),
            "params": [
                {
                    "name": a.name,
                    "label": _label(a.name, lang),
                    "type": a.type,
                    "expected": hint(a, lang),
                }
                for a in p.params
            ],
        }
        for p in load_catalogue().phrases.values()
    ]
