"""Sending side of one chain: which envelopes to (re)send, given the receipts so far."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(slots=True)
class OutboundCursor:
    """Tracks receipts for envelopes 1..highest_queued and picks the next batch.

    Every envelope up to ``receipted_through`` has a verified receipt. Receipts
    that arrive out of order are held in ``_ahead`` until the gap closes.
    ``resend_from`` rewinds the next batch when the receiver reports a gap
    below what we believed it had.
    """

    receipted_through: int = 0
    highest_queued: int = 0
    resend_from: int | None = None
    _ahead: set[int] = field(default_factory=set)

    def on_queued(self, seq: int) -> None:
        if seq <= self.highest_queued:
            raise ValueError(f"seq {seq} queued after {self.highest_queued}")
        self.highest_queued = seq

    def next_batch(self, max_size: int) -> range:
        """The seqs to send now; empty when everything is receipted."""
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        start = self.receipted_through + 1
        if self.resend_from is not None:
            start = min(start, self.resend_from)
            self.resend_from = None
        stop = min(self.highest_queued, start + max_size - 1)
        return range(start, stop + 1)

    def on_receipted(self, seqs: Iterable[int]) -> None:
        for seq in seqs:
            if seq > self.highest_queued:
                raise ValueError(f"receipt for seq {seq}, never queued (highest {self.highest_queued})")
            if seq > self.receipted_through:
                self._ahead.add(seq)
        while self.receipted_through + 1 in self._ahead:
            self.receipted_through += 1
            self._ahead.discard(self.receipted_through)

    def on_gap(self, expected_seq: int) -> None:
        """The receiver holds everything below ``expected_seq`` and nothing from it on."""
        if expected_seq <= self.highest_queued:
            self.resend_from = expected_seq

    @property
    def pending(self) -> int:
        return self.highest_queued - self.receipted_through
