"""The standard phrase catalogue: one code, one meaning, typed parameters, two reviewed languages.

In the style of CUES and the IMO Standard Marine Communication Phrases, a
phrase message carries no prose, only ``{"code", "params", "catalogue"}``
(:class:`PhraseBody`). Each reader's station renders it from its own copy of
the catalogue (``redline/data/phrases.json``) in the reader's language, so
both sides see exactly the reviewed wording and nothing is lost in
translation.

The catalogue is versioned (``"2026.1"``). Both stations of a link should hold
the same version; when a message names another version, the console shows a
visible mismatch warning (:func:`version_mismatch`), renders the phrase if the
code exists locally and its parameters still fit, and otherwise shows the code
and its parameters verbatim (:meth:`Catalogue.present`).

Parameter values are inserted into the text as they are (the console escapes
HTML); only a bearing is written with three digits (``045``), as it is said.
"""

from __future__ import annotations

import functools
import json
import math
import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from redline.domain.names import check_message_id
from redline.errors import InputError, _t

LANGS = ("en", "zh-Hans")
DEFAULT_LANG = "en"
GROUPS: dict[str, str] = {  # group -> code prefix
    "warning": "WRN",
    "notification": "NOT",
    "request": "REQ",
    "reply": "REP",
    "link": "LNK",
}
PARAM_TYPES = (
    "text",
    "integer",
    "number",
    "time",
    "position",
    "bearing",
    "distance_nm",
    "altitude",
    "message",
    "callsign",
    "area",
)
MAX_TEXT = 200
MAX_AREA = 100
MAX_DISTANCE_NM = 10_000
MAX_PARAMS = 16

_CODE = re.compile(r"^[A-Z]{3}-[0-9]{2,3}$")
_VERSION = re.compile(r"^[0-9]{4}\.[0-9]{1,3}$")
_PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?Z$")
_POSITION = re.compile(r"^([0-9]{1,2}(?:\.[0-9]{1,6})?)([NS]) ([0-9]{1,3}(?:\.[0-9]{1,6})?)([EW])$")
_ALTITUDE = re.compile(r"^(FL[0-9]{3}|[0-9]{1,5}(M|FT))$")
_CALLSIGN = re.compile(r"^[A-Z0-9-]{1,16}$")
# Bidirectional overrides could make a parameter read differently from what was sent.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

Value = str | int | float


def version_mismatch(local_version: str, message_version: str) -> bool:
    """True when a phrase message was written against another catalogue version than ours."""
    return local_version != message_version


