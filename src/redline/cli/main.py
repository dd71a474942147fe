"""Entry point of the ``redline`` command. Every command is listed in docs/cli.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from redline import __version__
from redline.cli import backup, logs, notices
from redline.domain.stations import Role, check_peer_names
from redline.domain.watch import check_display_name
from redline.errors import InputError, RedlineError
from redline.runtime import init_station, station_store
from redline.services import operators, pairing
from redline.services.accounts import AccountService
from redline.services.station import load_identity
from redline.store.console import ConsoleStore
from redline.store.station import Store

DEFAULT_DATA_DIR = "redline-data"


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir or os.environ.get("REDLINE_DATA_DIR") or DEFAULT_DATA_DIR)


async def _with_store(args: argparse.Namespace, action: Callable[[Any, Store], Awaitable[int]]) -> int:
    """Run ``action`` on the station's store, opened by the same wiring as ``redline serve``."""
    async with station_store(_data_dir(args)) as (me, store):
        return await action(me, store)


async def cmd_init(args: argparse.Namespace) -> int:
    me = await init_station(
        _data_dir(args),
        args.station,
        args.name,
        args.database,
        api_port=args.api_port,
        link_port=args.link_port,
        endpoints=args.endpoint,
        api_host=args.api_host,
        link_host=args.link_host,
        link_test_interval=args.test_interval,
    )
    print(f"initialised station {me.station_id!r} in {me.files.root}")
    print(f"  TLS fingerprint  {me.card().tls_fingerprint}")
    print(f"  link endpoints   {', '.join(me.config.endpoints)}")
    print(f"next: `redline card export --data-dir {me.files.root} --out {me.station_id}.card.json`")
    return 0


