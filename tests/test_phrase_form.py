"""The compose form's phrase parameters in Chinese: every label and hint translated."""

from __future__ import annotations

import re

from redline.web.console.phrase_form import LABELS, phrase_choices

ASCII_WORD = re.compile(r"\b[a-z]{3,}\b")  # an English word left in a Chinese label or hint


def test_every_parameter_has_a_chinese_label_and_hint() -> None:
    phrases = phrase_choices("zh-Hans")
    params = [p for phrase in phrases for p in phrase["params"]]
    assert params
    for param in params:
        assert param["name"] in LABELS, f"parameter {param['name']!r} has no label in phrase_form.LABELS"
        assert not ASCII_WORD.search(param["label"]), param
        assert not ASCII_WORD.search(param["expected"].replace("hex", "")), param
    hints = {p["name"]: p["expected"] for p in params}
    assert hints["distance"] == "0至10000海里的距离"


def test_english_labels_and_hints_read_as_before() -> None:
    params = {p["name"]: p for phrase in phrase_choices("en") for p in phrase["params"]}
    assert params["distance"]["label"] == "distance (NM)"
    assert params["callsign"]["expected"] == "a callsign of 1-16 capital letters, digits or '-'"


def test_a_phrase_names_its_parameters_by_their_chinese_labels() -> None:
    """The compose form lists each phrase with its parameters as placeholders: in Chinese, by label."""
    texts = {p["code"]: p["text"] for p in phrase_choices("zh-Hans")}
    assert texts["REQ-01"] == "请求在{分钟}分钟内进行语音通话。"
    for code, text in texts.items():
        assert not re.search(r"\{[a-z_]+\}", text), (code, text)
    assert {p["code"]: p["text"] for p in phrase_choices("en")}["REQ-01"] == (
        "Request a voice call within {minutes} minutes."
    )
