"""``redline serve``: the operator API, the link endpoint and the station's background work in one process.

The station's background work runs in the task group the API app's ASGI
lifespan enters (:meth:`redline.runtime.Station.lifespan`); the link server
shares the same station and starts only once that work runs, so no batch is
taken in before the station can react to it. Stopping reverses the order: the
link server first, then the API server, whose lifespan ends the task group.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from redline.cli import logs
from redline.errors import RedlineError
from redline.runtime import Station
from redline.transport.tls_server import LinkConnections, LinkLimits, link_protocol
from redline.web.app import create_api_app, create_link_app

log = logging.getLogger("redline.serve")
GRACE_SECONDS = 1  # requests in flight (and console live streams) get this long when the station stops


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to ``serve``, which runs two of them."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(data_dir: Path, log_format: str | None = None) -> None:
    async with Station.open(data_dir) as station:
        logs.use_format(log_format or station.me.config.log_format)
        logs.name_station(station.me.station_id, station.site)
        # Everything loaded so far (modules, catalogues, keys, peers) lives as long as the process:
        # keep it out of the collector's older generations, which every full collection walks.
        gc.freeze()
        cfg = station.me.config
        api = _Server(
            uvicorn.Config(
                create_api_app(station.services(), lifespan=station.lifespan, allowed_hosts=cfg.api_hosts()),
                host=cfg.api_host,
                port=cfg.api_port,
                lifespan="on",
                log_level="warning",
                log_config=None,  # uvicorn's lines go through our handler (one format, secrets blanked)
                access_log=False,
                http="httptools",
                timeout_graceful_shutdown=GRACE_SECONDS,
            )
        )
        # TLS is done by the link protocol itself (a handshake deadline, a cap on connections).
        limits = LinkLimits(cfg.link_max_connections, cfg.link_handshake_timeout, cfg.link_header_timeout)
        link = _Server(
            uvicorn.Config(
                create_link_app(station.link_endpoint()),
                host=cfg.link_host,
                port=cfg.link_port,
                lifespan="off",
                log_level="warning",
                log_config=None,  # uvicorn's lines go through our handler (one format, secrets blanked)
                access_log=False,
                http=link_protocol(LinkConnections(limits, lambda: station.link_tls)),
                timeout_keep_alive=120,
                timeout_graceful_shutdown=GRACE_SECONDS,
            )
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with asyncio.TaskGroup() as tasks:
            api_task = tasks.create_task(api.serve())
            watched = {
                api_task,
                tasks.create_task(stop.wait()),
                tasks.create_task(station.failed.wait()),
            }
            started = tasks.create_task(station.started.wait())
            link_task: asyncio.Task[None] | None = None
            try:
                await asyncio.wait({*watched, started}, return_when=asyncio.FIRST_COMPLETED)
                if started.done() and not api_task.done():
                    link_task = tasks.create_task(link.serve())
                    log.info(
                        "station %s: API http://%s:%d/api/v1, link https://%s:%d",
                        cfg.station_id,
                        cfg.api_host,
                        cfg.api_port,
                        cfg.link_host,
                        cfg.link_port,
                    )
                    await asyncio.wait({*watched, link_task}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                link.should_exit = True
                if link_task is not None:
                    await asyncio.wait({link_task})
                api.should_exit = True
                await asyncio.wait({api_task})
                for task in (*watched, started):
                    task.cancel()
        if station.failed.is_set():
            raise RedlineError(f"station {cfg.station_id} stopped: its background work failed (see the log)")
