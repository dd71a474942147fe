"""Every message kind, registered once: the registry the outbox and inbound service dispatch to.

To add a kind, write its module beside these and add its spec to ``KINDS``
(``docs/message-kinds.md``); ``tests/test_kinds.py`` fails until every
``MessageKind`` has exactly one spec here.
"""

from __future__ import annotations

from redline.services.kinds import (
    ack,
    call,
    conflict_alert,
    link_test,
    link_test_reply,
    notice,
    phrase,
    service,
    text,
)
from redline.services.kinds.base import KindRegistry

KINDS = KindRegistry(
    [
        text.SPEC,
        phrase.SPEC,
        ack.SPEC,
        link_test.SPEC,
        link_test_reply.SPEC,
        service.SPEC,
        notice.FILED,
        notice.AMENDED,
        notice.CANCELLED,
        conflict_alert.SPEC,
        call.SPEC,
    ]
)
