"""Console languages: the zh-Hans catalogue, negotiation, and per-request rendering."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jinja2
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from redline.errors import InputError
from redline.web.console.i18n import (
    LOCALES,
    catalogue_path,
    format_datetime,
    format_duration,
    gettext_context,
    install_jinja,
    negotiate,
    translations,
)
from redline.web.console.views import VOCABULARY

PLACEHOLDER = re.compile(r"%(?:\([a-z_]+\))?[#0 +-]*\d*(?:\.\d+)?[sdf]")


def zh_catalog() -> Catalog:
    with catalogue_path("zh-Hans").open("rb") as po:
        return read_po(po, locale="zh_Hans")


def test_zh_catalogue_parses_with_the_right_header() -> None:
    catalog = zh_catalog()
    assert str(catalog.locale) == "zh_Hans"
    assert catalog.plural_forms == "nplurals=1; plural=0;"
    assert not catalog.fuzzy
    assert len([m for m in catalog if m.id]) >= 50


def texts(value: object) -> list[str]:
    """A message's id or string as a list: plural forms come as a tuple or list."""
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value or "")]


def test_no_fuzzy_or_empty_translations() -> None:
    for message in zh_catalog():
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        assert all(s.strip() for s in texts(message.string)), message.id


def test_placeholders_survive_translation() -> None:
    checked = 0
    for message in zh_catalog():
        if not message.id or not message.python_format:
            continue
        wanted = sorted(PLACEHOLDER.findall(texts(message.id)[-1]))
        for s in texts(message.string):
            assert sorted(PLACEHOLDER.findall(s)) == wanted, message.id
        checked += 1
    assert checked >= 2


# -- Every console string has a translation ------------------------------------

CONSOLE_DIR = Path(catalogue_path("zh-Hans")).parents[3]
BABEL_CFG = CONSOLE_DIR / "babel.cfg"
PACKAGE_DIR = CONSOLE_DIR.parents[1]  # src/redline: errors marked _t are raised all over it
UPDATE_COMMANDS = (
    ".venv/bin/pybabel extract -F src/redline/web/console/babel.cfg -o /tmp/messages.pot "
    "src/redline\n"
    ".venv/bin/pybabel update -i /tmp/messages.pot -d src/redline/web/console/locale -l zh_Hans "
    "--no-fuzzy-matching\n"
    "then translate every empty msgstr in src/redline/web/console/locale/zh_Hans/LC_MESSAGES/messages.po "
    "and drop the obsolete #~ entries (docs/phrases.md, 'Console translations')"
)


def extracted_msgids() -> set[str]:
    """What `pybabel extract -F babel.cfg src/redline` finds: the singular msgid of each message."""
    with BABEL_CFG.open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, str(BABEL_CFG))
    found = extract_from_dir(PACKAGE_DIR, method_map, options_map, keywords=DEFAULT_KEYWORDS)
    return {texts(message)[0] for _, _, message, _, _ in found}


def test_babel_cfg_extracts_python_and_templates_with_n_() -> None:
    with BABEL_CFG.open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, str(BABEL_CFG))
    assert dict(method_map) == {"**.py": "python", "web/console/templates/**.html": "jinja2"}
    assert {"N_", "_t"} <= set(options_map["**.py"]["keywords"])
    assert options_map["web/console/templates/**.html"]["newstyle_gettext"] == "true"
    ids = extracted_msgids()
    assert {"Inbox", "Outbox", "Acknowledge", "%(num)d FLASH message awaits acknowledgement"} <= ids
    # error messages marked _t outside the console: geo, domain, transport
    assert {
        "latitude {lat} is out of range; use -90..90 degrees (north positive)",
        "text: must be a non-empty string",
        "ConnectError: {detail}",
    } <= ids


def test_every_console_string_is_translated() -> None:
    """A console string added without a zh_Hans translation fails here, naming it."""
    translated = {
        texts(m.id)[0]
        for m in zh_catalog()
        if m.id and not m.fuzzy and all(s.strip() for s in texts(m.string))
    }
    wanted = extracted_msgids() | set(VOCABULARY)
    missing = sorted(wanted - translated)
    assert not missing, (
        f"{len(missing)} console msgid(s) have no zh_Hans translation: {missing!r}\n"
        f"From the repository root run:\n{UPDATE_COMMANDS}"
    )


def test_vocabulary_is_extracted() -> None:
    assert set(VOCABULARY) <= extracted_msgids()


def test_no_compiled_catalogue_is_committed() -> None:
    assert not list(catalogue_path("zh-Hans").parents[2].rglob("*.mo"))


ALARM = ("%(num)d FLASH message awaits acknowledgement", "%(num)d FLASH messages await acknowledgement")


def test_translations() -> None:
    zh, en = translations("zh-Hans"), translations("en")
    assert zh.gettext("Inbox") == "收件箱"
    assert zh.gettext("FLASH") == "特急"
    assert zh.gettext("a string nobody translated") == "a string nobody translated"
    assert zh.gettext("acknowledged") == "已确认"
    assert zh.ngettext(*ALARM, 5) % {"num": 5} == "5条特急消息待确认收到"
    assert en.gettext("Inbox") == "Inbox"
    assert en.ngettext(*ALARM, 1) % {"num": 1} == "1 FLASH message awaits acknowledgement"
    assert translations("zh-Hans") is zh  # compiled once


