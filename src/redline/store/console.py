"""Console accounts, sessions and translations, in SQLAlchemy Core over the station's database.

Each method is one transaction of its own (with its audit event); the live
pages learn of changes from the store's commit listeners, not from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, delete, func, insert, null, or_, select, update

from redline.domain.records import SessionRecord, TranslationRecord
from redline.domain.stations import Account, Role
from redline.store import schema as t
from redline.store.audit import insert_audit
from redline.store.station import Store


def _account(row: Any) -> Account:
    return Account(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        password_hash=row.password_hash,
        totp_secret=row.totp_secret,
        totp_last_step=row.totp_last_step,
        language=row.language,
        failed_logins=row.failed_logins,
        locked_until=row.locked_until,
        display_name=row.display_name,
        disabled_at=row.disabled_at,
        totp_pending=row.totp_pending,
    )


def _session(row: Any) -> SessionRecord:
    return SessionRecord(
        token_hash=row.token_hash,
        operator_id=row.operator_id,
        csrf_token=row.csrf_token,
        created_at=row.created_at,
        seen_at=row.seen_at,
        expires_at=row.expires_at,
    )


def _translation(row: Any) -> TranslationRecord:
    return TranslationRecord(
        message_id=row.message_id,
        text=row.text,
        lang=row.lang,
        translated_by=row.translated_by,
        translated_at=row.translated_at,
        certified_by=row.certified_by,
        certified_at=row.certified_at,
    )


class ConsoleStore:
    def __init__(self, store: Store) -> None:
        self.database = store.database

    # -- accounts -----------------------------------------------------------

    async def account(self, name: str) -> Account | None:
        rows = await self.database.fetch(select(t.operators).where(t.operators.c.name == name))
        return _account(rows[0]) if rows else None

    async def account_by_id(self, operator_id: int) -> Account | None:
        rows = await self.database.fetch(select(t.operators).where(t.operators.c.id == operator_id))
        return _account(rows[0]) if rows else None

    async def accounts(self) -> list[Account]:
        return [
            _account(r) for r in await self.database.fetch(select(t.operators).order_by(t.operators.c.name))
        ]

    async def update_account(
        self, name: str, at: str, actor: str, action: str, *, end_sessions: bool = False, **values: Any
    ) -> None:
        """Change account columns and write the audit event in the same transaction; with
        ``end_sessions`` the account's console sessions end in it too."""
        async with self.database.transaction() as conn:
            changed = await conn.execute(
                update(t.operators)
                .where(t.operators.c.name == name)
                .values(**values)
                .returning(t.operators.c.id)
            )
            operator_id = changed.scalar_one_or_none()
            if end_sessions and operator_id is not None:
                await conn.execute(
                    delete(t.console_sessions).where(t.console_sessions.c.operator_id == operator_id)
                )
            hidden = {"password_hash", "totp_secret", "totp_last_step", "totp_pending"}
            shown = {k: v for k, v in values.items() if k not in hidden}
            await insert_audit(conn, [(at, actor, action, {"operator": name, **shown})])

    async def confirm_totp(self, name: str, secret: str, step: int, at: str, actor: str) -> bool:
        """Put the pending TOTP ``secret`` in force, its first code's ``step`` spent; False (nothing
        written) if the pending secret changed meanwhile."""
        o = t.operators.c
        async with self.database.transaction() as conn:
            result = await conn.execute(
                update(t.operators)
                .where(o.name == name, o.totp_pending == secret)
                .values(totp_secret=secret, totp_pending=None, totp_last_step=step)
            )
            if result.rowcount != 1:
                return False
            await insert_audit(conn, [(at, actor, "totp_enroll", {"operator": name})])
            return True

    async def claim_login_attempt(
        self, name: str, at: str, locks: Sequence[tuple[int, str]]
    ) -> Account | None:
        """Count one more login attempt on ``name``, unless the account is locked at ``at``.

        One UPDATE decides, so parallel attempts are counted one by one and none passes a lock
        another has just set: the attempt that brings the count to a ``locks`` entry's number
        also locks the account until that entry's time (the last entry holds for every count
        beyond it). Returns the account as the claim left it, or None: no such name, or locked
        (a locked refusal is audited here, in the same transaction).
        """
        o = t.operators.c
        attempts = o.failed_logins + 1
        ordered = sorted(locks, reverse=True)
        until = case(*((attempts >= n, stamp) for n, stamp in ordered)) if ordered else null()
        async with self.database.transaction() as conn:
            claimed = await conn.execute(
                update(t.operators)
                .where(o.name == name, or_(o.locked_until.is_(None), o.locked_until <= at))
                .values(failed_logins=attempts, locked_until=until)
                .returning(*t.operators.c)
            )
            row = claimed.first()
            if row is not None:
                return _account(row)
            locked = await conn.execute(select(o.failed_logins).where(o.name == name))
            failures = locked.scalar_one_or_none()
            if failures is not None:
                detail = {"reason": "locked", "failures": failures}
                await insert_audit(conn, [(at, name, "login_failed", detail)])
            return None

    async def audit_login_failure(self, name: str, at: str, reason: str, failures: int) -> None:
        """Why a claimed attempt was refused (its count was taken by the claim)."""
        async with self.database.transaction() as conn:
            await insert_audit(conn, [(at, name, "login_failed", {"reason": reason, "failures": failures})])

    async def start_session(
        self, account: Account, token_hash: str, csrf: str, at: str, expires_at: str, totp_step: int | None
    ) -> bool:
        """A successful login: reset the failure count and lock, spend the TOTP step, open the session.

        Refused (False, nothing written) if meanwhile the TOTP step was spent or the password
        changed: both are conditions of the same UPDATE, so of parallel logins with one code
        exactly one passes.
        """
        async with self.database.transaction() as conn:
            o = t.operators.c
            values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
            conditions = [o.id == account.id, o.password_hash == account.password_hash]
            if totp_step is not None:
                values["totp_last_step"] = totp_step
                conditions.append(or_(o.totp_last_step.is_(None), o.totp_last_step < totp_step))
            result = await conn.execute(update(t.operators).where(*conditions).values(**values))
            if result.rowcount != 1:
                return False
            await conn.execute(
                insert(t.console_sessions).values(
                    token_hash=token_hash,
                    operator_id=account.id,
                    csrf_token=csrf,
                    created_at=at,
                    seen_at=at,
                    expires_at=expires_at,
                )
            )
            await insert_audit(conn, [(at, account.name, "login", {"second_factor": totp_step is not None})])
            return True

    # -- sessions -----------------------------------------------------------

    async def session(self, token_hash: str) -> tuple[SessionRecord, Account] | None:
        query = select(t.console_sessions).where(t.console_sessions.c.token_hash == token_hash)
        rows = await self.database.fetch(query)
        if not rows:
            return None
        account = await self.account_by_id(rows[0].operator_id)
        return (_session(rows[0]), account) if account else None

    async def touch_session(self, token_hash: str, seen_at: str) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                update(t.console_sessions)
                .where(t.console_sessions.c.token_hash == token_hash)
                .values(seen_at=seen_at)
            )

    async def end_session(self, token_hash: str, at: str, actor: str, reason: str) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                delete(t.console_sessions).where(t.console_sessions.c.token_hash == token_hash)
            )
            await insert_audit(conn, [(at, actor, "logout", {"reason": reason})])

    async def end_sessions_of(self, operator_id: int) -> None:
        async with self.database.transaction() as conn:
            await conn.execute(
                delete(t.console_sessions).where(t.console_sessions.c.operator_id == operator_id)
            )

    # -- translations -------------------------------------------------------

    async def translation(self, message_id: str) -> TranslationRecord | None:
        rows = await self.database.fetch(
            select(t.translations).where(t.translations.c.message_id == message_id)
        )
        return _translation(rows[0]) if rows else None

    async def translations(self, message_ids: list[str]) -> dict[str, TranslationRecord]:
        if not message_ids:
            return {}
        query = select(t.translations).where(t.translations.c.message_id.in_(message_ids))
        return {r.message_id: _translation(r) for r in await self.database.fetch(query)}

    async def save_translation(self, message_id: str, text: str, lang: str, by: str, at: str) -> None:
        """Attach (or replace) a translation; a replaced translation loses its certification."""
        async with self.database.transaction() as conn:
            await conn.execute(delete(t.translations).where(t.translations.c.message_id == message_id))
            await conn.execute(
                insert(t.translations).values(
                    message_id=message_id, text=text, lang=lang, translated_by=by, translated_at=at
                )
            )
            await insert_audit(conn, [(at, by, "translate", {"message": message_id, "lang": lang})])

    async def certify_translation(self, message_id: str, translated_at: str, by: str, at: str) -> bool:
        """Certify the translation that was on screen; False if it changed or was certified meanwhile."""
        async with self.database.transaction() as conn:
            result = await conn.execute(
                update(t.translations)
                .where(
                    t.translations.c.message_id == message_id,
                    t.translations.c.translated_at == translated_at,
                    t.translations.c.certified_at.is_(None),
                )
                .values(certified_by=by, certified_at=at)
            )
            if result.rowcount != 1:
                return False
            await insert_audit(conn, [(at, by, "certify", {"message": message_id})])
            return True

    # -- change marker for live pages -----------------------------------------

    async def change_marker(self) -> tuple[Any, ...]:
        """A cheap fingerprint of everything the live pages show; it changes when any of it does."""
        m = t.messages.c
        rows = await self.database.fetch(
            select(
                func.count(),
                func.max(m.stored_at),
                func.max(m.delivered_at),
                func.max(m.acked_at),
                func.max(m.escalated_at),
                func.max(m.sent_at),
            ).select_from(t.messages)
        )
        tr = await self.database.fetch(
            select(
                func.count(),
                func.max(t.translations.c.translated_at),
                func.max(t.translations.c.certified_at),
            )
        )
        return (*tuple(rows[0]), *tuple(tr[0]))
