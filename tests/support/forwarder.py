"""A TCP forwarder on loopback that can be cut and restored: a second path to a station.

It runs its own event loop in a thread, counts the connections it carried and
the bytes it forwarded towards the target, and on ``stop()`` closes its
listening socket and aborts every connection, as a failed router or cut cable
would. With ``delay_back`` it is also a slow return path: every chunk coming
back from the target reaches the client that many seconds after it was read.
It can be used as a context manager (``start()`` on entry, ``stop()`` on exit).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time


class TcpForwarder:
    def __init__(
        self, listen_port: int, target_port: int, host: str = "127.0.0.1", *, delay_back: float = 0.0
    ) -> None:
        self.listen_port, self.target_port, self.host = listen_port, target_port, host
        self.delay_back = delay_back  # latency added to every byte coming back from the target
        self.connections = 0
        self.bytes_forwarded = 0  # client to target
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(
                asyncio.start_server(self._handle, self.host, self.listen_port, reuse_address=True)
            )
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"forwarder on port {self.listen_port} did not start")

    def __enter__(self) -> TcpForwarder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: bool = False
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                if upstream:
                    self.bytes_forwarded += len(data)
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _slow_pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Like _pipe, but every chunk arrives ``delay_back`` seconds after it was read."""
        chunks: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def read() -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await reader.read(65536):
                    chunks.put_nowait((time.monotonic() + self.delay_back, data))
            chunks.put_nowait((time.monotonic() + self.delay_back, b""))

        reading = asyncio.create_task(read())
        try:
            with contextlib.suppress(ConnectionError, OSError):
                while True:
                    due, data = await chunks.get()
                    await asyncio.sleep(max(0.0, due - time.monotonic()))  # the path's latency, by design
                    if not data:
                        break
                    writer.write(data)
                    await writer.drain()
        finally:
            reading.cancel()
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            writer.close()
            return
        self.connections += 1
        self._writers.update((writer, up_writer))
        try:
            back = self._slow_pipe(up_reader, writer) if self.delay_back else self._pipe(up_reader, writer)
            await asyncio.gather(self._pipe(reader, up_writer, upstream=True), back)
        finally:
            self._writers.difference_update((writer, up_writer))

    def stop(self) -> None:
        """Cut the path: stop listening and abort every open connection."""
        loop = self._loop
        if loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            self._writers.clear()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        self._loop = self._thread = self._server = None
