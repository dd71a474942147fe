"""A link's transcript: every message both ways, in the order this station stored them.

The order is (stored_at, id) on this station's own clock: the moment each
envelope entered our store, whether we wrote it (outbound) or accepted it
(inbound). Each direction's ``seq`` orders that direction alone, and an
envelope's own ``ts`` is its sender's clock, which may be off ours; the time
of our record is the one order both directions share that no peer can move.
Acknowledgement envelopes and link tests are not listed (an acknowledgement
shows as the acknowledgement of the message it answers; link tests are on the
link panel), but every envelope is in the hash chains that :func:`chain_status`
checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts, parse_ts
from redline.domain.messages import Direction, MessageKind
from redline.domain.records import MessageRecord, TranslationRecord
from redline.errors import InputError, NotFound, _t
from redline.protocol import GENESIS_DIGEST
from redline.services.paging import Listing, Page, PageRequest, page_of, text_pair
from redline.services.ports import StationStore
from redline.services.queries.messages import BOX_KINDS, TranslationReads
from redline.services.views import MessageView, message_view

# What people wrote and did on the link: the boxes' kinds and each move of a call request.
TRANSCRIPT_KINDS = (*BOX_KINDS, MessageKind.CALL)
TRANSCRIPT = Listing("transcript", (str, str))  # (stored_at, id), oldest first


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Messages stored at or after ``since`` and before ``until`` (UTC timestamps; None: open)."""

    since: str | None = None
    until: str | None = None

    @classmethod
    def parse(cls, since: str | None, until: str | None) -> TimeRange:
        """From query parameters: empty means open; the start must come before the end."""
        start = format_ts(parse_ts(since, "since")) if since else None
        end = format_ts(parse_ts(until, "until")) if until else None
        if start and end and parse_ts(start, "since") >= parse_ts(end, "until"):
            raise InputError(_t("since ({start}) must be before until ({end})", start=start, end=end))
        return cls(start, end)


@dataclass(frozen=True, slots=True)
class ChainStatus:
    """One direction's hash chain as stored: verified up to ``verified_to`` (0: empty), and the
    first fault found after it, if any."""

    direction: str
    verified_to: int
    fault: str | None


@dataclass(frozen=True, slots=True)
class TranscriptEntry:
    """One message of the transcript: the shared message view and when we stored it."""

    view: MessageView
    stored_at: str


def chain_status(direction: Direction, chain: Sequence[tuple[int, str, str]]) -> ChainStatus:
    """Walk ``(seq, prev, digest)`` from genesis: seqs run 1, 2, 3, … and each envelope's
    ``prev`` is the digest of the one before it (the first's is the genesis digest)."""
    expected_prev, verified = GENESIS_DIGEST, 0
    for seq, prev, digest in chain:
        if seq != verified + 1:
            missing = f"seq {verified + 1} is missing (next stored: {seq})"
            return ChainStatus(direction.value, verified, missing)
        if prev != expected_prev:
            return ChainStatus(
                direction.value, verified, f"seq {seq} does not name seq {verified}'s digest as prev"
            )
        expected_prev, verified = digest, seq
    return ChainStatus(direction.value, verified, None)


class TranscriptQueries:
    def __init__(
        self, store: StationStore, translations: TranslationReads, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self._store = store
        self._translations = translations
        self._clock = clock

    async def check_peer(self, peer: str, lang: str = "en") -> str:
        """The peer's name in ``lang`` (``redline peer rename``), or NotFound: a transcript is of a
        known link."""
        record = await self._store.peer(peer)
        if record is None:
            raise NotFound(_t("no peer {peer!r}: no link, no transcript", peer=peer))
        return record.display_name(lang)

    async def page(
        self, peer: str, request: PageRequest, period: TimeRange, lang: str
    ) -> Page[TranscriptEntry]:
        """One page of the link's messages, oldest first, with translations, in ``lang``."""
        await self.check_peer(peer)
        rows = await self._store.link_messages(
            peer,
            request.limit + 1,
            TRANSCRIPT_KINDS,
            after=text_pair(request.after(TRANSCRIPT)),
            since=period.since,
            until=period.until,
        )
        page = page_of(rows, request, TRANSCRIPT, lambda r: (r.stored_at, r.id))
        translated = await self._translations.translations([r.id for r in page.items])
        now = self._clock.now()
        return page.map(lambda r: _entry(r, now, lang, translated))

    async def chains(self, peer: str) -> list[ChainStatus]:
        """Both directions' hash chains checked as stored now (ours to the peer first)."""
        await self.check_peer(peer)
        return [
            chain_status(d, await self._store.chain(peer, d)) for d in (Direction.OUTBOUND, Direction.INBOUND)
        ]


def _entry(
    row: MessageRecord, now: datetime, lang: str, translated: dict[str, TranslationRecord]
) -> TranscriptEntry:
    return TranscriptEntry(message_view(row, now, lang, translated.get(row.id)), row.stored_at)
