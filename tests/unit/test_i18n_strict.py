"""Strict mode records a zh-Hans msgid that has no translation, and only then."""

from __future__ import annotations

import jinja2
import pytest

from redline.web.console import i18n


def _render(source: str, locale: str) -> str:
    env = i18n.install_jinja(jinja2.Environment(autoescape=True))
    return env.from_string(source).render(**i18n.gettext_context(locale))


def test_strict_mode_records_an_untranslated_msgid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(i18n.STRICT_ENV, "1")
    i18n.clear_untranslated()
    _render('{{ _("No such msgid exists in any catalogue 7f3a") }}', "zh-Hans")
    assert "No such msgid exists in any catalogue 7f3a" in i18n.untranslated()
    i18n.clear_untranslated()
    _render('{{ _("No such msgid exists in any catalogue 7f3a") }}', "en")
    assert i18n.untranslated() == frozenset()


def test_without_strict_mode_nothing_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(i18n.STRICT_ENV, raising=False)
    i18n.clear_untranslated()
    _render('{{ _("No such msgid exists in any catalogue 7f3a") }}', "zh-Hans")
    assert i18n.untranslated() == frozenset()
