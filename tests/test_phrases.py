"""The standard phrase catalogue: its content, parameter types, rendering and the sealed body."""

from __future__ import annotations

import copy
import json
import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.domain.phrases import (
    GROUPS,
    LANGS,
    PARAM_TYPES,
    Catalogue,
    Param,
    PhraseBody,
    load_catalogue,
    parse_catalogue,
    version_mismatch,
)
from redline.errors import InputError

MSG_ID = "0123456789abcdef0123456789abcdef"
T0 = "2026-11-29T10:00:00Z"
T1 = "2026-11-29T12:30:00Z"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def raw_catalogue() -> dict[str, Any]:
    from importlib import resources

    text = (resources.files("redline") / "data" / "phrases.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def placeholders(template: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(template) if name is not None)


# -- The shipped catalogue -----------------------------------------------------


def test_catalogue_has_a_version_and_at_least_36_phrases(catalogue: Catalogue) -> None:
    assert catalogue.version == "2026.1"
    assert len(catalogue.phrases) >= 36
    assert load_catalogue() is catalogue  # cached


def test_codes_are_unique_in_the_file() -> None:
    codes = [p["code"] for p in raw_catalogue()["phrases"]]
    assert len(codes) == len(set(codes))


def test_every_group_is_represented_and_codes_carry_their_prefix(catalogue: Catalogue) -> None:
    for group, prefix in GROUPS.items():
        members = catalogue.in_group(group)
        assert len(members) >= 5, group
        assert all(p.code.startswith(prefix + "-") for p in members)


def test_every_param_type_is_used(catalogue: Catalogue) -> None:
    used = {p.type for phrase in catalogue.phrases.values() for p in phrase.params}
    assert used == set(PARAM_TYPES)


@pytest.mark.parametrize("phrase", raw_catalogue()["phrases"], ids=lambda p: p["code"])
def test_placeholders_match_declared_params_in_both_languages(phrase: dict[str, Any]) -> None:
    declared = sorted(p["name"] for p in phrase["params"])
    assert set(phrase["text"]) == set(LANGS)
    for lang in LANGS:
        assert placeholders(phrase["text"][lang]) == declared, lang


@pytest.mark.parametrize("phrase", raw_catalogue()["phrases"], ids=lambda p: p["code"])
def test_chinese_text_is_chinese_and_english_is_not(phrase: dict[str, Any]) -> None:
    zh, en = phrase["text"]["zh-Hans"], phrase["text"]["en"]
    assert any("\u4e00" <= c <= "\u9fff" for c in zh)
    assert zh.endswith("。")
    assert en.isascii() and en.endswith(".")


# -- Parameter types -----------------------------------------------------------

GOOD: dict[str, list[object]] = {
    "text": ["weather", "engine failure on the lead aircraft", "x" * 200, "能见度不良"],
    "area": ["ALPHA-3", "South of Hainan", "a" * 100],
    "integer": [1, 30, 1440],
    "number": [0, 12, 12.5, 60],
    "time": [T0, "2026-11-29T10:00Z", "2026-11-29T10:00:00.123456Z", "2028-02-29T23:59:59Z"],
    "position": ["12.5N 130.25E", "0N 0E", "90S 180W", "45.123456N 7.5W"],
    "bearing": [0, 45, 359],
    "distance_nm": [0, 1, 2.5, 10_000],
    "altitude": ["FL120", "FL005", "3000M", "10000FT"],
    "message": [MSG_ID],
    "callsign": ["RED-01", "A", "BOXER22", "ABCDEFGHIJKLMNOP"],
}
BAD: dict[str, list[object]] = {
    "text": ["", "   ", "x" * 201, "two\nlines", "tab\there", "\u202eevil", 5, None, ["a"]],
    "area": ["", "a" * 101, "nul\x00", 3],
    "integer": [0, 1441, 1.5, "5", True, None],
    "number": [-1, 60.5, float("nan"), float("inf"), "3", True],
    "time": [
        "2026-11-29T10:00:00",
        "2026-11-29 10:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-11-29T10:00:00+00:00",
        "tomorrow",
        1764410400,
    ],
    "position": [
        "12.5 130.25",
        "91N 0E",
        "0N 181E",
        "12.5N,130.25E",
        "12.5n 130.25e",
        "-12.5N 130E",
        "12.5N  130E",
        (12.5, 130.25),
    ],
    "bearing": [-1, 360, 45.0, "045", False],
    "distance_nm": [-0.1, 10_001, float("nan"), "5", None],
    "altitude": ["FL12", "120", "3000 M", "10000ft", "FL1200", 3000],
    "message": ["0123456789ABCDEF0123456789ABCDEF", "abc", MSG_ID + "0", 0],
    "callsign": ["red-01", "", "A" * 17, "RED 01", "RED_01", 1],
}


def param_of(kind: str) -> Param:
    if kind == "integer":
        return Param("minutes", "integer", minimum=1, maximum=1440)
    if kind == "number":
        return Param("speed", "number", minimum=0, maximum=60)
    return Param(kind, kind)


@pytest.mark.parametrize(("kind", "value"), [(k, v) for k, vs in GOOD.items() for v in vs])
def test_good_values_pass_unchanged(kind: str, value: object) -> None:
    assert param_of(kind).check(value, f"params.{kind}") == value


@pytest.mark.parametrize(("kind", "value"), [(k, v) for k, vs in BAD.items() for v in vs])
def test_bad_values_are_refused_naming_the_parameter(kind: str, value: object) -> None:
    param = param_of(kind)
    with pytest.raises(InputError, match=rf"^params\.{param.name}: "):
        param.check(value, f"params.{param.name}")


def test_all_types_have_good_and_bad_examples() -> None:
    assert set(GOOD) == set(BAD) == set(PARAM_TYPES)


def test_check_params_missing_extra_and_not_an_object(catalogue: Catalogue) -> None:
    phrase = catalogue.get("WRN-01")
    ok = {"area": "ALPHA", "start": T0, "end": T1}
    assert phrase.check_params(ok) == ok
    with pytest.raises(InputError, match=r"^params\.end: missing; phrase WRN-01 needs a UTC time"):
        phrase.check_params({"area": "ALPHA", "start": T0})
    with pytest.raises(InputError, match=r"^params: phrase WRN-01 has no parameter colour"):
        phrase.check_params({**ok, "colour": "red"})
    with pytest.raises(InputError, match=r"^params: expected an object"):
        phrase.check_params([ok])
    with pytest.raises(InputError, match=r"^params\.start: '29 Nov' is not a UTC time"):
        phrase.check_params({**ok, "start": "29 Nov"})


def test_integer_range_comes_from_the_phrase(catalogue: Catalogue) -> None:
    phrase = catalogue.get("REQ-01")
    with pytest.raises(InputError, match=r"params\.minutes: 0 is out of range; .* from 1 to 1440"):
        phrase.check_params({"minutes": 0})
    assert phrase.check_params({"minutes": 15}) == {"minutes": 15}


def test_unknown_code_names_the_catalogue_version(catalogue: Catalogue) -> None:
    with pytest.raises(InputError, match=r"^phrase: unknown code 'XYZ-99' in catalogue version 2026\.1$"):
        catalogue.get("XYZ-99")


# -- Rendering -----------------------------------------------------------------


def test_render_in_both_languages(catalogue: Catalogue) -> None:
    params = {"area": "ALPHA-3", "start": T0, "end": T1}
    assert catalogue.render("WRN-01", params, "en") == (
        f"Warning: live firing in area ALPHA-3 from {T0} to {T1}."
    )
    assert catalogue.render("WRN-01", params, "zh-Hans") == (
        f"警告：自{T0}至{T1}，ALPHA-3区域将进行实弹射击。"  # noqa: RUF001
    )
    assert catalogue.render("REQ-01", {"minutes": 10}, "zh-Hans") == "请求在10分钟内进行语音通话。"
    assert catalogue.render("REP-02", {}, "zh-Hans") == "将遵照执行。"


def test_other_languages_fall_back_to_english_and_bearings_have_three_digits(catalogue: Catalogue) -> None:
    assert catalogue.render("REP-11", {"bearing": 45}, "fr") == "Course altered to 045 degrees."
    assert catalogue.render("REP-11", {"bearing": 45}, "zh-Hans") == "已将航向改为045度。"


def test_values_are_inserted_verbatim_even_with_braces(catalogue: Catalogue) -> None:
    reason = "<b>{area}</b> & weather"
    assert catalogue.render("REP-03", {"reason": reason}, "en") == f"Unable to comply because {reason}."


@pytest.mark.parametrize("lang", LANGS)
def test_every_phrase_renders_with_sample_values(catalogue: Catalogue, lang: str) -> None:
    for phrase in catalogue.phrases.values():
        params = {p.name: GOOD[p.type][0] if p.type != "integer" else p.minimum for p in phrase.params}
        text = phrase.render(params, lang)
        assert "{" not in text and "}" not in text


def test_render_refuses_bad_params(catalogue: Catalogue) -> None:
    with pytest.raises(InputError, match=r"^params\.bearing: "):
        catalogue.render("REP-11", {"bearing": 400}, "en")


# -- The catalogue loader refuses broken catalogues ----------------------------


def broken(change: Any) -> dict[str, Any]:
    doc = copy.deepcopy(raw_catalogue())
    change(doc)
    return doc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version="v2"), r"catalogue\.version"),
        (lambda d: d["phrases"].append(d["phrases"][0]), r"WRN-01: code appears twice"),
        (lambda d: d["phrases"][0].update(group="gossip"), r"WRN-01\.group"),
        (lambda d: d["phrases"][0].update(group="reply"), r"WRN-01: codes in group reply start with REP-"),
        (
            lambda d: d["phrases"][0]["text"].update({"zh-Hans": "警告：{area}区域实弹射击。"}),  # noqa: RUF001
            r"WRN-01\.text\.zh-Hans: placeholders",
        ),
        (lambda d: d["phrases"][0]["text"].update(en="Warning {area!r} {start} {end}"), r"plain parameter"),
        (lambda d: d["phrases"][0]["text"].update(en="Warning {area {start} {end}"), r"WRN-01\.text\.en"),
        (lambda d: d["phrases"][0]["text"].pop("zh-Hans"), r"WRN-01\.text: expected exactly"),
        (lambda d: d["phrases"][0]["params"][0].update(type="colour"), r"WRN-01\.params\[0\]\.type"),
        (lambda d: d["phrases"][0]["params"][0].update(min=1), r"only integer and number"),
        (lambda d: d["phrases"][0]["params"].append({"name": "area", "type": "area"}), r"unique"),
        (lambda d: d["phrases"][0].update(code="W-1"), r"phrases\[0\]\.code"),
        (lambda d: d["phrases"][0].update(extra=1), r"phrases\[0\]: a phrase holds exactly"),
    ],
)
def test_broken_catalogues_are_refused(change: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_catalogue(broken(change))


# -- The sealed body of a phrase message ---------------------------------------


def test_body_round_trip(catalogue: Catalogue) -> None:
    body = PhraseBody.build("REQ-02", {"message": MSG_ID})
    wire = json.loads(json.dumps(body.to_json()))
    assert wire == {"code": "REQ-02", "params": {"message": MSG_ID}, "catalogue": "2026.1"}
    assert PhraseBody.parse(wire) == body
    assert PhraseBody.parse(wire, catalogue).to_json() == wire


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], r"holds exactly"),
        ({"code": "REP-01", "params": {}}, r"holds exactly"),
        ({"code": "REP-01", "params": {}, "catalogue": "2026.1", "x": 1}, r"holds exactly"),
        ({"code": "rep-01", "params": {}, "catalogue": "2026.1"}, r"^code: "),
        ({"code": "REP-01", "params": {}, "catalogue": 2026.1}, r"^catalogue: "),
        ({"code": "REP-01", "params": [], "catalogue": "2026.1"}, r"^params: "),
        ({"code": "REP-99", "params": {}, "catalogue": "2026.1"}, r"^phrase: unknown code 'REP-99'"),
        ({"code": "REP-01", "params": {"x": 1}, "catalogue": "2026.1"}, r"^params: phrase REP-01 has no"),
        ({"code": "REQ-01", "params": {"minutes": "5"}, "catalogue": "2026.1"}, r"^params\.minutes: "),
        ({"code": "REQ-01", "params": {"minutes": [5]}, "catalogue": "2025.9"}, r"^params\.minutes: "),
        ({"code": "REQ-01", "params": {"Bad Name": 5}, "catalogue": "2025.9"}, r"^params: 'Bad Name'"),
        ({"code": "REQ-01", "params": {"m": "a\nb"}, "catalogue": "2025.9"}, r"^params\.m: control"),
        ({"code": "REQ-01", "params": {f"p{i}": 1 for i in range(17)}, "catalogue": "2025.9"}, r"^params: "),
    ],
)
def test_malformed_bodies_are_refused(obj: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        PhraseBody.parse(obj)


def test_other_version_is_shown_with_a_warning(catalogue: Catalogue) -> None:
    assert not version_mismatch("2026.1", "2026.1")
    assert version_mismatch("2026.1", "2026.2")
    known = PhraseBody.parse({"code": "REQ-01", "params": {"minutes": 5}, "catalogue": "2026.2"})
    shown = catalogue.present(known, "zh-Hans")
    assert shown.version_mismatch and shown.text == "请求在5分钟内进行语音通话。"
    unknown = PhraseBody.parse({"code": "REQ-77", "params": {"ship": "X"}, "catalogue": "2027.1"})
    shown = catalogue.present(unknown, "en")
    assert shown.version_mismatch and shown.text is None
    assert (shown.code, dict(shown.params)) == ("REQ-77", {"ship": "X"})
    changed = PhraseBody.parse({"code": "REQ-01", "params": {"hours": 2}, "catalogue": "2027.1"})
    assert catalogue.present(changed, "en").text is None
    same = catalogue.present(PhraseBody.build("REP-01", {}), "en")
    assert not same.version_mismatch and same.text == "Understood."


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
codes = st.sampled_from(sorted(load_catalogue().phrases)) | st.text(max_size=8)
param_names = st.sampled_from(["area", "start", "end", "minutes", "message", "bearing"]) | st.text(max_size=6)


@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "code": codes,
                "params": st.dictionaries(param_names, json_values, max_size=5) | json_values,
                "catalogue": st.sampled_from(["2026.1", "2025.3"]) | json_values,
            }
        ),
    )
)
def test_junk_bodies_raise_only_input_error(obj: object) -> None:
    try:
        body = PhraseBody.parse(obj)
    except InputError:
        return
    assert PhraseBody.parse(body.to_json()) == body
    load_catalogue().present(body, "zh-Hans")
