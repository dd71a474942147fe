"""One conflict, one alert per side: ``alerts_due`` alerts once per conflict identity.

The identity is the conflict's key (both notice ids with their versions). Opening,
a new version of either notice, and closing alert; the same key recomputed with a
different detail (a re-check at start-up after the arithmetic changed, a second
detection of the same pair) does not.
"""

from __future__ import annotations

from typing import Any

from redline.services.deconfliction import alerts_due


def detail(key: str, area: float = 1e6) -> dict[str, Any]:
    return {"key": key, "overlap_area_m2": area, "party_a": "beijing", "party_b": "washington"}


def test_a_new_pair_opens_once() -> None:
    current = {"a~b": detail("a@1~b@1")}
    assert alerts_due(current, {}) == [("opened", current["a~b"], "a~b")]
    # Detected again (the peer's notice arrives, a restart re-checks): already open, nothing new.
    assert alerts_due(current, dict(current)) == []


def test_the_same_identity_recomputed_alerts_nobody() -> None:
    stored = {"a~b": detail("a@1~b@1", area=1e6)}
    assert alerts_due({"a~b": detail("a@1~b@1", area=1.0002e6)}, stored) == []


def test_a_new_version_of_either_notice_is_an_update() -> None:
    stored = {"a~b": detail("a@1~b@1")}
    amended = {"a~b": detail("a@1~b@2")}
    assert alerts_due(amended, stored) == [("updated", amended["a~b"], "a~b")]


def test_a_pair_gone_closes_with_its_last_detail() -> None:
    stored = {"a~b": detail("a@1~b@1"), "a~c": detail("a@1~c@4")}
    current = {"a~b": detail("a@1~b@1")}
    assert alerts_due(current, stored) == [("closed", stored["a~c"], "a~c")]
