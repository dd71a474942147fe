"""Peers, operators and link positions as the services handle them."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from redline.domain.names import check_lang
from redline.errors import Forbidden, InputError, _t


class Role(enum.StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"

    @classmethod
    def parse(cls, value: object) -> Role:
        try:
            return cls(str(value))
        except ValueError:
            raise InputError(
                _t(
                    "role: {value!r} is not one of {choices}",
                    value=value,
                    choices=", ".join(r.value for r in cls),
                )
            ) from None

    @property
    def may_send(self) -> bool:
        return self in (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)

    def require_send(self, what: str) -> None:
        """Refuse (Forbidden) a role that may not put traffic on a link: send, acknowledge, file
        notices, test a link."""
        if not self.may_send:
            raise Forbidden(_t("role {role!r} may not {what}", role=self.value, what=what))

    @property
    def needs_second_factor(self) -> bool:
        """Supervisors and admins must log in to the console with a TOTP code as well."""
        return self in (Role.SUPERVISOR, Role.ADMIN)

    @property
    def may_certify(self) -> bool:
        return self in (Role.SUPERVISOR, Role.ADMIN)

    @property
    def may_read_audit(self) -> bool:
        return self in (Role.AUDITOR, Role.ADMIN)

    @property
    def may_administer(self) -> bool:
        return self is Role.ADMIN


@dataclass(frozen=True, slots=True)
class PeerRecord:
    station_id: str
    name: str
    signing_key: str
    encryption_key: str
    tls_fingerprint: str
    tls_certificate: str
    endpoints: tuple[str, ...]
    card: str
    added_at: str
    verified_at: str | None
    # What the console calls this peer, per language ("en" -> "Beijing", "zh-Hans" -> "北京"), sorted
    # by language; the card's own name is what the peer calls itself and is not ours to change.
    display_names: tuple[tuple[str, str], ...] = ()

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    def display_name(self, lang: str) -> str:
        """The name to show a reader of ``lang``: theirs, else the English one, else the card's name."""
        names = dict(self.display_names)
        return names.get(lang) or names.get("en") or self.name or self.station_id


MAX_PEER_NAME = 64


def check_peer_names(values: list[str]) -> dict[str, str]:
    """``LANG=NAME`` pairs (``LANG=`` removes that language's name) as a mapping; InputError names
    the bad one."""
    names: dict[str, str] = {}
    for value in values:
        lang, sep, name = value.partition("=")
        if not sep:
            raise InputError(
                _t("peer name: {value!r} is not LANG=NAME, e.g. en=Beijing or zh-Hans=北京", value=value)
            )
        lang = check_lang(lang.strip())
        name = name.strip()
        if len(name) > MAX_PEER_NAME or any(c < " " or c == "\x7f" for c in name):
            raise InputError(
                _t(
                    "peer name for {lang}: expected at most {MAX_PEER_NAME} printable characters",
                    lang=lang,
                    MAX_PEER_NAME=MAX_PEER_NAME,
                )
            )
        if lang in names:
            raise InputError(_t("peer name: {lang} is given twice", lang=lang))
        names[lang] = name
    return names


@dataclass(frozen=True, slots=True)
class OperatorRecord:
    id: int
    name: str
    role: Role


@dataclass(slots=True)
class LinkChains:
    """Where both hash chains of one link stand (see redline.protocol)."""

    peer_id: str
    out_next_seq: int
    out_last_digest: str
    in_next_seq: int
    in_last_digest: str
    suspended: str | None = None  # "since T by X" while either side has the link suspended


@dataclass(frozen=True, slots=True)
class Account:
    """An operator as the console's login sees it."""

    id: int
    name: str
    role: Role
    password_hash: str | None
    totp_secret: str | None
    totp_last_step: int | None
    language: str
    failed_logins: int
    locked_until: str | None
    display_name: str | None = None  # as shown beside the account name (migration 0006_officers)
    disabled_at: str | None = None  # a disabled account cannot log in or use its API token
    totp_pending: str | None = None  # a new TOTP secret, in force only once a first code from it is given

    @property
    def shown_name(self) -> str:
        return self.display_name or self.name
