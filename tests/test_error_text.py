# ruff: noqa: RUF001  (the expected Chinese uses full-width punctuation)
"""Errors in the reader's language: ``redline.errors.Text`` (marked ``_t``) and ``i18n.error_text``.

Every ``_t`` template in the package must have a zh-Hans translation with the same
``str.format`` fields, so a new error raised without one fails here, naming it.
"""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from redline.errors import InputError, Text, _t
from redline.geo.model import Fault
from redline.transport.https import failure_text
from redline.web.console.i18n import catalogue_path, error_text, gettext_context

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "redline"


def marked_templates() -> dict[str, str]:
    """Each ``_t("...")`` template in the package, with where it is; fails on a non-literal one."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_t":
                where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
                first = node.args[0] if node.args else None
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                    f"{where}: _t takes a literal template (Babel extracts only literals)"
                )
                found.setdefault(first.value, where)
    return found


def fields(template: str) -> list[tuple[str, str, str]]:
    """The replacement fields of a ``str.format`` template: (name, conversion, spec), sorted."""
    return sorted(
        (name, conversion or "", spec or "")
        for _, name, spec, conversion in string.Formatter().parse(template)
        if name is not None
    )


def zh_catalogue() -> dict[str, str]:
    with catalogue_path("zh-Hans").open("rb") as po:
        catalog = read_po(po, locale="zh_Hans")
    return {str(m.id): str(m.string) for m in catalog if m.id and isinstance(m.id, str)}


def test_every_marked_error_has_a_translation_with_the_same_fields() -> None:
    templates = marked_templates()
    assert len(templates) > 200  # the domain, geo, services, transport and console errors
    zh = zh_catalogue()
    missing = sorted(f"{where}: {t!r}" for t, where in templates.items() if not zh.get(t, "").strip())
    assert not missing, f"{len(missing)} _t template(s) without a zh_Hans translation:\n" + "\n".join(missing)
    for template, where in templates.items():
        assert fields(zh[template]) == fields(template), f"{where}: {template!r} -> {zh[template]!r}"
        assert all(name for name, _, _ in fields(template)), f"{where}: name every field: {template!r}"


def test_text_is_the_english_message() -> None:
    text = _t("{field}: {value!r} is more than {limit:.1f} m", field="x", value="y", limit=2)
    assert text == "x: 'y' is more than 2.0 m" and isinstance(text, str)
    assert text.template == "{field}: {value!r} is more than {limit:.1f} m"
    assert text.params == {"field": "x", "value": "y", "limit": 2}
    error = InputError(text)
    assert error.message == str(error) == "x: 'y' is more than 2.0 m"


def test_error_text_translates_nested_params_and_keeps_machine_words() -> None:
    reason = _t("latitude {lat} is out of range; use -90..90 degrees (north positive)", lat=95.0)
    fault = Fault("volumes[0].polygon[2]", reason)
    assert fault.message == (
        "volumes[0].polygon[2]: latitude 95.0 is out of range; use -90..90 degrees (north positive)"
    )
    assert error_text(fault, "en") == fault.message
    assert (
        error_text(fault, "zh-Hans")
        == "活动区域[0]·多边形[2]：纬度 95.0 超出范围；请使用 -90 至 90 度（北纬为正）"
    )
    # a Text inside a Text inside a Text: the bound inside what a parameter expects
    expected = _t(
        "{what}{range}", what=_t("a whole number"), range=_t(" from {low} to {high}", low=1, high=9)
    )
    message = _t(
        "{field}: missing; phrase {code} needs {expected}", field="params.n", code="X-1", expected=expected
    )
    assert message == "params.n: missing; phrase X-1 needs a whole number from 1 to 9"
    assert error_text(message, "zh-Hans") == "参数·n：缺少此项；短语 X-1 需要整数（1 至 9）"
    # !r of a plain value stays the value's repr; a role word is translated inside its sentence
    forbidden = _t("role {role!r} may not {what}", role="auditor", what=_t("send messages"))
    assert error_text(forbidden, "zh-Hans") == "角色 'auditor' 无权发送消息"
    # a list of the console's words (precedences) by their translations; a value as given stays
    choices = _t(
        "{name}: {value!r} is not one of {choices}",
        name="precedence",
        value="FLASH",
        choices="FLASH, IMMEDIATE, PRIORITY, ROUTINE",
    )
    assert error_text(choices, "zh-Hans") == "优先等级：'FLASH' 不在 特急, 加急, 优先, 常规 之列"
    assert (
        error_text(choices, "en") == "precedence: 'FLASH' is not one of FLASH, IMMEDIATE, PRIORITY, ROUTINE"
    )
    # a path's names by their labels, an unknown one as written, indexes kept
    assert error_text(
        Fault("volumes[1].circle.radius_m", _t("a notice needs at least one volume")), "zh-Hans"
    ) == ("活动区域[1]·圆形区域·半径（米）：通报至少需要一个活动区域")


def test_error_text_falls_back_to_english() -> None:
    assert error_text("a peer's own words, not marked", "zh-Hans") == "a peer's own words, not marked"
    assert error_text(InputError("plain message"), "zh-Hans") == "plain message"
    assert error_text(None, "zh-Hans") == ""
    unknown = _t("a template nobody translated {x}", x=1)
    assert error_text(unknown, "zh-Hans") == "a template nobody translated 1"
    # a translation that does not format with the params shows the English it was made with
    broken = _t("{path}: {reason}", path="p", reason="r")
    del broken.params["reason"]
    assert isinstance(broken, Text) and error_text(broken, "zh-Hans") == "p: r"


def test_templates_get_error_text_in_their_language() -> None:
    shown = gettext_context("zh-Hans")["error_text"](_t("log in first"))
    assert shown == "请先登录"
    assert gettext_context("en")["error_text"](_t("log in first")) == "log in first"


@pytest.mark.parametrize(
    ("error", "english", "chinese"),
    [
        (OSError("boom"), "OSError: boom", "传输故障（OSError：boom）"),
        (TimeoutError("late"), "TimeoutError: late", "传输故障（TimeoutError：late）"),
    ],
)
def test_path_failures_keep_their_english_and_explain_in_chinese(
    error: BaseException, english: str, chinese: str
) -> None:
    text = failure_text(error)
    assert text == english
    assert error_text(text, "zh-Hans") == chinese


def test_connect_errors_are_named_in_chinese() -> None:
    import httpx

    text = failure_text(httpx.ConnectError("All connection attempts failed"))
    assert text == "ConnectError: All connection attempts failed"
    assert error_text(text, "zh-Hans") == "无法连接对方站点（ConnectError：All connection attempts failed）"
