"""Two stations in their own network namespaces, joined by one veth pair that faults are put on.

::

    root namespace                 rl<tag>w (washington)                 rl<tag>b (beijing)
    test process ── 127.0.0.1:P ─▶ forwarder ─▶ 127.0.0.1:8080  API       API  127.0.0.1:8080
                                                 10.213.X.1:8443 link ◀─ veth ─▶ link 10.213.X.2:8443

* Every address lives inside a namespace created here: the link's /30 on the veth pair
  (created directly inside the two namespaces, never in the root namespace) and each
  namespace's own loopback. The root namespace gets no interface and no address.
* The test process reaches a station's operator API through :class:`NetnsForwarder`: a
  thread that listens on the root namespace's loopback (bound before the thread leaves it)
  and then enters the station's namespace (``setns``), so the connections it opens go to
  the station's loopback there. The station-to-station link crosses only the veth, where
  :class:`LinkNet` puts nftables loss or partitions and ``tc tbf`` bandwidth limits.
* Stations run as ``ip netns exec NS python -m redline serve`` (``ip netns exec`` execs, so
  the PID is the station's own and ``kill -9`` hits it).
* :func:`netns_pair` sets all of it up and tears all of it down (stations, forwarders,
  namespaces with their veths, nftables tables and qdiscs) whatever happens inside.

Nothing here skips: missing root, ``ip``, ``nft`` or ``tc`` raises :class:`NetnsUnavailable`,
which the tests turn into a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import itertools
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.stations import Placement, StationProcess, two_stations, wait_for

CLONE_NEWNET = 0x40000000
INNER_API_PORT = 8080  # inside a fresh namespace every port is free
LINK_PORT = 8443
PROXY_PORT = 9443
COMMAND_TIMEOUT = 20.0

_counter = itertools.count()


class NetnsUnavailable(RuntimeError):
    """Namespaces, nftables or tc cannot be used here: the fault suite must fail, not skip."""


def preflight() -> None:
    """Raise :class:`NetnsUnavailable` naming what is missing."""
    problems = []
    if os.geteuid() != 0:
        problems.append(f"not root (euid {os.geteuid()}): ip netns, nft and tc need CAP_NET_ADMIN")
    for tool, package in (("ip", "iproute2"), ("nft", "nftables"), ("tc", "iproute2")):
        if shutil.which(tool) is None:
            problems.append(f"`{tool}` not found (install {package}; `make netfaults` does)")
    if not sys.platform.startswith("linux"):
        problems.append(f"network namespaces need Linux, this is {sys.platform}")
    if problems:
        raise NetnsUnavailable("the network fault suite cannot run: " + "; ".join(problems))


def sh(*args: str, ns: str | None = None, check: bool = True, stdin: str | None = None) -> str:
    """Run one command (inside namespace ``ns`` if given); bounded; raise with its stderr on failure."""
    cmd = ["ip", "netns", "exec", ns, *args] if ns else list(args)
    try:
        done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NetnsUnavailable(f"`{' '.join(cmd)}` failed: {exc}") from exc
    if check and done.returncode != 0:
        raise NetnsUnavailable(f"`{' '.join(cmd)}` exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def enter_netns(name: str) -> None:
    """Move the *calling thread* into network namespace ``name`` (other threads stay where they are).

    Sockets keep the namespace they were created in, so a socket bound before this call
    still listens in the old namespace while new connections from this thread start here.
    """
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY | os.O_CLOEXEC)
    try:
        setns = getattr(os, "setns", None)
        if setns is not None:  # Python 3.12+
            setns(fd, CLONE_NEWNET)
            return
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise NetnsUnavailable(f"setns into {name}: {os.strerror(err)}")
    finally:
        os.close(fd)


class LoopThread:
    """An asyncio loop in a daemon thread, optionally inside a network namespace."""

    def __init__(self, name: str, netns: str | None = None) -> None:
        self.netns = netns
        self.loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    def start(self) -> LoopThread:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError(f"{self._thread.name} did not start")
        if self._error is not None:
            raise self._error
        return self

    def _main(self) -> None:
        try:
            if self.netns is not None:
                enter_netns(self.netns)
        except BaseException as exc:
            self._error = exc
            self._started.set()
            return
        asyncio.set_event_loop(self.loop)
        self._started.set()
        self.loop.run_forever()
        self.loop.close()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 15.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[[], Any]) -> None:
        self.loop.call_soon_threadsafe(fn)

    def stop(self) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)


class NetnsForwarder:
    """TCP from ``127.0.0.1:port`` in the root namespace to ``127.0.0.1:target`` inside ``netns``."""

    def __init__(self, netns: str, target_port: int) -> None:
        self.netns, self.target_port = netns, target_port
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))  # in the root namespace: this thread has not moved yet
        self._listener.listen(128)
        self.port = int(self._listener.getsockname()[1])
        self._loop = LoopThread(f"fwd-{netns}", netns)
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[Any]] = set()

    def start(self) -> NetnsForwarder:
        self._loop.start()
        self._server = self._loop.run(asyncio.start_server(self._handle, sock=self._listener))
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._conns.add(writer)
        me = asyncio.current_task()
        if me is not None:
            self._handlers.add(me)
        try:
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", self.target_port), 3.0
                )
            except (OSError, TimeoutError):
                return  # the station is down: the client sees the connection close unanswered
            self._conns.add(up_writer)
            try:
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            finally:
                self._conns.discard(up_writer)
                up_writer.close()
        finally:
            self._conns.discard(writer)
            if me is not None:
                self._handlers.discard(me)
            writer.close()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for w in list(self._conns):
            w.close()
        for t in list(self._handlers):
            t.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._loop.run(self._close(), timeout=5)
        self._loop.stop()
        self._listener.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (OSError, RuntimeError):
        writer.close()


@dataclass(frozen=True)
class Side:
    station_id: str
    ns: str
    ifname: str
    addr: str


class LinkNet:
    """Two namespaces joined by a veth pair on a private /30; faults go on that veth."""

    def __init__(self) -> None:
        pid, k = os.getpid(), next(_counter)
        tag = f"{pid:x}{k:x}"
        x = (pid * 7 + k) % 250 + 1
        self.subnet = f"10.213.{x}.0/30"
        self.w = Side("washington", f"rl{tag}w", f"rl{tag}w", f"10.213.{x}.1")
        self.b = Side("beijing", f"rl{tag}b", f"rl{tag}b", f"10.213.{x}.2")
        self._created: list[str] = []

    @property
    def sides(self) -> tuple[Side, Side]:
        return (self.w, self.b)

    def side(self, station_id: str) -> Side:
        return {"washington": self.w, "beijing": self.b}[station_id]

    # -- life cycle -------------------------------------------------------------------------------

    def __enter__(self) -> LinkNet:
        preflight()
        try:
            self.setup()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            self.teardown()
        except RuntimeError as problem:
            if exc is None:
                raise
            exc.add_note(f"(and tearing the namespaces down failed too: {problem})")

    def setup(self) -> None:
        existing = sh("ip", "netns", "list")
        for s in self.sides:
            if re.search(rf"^{s.ns}\b", existing, re.MULTILINE):
                raise NetnsUnavailable(f"namespace {s.ns} exists already; refusing to touch it")
        for s in self.sides:
            sh("ip", "netns", "add", s.ns)
            self._created.append(s.ns)
        # The veth is born inside the two namespaces: it never appears in the root namespace.
        sh(
            "ip", "link", "add", self.w.ifname, "netns", self.w.ns,
            "type", "veth", "peer", "name", self.b.ifname, "netns", self.b.ns,
        )  # fmt: skip
        for s in self.sides:
            sh("ip", "-n", s.ns, "link", "set", "lo", "up")
            sh("ip", "-n", s.ns, "addr", "add", f"{s.addr}/30", "dev", s.ifname)
            sh("ip", "-n", s.ns, "link", "set", s.ifname, "up")
        # nft must work in here too; a table created and dropped proves it before any test relies on it.
        sh("nft", "add", "table", "inet", "rlprobe", ns=self.w.ns)
        sh("nft", "delete", "table", "inet", "rlprobe", ns=self.w.ns)
        self._wait_link_up()

    def _wait_link_up(self, timeout: float = 10.0) -> None:
        def up() -> bool:
            out = sh("ip", "-n", self.w.ns, "-br", "link", "show", self.w.ifname)
            return " UP " in out or "LOWER_UP" in out

        try:
            wait_for(up, timeout, what=f"veth {self.w.ifname} to come up")
        except AssertionError as late:
            raise NetnsUnavailable(str(late)) from None

    def teardown(self) -> None:
        """Delete both namespaces (their veth, nft tables and qdiscs go with them). Idempotent."""
        errors = []
        for ns in reversed(self._created):
            done = subprocess.run(["ip", "netns", "del", ns], capture_output=True, text=True, timeout=20)
            if done.returncode != 0 and "No such file" not in done.stderr:
                errors.append(f"ip netns del {ns}: {done.stderr.strip()}")
        self._created.clear()
        left = sh("ip", "netns", "list", check=False)
        for s in self.sides:
            if re.search(rf"^{s.ns}\b", left, re.MULTILINE):
                errors.append(f"namespace {s.ns} still listed after teardown")
        if errors:
            raise RuntimeError("; ".join(errors))

    # -- faults on the link veth ------------------------------------------------------------------

    def _nft_table(self, s: Side, verdict: str) -> None:
        sh("nft", "delete", "table", "inet", "rl", ns=s.ns, check=False)
        script = f"""
        table inet rl {{
            chain input {{
                type filter hook input priority 0; policy accept;
                iifname "{s.ifname}" {verdict}
            }}
            chain output {{
                type filter hook output priority 0; policy accept;
                oifname "{s.ifname}" {verdict}
            }}
        }}
        """
        sh("nft", "-f", "-", ns=s.ns, stdin=script)

    def loss(self, percent: int, on: str = "washington") -> None:
        """Drop ``percent``% of the packets crossing the veth, both ways, at one end (nftables)."""
        assert 0 < percent < 100
        self._nft_table(self.side(on), f"numgen random mod 100 < {percent} counter drop")

    def partition(self) -> None:
        """Drop every packet on the veth at both ends, until :meth:`heal`."""
        for s in self.sides:
            self._nft_table(s, "counter drop")

    def heal(self) -> None:
        for s in self.sides:
            sh("nft", "delete", "table", "inet", "rl", ns=s.ns, check=False)

    def dropped(self) -> int:
        """Packets dropped so far by the nftables rules in place (both ends)."""
        total = 0
        for s in self.sides:
            out = sh("nft", "list", "table", "inet", "rl", ns=s.ns, check=False)
            total += sum(int(n) for n in re.findall(r"counter packets (\d+)", out))
        return total

    def slow(self, rate: str = "256kbit", burst: str = "16kb", latency: str = "400ms") -> None:
        """Limit the veth to ``rate`` in both directions (tc tbf on each end's egress)."""
        for s in self.sides:
            sh(
                "tc", "qdisc", "replace", "dev", s.ifname, "root",
                "tbf", "rate", rate, "burst", burst, "latency", latency, ns=s.ns,
            )  # fmt: skip

    def shaped(self) -> dict[str, int]:
        """tbf statistics summed over both ends: bytes sent, packets dropped, overlimits."""
        stats = {"sent_bytes": 0, "dropped": 0, "overlimits": 0}
        for s in self.sides:
            out = sh("tc", "-s", "qdisc", "show", "dev", s.ifname, ns=s.ns)
            if "tbf" not in out:
                continue
            m = re.search(r"Sent (\d+) bytes .*?dropped (\d+), overlimits (\d+)", out, re.DOTALL)
            if m:
                stats["sent_bytes"] += int(m.group(1))
                stats["dropped"] += int(m.group(2))
                stats["overlimits"] += int(m.group(3))
        return stats

    def clear(self) -> None:
        """Remove every fault: nftables tables and the tbf qdiscs."""
        self.heal()
        for s in self.sides:
            sh("tc", "qdisc", "del", "dev", s.ifname, "root", ns=s.ns, check=False)


# -- stations inside the namespaces --------------------------------------------------------------


@dataclass
class NetnsStation(StationProcess):
    """A station whose ``redline serve`` runs inside ``netns``; ``api_port`` is its forwarder's."""

    netns: str = ""
    forwarder: NetnsForwarder | None = field(default=None, repr=False)

    def command_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.netns]


