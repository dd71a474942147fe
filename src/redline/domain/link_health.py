"""Link health from authenticated link tests: up, degraded, down.

Each station sends a test on every link at the agreed interval and expects
the peer's signed reply within ``answer_timeout``. One missed test makes the
link *degraded*, ``DOWN_AFTER`` consecutive misses make it *down*; any answer
brings it back *up*. Transitions are returned to the caller, which raises and
clears alarms. Pure: the caller supplies the clock.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

DOWN_AFTER = 3
MAX_ANSWER_TIMEOUT = 60.0


class LinkState(enum.StrEnum):
    UNKNOWN = "unknown"  # no test answered or missed yet
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"


# The link alarms link health raises (each replaces the other); clock alarms are kept apart
# (redline.domain.link_clock), so a link test's answer does not clear a clock refusal.
HEALTH_ALARMS = (LinkState.DEGRADED.value, LinkState.DOWN.value)


@dataclass(frozen=True, slots=True)
class Transition:
    before: LinkState
    after: LinkState
    reason: str


def answer_timeout(interval: float) -> float:
    """How long a test may go unanswered before it counts as missed."""
    return min(interval, MAX_ANSWER_TIMEOUT)


@dataclass(slots=True)
class LinkHealth:
    interval: float
    state: LinkState = LinkState.UNKNOWN
    consecutive_missed: int = 0
    last_rtt: float | None = None
    last_answered_at: float | None = None
    _outstanding: dict[str, float] = field(default_factory=dict)

    def test_sent(self, test_id: str, at: float) -> None:
        self._outstanding[test_id] = at

    def awaits(self, test_id: str) -> bool:
        """The test was sent by this process and is still unanswered (its round trip can be timed)."""
        return test_id in self._outstanding

    def test_answered(self, test_id: str, at: float) -> Transition | None:
        sent = self._outstanding.pop(test_id, None)
        if sent is not None:
            self.last_rtt = at - sent
        self.last_answered_at = at
        self.consecutive_missed = 0
        return self._move(LinkState.UP, "a link test was answered")

    def tick(self, now: float) -> Transition | None:
        """Count tests unanswered past their timeout as missed."""
        limit = answer_timeout(self.interval)
        missed = [t for t, sent in self._outstanding.items() if now - sent > limit]
        for test_id in missed:
            del self._outstanding[test_id]
        if not missed:
            return None
        self.consecutive_missed += len(missed)
        reason = f"{self.consecutive_missed} link test(s) in a row unanswered after {limit:.0f} s"
        if self.consecutive_missed >= DOWN_AFTER:
            return self._move(LinkState.DOWN, reason)
        return self._move(LinkState.DEGRADED, reason)

    def _move(self, after: LinkState, reason: str) -> Transition | None:
        if after is self.state:
            return None
        transition = Transition(self.state, after, reason)
        self.state = after
        return transition
