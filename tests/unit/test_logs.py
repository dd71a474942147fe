"""The log's second line of defence: a secret that reaches a log call is blanked, in both formats."""

from __future__ import annotations

import io
import json
import logging

import pytest

from redline.cli.logs import JsonLines, Redactor, TextLines
from redline.services.operators import TOKEN_PREFIX


def _logger(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    redactor = Redactor()
    redactor.station, redactor.site = "washington", "alpha"
    handler.addFilter(redactor)
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"test.logs.{type(formatter).__name__}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, out


@pytest.mark.parametrize("formatter", [JsonLines(), TextLines()], ids=["json", "text"])
def test_secrets_are_blanked_and_each_event_is_one_line(formatter: logging.Formatter) -> None:
    logger, out = _logger(formatter)
    token = TOKEN_PREFIX + "AbCdEf0123456789_-xyzXYZ"
    pem = "\n".join(
        [
            "-----BEGIN PRIVATE KEY-----",
            "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg",
            "-----END PRIVATE KEY-----",
        ]
    )
    logger.info("token %s used", token)
    logger.warning("header Authorization: Bearer %s", "s3cr3t-value")
    logger.info("enrolled otpauth://totp/Redline:duty?secret=JBSWY3DPEHPK3PXP&issuer=Redline")
    logger.info("key %s", pem)
    try:
        raise ValueError(f"bad token {token}")
    except ValueError:
        logger.exception("failed")
    text = out.getvalue()
    for secret in (token, "s3cr3t-value", "JBSWY3DPEHPK3PXP", "MIGHAgEAMBMGByqGSM49"):
        assert secret not in text
    lines = text.splitlines()
    assert len(lines) == 5, text  # a traceback stays on its event's line
    assert all("[redacted]" in line for line in lines)
    if isinstance(formatter, JsonLines):
        events = [json.loads(line) for line in lines]
        assert {(e["station"], e["site"]) for e in events} == {("washington", "alpha")}
        assert "ValueError" in events[-1]["exc"]
    else:
        assert all(" station=washington site=alpha " in line for line in lines)
