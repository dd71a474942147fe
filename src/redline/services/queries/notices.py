"""Read-only queries over activity notices and the conflicts between them.

Records come from the notice store (``redline.store.notices.NoticeStore``) through
:class:`~redline.services.ports.NoticeReads`; the conflicts a notice has right now come from the live
index of the :class:`~redline.services.deconfliction.Deconfliction` service.
"Now" comes from the injected clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts
from redline.domain.records import ConflictDetail, NoticeRecord
from redline.errors import NotFound, _t
from redline.geo import Notice
from redline.services.deconfliction import Deconfliction, stored_notice
from redline.services.paging import Listing, Page, PageRequest, page_of, text_pair
from redline.services.ports import NoticeReads

IN_FORCE_STATES = ("active", "amended")
NOTICES = Listing("notices", (str, str))  # (starts_at, id), earliest start first
CONFLICTS = Listing("conflicts", (str, str))  # (opened_at, pair), newest first


def notice_view(row: NoticeRecord) -> dict[str, Any]:
    return {
        **json.loads(row.body),
        "state": row.state,
        "version": row.version,
        "updated_at": row.updated_at,
        "updated_by": row.updated_by,
        "ours": None,  # set by the caller, who knows the station
    }


def in_force(row: NoticeRecord, now: str) -> bool:
    """In force now: live, started, and not ended (or permanent)."""
    return (
        row.state in IN_FORCE_STATES and row.starts_at <= now and (row.ends_at is None or row.ends_at >= now)
    )


@dataclass(frozen=True, slots=True)
class LiveNotices:
    """What the deconfliction map shows: live notices (with their records) and the open conflicts."""

    now: str
    rows: list[NoticeRecord]
    notices: list[Notice]
    conflicts: list[ConflictDetail]
    truncated: bool


class NoticeQueries:
    def __init__(
        self, store: NoticeReads, deconfliction: Deconfliction, me_id: str, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self._store = store
        self._deconfliction = deconfliction
        self._me_id = me_id
        self._clock = clock

    async def notices(
        self, party: str | None, states: list[str] | None, request: PageRequest, only_in_force: bool
    ) -> dict[str, Any]:
        """One page of notices by start time; ``count`` and ``by_party`` count this page."""
        now = format_ts(self._clock.now())
        rows = await self._store.notices(
            party=party,
            states=states,
            limit=request.limit + 1,
            in_force_at=now if only_in_force else None,
            after=text_pair(request.after(NOTICES)),
        )
        page = page_of(rows, request, NOTICES, lambda r: (r.starts_at, r.id))
        views = []
        by_party: dict[str, int] = {}
        for row in page.items:
            view = notice_view(row)
            view["ours"] = row.party == self._me_id
            view["in_force"] = in_force(row, now)
            views.append(view)
            by_party[row.party] = by_party.get(row.party, 0) + 1
        return {"notices": views, "count": len(views), "by_party": by_party, "at": now, **page.fields()}

    async def notice(self, notice_id: str) -> dict[str, Any]:
        row = await self._store.notice(notice_id)
        if row is None:
            raise NotFound(_t("no notice {notice_id!r}", notice_id=notice_id))
        conflicts = await self._store.open_conflicts(involving=row.id)
        view = notice_view(row)
        view["ours"] = row.party == self._me_id
        view["conflicts"] = [json.loads(c.detail) for c in conflicts]
        return view

    def conflicts_of(self, notice: Notice) -> list[ConflictDetail]:
        """The conflicts the live index finds for a notice just filed, amended or cancelled."""
        deconfliction = self._deconfliction
        return [deconfliction.detail(c) for c in deconfliction.index.conflicts_of(notice.id)]

    async def conflicts(
        self, state: str | None, involving: str | None, request: PageRequest
    ) -> Page[dict[str, Any]]:
        """Conflicts in ``state`` (open or closed; None: both), of one notice or all, newest
        opened first, one page at a time."""
        rows = await self._store.conflicts(
            state, request.limit + 1, involving, text_pair(request.after(CONFLICTS))
        )
        return page_of(rows, request, CONFLICTS, lambda r: (r.opened_at, r.pair)).map(
            lambda r: {
                **json.loads(r.detail),
                "state": r.state,
                "opened_at": r.opened_at,
                "updated_at": r.updated_at,
                "closed_at": r.closed_at,
            }
        )

    async def in_force(self, party: str | None) -> list[Notice]:
        """Live notices (active or amended), for export."""
        return [stored_notice(r) for r in await self._store.notices(party=party, states=IN_FORCE_STATES)]

    async def live(self, limit: int) -> LiveNotices:
        """Live notices not yet ended (at most ``limit``) and the open conflicts, for the map."""
        now = format_ts(self._clock.now())
        rows = [
            r
            for r in await self._store.notices(states=IN_FORCE_STATES)
            if r.ends_at is None or r.ends_at >= now
        ]
        conflicts = [json.loads(r.detail) for r in await self._store.open_conflicts()]
        return LiveNotices(
            now=now,
            rows=rows[:limit],
            notices=[stored_notice(r) for r in rows[:limit]],
            conflicts=conflicts,
            truncated=len(rows) > limit,
        )