def test_unknown_locale_is_refused() -> None:
    with pytest.raises(InputError, match=r"^language: 'fr' is not one of en, zh-Hans"):
        translations("fr")


@pytest.mark.parametrize(
    ("preference", "accept", "expected"),
    [
        (None, None, "en"),
        (None, "", "en"),
        ("zh-Hans", "en-US,en;q=0.9", "zh-Hans"),
        ("en", "zh-CN,zh;q=0.9", "en"),
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans"),
        (None, "zh-Hans-CN", "zh-Hans"),
        (None, "zh_Hans", "zh-Hans"),
        (None, "fr-FR,fr;q=0.9,zh;q=0.8,en;q=0.5", "zh-Hans"),
        (None, "fr-FR,en;q=0.3,zh;q=0.7", "zh-Hans"),
        (None, "zh;q=0,en", "en"),
        (None, "de,fr", "en"),
        (None, "*", "en"),
        ("klingon", "zh", "zh-Hans"),
        (None, ";;;,q=,zh;q=abc,=,en-GB", "en"),
        (None, "EN-gb", "en"),
    ],
)
def test_negotiate(preference: str | None, accept: str | None, expected: str) -> None:
    assert negotiate(preference, accept) == expected


def test_negotiate_ignores_an_absurd_header() -> None:
    assert negotiate(None, "x," * 100_000 + "zh") == "en"


def test_format_datetime() -> None:
    ts = "2026-11-29T10:05:07.000000Z"
    assert format_datetime(ts, "en") == "Nov 29, 2026 10:05:07 UTC"
    assert format_datetime(ts, "zh-Hans") == "2026年11月29日 10:05:07 UTC"
    with pytest.raises(InputError):
        format_datetime("yesterday", "en")


# -- Templates -----------------------------------------------------------------

TEMPLATES = {
    "page.html": (
        "{% import 'macros.html' as m with context %}"
        "<h1>{{ _('Inbox') }}</h1>"
        "<p>{% trans %}Compose{% endtrans %}</p>"
        "<p>{{ ngettext('%(num)d FLASH message awaits acknowledgement',"
        " '%(num)d FLASH messages await acknowledgement', n) }}</p>"
        "<p>{{ _('Saved: %(name)s', name=s) }}</p>"
        "<p>{{ m.state() }}</p><p>{{ sent|utc }}</p>"
    ),
    "macros.html": "{% macro state() %}{{ _('delivered') }}{% endmacro %}",
    "slow.html": "{{ _('Inbox') }}|{{ pause() }}|{{ _('Outbox') }}",
}


def make_env(enable_async: bool = False) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.DictLoader(TEMPLATES), autoescape=True, enable_async=enable_async)
    return install_jinja(env)


def render_page(env: jinja2.Environment, lang: str, saved: object = 30) -> str:
    template = env.get_template("page.html")
    return template.render(**gettext_context(lang), n=3, s=saved, sent="2026-11-29T10:05:07.000000Z")


def test_template_in_english_and_chinese() -> None:
    env = make_env()
    assert render_page(env, "en") == (
        "<h1>Inbox</h1><p>Compose</p><p>3 FLASH messages await acknowledgement</p>"
        "<p>Saved: 30</p><p>delivered</p>"
        "<p>Nov 29, 2026 10:05:07 UTC</p>"
    )
    assert render_page(env, "zh-Hans") == (
        "<h1>收件箱</h1><p>撰写</p><p>3条特急消息待确认收到</p>"
        "<p>已保存：30</p><p>已送达</p>"  # noqa: RUF001
        "<p>2026年11月29日 10:05:07 UTC</p>"
    )


def test_arguments_are_escaped_but_translations_are_not() -> None:
    html = render_page(make_env(), "en", saved="<script>")
    assert "Saved: &lt;script&gt;" in html


def test_rendering_without_a_language_fails_loudly() -> None:
    with pytest.raises(jinja2.UndefinedError):
        make_env().get_template("page.html").render(n=1, s=1, sent="2026-11-29T10:05:07.000000Z")


def test_locales_do_not_bleed_between_threads() -> None:
    env = make_env()
    expected = {lang: render_page(env, lang) for lang in LOCALES}
    langs = [LOCALES[i % 2] for i in range(400)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda lang: (lang, render_page(env, lang)), langs))
    assert all(html == expected[lang] for lang, html in results)


def test_locales_do_not_bleed_between_interleaved_async_renders() -> None:
    env = make_env(enable_async=True)
    template = env.get_template("slow.html")

    async def pause() -> str:
        await asyncio.sleep(0.01)  # the scenario: yield mid-render so the two renders interleave
        return "-"

    async def one(lang: str) -> str:
        return await template.render_async(**gettext_context(lang), pause=pause)

    async def both() -> list[str]:
        return list(await asyncio.gather(one("en"), one("zh-Hans"), one("en"), one("zh-Hans")))

    assert asyncio.run(both()) == ["Inbox|-|Outbox", "收件箱|-|发件箱"] * 2


def test_a_duration_reads_exactly_in_either_language() -> None:
    assert format_duration(86400, "en") == "1 day"
    assert format_duration(5400, "en") == "1 hour 30 minutes"
    assert format_duration(5400, "zh-Hans") == "1小时30分钟"
    assert format_duration(300, "zh-Hans") == "5分钟"
