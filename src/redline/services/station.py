"""A station's data directory: configuration, keys, certificate; ``redline init``."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from redline.crypto.keys import TLS_CERT_FILE, TLS_KEY_FILE, StationKeys, write_private_file
from redline.crypto.tls import make_self_signed_certificate
from redline.domain.calls import DEFAULT_REPLY_DEADLINES, Urgency
from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts
from redline.domain.messages import DEFAULT_ACK_DEADLINES, Precedence
from redline.domain.names import check_station_id
from redline.errors import InputError, StationConfigError
from redline.services.limits import RateLimit
from redline.wire.card import ContactCard, check_endpoint, make_card

CONFIG_FILE = "station.json"
KEY_DIR = "keys"
LOG_FORMATS = ("text", "json")


@dataclass(slots=True)
class StationConfig:
    station_id: str
    name: str
    database_url: str
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    link_host: str = "127.0.0.1"
    link_port: int = 8443
    endpoints: list[str] = field(default_factory=list)
    link_test_interval: float = 3600.0  # seconds between this station's link tests on each link
    # The clock policy (docs/protocol.md): how far ahead of our clock a peer's envelope may be
    # dated, and the measured peer clock offset that alarms.
    clock_window_seconds: float = 120.0
    clock_alarm_seconds: float = 5.0
    # Seconds a person has to acknowledge a message, by precedence; both sides of a link
    # must hold the same values (they compute "overdue" independently).
    ack_deadlines: dict[str, float] = field(
        default_factory=lambda: {p.value: d.total_seconds() for p, d in DEFAULT_ACK_DEADLINES.items()}
    )
    # Minutes the other side has to answer a call request or counter-proposal, by urgency
    # (docs/calls.md); the deadline travels in the envelope, so the peer holds the same one.
    call_reply_deadlines: dict[str, float] = field(
        default_factory=lambda: {u.value: d.total_seconds() / 60 for u, d in DEFAULT_REPLY_DEADLINES.items()}
    )
    # Requests a second each operator token may make to the API, and the burst it may make at
    # once (0 turns the limit off); requests that fail authentication count per client address.
    api_rate_limit: float = 50.0
    api_rate_burst: int = 200
    # Host names the API and console answer to (DNS-rebinding defence); None: api_host, and the
    # loopback names when api_host is a loopback address.
    allowed_hosts: list[str] | None = None
    link_max_connections: int = 64  # open connections on the link port, handshaking or not
    link_handshake_timeout: float = 10.0  # seconds a client has to complete the TLS handshake
    link_header_timeout: float = 10.0  # seconds a peer has to send a request's headers once begun
    # The site this process serves the station from, as logs and metrics name it; None: the
    # host's name (docs/operations.md). Today a station runs at one site.
    site: str | None = None
    log_format: str = "text"  # `redline serve`'s log lines: "text" or "json" (--log-format overrides)

    def site_name(self) -> str:
        return self.site or socket.gethostname() or "main"

    def api_rate(self) -> RateLimit:
        return RateLimit(float(self.api_rate_limit), self.api_rate_burst)

    def api_hosts(self) -> list[str]:
        """The Host names the API and console answer to: lower case, without ports, IPv6 addresses
        in brackets (as a Host header writes them)."""
        chosen = (
            self.allowed_hosts if self.allowed_hosts is not None else default_allowed_hosts(self.api_host)
        )
        return [_as_host_header(h) for h in chosen]

    def deadlines(self) -> dict[Precedence, timedelta]:
        return {p: timedelta(seconds=self.ack_deadlines[p.value]) for p in Precedence}

    def call_deadlines(self) -> dict[Urgency, timedelta]:
        return {u: timedelta(minutes=self.call_reply_deadlines[u.value]) for u in Urgency}

    def clock_window(self) -> timedelta:
        return timedelta(seconds=self.clock_window_seconds)

    @classmethod
    def from_json(cls, data: dict[str, Any], path: Path) -> StationConfig:
        try:
            config = cls(**data)
        except TypeError as exc:
            raise StationConfigError(f"{path}: {exc}") from None
        check_station_id(config.station_id)
        deadlines = config.ack_deadlines
        if (
            not isinstance(deadlines, dict)
            or set(deadlines) != {p.value for p in Precedence}
            or not all(isinstance(v, int | float) and 0 < v <= 30 * 24 * 3600 for v in deadlines.values())
        ):
            raise StationConfigError(
                f"{path}: ack_deadlines must give seconds (up to 30 days) for each of "
                f"{', '.join(p.value for p in Precedence)}"
            )
        calls = config.call_reply_deadlines
        if (
            not isinstance(calls, dict)
            or set(calls) != {u.value for u in Urgency}
            or not all(_number(v, 0.1, 30 * 24 * 60) for v in calls.values())
        ):
            raise StationConfigError(
                f"{path}: call_reply_deadlines must give minutes (0.1 to 30 days) for each of "
                f"{', '.join(u.value for u in Urgency)}"
            )
        window, alarm = config.clock_window_seconds, config.clock_alarm_seconds
        if not _number(window, 1, 3600):
            raise StationConfigError(f"{path}: clock_window_seconds must be seconds from 1 to 3600")
        if not _number(alarm, 0, window) or alarm == 0:
            raise StationConfigError(
                f"{path}: clock_alarm_seconds must be seconds above 0 and at most clock_window_seconds "
                f"({window:g}): an offset the window refuses must alarm first"
            )
        for port in (config.api_port, config.link_port):
            if not isinstance(port, int) or not 0 < port < 65536:
                raise StationConfigError(f"{path}: port {port!r} is not a TCP port")
        _check_limits(config, path)
        if config.log_format not in LOG_FORMATS:
            raise StationConfigError(f"{path}: log_format must be one of {', '.join(LOG_FORMATS)}")
        if config.site is not None and not (
            isinstance(config.site, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}", config.site)
        ):
            raise StationConfigError(f"{path}: site must be a name of letters, digits, '.', '_' or '-'")
        return config


def _number(value: object, low: float, high: float) -> bool:
    """A JSON number (not a boolean) from ``low`` to ``high``."""
    return isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high


def _whole(value: object, low: int, high: int) -> bool:
    """A JSON whole number (not a boolean) from ``low`` to ``high``."""
    return isinstance(value, int) and _number(value, low, high)


def _check_limits(config: StationConfig, path: Path) -> None:
    if not _number(config.api_rate_limit, 0, 1_000_000):
        raise StationConfigError(
            f"{path}: api_rate_limit must be requests a second from 0 (no limit) to 1000000, "
            f"not {config.api_rate_limit!r}"
        )
    if not _whole(config.api_rate_burst, 1, 1_000_000):
        raise StationConfigError(f"{path}: api_rate_burst must be a whole number from 1 to 1000000")
    hosts = config.allowed_hosts
    if hosts is not None and (
        not isinstance(hosts, list) or not all(isinstance(h, str) and _host_name(h) for h in hosts)
    ):
        raise StationConfigError(
            f"{path}: allowed_hosts must be null or a list of host names or IP addresses without "
            'ports ("*.example.org" answers its subdomains, "*" any Host)'
        )
    if not _whole(config.link_max_connections, 1, 100_000):
        raise StationConfigError(f"{path}: link_max_connections must be a whole number from 1 to 100000")
    for key in ("link_handshake_timeout", "link_header_timeout"):
        if not _number(getattr(config, key), 0.1, 3600):
            raise StationConfigError(f"{path}: {key} must be seconds from 0.1 to 3600")


def _host_name(value: str) -> bool:
    """A host name, an IP address (IPv6 with or without brackets), ``*.domain`` or ``*``."""
    if value == "*":
        return True
    try:
        ipaddress.ip_address(value.removeprefix("[").removesuffix("]"))
        return True
    except ValueError:
        pass
    name = value.removeprefix("*.")
    return len(name) <= 253 and _HOST_NAME.fullmatch(name) is not None


def _as_host_header(host: str) -> str:
    bare = host.lower().removeprefix("[").removesuffix("]")
    try:
        return f"[{bare}]" if ipaddress.ip_address(bare).version == 6 else bare
    except ValueError:
        return host.lower()


_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]  # as Host headers write them


def default_allowed_hosts(api_host: str) -> list[str]:
    """The console's own address, and the loopback names when it listens on loopback or everywhere
    (an administrator who opens it to other machines lists their names in ``allowed_hosts``)."""
    address = ipaddress.ip_address(api_host)
    hosts = [] if address.is_unspecified else [_as_host_header(api_host)]
    if address.is_loopback or address.is_unspecified:
        hosts += [h for h in LOOPBACK_HOSTS if h not in hosts]
    return hosts


def check_port(value: int, what: str) -> int:
    if not 0 < value < 65536:
        raise InputError(f"{what}: {value} is not a TCP port (1-65535)")
    return value


def check_host(value: str, what: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise InputError(f"{what}: {value!r} is not an IP address to listen on") from None
    return value


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class StationFiles:
    """Paths inside a data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir
        self.config = data_dir / CONFIG_FILE
        self.keys = data_dir / KEY_DIR
        self.tls_cert = self.keys / TLS_CERT_FILE
        self.tls_key = self.keys / TLS_KEY_FILE


