"""The console's languages: gettext catalogues read with Babel, chosen per request.

Catalogues live as ``locale/<dir>/LC_MESSAGES/messages.po`` beside this module
(``zh_Hans`` for ``zh-Hans``). No compiled ``.mo`` is committed: on first use a
``.po`` is parsed with ``babel.messages.pofile.read_po``, compiled in memory
with ``write_mo`` (fuzzy entries left out) and cached for the life of the
process. English is the source language: its "translation" returns the msgid.

Per-request language with one shared Jinja environment
------------------------------------------------------
``env.install_gettext_translations`` puts one language into the environment's
globals, which every concurrent request shares, so it is never called. Instead:

1. :func:`install_jinja` enables ``jinja2.ext.i18n`` (``{% trans %}`` blocks and
   the ``_`` alias) with *new-style* gettext, once, before any template is
   loaded.
2. Every render passes the request's callables in its context::

       template.render(**gettext_context(lang), ...)

   ``gettext_context`` gives ``_``, ``gettext`` and ``ngettext`` bound to that
   language. Names in the render context shadow the environment's globals, and
   a render context belongs to one render, so two requests in different
   languages never see each other's callables, whether they run in two
   threads or interleave as asyncio tasks.

New-style gettext means: ``{{ _("Retry in %(seconds)s s", seconds=n) }}``
formats with keyword arguments after translating; under autoescaping the
translated string is trusted (it comes from the reviewed ``.po``) while every
argument is escaped; a literal ``%`` is written ``%%``; ``ngettext`` gets
``num`` for free. Imported macro files see only globals, so import them
``with context`` (``{% import "macros.html" as m with context %}``), or pass
the strings they need as arguments.

Python code outside templates uses ``translations(lang).gettext``.

Errors
------
Error messages are made outside the console (domain, geo, services, transport)
as :class:`redline.errors.Text`: English strings that keep their ``str.format``
template and parameters, marked with ``_t(...)``. :func:`error_text` shows one
in the reader's language: the template's translation formatted with the
parameters (a parameter that is itself a ``Text`` translated the same way). A
plain ``str`` (a message nobody marked, a peer's words) is shown as it is. The
API never calls it: its answers stay English. Templates get it as
``error_text`` in :func:`gettext_context`.
"""

from __future__ import annotations

import functools
import json
import os
import string
from collections.abc import Callable
from datetime import UTC
from io import BytesIO
from pathlib import Path
from typing import Any

import jinja2
from babel.dates import format_date, format_time, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2.runtime import Context
from markupsafe import Markup

from redline.domain.clock import parse_ts
from redline.errors import InputError, RedlineError, Text, _t
from redline.web.console.fields import label_leading_path
from redline.web.console.views import VOCABULARY

LOCALES = ("en", "zh-Hans")
DEFAULT_LOCALE = "en"
SOURCE_LOCALE = "en"  # msgids are English
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_DIRS = {"zh-Hans": "zh_Hans"}  # console locale -> gettext directory and Babel identifier
# The first subtag of a BCP 47 tag decides; every written Chinese is served Simplified for now.
_BY_LANGUAGE = {"en": "en", "zh": "zh-Hans"}
MAX_ACCEPT_LANGUAGE = 1000
# Tests set this so a zh-Hans lookup of a msgid with no translation is recorded (see untranslated()).
STRICT_ENV = "REDLINE_I18N_STRICT"
# With strict mode on, also append each newly recorded msgid (a JSON string a line) to this file, so
# a test can read what a station running as a subprocess recorded. Off unless strict mode is on.
STRICT_FILE_ENV = "REDLINE_I18N_STRICT_FILE"
_UNTRANSLATED: set[str] = set()


def _strict() -> bool:
    return os.environ.get(STRICT_ENV) == "1"


def untranslated() -> frozenset[str]:
    """Msgids looked up in a translated locale without a translation, while strict mode was on."""
    return frozenset(_UNTRANSLATED)


def clear_untranslated() -> None:
    _UNTRANSLATED.clear()


def _note(locale: str, tr: Translations, message: str) -> None:
    # An untranslated msgid comes back unchanged from gettext; record it so a test can fail on it.
    if locale != SOURCE_LOCALE and _strict() and tr.gettext(message) == message:
        if message in _UNTRANSLATED:
            return
        _UNTRANSLATED.add(message)
        record = os.environ.get(STRICT_FILE_ENV)
        if record:
            with open(record, "a", encoding="utf-8") as out:
                out.write(json.dumps(message) + "\n")


def check_locale(locale: object) -> str:
    if locale not in LOCALES:
        raise InputError(
            _t("language: {locale!r} is not one of {choices}", locale=locale, choices=", ".join(LOCALES))
        )
    return str(locale)


def catalogue_path(locale: str) -> Path:
    """The ``.po`` file of a translated locale."""
    return LOCALE_DIR / _DIRS[check_locale(locale)] / "LC_MESSAGES" / "messages.po"


@functools.cache
def translations(locale: str) -> Translations:
    """The compiled catalogue of ``locale``; English answers every msgid with itself."""
    if check_locale(locale) == SOURCE_LOCALE:
        return Translations()
    with catalogue_path(locale).open("rb") as po:
        catalog = read_po(po, locale=_DIRS[locale])
    mo = BytesIO()
    write_mo(mo, catalog, use_fuzzy=False)
    mo.seek(0)
    return Translations(fp=mo)


