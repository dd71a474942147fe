"""Link-test replies: the peer's automatic answer, which marks our test answered.

Receiving one marks the outbound link test acknowledged (by the peer station) in the
storing transaction, then tells that link's tester, which times the round trip and
measures the peer's clock offset from the reply's signed timestamp.
"""

from __future__ import annotations

from redline.domain.messages import MessageKind
from redline.domain.payloads import check_link_test_reply
from redline.services.kinds.answers import mark_peer_answered
from redline.services.kinds.base import Body, KindSpec, Reactions, Received
from redline.services.ports import WriteTransaction


class LinkTestReplyKind(KindSpec):
    kind = MessageKind.LINK_TEST_REPLY
    audited = False

    def check(self, body: Body) -> Body:
        return check_link_test_reply(body)

    def answers(self, body: Body) -> str | None:
        return str(body["test_of"])

    async def on_accept(self, tx: WriteTransaction, received: Received) -> None:
        await mark_peer_answered(
            tx,
            received.peer_id,
            str(received.body["test_of"]),
            lambda kind: kind is MessageKind.LINK_TEST,
            MessageKind.LINK_TEST.value,
            received.peer_id,
            received.at,
            received.envelope.id,
        )

    def react(self, reactions: Reactions, received: Received) -> None:
        reactions.link_test_answered(
            received.peer_id, str(received.body["test_of"]), received.envelope.ts, received.at
        )

    def api_fields(self, body: Body) -> Body:
        return {"answers": body["test_of"]}


SPEC = LinkTestReplyKind()
