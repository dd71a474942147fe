"""Free text: written and acknowledged by people, held back while the link is suspended."""

from __future__ import annotations

from redline.domain.messages import MessageKind
from redline.domain.payloads import check_text
from redline.services.kinds.base import Body, ConsoleFields, HumanTraffic


class TextKind(HumanTraffic):
    kind = MessageKind.TEXT

    def check(self, body: Body) -> Body:
        return check_text(body)

    def api_fields(self, body: Body) -> Body:
        return {"text": body["text"], "lang": body["lang"]}

    def console_fields(self, body: Body, lang: str) -> ConsoleFields:
        return ConsoleFields(text=body["text"], lang=body["lang"])


SPEC = TextKind()
