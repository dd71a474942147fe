"""Strict mode records a zh-Hans msgid that has no translation, and only then."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_strict_mode_appends_each_new_msgid_to_the_named_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A station under test runs as a subprocess: the file is how the test reads what it recorded."""
    record = tmp_path / "untranslated.jsonl"
    monkeypatch.setenv(i18n.STRICT_ENV, "1")
    monkeypatch.setenv(i18n.STRICT_FILE_ENV, str(record))
    i18n.clear_untranslated()
    for _ in range(2):  # recorded once, however often looked up
        _render('{{ _("No such msgid 7f3b,\\nover two lines") }}', "zh-Hans")
    _render('{{ _("Traffic") }}', "zh-Hans")  # translated: not recorded
    lines = record.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == ["No such msgid 7f3b,\nover two lines"]
    i18n.clear_untranslated()


def test_the_file_is_not_written_without_strict_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    record = tmp_path / "untranslated.jsonl"
    monkeypatch.delenv(i18n.STRICT_ENV, raising=False)
    monkeypatch.setenv(i18n.STRICT_FILE_ENV, str(record))
    i18n.clear_untranslated()
    _render('{{ _("No such msgid 7f3c") }}', "zh-Hans")
    assert not record.exists()