def _check_text(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(
            _t("{field}: expected non-empty text of at most {limit} characters", field=field, limit=limit)
        )
    if len(value) > limit:
        raise InputError(
            _t(
                "{field}: {length} characters is more than the limit of {limit}",
                field=field,
                length=len(value),
                limit=limit,
            )
        )
    if any(unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS for c in value):
        raise InputError(
            _t("{field}: control characters (line breaks, tabs, bidi overrides) are not allowed", field=field)
        )
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Param:
    """One typed parameter of a phrase; ``minimum``/``maximum`` bound integers and numbers."""

    name: str
    type: str
    minimum: int | float | None = None
    maximum: int | float | None = None

    def expected(self) -> str:
        """What a value of this parameter looks like, for error messages and forms."""
        if self.type in ("integer", "number"):
            what = _t("a whole number") if self.type == "integer" else _t("a number")
            return _t("{what}{range}", what=what, range=_range(self.minimum, self.maximum))
        return _EXPECTED[self.type]

    def check(self, value: object, field: str) -> Value:
        """The value if it fits this parameter, else InputError naming ``field`` and what was expected."""
        kind = self.type
        if kind == "text":
            return _check_text(value, field, MAX_TEXT)
        if kind == "area":
            return _check_text(value, field, MAX_AREA)
        if kind in ("integer", "bearing"):
            low, high = (0, 359) if kind == "bearing" else (self.minimum, self.maximum)
            if not _is_int(value):
                raise InputError(
                    _t(
                        "{field}: expected a whole number{range}, got {value!r}",
                        field=field,
                        range=_range(low, high),
                        value=value,
                    )
                )
            return self._bounded(value, low, high, field)  # type: ignore[arg-type]
        if kind in ("number", "distance_nm"):
            low, high = (0, MAX_DISTANCE_NM) if kind == "distance_nm" else (self.minimum, self.maximum)
            what = _t("a distance in nautical miles") if kind == "distance_nm" else _t("a number")
            if not _is_number(value):
                raise InputError(
                    _t(
                        "{field}: expected {what}{range}, got {value!r}",
                        field=field,
                        what=what,
                        range=_range(low, high),
                        value=value,
                    )
                )
            return self._bounded(value, low, high, field)  # type: ignore[arg-type]
        if not isinstance(value, str):
            raise InputError(
                _t(
                    "{field}: expected {expected}, got {value!r}",
                    field=field,
                    expected=_EXPECTED[kind],
                    value=value,
                )
            )
        if kind == "time":
            return _check_time(value, field)
        if kind == "position":
            return _check_position(value, field)
        if kind == "message":
            return check_message_id(value, field)
        pattern = _ALTITUDE if kind == "altitude" else _CALLSIGN
        if not pattern.fullmatch(value):
            raise InputError(
                _t("{field}: {value!r} is not {expected}", field=field, value=value, expected=_EXPECTED[kind])
            )
        return value

    @staticmethod
    def _bounded(value: int | float, low: float | None, high: float | None, field: str) -> int | float:
        if (low is not None and value < low) or (high is not None and value > high):
            raise InputError(
                _t(
                    "{field}: {value!r} is out of range; expected a value{range}",
                    field=field,
                    value=value,
                    range=_range(low, high),
                )
            )
        return value


_EXPECTED = {
    "text": _t("text of at most {limit} characters", limit=MAX_TEXT),
    "area": _t("an area name of at most {limit} characters", limit=MAX_AREA),
    "bearing": _t("a bearing in whole degrees from 0 to 359"),
    "distance_nm": _t("a distance in nautical miles from 0 to {limit}", limit=MAX_DISTANCE_NM),
    "time": _t("a UTC time like 2026-11-29T10:00:00Z"),
    "position": _t("a position like '12.5N 130.25E' (degrees, latitude then longitude)"),
    "message": _t("a message id (32 lowercase hex digits)"),
    "altitude": _t("an altitude like 'FL120', '3000M' or '10000FT'"),
    "callsign": _t("a callsign of 1-16 capital letters, digits or '-'"),
}


def _range(low: float | None, high: float | None) -> str:
    """A bound after a noun (" from 1 to 10"); in Chinese, a bracket after it."""
    if low is not None and high is not None:
        return _t(" from {low} to {high}", low=low, high=high)
    if low is not None:
        return _t(" of at least {low}", low=low)
    if high is not None:
        return _t(" of at most {high}", high=high)
    return ""


def _check_time(value: str, field: str) -> str:
    if not _TIME.fullmatch(value):
        raise InputError(
            _t("{field}: {value!r} is not {time}", field=field, value=value, time=_EXPECTED["time"])
        )
    try:
        datetime.fromisoformat(value[:-1])
    except ValueError:
        raise InputError(
            _t("{field}: {value!r} is not a real date and time", field=field, value=value)
        ) from None
    return value


def _check_position(value: str, field: str) -> str:
    match = _POSITION.fullmatch(value)
    if not match or float(match[1]) > 90 or float(match[3]) > 180:
        raise InputError(
            _t(
                "{field}: {value!r} is not {position}",
                field=field,
                value=value,
                position=_EXPECTED["position"],
            )
        )
    return value


def _display(param: Param, value: Value) -> str:
    if param.type == "bearing":
        return f"{value:03d}"
    return str(value)


@dataclass(frozen=True, slots=True)
class Phrase:
    code: str
    group: str
    params: tuple[Param, ...]
    text: Mapping[str, str]  # lang -> template with {name} placeholders

    def check_params(self, params: object) -> dict[str, Value]:
        """Check parameter values against their types; InputError names the parameter at fault."""
        if not isinstance(params, dict):
            raise InputError(_t("params: expected an object of parameters for phrase {code}", code=self.code))
        declared = {p.name for p in self.params}
        extra = sorted(str(k) for k in params if k not in declared)
        if extra:
            raise InputError(
                _t(
                    "params: phrase {code} has no parameter {choices}",
                    code=self.code,
                    choices=", ".join(extra),
                )
            )
        checked: dict[str, Value] = {}
        for param in self.params:
            field = f"params.{param.name}"
            if param.name not in params:
                raise InputError(
                    _t(
                        "{field}: missing; phrase {code} needs {expected}",
                        field=field,
                        code=self.code,
                        expected=param.expected(),
                    )
                )
            checked[param.name] = param.check(params[param.name], field)
        return checked

    def render(self, params: object, lang: str) -> str:
        """The phrase in ``lang`` ("en" or "zh-Hans"; any other language falls back to English)."""
        values = self.check_params(params)
        template = self.text.get(lang, self.text[DEFAULT_LANG])
        by_name = {p.name: p for p in self.params}
        parts: list[str] = []
        for literal, name, _spec, _conv in string.Formatter().parse(template):
            parts.append(literal)
            if name is not None:
                parts.append(_display(by_name[name], values[name]))
        return "".join(parts)


@dataclass(frozen=True, slots=True)
class Presentation:
    """What the console shows for a received phrase message."""

    text: str | None  # the rendered phrase, or None when it cannot be rendered locally
    code: str
    params: Mapping[str, Value]
    version_mismatch: bool  # show a visible warning: the sender used another catalogue version


@dataclass(frozen=True, slots=True)
class Catalogue:
    version: str
    phrases: Mapping[str, Phrase]

    def get(self, code: object) -> Phrase:
        phrase = self.phrases.get(code) if isinstance(code, str) else None
        if phrase is None:
            raise InputError(
                _t(
                    "phrase: unknown code {code!r} in catalogue version {version}",
                    code=code,
                    version=self.version,
                )
            )
        return phrase

    def render(self, code: str, params: object, lang: str) -> str:
        return self.get(code).render(params, lang)

    def present(self, body: PhraseBody, lang: str) -> Presentation:
        """Render a received phrase; from another catalogue version, fall back to code and parameters."""
        mismatch = version_mismatch(self.version, body.catalogue)
        try:
            text: str | None = self.render(body.code, body.params, lang)
        except InputError:
            text = None
        return Presentation(text=text, code=body.code, params=body.params, version_mismatch=mismatch)

    def in_group(self, group: str) -> list[Phrase]:
        return [p for p in self.phrases.values() if p.group == group]


def _placeholders(template: str, where: str) -> set[str]:
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InputError(_t("{where}: unbalanced braces ({exc})", where=where, exc=exc)) from None
    for _literal, name, spec, conv in parsed:
        if name is None:
            continue
        if not _PARAM_NAME.fullmatch(name) or spec or conv:
            raise InputError(
                _t("{where}: placeholder {{{name}}} must be a plain parameter name", where=where, name=name)
            )
        names.add(name)
    return names


def _parse_param(obj: object, where: str) -> Param:
    if not isinstance(obj, dict) or not {"name", "type"} <= obj.keys() <= {"name", "type", "min", "max"}:
        raise InputError(
            _t("{where}: expected an object with name, type and optionally min, max", where=where)
        )
    name, kind = obj["name"], obj["type"]
    if not isinstance(name, str) or not _PARAM_NAME.fullmatch(name):
        raise InputError(
            _t("{where}.name: {name!r} is not a lowercase parameter name", where=where, name=name)
        )
    if kind not in PARAM_TYPES:
        raise InputError(
            _t(
                "{where}.type: {kind!r} is not one of {choices}",
                where=where,
                kind=kind,
                choices=", ".join(PARAM_TYPES),
            )
        )
    low, high = obj.get("min"), obj.get("max")
    if (low is not None or high is not None) and kind not in ("integer", "number"):
        raise InputError(_t("{where}: only integer and number parameters take min and max", where=where))
    for bound in (low, high):
        if bound is not None and not (_is_int(bound) if kind == "integer" else _is_number(bound)):
            raise InputError(
                _t("{where}: min and max must be whole numbers", where=where)
                if kind == "integer"
                else _t("{where}: min and max must be numbers", where=where)
            )
    return Param(name=name, type=kind, minimum=low, maximum=high)


def _parse_phrase(obj: object, where: str) -> Phrase:
    if not isinstance(obj, dict) or obj.keys() != {"code", "group", "params", "text"}:
        raise InputError(_t("{where}: a phrase holds exactly code, group, params, text", where=where))
    code, group = obj["code"], obj["group"]
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise InputError(_t("{where}.code: {code!r} is not a code like 'WRN-01'", where=where, code=code))
    if group not in GROUPS:
        raise InputError(
            _t(
                "{code}.group: {group!r} is not one of {choices}",
                code=code,
                group=group,
                choices=", ".join(GROUPS),
            )
        )
    if not code.startswith(GROUPS[group] + "-"):
        raise InputError(
            _t(
                "{code}: codes in group {group} start with {prefix}-",
                code=code,
                group=group,
                prefix=GROUPS[group],
            )
        )
    if not isinstance(obj["params"], list):
        raise InputError(_t("{code}.params: expected a list", code=code))
    params = tuple(_parse_param(p, f"{code}.params[{i}]") for i, p in enumerate(obj["params"]))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise InputError(_t("{code}.params: parameter names must be unique", code=code))
    text = obj["text"]
    if not isinstance(text, dict) or text.keys() != set(LANGS):
        raise InputError(
            _t("{code}.text: expected exactly the languages {choices}", code=code, choices=", ".join(LANGS))
        )
    for lang, template in text.items():
        if not isinstance(template, str) or not template.strip():
            raise InputError(_t("{code}.text.{lang}: expected non-empty text", code=code, lang=lang))
        if _placeholders(template, f"{code}.text.{lang}") != set(names):
            raise InputError(
                _t(
                    "{code}.text.{lang}: placeholders must be exactly {{{choices}}}",
                    code=code,
                    lang=lang,
                    choices="}, {".join(names),
                )
            )
    return Phrase(code=code, group=group, params=params, text=dict(text))


def parse_catalogue(obj: object) -> Catalogue:
    """Validate a catalogue document; InputError names the phrase and field at fault."""
    if not isinstance(obj, dict) or obj.keys() != {"version", "phrases"}:
        raise InputError(_t("catalogue: expected an object with exactly version and phrases"))
    version = obj["version"]
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise InputError(_t("catalogue.version: {version!r} is not a version like '2026.1'", version=version))
    if not isinstance(obj["phrases"], list):
        raise InputError(_t("catalogue.phrases: expected a list"))
    phrases: dict[str, Phrase] = {}
    for i, item in enumerate(obj["phrases"]):
        phrase = _parse_phrase(item, f"catalogue.phrases[{i}]")
        if phrase.code in phrases:
            raise InputError(_t("{code}: code appears twice; one code, one meaning", code=phrase.code))
        phrases[phrase.code] = phrase
    return Catalogue(version=version, phrases=phrases)


@functools.cache
def load_catalogue() -> Catalogue:
    """The catalogue shipped with this station (read and validated once)."""
    raw = (resources.files("redline") / "data" / "phrases.json").read_text(encoding="utf-8")
    return parse_catalogue(json.loads(raw))


@dataclass(frozen=True, slots=True)
class PhraseBody:
    """The sealed payload of a phrase message: ``{"code", "params", "catalogue"}``."""

    code: str
    params: Mapping[str, Value]
    catalogue: str

    @classmethod
    def build(cls, code: str, params: object, catalogue: Catalogue | None = None) -> PhraseBody:
        """A body to send: the code must exist in our catalogue and the parameters fit it."""
        local = catalogue or load_catalogue()
        checked = local.get(code).check_params(params)
        return cls(code=code, params=checked, catalogue=local.version)

    @classmethod
    def parse(cls, obj: object, catalogue: Catalogue | None = None) -> PhraseBody:
        """Check a received body. Against our own catalogue version the parameters must fit the
        phrase exactly; from another version only their shape is checked (see :meth:`Catalogue.present`).
        """
        if not isinstance(obj, dict) or obj.keys() != {"code", "params", "catalogue"}:
            raise InputError(_t("a phrase payload holds exactly catalogue, code, params"))
        code, version, params = obj["code"], obj["catalogue"], obj["params"]
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            raise InputError(_t("code: {code!r} is not a phrase code like 'WRN-01'", code=code))
        if not isinstance(version, str) or not _VERSION.fullmatch(version):
            raise InputError(
                _t("catalogue: {version!r} is not a catalogue version like '2026.1'", version=version)
            )
        if not isinstance(params, dict) or len(params) > MAX_PARAMS:
            raise InputError(
                _t("params: expected an object of at most {MAX_PARAMS} parameters", MAX_PARAMS=MAX_PARAMS)
            )
        local = catalogue or load_catalogue()
        if not version_mismatch(local.version, version):
            return cls(code=code, params=local.get(code).check_params(params), catalogue=version)
        shaped: dict[str, Value] = {}
        for name, value in params.items():
            if not isinstance(name, str) or not _PARAM_NAME.fullmatch(name):
                raise InputError(_t("params: {name!r} is not a parameter name", name=name))
            if isinstance(value, str):
                shaped[name] = _check_text(value, f"params.{name}", MAX_TEXT)
            elif _is_number(value):
                shaped[name] = value
            else:
                raise InputError(
                    _t("params.{name}: expected text or a number, got {value!r}", name=name, value=value)
                )
        return cls(code=code, params=shaped, catalogue=version)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params), "catalogue": self.catalogue}
