"""One hierarchy of errors, named by whose fault they are.

Nothing here knows about HTTP; ``redline.web.errors`` maps these classes to
answers in one table. Every message says what was wrong and, where it helps,
what to do about it.
"""

from __future__ import annotations

from typing import Any


class Text(str):
    """English text that remembers how it was made, so the console can show it in another language.

    The string *is* the English text (``template.format(**params)``): logs, the CLI and every
    API answer use it unchanged. ``template`` is the msgid a translated console looks up in its
    catalogue; ``params`` fill the translation (a param that is itself a ``Text`` is translated
    too). Build one with :func:`_t`, which Babel extracts (``web/console/babel.cfg``).
    """

    __slots__ = ("params", "template")
    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, params: dict[str, Any]) -> Text:
        text = super().__new__(cls, template.format(**params))
        text.template = template
        text.params = params
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (Text, (self.template, self.params))


def _t(template: str, /, **params: Any) -> Text:
    """Mark an English message for translation: ``_t("latitude {lat} is out of range", lat=lat)``.

    ``template`` must be a literal (Babel reads it from the source) in ``str.format`` syntax
    with named fields only; literal braces are doubled.
    """
    return Text(template, params)


class RedlineError(Exception):
    """Base of every error Redline raises on purpose."""

    code = "redline_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- The local user's fault: bad input from the API, the CLI or a file. -------


class InputError(RedlineError):
    """Input from an operator, a file or the command line is invalid."""

    code = "invalid_input"


class NotFound(RedlineError):
    code = "not_found"


class Conflict(RedlineError):
    """The request is valid but clashes with the current state."""

    code = "conflict"


class AuthError(RedlineError):
    """Missing or wrong credentials."""

    code = "unauthenticated"


class RateLimited(RedlineError):
    """The caller asked faster than the station allows; it may ask again in ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Forbidden(RedlineError):
    code = "forbidden"


class PayloadTooLarge(InputError):
    code = "payload_too_large"


# -- The remote peer's fault: what arrived over a link is unacceptable. -------


class RemoteProtocolError(RedlineError):
    """A peer sent something that breaks the link protocol."""

    code = "protocol_error"


class MalformedEnvelope(RemoteProtocolError):
    code = "malformed"


class BadSignature(RemoteProtocolError):
    code = "bad_signature"


class WrongRecipient(RemoteProtocolError):
    code = "wrong_recipient"


class UnknownPeer(RemoteProtocolError):
    code = "unknown_peer"


class UnverifiedPeer(RemoteProtocolError):
    code = "unverified_peer"


class Equivocation(RemoteProtocolError):
    """A peer signed two different envelopes for one place in its sequence."""

    code = "equivocation"


class BadReceipt(RemoteProtocolError):
    code = "bad_receipt"


class OutsideClockWindow(RemoteProtocolError):
    """An envelope's timestamp lies outside the receiver's clock window (docs/protocol.md): the
    sender's clock is wrong, or the envelope was forged with a false date. The sender keeps it
    queued; it is accepted once the clocks agree."""

    code = "clock_window"


# -- Our side of a link or our own machinery. ---------------------------------


class LocalProtocolError(RedlineError):
    """We were about to break the link protocol ourselves: a bug."""

    code = "local_protocol_error"


class TransportError(RedlineError):
    """A path to a peer failed: refused, TLS failure, timeout, bad answer."""

    code = "transport_error"


class StationConfigError(RedlineError):
    """The station's data directory or configuration is missing or broken."""

    code = "station_config"


class StoreError(RedlineError):
    """The database refused or failed an operation."""

    code = "store_error"