@dataclass(slots=True)
class StationIdentity:
    """Everything a running station knows about itself."""

    files: StationFiles
    config: StationConfig
    keys: StationKeys
    tls_certificate: str

    @property
    def station_id(self) -> str:
        return self.config.station_id

    def card(self, clock: Clock = SYSTEM_CLOCK) -> ContactCard:
        return make_card(
            self.keys,
            self.config.station_id,
            self.config.name,
            self.tls_certificate,
            self.config.endpoints,
            format_ts(clock.now()),
        )


def load_identity(data_dir: Path) -> StationIdentity:
    files = StationFiles(data_dir)
    try:
        data = json.loads(files.config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StationConfigError(
            f"{files.config} not found: run `redline init --data-dir {data_dir}` first"
        ) from None
    except json.JSONDecodeError as exc:
        raise StationConfigError(f"{files.config} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise StationConfigError(f"{files.config} must hold a JSON object")
    config = StationConfig.from_json(data, files.config)
    keys = StationKeys.load(files.keys)
    try:
        cert = files.tls_cert.read_text(encoding="ascii")
    except FileNotFoundError:
        raise StationConfigError(f"{files.tls_cert} is missing") from None
    return StationIdentity(files, config, keys, cert)


class DatabaseSetup(Protocol):
    """How ``redline init`` checks a database URL and creates the schema (``runtime.opening``)."""

    def check_url(self, url: str) -> None:
        """Raise ``InputError`` naming what is wrong with ``url``."""
        ...

    async def create(self, url: str) -> None:
        """Create (or migrate) the schema at ``url``; raise ``StoreError`` if the database refuses."""
        ...


async def init_station(
    data_dir: Path,
    station_id: str,
    name: str,
    database_url: str | None = None,
    *,
    database: DatabaseSetup,
    api_port: int = 8080,
    link_port: int = 8443,
    endpoints: list[str] | None = None,
    api_host: str = "127.0.0.1",
    link_host: str = "127.0.0.1",
    link_test_interval: float = 3600.0,
) -> StationIdentity:
    """Create keys, certificate, configuration and database for a new station."""
    check_station_id(station_id)
    if not name.strip() or len(name) > 128:
        raise InputError("name: give the station a display name of 1-128 characters")
    check_port(api_port, "--api-port")
    check_port(link_port, "--link-port")
    check_host(api_host, "--api-host")
    check_host(link_host, "--link-host")
    if not 1 <= link_test_interval <= 7 * 24 * 3600:
        raise InputError("--test-interval: expected seconds from 1 to 604800 (a week)")
    files = StationFiles(data_dir)
    if files.config.exists():
        raise InputError(f"{files.config} already exists; this directory holds a station already")
    url = database_url or f"sqlite:///{(data_dir / 'redline.db').resolve()}"
    database.check_url(url)  # validate before anything is written
    chosen = [check_endpoint(e) for e in (endpoints or [f"https://{_url_host(link_host)}:{link_port}"])]
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    keys = StationKeys.generate()
    keys.save(files.keys)
    cert = make_self_signed_certificate(station_id, keys.tls)
    files.tls_cert.write_bytes(cert)
    await database.create(url)  # refuse to leave a half-made station
    config = StationConfig(
        station_id=station_id,
        name=name,
        database_url=url,
        api_host=api_host,
        api_port=api_port,
        link_host=link_host,
        link_port=link_port,
        endpoints=chosen,
        link_test_interval=link_test_interval,
    )
    # 0600 like the keys: the database URL may carry a password. Written atomically and last:
    # its presence means "initialised".
    write_private_file(files.config, (json.dumps(asdict(config), indent=2) + "\n").encode("utf-8"))
    return StationIdentity(files, config, keys, cert.decode("ascii"))