def _supported(tag: str) -> str | None:
    language = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return _BY_LANGUAGE.get(language)


def _accepted(header: str) -> list[str]:
    """Language tags of an Accept-Language header, most wanted first; q=0 and junk dropped."""
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate(header[:MAX_ACCEPT_LANGUAGE].split(",")):
        tag, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and 0 < quality <= 1:
            weighted.append((-quality, index, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(preference: str | None, accept_language: str | None) -> str:
    """The console language: the operator's saved preference, else the browser's, else English."""
    for tag in ([preference] if preference else []) + _accepted(accept_language or ""):
        locale = _supported(tag)
        if locale is not None:
            return locale
    return DEFAULT_LOCALE


def install_jinja(env: jinja2.Environment) -> jinja2.Environment:
    """Enable ``{% trans %}`` and ``_`` with new-style gettext; the language comes with each render."""
    env.add_extension("jinja2.ext.i18n")
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.filters["utc"] = _utc_filter
    env.globals["duration"] = format_duration
    return env


def gettext_for(locale: str) -> tuple[Callable[..., str], Callable[..., str]]:
    """New-style ``(gettext, ngettext)`` for templates, bound to ``locale``."""
    tr = translations(locale)

    @jinja2.pass_context
    def gettext(context: Context, message: str, /, **variables: Any) -> str:
        _note(locale, tr, message)
        text = tr.gettext(message)
        rv = Markup(text) if context.eval_ctx.autoescape else text
        return rv % variables

    @jinja2.pass_context
    def ngettext(context: Context, singular: str, plural: str, num: int, /, **variables: Any) -> str:
        variables.setdefault("num", num)
        _note(locale, tr, singular)
        text = tr.ngettext(singular, plural, num)
        rv = Markup(text) if context.eval_ctx.autoescape else text
        return rv % variables

    return gettext, ngettext


def error_text(error: RedlineError | str | None, locale: str) -> str:
    """An error message (or an error) for a reader of ``locale``; unmarked text as it is.

    A :class:`Text` is translated by its template and formatted with its parameters, each of
    which is translated first when it is a ``Text`` itself. A template whose translation is
    missing, or whose translation does not format with the parameters, falls back to English.
    """
    message = error.message if isinstance(error, RedlineError) else error
    if message is None:
        return ""
    if not isinstance(message, Text) or check_locale(locale) == SOURCE_LOCALE:
        return str(message)
    tr = translations(locale)
    _note(locale, tr, message.template)
    given = _as_given(message.template)
    params = {
        name: value if name in given else _param(value, locale, tr.gettext)
        for name, value in message.params.items()
    }
    try:
        shown = tr.gettext(message.template).format(**params)
    except (KeyError, IndexError, ValueError):  # a broken translation: the English still reads
        return str(message)
    return label_leading_path(shown, tr.gettext)


def _param(value: object, locale: str, gettext: Callable[[str], str]) -> object:
    """A parameter as a translated error shows it: a ``Text`` translated, a word of the console's
    vocabulary (a precedence, a state, a role) or a list of them ("FLASH, ROUTINE") by its
    translation, anything else (a value the user gave, a number, an id) as it is."""
    if isinstance(value, Text):
        return error_text(value, locale)
    if isinstance(value, str):
        words = value.split(", ")
        if all(word in _VOCABULARY for word in words):
            return ", ".join(gettext(word) for word in words)
    return value


_VOCABULARY = frozenset(VOCABULARY)


@functools.cache
def _as_given(template: str) -> frozenset[str]:
    """The fields a template quotes as given (``{value!r}``): shown exactly, never translated."""
    return frozenset(
        field for _, field, _, conversion in string.Formatter().parse(template) if field and conversion == "r"
    )


def gettext_context(locale: str) -> dict[str, Any]:
    """Names to pass into a render: ``_``, ``gettext``, ``ngettext``, ``error_text`` and ``lang``."""
    gettext, ngettext = gettext_for(locale)
    return {
        "_": gettext,
        "gettext": gettext,
        "ngettext": ngettext,
        "error_text": functools.partial(error_text, locale=locale),
        "lang": locale,
    }


def format_datetime(ts: str, locale: str) -> str:
    """A wire timestamp for reading, always in UTC, 24-hour: "Nov 29, 2026 10:05:07 UTC"."""
    moment = parse_ts(ts, "timestamp")
    babel_locale = _DIRS.get(check_locale(locale), locale)
    day = format_date(moment, "medium", locale=babel_locale)
    return f"{day} {format_time(moment, 'HH:mm:ss', tzinfo=UTC, locale=babel_locale)} UTC"


def format_duration(seconds: float, locale: str) -> str:
    """A span of time in words, exactly: "1 hour 30 minutes", "1小时30分钟" (seconds kept when any)."""
    babel_locale = _DIRS.get(check_locale(locale), locale)
    rest, parts = round(seconds), []
    for unit in (86400, 3600, 60, 1):
        count, rest = divmod(rest, unit)
        if count:
            parts.append(format_timedelta(count * unit, threshold=1.0, format="long", locale=babel_locale))
    joiner = "" if locale == "zh-Hans" else " "
    return joiner.join(parts) or format_timedelta(0, format="long", locale=babel_locale)


@jinja2.pass_context
def _utc_filter(context: Context, ts: str) -> str:
    lang = context.get("lang", DEFAULT_LOCALE)
    return format_datetime(ts, lang if lang in LOCALES else DEFAULT_LOCALE)