def _advertising(endpoint: str) -> Callable[[int], list[str]]:
    return lambda _link_port: [endpoint]


@contextlib.contextmanager
def netns_pair(root: Path, proxied: bool = False) -> Iterator[tuple[LinkNet, NetnsStation, NetnsStation]]:
    """Namespaces, veth, two stations with API forwarders (not started); everything torn down on exit.

    washington runs in ``net.w.ns`` and beijing in ``net.b.ns``, on SQLite, paired and verified.
    Each station's link listens on its veth address. With ``proxied`` each card advertises
    ``https://<addr>:PROXY_PORT`` instead, where the test runs a :class:`FaultProxy` in front
    of that station's link (so each side's delivery worker talks to the proxy).
    """
    link_net = LinkNet()
    port = PROXY_PORT if proxied else LINK_PORT
    placements = {
        s.station_id: Placement(
            api_port=INNER_API_PORT,
            link_port=LINK_PORT,
            link_host=s.addr,
            endpoints=_advertising(f"https://{s.addr}:{port}"),
            extra={"netns": s.ns},
        )
        for s in link_net.sides
    }
    forwarders: list[NetnsForwarder] = []
    with link_net as net:
        try:
            with two_stations(root, start=False, placements=placements, station_type=NetnsStation) as (w, b):
                for st in (w, b):
                    st.forwarder = NetnsForwarder(st.netns, INNER_API_PORT).start()
                    forwarders.append(st.forwarder)
                    st.api_port = st.forwarder.port
                yield net, w, b
        finally:
            for forwarder in forwarders:
                forwarder.stop()
