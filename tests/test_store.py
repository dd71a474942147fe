"""The station store on a real database (a temporary SQLite file, and PostgreSQL): typed rows,
delivery states moved only as the transition table says, commit listeners, and rollback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

import pytest

from redline.domain.delivery import DeliveryEvent, initial_state
from redline.domain.messages import DeliveryState, Direction, MessageKind, Precedence
from redline.domain.records import (
    AuditEvent,
    ConflictRecord,
    LinkAlarm,
    LinkRecord,
    MessageRecord,
    NoticeRecord,
    SessionRecord,
    TranslationRecord,
)
from redline.domain.stations import LinkChains, PeerRecord, Role
from redline.errors import Conflict, LocalProtocolError
from redline.protocol import GENESIS_DIGEST
from redline.store.console import ConsoleStore
from redline.store.notices import NoticeStore
from redline.store.station import Store

PEER = "beijing"
T0 = "2026-01-01T00:00:00.000Z"
T1 = "2026-01-01T00:00:01.000Z"
T2 = "2026-01-01T00:00:02.000Z"
T9 = "2026-01-01T09:00:00.000Z"
R = TypeVar("R")


def run(url: str, scenario: Callable[[Store], Awaitable[R]]) -> R:
    async def go() -> R:
        store = await Store.open(url)
        try:
            return await scenario(store)
        finally:
            await store.close()

    return asyncio.run(go())


def record(seq: int, direction: Direction = Direction.OUTBOUND, **changes: object) -> MessageRecord:
    entering = DeliveryEvent.COMMITTED if direction is Direction.OUTBOUND else DeliveryEvent.STORED
    base = MessageRecord(
        id=f"m{direction.value[0]}{seq:04d}",
        direction=direction,
        peer_id=PEER,
        seq=seq,
        kind=MessageKind.TEXT,
        precedence=Precedence.FLASH,
        ts=T0,
        body='{"text": "hello", "lang": "en"}',
        envelope=json.dumps({"prev": GENESIS_DIGEST}),
        digest=f"{seq:064x}",
        state=initial_state(direction, entering),
        deadline=T1,
        created_by="duty" if direction is Direction.OUTBOUND else None,
        stored_at=T0,
        sent_at=None,
        delivered_at=None if direction is Direction.OUTBOUND else T0,
        receipt_id=None,
        ack_of=None,
        acked_at=None,
        acked_by=None,
        ack_message_id=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def insert(store: Store, *records: MessageRecord) -> None:
    async with store.write() as tx:
        await tx.link_chains(PEER)
        await tx.insert_messages(records)


async def state_of(store: Store, message_id: str) -> DeliveryState:
    found = await store.message(message_id)
    assert found is not None
    return found.state


def test_rows_come_back_typed(url: str) -> None:
    async def scenario(store: Store) -> None:
        sent, received = record(1), record(1, Direction.INBOUND, kind=MessageKind.PHRASE)
        await insert(store, sent, received)
        assert await store.message(sent.id) == sent
        inbox = await store.messages(Direction.INBOUND, 10, PEER, [MessageKind.PHRASE])
        assert inbox == [received]
        assert inbox[0].kind is MessageKind.PHRASE and inbox[0].state is DeliveryState.DELIVERED
        assert await store.messages(Direction.INBOUND, 10, PEER, [MessageKind.TEXT]) == []
        assert await store.answered_history(PEER, MessageKind.TEXT, 5) == [sent]
        assert await store.kind_counts(PEER, MessageKind.TEXT, Direction.OUTBOUND) == (1, 0)
        assert await store.chain(PEER, Direction.OUTBOUND) == [(1, GENESIS_DIGEST, sent.digest)]

        link = await store.link_row(PEER)
        assert link == LinkRecord(PEER, 1, GENESIS_DIGEST, 1, GENESIS_DIGEST, None, None, None, None, None)
        assert await store.link_row("nowhere") is None

        await store.raise_link_alarm(PEER, "degraded", "slow answers", T0)
        await store.raise_link_alarm(PEER, "down", "no answer", T1)
        assert await store.link_alarms() == [
            LinkAlarm(2, PEER, "down", "no answer", T1, None),
            LinkAlarm(1, PEER, "degraded", "slow answers", T0, T1),
        ]
        # A clock alarm is kept apart from health: raising it again updates it, clearing health leaves it.
        await store.raise_link_alarm(PEER, "clock_refused", "5 s ahead", T1, ("clock_refused",))
        await store.raise_link_alarm(PEER, "clock_refused", "9 s ahead", T2, ("clock_refused",))
        await store.clear_link_alarms(PEER, T2)
        assert await store.link_alarms() == [
            LinkAlarm(3, PEER, "clock_refused", "9 s ahead", T1, None),
            LinkAlarm(2, PEER, "down", "no answer", T1, T2),
            LinkAlarm(1, PEER, "degraded", "slow answers", T0, T1),
        ]
        await store.clear_link_alarms(PEER, T2, ("clock_refused",))
        assert all(a.cleared_at == (T1 if a.id == 1 else T2) for a in await store.link_alarms())

        async with store.write() as tx:
            assert await tx.insert_equivocation(PEER, 1, "a" * 64, "{}", "two digests", T0)
            assert not await tx.insert_equivocation(PEER, 1, "a" * 64, "{}", "two digests", T0)
            await tx.audit(T2, "duty", "send", {"message": sent.id})
        [equivocation] = await store.equivocations()
        assert (equivocation.peer_id, equivocation.seq, equivocation.detected_at) == (PEER, 1, T0)
        [event] = await store.audit_log(1)
        assert event == AuditEvent(event.id, T2, "duty", "send", json.dumps({"message": sent.id}))

        # Both are unacknowledged FLASH messages past their deadline: escalated once, each.
        overdue = await store.escalate_overdue(T9)
        assert sorted(r.id for r in overdue) == sorted([sent.id, received.id])
        assert all(isinstance(r, MessageRecord) and r.escalated_at is None for r in overdue)
        assert await store.escalate_overdue(T9) == []
        escalations = await store.escalations()
        assert {(e.id, e.direction, e.precedence, e.escalated_at) for e in escalations} == {
            (sent.id, Direction.OUTBOUND, Precedence.FLASH, T9),
            (received.id, Direction.INBOUND, Precedence.FLASH, T9),
        }

    run(url, scenario)


def test_delivery_states_move_as_the_transition_table_says(url: str) -> None:
    async def scenario(store: Store) -> None:
        queued, receipted, answered = record(1), record(2), record(3)
        await insert(store, queued, receipted, answered)
        assert await store.first_unreceipted_seq(PEER) == (1, 3)

        async with store.write() as tx:
            await tx.mark_delivered(PEER, [2], "r1", T1, T0)
            # The peer's acknowledgement of 3 overtakes its receipt.
            assert await tx.mark_acknowledged(answered.id, Direction.OUTBOUND, "peer duty", T1, "ack3")
            assert not await tx.mark_acknowledged(answered.id, Direction.OUTBOUND, "peer duty", T2, "ack3b")
        assert await state_of(store, answered.id) is DeliveryState.ACKNOWLEDGED

        # mark_sent moves only queued messages: the delivered and the acknowledged one stay.
        await store.mark_sent(PEER, [1, 2, 3], T2)
        states = [await state_of(store, m.id) for m in (queued, receipted, answered)]
        assert states == [DeliveryState.SENT, DeliveryState.DELIVERED, DeliveryState.ACKNOWLEDGED]
        assert (await store.message(receipted.id)).sent_at == T0  # type: ignore[union-attr]  # from the receipt

        # A receipt after the acknowledgement is recorded, and the state stays acknowledged.
        async with store.write() as tx:
            await tx.mark_delivered(PEER, [1, 3], "r2", T2, T2)
        late = await store.message(answered.id)
        assert late is not None
        assert (late.state, late.receipt_id, late.delivered_at) == (DeliveryState.ACKNOWLEDGED, "r2", T2)
        first = await store.message(queued.id)
        assert first is not None and (first.state, first.sent_at) == (DeliveryState.DELIVERED, T2)
        assert await store.first_unreceipted_seq(PEER) == (0, 3)

        # A second receipt for the same envelopes changes nothing.
        async with store.write() as tx:
            await tx.mark_delivered(PEER, [1], "r3", T9, T9)
        assert (await store.message(queued.id)).receipt_id == "r2"  # type: ignore[union-attr]

    run(url, scenario)


def test_a_new_message_must_start_in_its_initial_state(url: str) -> None:
    async def scenario(store: Store) -> None:
        with pytest.raises(LocalProtocolError):
            await insert(store, record(1, state=DeliveryState.DELIVERED))
        with pytest.raises(LocalProtocolError):
            await insert(store, record(1, Direction.INBOUND, state=DeliveryState.QUEUED))
        assert await store.messages(Direction.OUTBOUND, 10) == []

    run(url, scenario)


def test_commit_listeners_hear_commits_not_rollbacks(url: str) -> None:
    async def scenario(store: Store) -> None:
        heard: list[int] = []
        store.add_commit_listener(lambda: heard.append(len(heard)))
        await insert(store, record(1))
        assert heard == [0]
        with pytest.raises(RuntimeError):
            async with store.write() as tx:
                await tx.audit(T0, "duty", "nothing", {})
                raise RuntimeError("changed my mind")
        assert heard == [0]
        await store.mark_sent(PEER, [1], T1)  # a write of the store's own
        assert heard == [0, 1]

        def broken() -> None:
            raise ValueError("a listener's bug")

        store.add_commit_listener(broken)
        await store.raise_link_alarm(PEER, "down", "no answer", T1)  # still committed, still reported
        assert heard == [0, 1, 2]
        assert len(await store.link_alarms()) == 1

    run(url, scenario)


def test_a_failing_statement_rolls_the_whole_transaction_back(url: str) -> None:
    async def scenario(store: Store) -> None:
        await insert(store, record(1))
        before = await store.counts()
        audit_before = await store.audit_log()
        with pytest.raises(Conflict):
            async with store.write() as tx:
                chains = await tx.link_chains(PEER)
                await tx.save_link_chains(
                    LinkChains(PEER, 9, "b" * 64, chains.in_next_seq, chains.in_last_digest)
                )
                await tx.audit(T1, "duty", "send", {})
                await tx.insert_receipt("r1", PEER, "issued", "{}", T1)
                await tx.insert_messages([record(2), record(1, id="other")])  # seq 1 is taken
        assert await store.counts() == before
        assert await store.audit_log() == audit_before
        link = await store.link_row(PEER)
        assert link is not None and (link.out_next_seq, link.out_last_digest) == (1, GENESIS_DIGEST)
        assert await store.receipt("r1") is None
        assert await store.message(record(2).id) is None

    run(url, scenario)


def notice(version: int = 1, **changes: object) -> NoticeRecord:
    base = NoticeRecord(
        id="n1",
        party=PEER,
        version=version,
        state="active",
        activity="air_operations",
        starts_at=T1,
        ends_at=T9,
        body=json.dumps({"id": "n1", "text": "exercise"}),
        shared=False,
        updated_at=T0,
        updated_by="duty",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_notices_and_conflicts_come_back_typed(url: str) -> None:
    async def scenario(store: Store) -> None:
        notices = NoticeStore(store)
        first = notice(ends_at=None)
        assert await notices.save(first, "duty", "notice_file")
        assert await notices.notice("n1") == first
        assert await notices.notice("nowhere") is None
        assert not await notices.save(notice(state="amended"), "duty", "notice_amend")  # same version
        assert await notices.unshared(PEER) == [first]
        await notices.mark_shared("n1", 1)
        assert await notices.unshared(PEER) == []
        assert await notices.notices(in_force_at=T2) == [replace(first, shared=True)]

        # A peer's later version replaces the whole row, in the envelope's transaction.
        amended = notice(2, state="amended", shared=True, updated_at=T2, updated_by=PEER)
        async with store.write() as tx:
            assert await tx.upsert_notice(amended)
            assert not await tx.upsert_notice(notice(1, updated_at=T9))
        assert await notices.notices(party=PEER, states=["amended"]) == [amended]
        assert await notices.notices(in_force_at="2026-01-02T00:00:00.000Z") == []
        [event] = await store.audit_log(1)
        assert json.loads(event.detail) == {"notice": "n1", "version": 1, "state": "active"}

        detail = {"key": "n1@2~n2@1", "notice_a": "n1", "notice_b": "n2", "overlap": True}
        await notices.record_conflicts([detail], [], T1)
        [found] = await notices.open_conflicts(involving="n2")
        assert json.loads(found.detail) == detail
        assert found == ConflictRecord("n1~n2", "n1@2~n2@1", "n1", "n2", "open", found.detail, T1, T1, None)
        assert await notices.open_conflicts(involving="n3") == []
        await notices.record_conflicts([], ["n1~n2"], T2)
        assert await notices.open_conflicts() == []
        assert await notices.conflicts("closed") == [
            replace(found, state="closed", updated_at=T2, closed_at=T2)
        ]

    run(url, scenario)


def test_sessions_translations_and_peers_come_back_typed(url: str) -> None:
    async def scenario(store: Store) -> None:
        console = ConsoleStore(store)
        await store.add_operator("li", Role.OPERATOR, "a" * 64, T0)
        account = await console.account("li")
        assert account is not None
        assert await console.start_session(account, "b" * 64, "csrf", T0, T9, None)
        session = SessionRecord("b" * 64, account.id, "csrf", T0, T0, T9)
        assert await console.session("b" * 64) == (session, account)
        await console.touch_session("b" * 64, T1)
        assert await console.session("b" * 64) == (replace(session, seen_at=T1), account)
        assert await console.session("c" * 64) is None

        await console.save_translation("m1", "hello", "en", "li", T1)
        translation = TranslationRecord("m1", "hello", "en", "li", T1, None, None)
        assert await console.translation("m1") == translation
        assert await console.certify_translation("m1", T1, "wang", T2)
        certified = replace(translation, certified_by="wang", certified_at=T2)
        assert await console.translations(["m1", "m2"]) == {"m1": certified}
        assert await console.translation("m2") is None and await console.translations([]) == {}

        peer = PeerRecord(
            station_id=PEER,
            name="Beijing",
            signing_key="k" * 64,
            encryption_key="e" * 64,
            tls_fingerprint="f" * 64,
            tls_certificate="CERT",
            endpoints=("https://a:1", "https://b:2"),
            card="{}",
            added_at=T0,
            verified_at=None,
        )
        await store.add_peer(peer)
        assert await store.peer(PEER) == peer
        with pytest.raises(Conflict):
            await store.add_peer(peer)
        await store.replace_unverified_peer(replace(peer, name="Beijing 2", endpoints=("https://c:3",)))
        assert await store.peers() == [replace(peer, name="Beijing 2", endpoints=("https://c:3",))]

    run(url, scenario)


# A station's first link test going out and the peer's first batch coming in each open a write
# transaction that reads the link row, and on a new link neither finds one. On PostgreSQL both may
# run at once; both must end with the same genesis row, not one with a unique-key violation (which
# once cost a station its start-up link test).
def test_two_transactions_creating_one_link_row_both_succeed(url: str) -> None:
    async def scenario() -> list[LinkChains]:
        store = await Store.open(url)
        try:
            inside = asyncio.Event()

            async def first() -> LinkChains:
                async with store.write() as tx:
                    chains = await tx.link_chains("beijing")
                    inside.set()
                    await asyncio.sleep(0.3)  # hold the new row, uncommitted, while the second reads
                    chains.out_next_seq += 1
                    await tx.save_link_chains(chains)
                    return chains

            async def second() -> LinkChains:
                await inside.wait()
                async with store.write() as tx:
                    return await tx.link_chains("beijing")

            return list(await asyncio.gather(first(), second()))
        finally:
            await store.close()

    first, second = asyncio.run(scenario())
    assert (first.out_next_seq, first.out_last_digest) == (2, GENESIS_DIGEST)
    # The second waited for the first to commit and read its row, locked, as it now stands.
    assert (second.peer_id, second.out_next_seq, second.in_next_seq) == ("beijing", 2, 1)
