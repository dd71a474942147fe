"""Link tests: an authenticated probe each station sends on a timer, answered automatically.

The test carries the sender's link scorecard (or null), which the receiver stores as
the peer's view of the link; after the commit the receiver answers with a
``link_test_reply`` (see :mod:`.link_test_reply`). Routine machine traffic: not audited.
"""

from __future__ import annotations

import json

from redline.domain.messages import MessageKind
from redline.domain.payloads import check_link_test
from redline.services.assurance import SYSTEM_ACTOR
from redline.services.kinds.base import Body, KindSpec, OutboundDraft, Reactions, Received
from redline.services.ports import WriteTransaction


def reply_to(received: Received) -> OutboundDraft:
    """The automatic answer to a link test, at its precedence."""
    env = received.envelope
    return OutboundDraft(
        peer=received.peer,
        kind=MessageKind.LINK_TEST_REPLY,
        precedence=env.precedence,
        body={"test_of": env.id, "received_at": received.at},
        created_by=SYSTEM_ACTOR,
    )


class LinkTestKind(KindSpec):
    kind = MessageKind.LINK_TEST
    audited = False

    def check(self, body: Body) -> Body:
        return check_link_test(body)

    async def on_accept(self, tx: WriteTransaction, received: Received) -> None:
        if received.body["scorecard"] is not None:
            await tx.set_peer_scorecard(
                received.peer_id, json.dumps(received.body["scorecard"], sort_keys=True)
            )

    def react(self, reactions: Reactions, received: Received) -> None:
        reactions.submit(reply_to(received), f"replying to link test {received.envelope.id}")

    def api_fields(self, body: Body) -> Body:
        return {"answers": None}


SPEC = LinkTestKind()
