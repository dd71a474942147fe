"""Log lines: one event per line, as text or JSON (``redline serve --log-format json``).

Every line names the station and the site (``StationConfig.site_name()``) once a station is
open. No line carries a secret: the modules never log tokens, passwords, private keys or TOTP
secrets, and as a second line of defence :class:`Redactor` blanks anything shaped like an API
token (``rl_…``), a bearer credential, an ``otpauth://`` URI or a PEM private key before a line
is written (tests/test_operations.py greps a real station's log for the token and password used).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from redline.services.operators import TOKEN_PREFIX

SECRETS = re.compile(
    rf"{re.escape(TOKEN_PREFIX)}[A-Za-z0-9_-]{{8,}}"
    r"|(?i:bearer)\s+\S+"
    r"|otpauth://\S+"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----",
    re.S,
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return SECRETS.sub(REDACTED, text)


class Redactor(logging.Filter):
    """Names the station and site on every record, and blanks secrets in its message."""

    def __init__(self) -> None:
        super().__init__()
        self.station = "-"
        self.site = "-"

    def filter(self, record: logging.LogRecord) -> bool:
        record.station = self.station
        record.site = self.site
        message = redact(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class TextLines(logging.Formatter):
    """``ts LEVEL logger station=… site=… message``; a traceback stays on the same line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s station=%(station)s site=%(site)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n", "\\n")


class JsonLines(logging.Formatter):
    """One JSON object a line: ts, level, logger, event, station, site (and exc when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            "station": getattr(record, "station", "-"),
            "site": getattr(record, "site", "-"),
        }
        if record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


_REDACTOR = Redactor()
_HANDLER = logging.StreamHandler(sys.stderr)
_HANDLER.addFilter(_REDACTOR)


def configure(verbose: bool, fmt: str = "text") -> None:
    """The root logger writes through one handler that names the station and redacts secrets."""
    root = logging.getLogger()
    root.handlers[:] = [_HANDLER]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    use_format(fmt)
    for noisy in ("httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)


def use_format(fmt: str) -> None:
    _HANDLER.setFormatter(JsonLines() if fmt == "json" else TextLines())


def name_station(station: str, site: str) -> None:
    """From now on every line names this station and site."""
    _REDACTOR.station, _REDACTOR.site = station, site
