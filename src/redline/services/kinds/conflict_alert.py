"""Conflict alerts: our notice and a peer's collide (opened, updated or closed); people acknowledge."""

from __future__ import annotations

from redline.domain.messages import MessageKind
from redline.domain.payloads import check_conflict_alert
from redline.services.kinds.base import Body, ConsoleFields, HumanTraffic


class ConflictAlertKind(HumanTraffic):
    kind = MessageKind.CONFLICT_ALERT

    def check(self, body: Body) -> Body:
        return check_conflict_alert(body)

    def api_fields(self, body: Body) -> Body:
        return {"conflict": body}

    def console_fields(self, body: Body, lang: str) -> ConsoleFields:
        return ConsoleFields(conflict=body)


SPEC = ConflictAlertKind()
