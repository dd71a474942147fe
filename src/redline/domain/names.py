"""Identifiers that travel between stations, validated in one place."""

from __future__ import annotations

import re

from redline.errors import InputError, _t

_STATION_ID = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
_OPERATOR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# BCP 47 in the shape stations use: "en", "zh", "zh-Hans", "en-GB".
_LANG_TAG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")
_MESSAGE_ID = re.compile(r"^[0-9a-f]{32}$")


def check_station_id(value: object, field: str = "station") -> str:
    if not isinstance(value, str) or not _STATION_ID.fullmatch(value):
        raise InputError(
            _t(
                "{field}: {value!r} is not a station id; use 2-32 lowercase letters, digits or "
                "'-', starting with a letter (e.g. 'washington')",
                field=field,
                value=value,
            )
        )
    return value


def check_operator_name(value: object) -> str:
    if not isinstance(value, str) or not _OPERATOR_NAME.fullmatch(value):
        raise InputError(
            _t("operator name {value!r} is invalid; use 1-64 letters, digits, '.', '_' or '-'", value=value)
        )
    return value


def check_lang(value: object) -> str:
    if not isinstance(value, str) or not _LANG_TAG.fullmatch(value):
        raise InputError(
            _t("lang: {value!r} is not a BCP 47 language tag such as 'en' or 'zh-Hans'", value=value)
        )
    return value


def check_message_id(value: object, field: str = "message id") -> str:
    if not isinstance(value, str) or not _MESSAGE_ID.fullmatch(value):
        raise InputError(
            _t("{field}: {value!r} is not a message id (32 lowercase hex digits)", field=field, value=value)
        )
    return value
