"""What only the console does: translations of received messages, and the accounts list.

Translations and accounts live in the console tables
(``redline.store.console.ConsoleStore`` implements :class:`ConsoleTables`);
new operators are added through the station store, as ``redline operator
add`` does.
"""

from __future__ import annotations

from typing import Any, Protocol

from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts
from redline.domain.records import TranslationRecord
from redline.domain.stations import Account, OperatorRecord, Role
from redline.errors import Forbidden, InputError, _t
from redline.services import operators
from redline.services.ports import StationStore


class ConsoleTables(Protocol):
    async def accounts(self) -> list[Account]: ...
    async def translation(self, message_id: str) -> TranslationRecord | None: ...
    async def translations(self, message_ids: list[str]) -> dict[str, TranslationRecord]: ...
    async def save_translation(self, message_id: str, text: str, lang: str, by: str, at: str) -> None: ...
    async def certify_translation(self, message_id: str, translated_at: str, by: str, at: str) -> bool: ...


class ConsoleService:
    def __init__(self, tables: ConsoleTables, store: StationStore, clock: Clock = SYSTEM_CLOCK) -> None:
        self._tables = tables
        self._store = store
        self._clock = clock

    async def accounts(self) -> list[Account]:
        return await self._tables.accounts()

    async def display_names(self) -> dict[str, str]:
        """Account name -> display name, for the accounts that have one (pages show both)."""
        return {a.name: a.display_name for a in await self._tables.accounts() if a.display_name}

    async def add_operator(self, name: str, role: Role) -> str:
        """A new operator (its API token is returned; the console shows none)."""
        return await operators.add_operator(self._store, name, role)

    async def translate(self, operator: OperatorRecord, message_id: str, text: str, lang: str) -> None:
        await self._tables.save_translation(
            message_id, text, lang, operator.name, format_ts(self._clock.now())
        )

    async def certify(self, operator: OperatorRecord, message_id: str, translated_at: str) -> None:
        """Certify the translation that was on screen (``translated_at``), by someone else than its author."""
        current = await self._tables.translation(message_id)
        if current is None:
            raise InputError(_t("message {message_id} has no translation to certify", message_id=message_id))
        if current.translated_by == operator.name:
            raise Forbidden(_t("a translation is certified by someone other than its translator"))
        at = format_ts(self._clock.now())
        if not await self._tables.certify_translation(message_id, translated_at, operator.name, at):
            raise InputError(_t("the translation changed or was certified meanwhile; review it again"))

    async def record_export(self, operator: OperatorRecord, detail: dict[str, Any]) -> None:
        """Audit an export (``transcript_exported``): who took what out of the station, and when."""
        async with self._store.write() as tx:
            await tx.audit(format_ts(self._clock.now()), operator.name, "transcript_exported", detail)
