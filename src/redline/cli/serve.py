"""``redline serve``: the operator API, the link endpoint and the workers in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from redline.runtime import Station
from redline.transport.tls_server import ClientCertProtocol
from redline.web.app import create_api_app, create_link_app

log = logging.getLogger("redline.serve")


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to ``serve``, which runs two of them."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(data_dir: Path) -> None:
    station = await Station.open(data_dir)
    cfg = station.me.config
    api = _Server(
        uvicorn.Config(
            create_api_app(station.services()),
            host=cfg.api_host,
            port=cfg.api_port,
            lifespan="off",
            log_level="warning",
            access_log=False,
            http="httptools",
        )
    )
    link = _Server(
        uvicorn.Config(
            create_link_app(station.link_endpoint()),
            host=cfg.link_host,
            port=cfg.link_port,
            lifespan="off",
            log_level="warning",
            access_log=False,
            http=ClientCertProtocol,
            ssl_context_factory=lambda _config, _default: station.link_tls,
            timeout_keep_alive=120,
        )
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    running = asyncio.create_task(station.run(api.serve(), link.serve()))
    stopping = asyncio.create_task(stop.wait())
    log.info(
        "station %s: API http://%s:%d/api/v1, link https://%s:%d",
        cfg.station_id,
        cfg.api_host,
        cfg.api_port,
        cfg.link_host,
        cfg.link_port,
    )
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        api.should_exit = link.should_exit = True
        stopping.cancel()
        if not running.done():
            await asyncio.sleep(0.3)  # let the servers finish requests in flight
            running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await station.close()
