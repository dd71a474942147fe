"""Activity notices shared with every peer: filed, amended and cancelled.

A peer's notice must be a valid notice of the peer's own (checked before anything
is stored); accepting it stores or cancels our copy in the same transaction, and
after the commit it is handed to deconfliction, which compares it with ours.
"""

from __future__ import annotations

from redline.domain.messages import MessageKind
from redline.domain.payloads import check_notice, check_notice_cancelled
from redline.geo import parse_notice
from redline.services.deconfliction import check_peer_notice, notice_record
from redline.services.kinds.base import Body, KindSpec, Reactions, Received
from redline.services.ports import WriteTransaction


class _NoticeKind(KindSpec):
    def check_from_peer(self, sender: str, body: Body) -> Body:
        checked = self.check(body)
        check_peer_notice(self.kind, sender, checked)
        return checked

    def react(self, reactions: Reactions, received: Received) -> None:
        reactions.notice_from_peer(received.peer_id, self.kind, received.body)

    def api_fields(self, body: Body) -> Body:
        return {"notice": body["notice"]["id"] if "notice" in body else body["notice_id"]}


class NoticeFiledKind(_NoticeKind):
    """A new notice, or (``notice_amended``) a new version of one."""

    kind = MessageKind.NOTICE_FILED

    def check(self, body: Body) -> Body:
        return check_notice(body)

    async def on_accept(self, tx: WriteTransaction, received: Received) -> None:
        notice = parse_notice(received.body["notice"])
        await tx.upsert_notice(notice_record(notice, received.at, received.peer_id, shared=True))


class NoticeAmendedKind(NoticeFiledKind):
    kind = MessageKind.NOTICE_AMENDED


class NoticeCancelledKind(_NoticeKind):
    kind = MessageKind.NOTICE_CANCELLED

    def check(self, body: Body) -> Body:
        return check_notice_cancelled(body)

    async def on_accept(self, tx: WriteTransaction, received: Received) -> None:
        body = received.body
        by = f"{received.peer_id}/{body['by']}"
        await tx.cancel_notice(body["notice_id"], received.peer_id, body["version"], received.at, by)


FILED, AMENDED, CANCELLED = NoticeFiledKind(), NoticeAmendedKind(), NoticeCancelledKind()
