"""The running station: store, services and background work, in one task group.

This is the composition root below the CLI and the web app factories. It opens
the store (the only place that does: :mod:`redline.runtime.opening`), builds
the services around it with one :class:`~redline.domain.clock.Clock`, keeps
the set of verified peers (and the server TLS context that trusts them)
current, and runs the background work: the outbox writer, the peer watcher,
the escalator, deconfliction, a relay inbox per relay endpoint, and one
delivery worker and one link tester per verified peer, plus short reactions
(link-test replies, notices handed to deconfliction, reminders, alarms)
started with :meth:`Station.spawn`.

All of it lives in one ``asyncio.TaskGroup`` entered by
:meth:`Station.running` (an async context manager). ``redline serve`` enters
it through the API app's ASGI lifespan (:meth:`Station.lifespan`); tests enter
it directly, with no server at all
(``async with Station.open(d) as s, s.running(): ...``). Leaving it cancels
every task, so nothing outlives the station.

- :mod:`.station`: :class:`Station`, its task group and lifespan.
- :mod:`.adapters`: the station parts as the ports services and web need
  (``Reactions`` for message kinds, ``LinkStatus`` for link queries) and the
  services bundle web handlers get.
- :mod:`.opening`: opening a data directory's store and transport.
"""

from redline.runtime.opening import init_station, open_store, station_store, stored
from redline.runtime.station import Station, StationTransport

__all__ = ["Station", "StationTransport", "init_station", "open_store", "station_store", "stored"]
