"""How the console's pages name a conflict (templates/_conflict.html), in English and Chinese."""

from __future__ import annotations

import re
from typing import Any

from redline.web.console.i18n import gettext_context
from redline.web.console.render import ENV

X = "\N{MULTIPLICATION SIGN}"  # between the two notices
TO = "\N{EN DASH}"  # in ranges


def summary(detail: dict[str, Any], lang: str = "en") -> str:
    template = ENV.from_string('{% import "_conflict.html" as c with context %}{{ c.summary(d) }}')
    html = template.render(**gettext_context(lang), d=detail)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def detail(**changes: Any) -> dict[str, Any]:
    base = {
        "notice_a": "0" * 32,
        "notice_b": "f" * 32,
        "party_a": "beijing",
        "party_b": "washington",
        "activity_a": "missile_launch",
        "title_a": "Test window 7",
        "activity_b": "air_operations",
        "title_b": "Exercise BLUE FALCON",
        "overlap": True,
        "separation_m": 0.0,
        "overlap_area_m2": 4_746_212_345.6,
        "lower_m": 0.0,
        "upper_m": 3657.6,
        "start": "2026-03-01T10:00:00.000000Z",
        "end": "2026-03-01T12:00:00.000000Z",
    }
    return {**base, **changes}


def test_an_overlap_is_named_by_activity_and_title_with_its_area() -> None:
    assert summary(detail()) == (
        f"missile launch “Test window 7” (beijing) {X} air operations “Exercise BLUE FALCON” (washington) "
        f"overlap area 4,746.2 km² · 0{TO}3,658 m · 2026-03-01 10:00Z {TO} 2026-03-01 12:00Z"
    )


def test_a_near_miss_gives_the_separation_in_m_or_km_and_nm() -> None:
    near = detail(overlap=False, overlap_area_m2=None, separation_m=850.0)
    assert "separation 850 m (0.46 NM), within the buffers" in summary(near)
    far = detail(overlap=False, overlap_area_m2=None, separation_m=12_345.0, end=None)
    text = summary(far)
    assert "separation 12.35 km (6.67 NM), within the buffers" in text
    assert text.endswith(f"2026-03-01 10:00Z {TO} permanent")
    assert "separation 0" not in summary(detail())


def test_untitled_notices_and_chinese() -> None:
    text = summary(detail(title_a="", activity_a="unknown"), "zh-Hans")
    assert text.startswith(f"其他活动 (beijing) {X} 航空活动 “Exercise BLUE FALCON” (washington)")
    assert "重叠面积4,746.2平方千米" in text
    assert "0" * 8 not in text and "f" * 8 not in text
