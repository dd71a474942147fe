"""Tables, in SQLAlchemy Core. Alembic migrations under ``migrations/`` create them.

Timestamps are stored as the same UTC ISO 8601 strings that travel on the wire
(``redline.domain.clock``): they sort correctly as text on both SQLite and
PostgreSQL, and an export shows exactly what was signed.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData()

TS = String(32)
DIGEST = String(64)
STATION = String(32)

peers = Table(
    "peers",
    metadata,
    Column("station_id", STATION, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("signing_key", String(64), nullable=False),
    Column("encryption_key", String(64), nullable=False),
    Column("tls_fingerprint", String(80), nullable=False, unique=True),
    Column("tls_certificate", Text, nullable=False),
    Column("endpoints", Text, nullable=False),  # JSON list of https URLs, in order of preference
    Column("card", Text, nullable=False),  # the card exactly as imported
    Column("added_at", TS, nullable=False),
    Column("verified_at", TS),
    Column("display_names", Text),  # migration 0007: JSON {lang: name}, what our console calls the peer
)

operators = Table(
    "operators",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("token_hash", DIGEST, nullable=False, unique=True),
    Column("created_at", TS, nullable=False),
    # The console login (migration 0003): argon2id hash, TOTP secret and the last step used
    # (a code is accepted once), interface language, failed-login count and lockout.
    Column("password_hash", Text),
    Column("totp_secret", String(64)),
    Column("totp_last_step", Integer),
    Column("language", String(16), nullable=False, server_default="en"),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", TS),
    # Officers by name (migration 0006_officers): the name shown, when an admin disabled the
    # account, and a new TOTP secret that takes effect only once a first code from it is given.
    Column("display_name", String(128)),
    Column("disabled_at", TS),
    Column("totp_pending", String(64)),
)

# Console sessions: only the SHA-256 of the cookie's token is stored.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("token_hash", DIGEST, primary_key=True),
    Column("operator_id", Integer, ForeignKey("operators.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("seen_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
)

# A receiving operator's translation of a free-text message, and the supervisor who certified it.
translations = Table(
    "translations",
    metadata,
    Column("message_id", String(32), primary_key=True),
    Column("text", Text, nullable=False),
    Column("lang", String(35), nullable=False),
    Column("translated_by", String(64), nullable=False),
    Column("translated_at", TS, nullable=False),
    Column("certified_by", String(64)),
    Column("certified_at", TS),
)

# One row per peer: where each direction's hash chain stands.
links = Table(
    "links",
    metadata,
    Column("peer_id", STATION, primary_key=True),
    Column("out_next_seq", Integer, nullable=False),
    Column("out_last_digest", DIGEST, nullable=False),
    Column("in_next_seq", Integer, nullable=False),
    Column("in_last_digest", DIGEST, nullable=False),
    # Each side's suspension is held apart, so crossing suspend/resume messages commute:
    # the link is suspended while either side has it suspended.
    Column("suspended_at", TS),  # by this station
    Column("suspended_by", String(128)),
    Column("peer_suspended_at", TS),  # by the peer, as its service message said
    Column("peer_suspended_by", String(128)),
    Column("peer_scorecard", Text),  # the scorecard the peer last shared in a link test
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("direction", String(8), nullable=False),
    Column("peer_id", STATION, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("precedence", String(16), nullable=False),
    Column("ts", TS, nullable=False),  # the envelope's own timestamp
    Column("body", Text, nullable=False),  # plaintext payload JSON, kept on both sides
    Column("envelope", Text, nullable=False),  # the signed envelope, canonical JSON
    Column("digest", DIGEST, nullable=False),
    Column("state", String(16), nullable=False),
    Column("deadline", TS),
    Column("created_by", String(64)),
    Column("stored_at", TS, nullable=False),
    Column("sent_at", TS),
    Column("delivered_at", TS),
    Column("receipt_id", String(64)),
    Column("ack_of", String(32)),
    Column("acked_at", TS),
    Column("acked_by", String(128)),
    Column("ack_message_id", String(32)),
    Column("escalated_at", TS),  # when missing its acknowledgement deadline was escalated
    Column("in_reply_to", String(32)),  # the message on this link it answers (migration 0007_threads)
    Column("expects_reply", Boolean, nullable=False, server_default=false()),  # a request (REQ-*)
    # What a person reads in it, folded, for text search (migration 0007_find; domain.search).
    Column("search_text", Text, nullable=False, server_default=""),
    UniqueConstraint("peer_id", "direction", "seq", name="uq_messages_chain_position"),
)
# A box pages newest first by (stored_at, id); escalations by (escalated_at, id) (migration 0005).
Index("ix_messages_box", messages.c.direction, messages.c.stored_at, messages.c.id)
# A search over both boxes pages by (stored_at, id) with no direction (migration 0007_search_order).
Index("ix_messages_order", messages.c.stored_at, messages.c.id)
Index("ix_messages_escalated", messages.c.escalated_at, messages.c.id)
Index("ix_messages_kind", messages.c.peer_id, messages.c.kind, messages.c.direction)
Index("ix_messages_deadline", messages.c.acked_at, messages.c.escalated_at, messages.c.deadline)
# A link's transcript pages by (stored_at, id) within one peer (migration 0006_transcript).
Index("ix_messages_link", messages.c.peer_id, messages.c.stored_at, messages.c.id)
# What awaits acknowledgement, one direction at a time: the needs-action panel (migration 0006_alarm).
Index("ix_messages_pending", messages.c.direction, messages.c.acked_at, messages.c.deadline)
# A message's replies, and the requests still unanswered newest first (migration 0007_threads).
Index("ix_messages_reply", messages.c.in_reply_to)
Index("ix_messages_requests", messages.c.expects_reply, messages.c.stored_at, messages.c.id)
# On PostgreSQL, trigram (pg_trgm) GIN indexes serve the text search: ix_messages_search over
# search_text, ix_translations_search over lower(translations.text) (migration 0007_find).

receipts = Table(
    "receipts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("peer_id", STATION, nullable=False),
    Column("direction", String(8), nullable=False),  # issued by us, or received from the peer
    Column("body", Text, nullable=False),
    Column("at", TS, nullable=False),
)

equivocations = Table(
    "equivocations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("peer_id", STATION, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("known_digest", DIGEST, nullable=False),
    Column("envelope", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("detected_at", TS, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", TS, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("detail", Text, nullable=False),
)

link_alarms = Table(
    "link_alarms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("peer_id", STATION, nullable=False),
    Column("state", String(16), nullable=False),  # degraded or down
    Column("detail", Text, nullable=False),
    Column("raised_at", TS, nullable=False),
    Column("cleared_at", TS),
)

# Activity notices, ours and our peers' (migration 0004); ``body`` is the notice's JSON (redline.geo).
notices = Table(
    "notices",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("party", STATION, nullable=False),
    Column("version", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("activity", String(32), nullable=False),
    Column("starts_at", TS, nullable=False),
    Column("ends_at", TS),  # None: permanent
    Column("body", Text, nullable=False),
    Column("shared", Integer, nullable=False, server_default="0"),  # our notice: sent to the peers
    Column("updated_at", TS, nullable=False),
    Column("updated_by", String(128), nullable=False),
)
Index("ix_notices_party_state", notices.c.party, notices.c.state)
Index("ix_notices_start", notices.c.starts_at, notices.c.id)  # the notice list's page order

# One row per pair of notices that ever conflicted; ``key`` names the versions last checked.
conflicts = Table(
    "conflicts",
    metadata,
    Column("pair", String(130), primary_key=True),
    Column("key", String(160), nullable=False),
    Column("notice_a", String(64), nullable=False),
    Column("notice_b", String(64), nullable=False),
    Column("state", String(8), nullable=False),  # open or closed
    Column("detail", Text, nullable=False),  # the conflict record as JSON (redline.geo.conflicts)
    Column("opened_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("closed_at", TS),
)
# Conflicts page newest opened first by (opened_at, pair), with or without a state.
Index("ix_conflicts_state", conflicts.c.state, conflicts.c.opened_at, conflicts.c.pair)
Index("ix_conflicts_opened", conflicts.c.opened_at, conflicts.c.pair)

# The watch (migration 0006_officers): who holds each position now (one row per held position,
# ``handover_id`` the watch_log row of a handover note awaiting the incoming officer), every
# sign-on, sign-off, handover note and accepted handover, and what each peer last said of its own.
watch_posts = Table(
    "watch_posts",
    metadata,
    Column("position", String(16), primary_key=True),
    Column("officer", String(64), nullable=False),
    Column("since", TS, nullable=False),
    Column("handover_id", Integer),
)

watch_log = Table(
    "watch_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", TS, nullable=False),
    Column("position", String(16), nullable=False),
    Column("officer", String(64), nullable=False),
    Column("action", String(16), nullable=False),
    Column("detail", Text, nullable=False),  # JSON: the note and its open items, who handed over
)

peer_watch = Table(
    "peer_watch",
    metadata,
    Column("peer_id", STATION, primary_key=True),
    Column("position", String(16), primary_key=True),
    Column("officer", String(64), nullable=False),
    Column("name", String(128), nullable=False),
    Column("since", TS, nullable=False),
)

# Call requests (migration 0008_calls; redline.domain.calls): every ``call`` envelope either side
# sent, and one row per call caching what the list pages and the reply-deadline scan need. The
# state shown is always folded again from the events (time alone can make a call missed).
calls = Table(
    "calls",
    metadata,
    Column("call_id", String(32), primary_key=True),
    Column("peer_id", STATION, nullable=False),
    Column("caller", STATION, nullable=False),
    Column("callee", STATION, nullable=False),
    Column("requested_at", TS, nullable=False),
    Column("state", String(16), nullable=False),
    Column("awaiting", STATION),  # the station whose answer is due
    Column("reply_by", TS),
    Column("updated_at", TS, nullable=False),
    Column("escalated_at", TS),  # our reply deadline passed and supervisors were alerted
)
Index("ix_calls_requested", calls.c.requested_at, calls.c.call_id)  # the list's page order
Index("ix_calls_reply", calls.c.awaiting, calls.c.escalated_at, calls.c.reply_by)

call_events = Table(
    "call_events",
    metadata,
    Column("message_id", String(32), primary_key=True),
    Column("call_id", String(32), nullable=False),
    Column("station", STATION, nullable=False),  # who sent it
    Column("ts", TS, nullable=False),  # the envelope's timestamp: the move's time on both sides
    Column("body", Text, nullable=False),  # the payload JSON
)
Index("ix_call_events_call", call_events.c.call_id, call_events.c.ts)