async def cmd_card_export(args: argparse.Namespace) -> int:
    me = load_identity(_data_dir(args))
    text = json.dumps(me.card().to_json(), indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote contact card of {me.station_id!r} to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


async def cmd_peer_add(args: argparse.Namespace) -> int:
    raw = sys.stdin.buffer.read() if args.card == "-" else _read_file(args.card)
    card = pairing.read_card(raw)
    names = check_peer_names(args.display_name or [])

    async def act(me: Any, store: Store) -> int:
        peer = await pairing.add_peer(store, me, card, display_names=names)
        shown = peer.display_name("en")
        print(f"added peer {peer.station_id!r} ({shown}), NOT verified: no traffic flows yet")
        print(f"  verification code  {pairing.code_for(me, peer)}")
        print(f"compare it with the other administrator, then: redline peer verify {peer.station_id}")
        return 0

    return await _with_store(args, act)


def _read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise RedlineError(f"cannot read {path}: {exc.strerror}") from None


async def cmd_peer_list(args: argparse.Namespace) -> int:
    async def act(me: Any, store: Store) -> int:
        peers = await store.peers()
        if not peers:
            print("no peers; import a contact card with `redline peer add CARD`")
        for p in peers:
            state = f"verified {p.verified_at}" if p.verified else "NOT verified"
            names = " / ".join(name for _, name in p.display_names) or p.name
            print(f"{p.station_id:<16} {names:<24} {state:<40} {' '.join(p.endpoints)}")
        return 0

    return await _with_store(args, act)


async def cmd_peer_rename(args: argparse.Namespace) -> int:
    names = check_peer_names(args.names)

    async def act(me: Any, store: Store) -> int:
        peer = await pairing.rename_peer(store, args.station, names)
        shown = ", ".join(f"{lang}={name}" for lang, name in peer.display_names) or "(none: the card's name)"
        print(f"peer {peer.station_id!r} is now shown as {shown}")
        return 0

    return await _with_store(args, act)


async def cmd_peer_verify(args: argparse.Namespace) -> int:
    async def act(me: Any, store: Store) -> int:
        peer = await pairing.peer_or_fail(store, args.station)
        code = pairing.code_for(me, peer)
        print(f"verification code for {me.station_id} <-> {peer.station_id}:  {code}")
        if args.code:
            confirm = args.code
        elif args.yes:
            confirm = code
        else:
            answer = input("Does the other administrator read exactly this code? [y/N] ").strip().lower()
            if answer not in ("y", "yes"):
                print("not verified; no traffic will flow with this peer")
                return 1
            confirm = code
        await pairing.verify_peer(store, me, peer.station_id, confirm)
        print(f"peer {peer.station_id!r} verified")
        return 0

    return await _with_store(args, act)


async def cmd_operator_add(args: argparse.Namespace) -> int:
    role = Role.parse(args.role)
    display_name = check_display_name(args.display_name) if args.display_name is not None else None

    async def act(me: Any, store: Store) -> int:
        token = await operators.add_operator(store, args.name, role)
        if display_name:
            await AccountService(ConsoleStore(store)).set_display_name(args.name, display_name, "admin")
        print(f"operator {args.name!r} ({role.value}) created; token, shown only now:", file=sys.stderr)
        print(token)
        return 0

    return await _with_store(args, act)


def _read_password(args: argparse.Namespace) -> str:
    """A console password from standard input (``--password-stdin``) or typed twice at a prompt."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("console password (12 characters or more): ")
    if first != getpass.getpass("again: "):
        raise InputError("password: the two entries differ")
    return first


async def cmd_operator_password(args: argparse.Namespace) -> int:
    password = _read_password(args)

    async def act(me: Any, store: Store) -> int:
        await AccountService(ConsoleStore(store)).set_password(args.name, password, "admin")
        print(f"console password of {args.name!r} set; their console sessions were ended")
        return 0

    return await _with_store(args, act)


async def cmd_operator_totp(args: argparse.Namespace) -> int:
    async def act(me: Any, store: Store) -> int:
        uri = await AccountService(ConsoleStore(store)).enroll_totp(args.name, "admin")
        print(f"second factor of {args.name!r} enrolled; add this to an authenticator app:", file=sys.stderr)
        print(uri)
        return 0

    return await _with_store(args, act)


def _account_command(change: str) -> Callable[[argparse.Namespace], Awaitable[int]]:
    """``redline operator disable|enable|unlock NAME``: one account change, audited as ``admin``."""

    async def run(args: argparse.Namespace) -> int:
        async def act(me: Any, store: Store) -> int:
            accounts = AccountService(ConsoleStore(store))
            if change == "unlock":
                await accounts.unlock(args.name, "admin")
            else:
                await accounts.set_disabled(args.name, change == "disable", "admin")
            print(f"operator {args.name!r} {change.removesuffix('e')}ed")
            return 0

        return await _with_store(args, act)

    return run


async def cmd_serve(args: argparse.Namespace) -> int:
    from redline.cli.serve import serve

    await serve(_data_dir(args), args.log_format)
    return 0


async def cmd_doctor(args: argparse.Namespace) -> int:
    from redline.cli.doctor import cmd_doctor as doctor

    return await doctor(args, _data_dir(args))


async def cmd_demo(args: argparse.Namespace) -> int:
    from redline.cli.demo import run_demo

    return await run_demo(Path(args.data_dir) if args.data_dir else None, args.info)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="redline", description="Redline deconfliction hotline station.")
    parser.add_argument("--version", action="version", version=f"redline {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, func: Callable[[argparse.Namespace], Awaitable[int]], help_text: str, parent: Any = sub
    ) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(name, help=help_text, description=help_text)
        p.add_argument(
            "--data-dir", help=f"station directory (default $REDLINE_DATA_DIR or ./{DEFAULT_DATA_DIR})"
        )
        p.set_defaults(func=func)
        return p

    p = command("init", cmd_init, "create a station: keys, TLS certificate, configuration, database")
    p.add_argument("--station", required=True, help="station id, e.g. washington")
    p.add_argument("--name", required=True, help="display name, e.g. 'Washington NMCC'")
    p.add_argument(
        "--database",
        help="database URL (default: SQLite file in the data directory; "
        "postgresql://user@host/db works the same)",
    )
    p.add_argument("--api-port", type=int, default=8080, help="operator API port (default 8080)")
    p.add_argument("--link-port", type=int, default=8443, help="link port for peers (default 8443)")
    p.add_argument(
        "--api-host", default="127.0.0.1", help="address the operator API listens on (default 127.0.0.1)"
    )
    p.add_argument("--link-host", default="127.0.0.1", help="address the link listens on (default 127.0.0.1)")
    p.add_argument(
        "--test-interval",
        type=float,
        default=3600.0,
        help="seconds between link tests on each link (default 3600)",
    )
    p.add_argument(
        "--endpoint",
        action="append",
        help="link URL advertised to peers, repeatable (default https://127.0.0.1:LINK_PORT)",
    )

    card = sub.add_parser("card", help="contact cards").add_subparsers(
        dest="card_command", required=True, metavar="ACTION"
    )
    p = command("export", cmd_card_export, "write this station's contact card (JSON)", card)
    p.add_argument("--out", help="file to write (default: standard output)")

    peer = sub.add_parser("peer", help="peers and pairing").add_subparsers(
        dest="peer_command", required=True, metavar="ACTION"
    )
    p = command("add", cmd_peer_add, "import a peer's contact card (unverified until `peer verify`)", peer)
    p.add_argument("card", help="card file, or - for standard input")
    p.add_argument(
        "--display-name",
        action="append",
        metavar="LANG=NAME",
        help="what the console calls the peer in LANG, repeatable (e.g. en=Beijing zh-Hans=北京)",
    )
    p = command("rename", cmd_peer_rename, "set what the console calls a peer, per language", peer)
    p.add_argument("station", help="peer station id")
    p.add_argument(
        "names", nargs="+", metavar="LANG=NAME", help="e.g. en=Beijing zh-Hans=北京; LANG= removes one"
    )
    command("list", cmd_peer_list, "list peers and whether they are verified", peer)
    p = command("verify", cmd_peer_verify, "show the verification code for a peer and confirm it", peer)
    p.add_argument("station", help="peer station id")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--code", help="the code the other administrator read out; verified if it matches")
    group.add_argument("--yes", action="store_true", help="confirm without a prompt (codes compared already)")

    op = sub.add_parser("operator", help="operator accounts").add_subparsers(
        dest="operator_command", required=True, metavar="ACTION"
    )
    p = command("add", cmd_operator_add, "create an operator account and print its API token", op)
    p.add_argument("name")
    p.add_argument("--role", default="operator", help="operator, supervisor, auditor or admin")
    p.add_argument("--display-name", help="the name the console shows, e.g. 'Maj Daniel Ortiz'")
    p = command("password", cmd_operator_password, "set an operator's console password", op)
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p = command("totp", cmd_operator_totp, "enrol a new TOTP second factor; prints its otpauth:// URI", op)
    p.add_argument("name")
    for change, what in (
        ("disable", "disable an account: no console login, no API token; its sessions end"),
        ("enable", "enable a disabled account again"),
        ("unlock", "clear an account's failed-login count and lock"),
    ):
        p = command(change, _account_command(change), what, op)
        p.add_argument("name")

    p = command("serve", cmd_serve, "run the station: operator API, link endpoint, delivery workers")
    p.add_argument(
        "--log-format",
        choices=("text", "json"),
        help="log lines as text or JSON objects, one event a line (default: log_format in station.json)",
    )
    p = command("doctor", cmd_doctor, "check a station directory and print what to fix; exit 1 on any FAIL")
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    p.add_argument("--timeout", type=float, default=3.0, help="seconds each peer path may take (default 3)")
    p = command("demo", cmd_demo, "two paired stations, washington and beijing, on loopback")
    p.add_argument("--info", help="also write the stations' URLs and tokens to this JSON file")
    notices.register(sub, command, _data_dir)
    backup.register(sub, command, _data_dir)
    return parser


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (it comes with uvicorn[standard]): a faster loop for the same code."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # What a station writes (keys, configuration, database, tokens, the demo's --info) is for its
    # owner only; the files holding secrets are also created 0600 explicitly.
    os.umask(0o077)
    logs.configure(args.verbose, getattr(args, "log_format", None) or "text")
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            result: int = runner.run(args.func(args))
        return result
    except RedlineError as exc:
        print(f"redline: error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
