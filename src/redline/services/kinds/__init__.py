"""Message kinds: each kind of envelope declared in one module and registered once.

A kind module (``text``, ``phrase``, ``ack``, ``link_test``, ``link_test_reply``,
``service``, ``notice``, ``conflict_alert``) defines a :class:`~.base.KindSpec`
subclass saying, for that kind only:

- how its payload is checked (``check``; the pure checks live in
  :mod:`redline.domain.payloads`, the module names them);
- whether a person must acknowledge it, and what sending it writes to the audit log;
- what the *sender* does inside the outbox commit (``on_send``; raise ``Conflict``
  to refuse the one draft);
- what the *receiver* does when it accepts one, in the same transaction that stores it
  (``on_accept``);
- what happens after that commit (``react``, through the small
  :class:`~.base.Reactions` port the runtime implements);
- how it is shown (``api_fields`` for the API's message view, ``console_fields`` for
  the console's).

:mod:`.registry` lists every spec in ``KINDS``; the outbox and the inbound service are
handed that registry and dispatch to it, with no kind-specific branches of their own.
``docs/message-kinds.md`` walks through adding a kind.

This package's ``__init__`` imports nothing on purpose: the outbox imports
:mod:`.base`, and some kind modules import services that import the outbox, so the
registry is imported by the composition root alone.
"""
