"""Deadlines as the console shows them: a labelled countdown and the absolute UTC time.

A bare "23:59:57" reads as a time of day; every deadline on a page is instead
"due in 04:58 · 11:32:10Z" or "OVERDUE by 02:10 · due 11:30:00Z" (the
``_due.html`` macro, which ``static/console.js`` keeps counting). The server
renders the first reading from its own clock, so the page is right before any
script runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from redline.domain.clock import parse_ts


@dataclass(frozen=True, slots=True)
class Due:
    overdue: bool
    left: str  # time left, or past the deadline when overdue: [h:]mm:ss
    at: str  # the deadline in UTC: "11:32:10Z", with the date ("12-02 11:32:10Z") on another day than now


def clock_span(seconds: int) -> str:
    """``seconds`` as mm:ss, or h:mm:ss from an hour on."""
    hours, rest = divmod(seconds, 3600)
    text = f"{rest // 60:02d}:{rest % 60:02d}"
    return f"{hours}:{text}" if hours else text


def due(deadline: str, now: str) -> Due:
    """How ``deadline`` stands at ``now`` (both UTC timestamps as the store keeps them)."""
    left = (parse_ts(deadline, "deadline") - parse_ts(now, "now")).total_seconds()
    at = f"{deadline[11:19]}Z" if deadline[:10] == now[:10] else f"{deadline[5:10]} {deadline[11:19]}Z"
    return Due(left < 0, clock_span(int(abs(left))), at)
