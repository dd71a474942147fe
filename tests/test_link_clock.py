"""The clock policy's pure parts: the window, the offset measurement, and their settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from redline.domain.link_clock import ClockOffset, window_fault
from redline.errors import StationConfigError
from redline.services.station import StationConfig

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KEYS = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = timedelta(seconds=120)


@pytest.mark.parametrize(
    ("ts", "fault"),
    [
        (NOW + WINDOW, None),  # the edge of the window is inside
        (NOW + WINDOW + timedelta(microseconds=1), "ahead of this station's clock"),
        (NOW - timedelta(days=100), None),  # old is fine: store-and-forward
        (KEYS - WINDOW, None),
        (KEYS - WINDOW - timedelta(seconds=1), "before this link's keys existed"),
    ],
)
def test_the_window_is_tight_ahead_and_bounded_behind_only_by_the_keys(
    ts: datetime, fault: str | None
) -> None:
    found = window_fault(ts, NOW, WINDOW, keys_since=KEYS)
    assert found is None if fault is None else (found is not None and fault in found)


def test_the_offset_is_the_midpoint_give_or_take_half_the_round_trip() -> None:
    sent, arrived = NOW, NOW + timedelta(seconds=2)
    reading = ClockOffset.measure(sent, NOW + timedelta(seconds=31), arrived)
    assert reading.offset == 30.0 and reading.uncertainty == 1.0
    assert reading.beyond(28.9) and not reading.beyond(29.0)
    behind = ClockOffset.measure(sent, NOW - timedelta(seconds=9), arrived)
    assert behind.offset == -10.0 and behind.beyond(5.0) and "behind ours" in behind.describe()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"clock_window_seconds": 0}, "clock_window_seconds must be seconds from 1 to 3600"),
        ({"clock_window_seconds": "120"}, "clock_window_seconds"),
        ({"clock_alarm_seconds": 0}, "clock_alarm_seconds must be seconds above 0"),
        ({"clock_window_seconds": 60, "clock_alarm_seconds": 61}, "at most clock_window_seconds (60)"),
    ],
)
def test_clock_settings_are_checked(settings: dict[str, object], message: str) -> None:
    data = {"station_id": "washington", "name": "W", "database_url": "sqlite://", **settings}
    with pytest.raises(StationConfigError, match=r"station.json: .*") as refused:
        StationConfig.from_json(data, Path("station.json"))
    assert message in refused.value.message


def test_clock_settings_default_to_two_minutes_and_five_seconds() -> None:
    config = StationConfig.from_json(
        {"station_id": "washington", "name": "W", "database_url": "sqlite://"}, Path("station.json")
    )
    assert (config.clock_window_seconds, config.clock_alarm_seconds) == (120.0, 5.0)
