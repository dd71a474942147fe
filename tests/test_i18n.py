"""Console languages: the zh-Hans catalogue, negotiation, and per-request rendering."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

import jinja2
import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from redline.errors import InputError
from redline.web.console.i18n import (
    LOCALES,
    catalogue_path,
    format_datetime,
    gettext_context,
    install_jinja,
    negotiate,
    translations,
)

PLACEHOLDER = re.compile(r"%(?:\([a-z_]+\))?[sdf]")


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


def test_no_compiled_catalogue_is_committed() -> None:
    assert not list(catalogue_path("zh-Hans").parents[2].rglob("*.mo"))


def test_translations() -> None:
    zh, en = translations("zh-Hans"), translations("en")
    assert zh.gettext("Inbox") == "收件箱"
    assert zh.gettext("FLASH") == "特急"
    assert zh.gettext("a string nobody translated") == "a string nobody translated"
    assert zh.ngettext("%(num)d message overdue", "%(num)d messages overdue", 5) % {"num": 5} == (
        "5条消息已超时"
    )
    assert en.gettext("Inbox") == "Inbox"
    assert en.ngettext("%(num)d message overdue", "%(num)d messages overdue", 1) % {"num": 1} == (
        "1 message overdue"
    )
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
        "<p>{{ ngettext('%(num)d message overdue', '%(num)d messages overdue', n) }}</p>"
        "<p>{{ _('Too many failed attempts; try again in %(seconds)s seconds', seconds=s) }}</p>"
        "<p>{{ m.state() }}</p><p>{{ sent|utc }}</p>"
    ),
    "macros.html": "{% macro state() %}{{ _('Delivered') }}{% endmacro %}",
    "slow.html": "{{ _('Inbox') }}|{{ pause() }}|{{ _('Outbox') }}",
}


def make_env(enable_async: bool = False) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.DictLoader(TEMPLATES), autoescape=True, enable_async=enable_async)
    return install_jinja(env)


def render_page(env: jinja2.Environment, lang: str, seconds: object = 30) -> str:
    template = env.get_template("page.html")
    return template.render(**gettext_context(lang), n=3, s=seconds, sent="2026-11-29T10:05:07.000000Z")


def test_template_in_english_and_chinese() -> None:
    env = make_env()
    assert render_page(env, "en") == (
        "<h1>Inbox</h1><p>Compose</p><p>3 messages overdue</p>"
        "<p>Too many failed attempts; try again in 30 seconds</p><p>Delivered</p>"
        "<p>Nov 29, 2026 10:05:07 UTC</p>"
    )
    assert render_page(env, "zh-Hans") == (
        "<h1>收件箱</h1><p>撰写</p><p>3条消息已超时</p>"
        "<p>失败次数过多，请于30秒后重试</p><p>已送达</p>"  # noqa: RUF001
        "<p>2026年11月29日 10:05:07 UTC</p>"
    )


def test_arguments_are_escaped_but_translations_are_not() -> None:
    html = render_page(make_env(), "en", seconds="<script>")
    assert "try again in &lt;script&gt; seconds" in html


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
        await asyncio.sleep(0.01)
        return "-"

    async def one(lang: str) -> str:
        return await template.render_async(**gettext_context(lang), pause=pause)

    async def both() -> list[str]:
        return list(await asyncio.gather(one("en"), one("zh-Hans"), one("en"), one("zh-Hans")))

    assert asyncio.run(both()) == ["Inbox|-|Outbox", "收件箱|-|发件箱"] * 2
