"""The clock policy of a link: which envelope timestamps a receiver accepts, and the peer's offset.

An envelope's ``ts`` is the sender's clock at its outbox commit, signed once; the
same envelope is re-sent unchanged after an outage of hours or days. So the
window is asymmetric (docs/protocol.md, "Clock policy"):

- *ahead*: ``ts`` may lie at most ``window`` past the receiver's clock. Nothing
  legitimate is written in the future; a wrong clock is.
- *behind*: no age limit (that would refuse store-and-forward traffic and stall
  the chain forever), but ``ts`` may not lie before both stations' keys existed
  (less the window): an envelope is signed with the sender's key and sealed to the
  receiver's, so it cannot be older than either. There is deliberately no bound
  against the previous envelope's ``ts``: a fast clock's envelope waits until it is
  inside the window and is then accepted, and the envelopes the sender signed after
  putting its clock right are earlier still; refusing them would stall the chain for
  good. A slow clock is seen instead by the offset link tests measure.

Deadlines on received messages run from their receipt, never from ``ts``.

The peer's clock offset comes from link tests, NTP-style: our test leaves at
``sent`` (our clock), the peer stamps its reply ``reply_ts`` (its clock) at some
moment before the reply arrives at ``arrived`` (our clock). So the offset lies
between ``reply_ts - arrived`` and ``reply_ts - sent``: the midpoint, give or
take half the round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from redline.domain.clock import format_ts

CLOCK_ALARM = "clock"  # a link alarm: the peer's measured clock offset is above the threshold
CLOCK_REFUSAL = "clock_refused"  # a link alarm: an envelope was refused for its timestamp
CLOCK_ALARMS = (CLOCK_ALARM,)
REFUSAL_ALARMS = (CLOCK_REFUSAL,)


def window_fault(
    ts: datetime,
    now: datetime,
    window: timedelta,
    *,
    keys_since: datetime,
) -> str | None:
    """Why ``ts`` lies outside the window of a receiver whose clock reads ``now``; None if inside.

    ``keys_since`` is the moment the later of the two stations' keys was made.
    """
    seconds = window.total_seconds()
    if ts > now + window:
        return (
            f"its timestamp {format_ts(ts)} is {(ts - now).total_seconds():.1f} s ahead of this "
            f"station's clock ({format_ts(now)}); at most {seconds:g} s is allowed"
        )
    if ts < keys_since - window:
        return (
            f"its timestamp {format_ts(ts)} is before this link's keys existed "
            f"({format_ts(keys_since)}, less {seconds:g} s)"
        )
    return None


@dataclass(frozen=True, slots=True)
class ClockOffset:
    """The peer's clock minus ours, as one link test measured it."""

    offset: float  # seconds; positive: the peer's clock is ahead of ours
    uncertainty: float  # seconds either side (half the round trip)
    measured_at: str

    @classmethod
    def measure(cls, sent: datetime, reply_ts: datetime, arrived: datetime) -> ClockOffset:
        middle = sent + (arrived - sent) / 2
        return cls(
            offset=(reply_ts - middle).total_seconds(),
            uncertainty=max(0.0, (arrived - sent).total_seconds() / 2),
            measured_at=format_ts(arrived),
        )

    def beyond(self, threshold: float) -> bool:
        """The offset is above ``threshold`` even at the most favourable end of its uncertainty."""
        return abs(self.offset) - self.uncertainty > threshold

    def describe(self) -> str:
        side = "ahead of" if self.offset >= 0 else "behind"
        return f"the peer's clock is {abs(self.offset):.3f} s (± {self.uncertainty:.3f} s) {side} ours"

    def to_json(self) -> dict[str, float | str]:
        return {
            "offset_s": round(self.offset, 3),
            "uncertainty_s": round(self.uncertainty, 3),
            "measured_at": self.measured_at,
        }
