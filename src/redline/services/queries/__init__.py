"""Read-only query services, and the bundle of services the web layer gets.

Web handlers and console pages are given a :class:`StationServices` and use
nothing else of the station: commands (``messaging``, ``deconfliction``,
``accounts``, ``link_commands``, ``console``) change things, queries
(``messages``, ``links``, ``notices``) only read, and ``changes`` tells live
pages when to look again. The link endpoint gets a :class:`LinkEndpoint`.
The runtime builds both from the station's parts (``Station.services()``,
``Station.link_endpoint()``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from redline.domain.clock import SYSTEM_CLOCK, Clock
from redline.domain.stations import PeerRecord
from redline.services.accounts import AccountService
from redline.services.calls import CallService
from redline.services.changes import ChangeFeed
from redline.services.deconfliction import Deconfliction
from redline.services.inbound import InboundService
from redline.services.limits import RateLimiter
from redline.services.messaging import MessagingService
from redline.services.operators import TokenAuthenticator
from redline.services.queries.console import ConsoleService, ConsoleTables
from redline.services.queries.links import LinkCommands, LinkQueries, LinkStatus
from redline.services.queries.logs import LogQueries
from redline.services.queries.messages import BOX_KINDS, MessageQueries, TranslationReads
from redline.services.queries.notices import IN_FORCE_STATES, LiveNotices, NoticeQueries
from redline.services.queries.operations import OperationsQueries, StationDuties
from redline.services.queries.threads import ThreadQueries
from redline.services.queries.transcript import TranscriptQueries
from redline.services.watch import WatchService


@dataclass(frozen=True, slots=True)
class StationInfo:
    """Who this station is, as pages and answers show it."""

    station_id: str
    name: str
    deadlines: dict[str, float]  # precedence -> acknowledgement deadline in seconds (admin page)


@dataclass(frozen=True, slots=True)
class StationServices:
    station: StationInfo
    auth: TokenAuthenticator
    accounts: AccountService
    messaging: MessagingService
    calls: CallService  # call requests: request, answer, the timeline
    messages: MessageQueries
    links: LinkQueries
    link_commands: LinkCommands
    deconfliction: Deconfliction
    notices: NoticeQueries
    console: ConsoleService
    transcripts: TranscriptQueries  # a link's messages both ways, and its chains checked
    watch: WatchService  # the watch positions, log and handovers; the peers' watch
    threads: ThreadQueries  # conversations (in_reply_to) and unanswered requests
    logs: LogQueries  # each direction's Merkle log: tree heads, inclusion and consistency proofs
    changes: ChangeFeed
    api_limits: RateLimiter  # requests a second per operator token (and per failing client address)
    operations: OperationsQueries  # GET /metrics and GET /api/v1/ready
    clock: Clock = SYSTEM_CLOCK


@dataclass(frozen=True, slots=True)
class LinkEndpoint:
    """What the link endpoint needs: who a client certificate is, and the inbound service."""

    station_id: str
    peer_for_certificate: Callable[[bytes | None], PeerRecord]
    inbound: InboundService


__all__ = [
    "BOX_KINDS",
    "IN_FORCE_STATES",
    "ConsoleService",
    "ConsoleTables",
    "LinkCommands",
    "LinkEndpoint",
    "LinkQueries",
    "LinkStatus",
    "LiveNotices",
    "LogQueries",
    "MessageQueries",
    "NoticeQueries",
    "OperationsQueries",
    "StationDuties",
    "StationInfo",
    "StationServices",
    "ThreadQueries",
    "TranscriptQueries",
    "TranslationReads",
]
