"""``redline backup`` and ``redline restore`` (docs/backup.md)."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from redline.crypto.passphrase import check_passphrase
from redline.errors import InputError
from redline.runtime.backup import make_backup, read_manifest
from redline.runtime.restore import restore_backup


def _passphrase_from(args: argparse.Namespace, *, confirm: bool) -> Callable[[], str]:
    """The passphrase, read when first needed: the first line of ``--passphrase-file``, else typed
    at a prompt (twice when ``confirm``). Never from the command line, where others can read it."""

    def read() -> str:
        if args.passphrase_file:
            try:
                with Path(args.passphrase_file).open(encoding="utf-8") as f:
                    return f.readline().rstrip("\r\n")
            except OSError as exc:
                raise InputError(
                    f"--passphrase-file: cannot read {args.passphrase_file}: {exc.strerror}"
                ) from None
        try:
            first = getpass.getpass("backup passphrase: ")
            if confirm and first != getpass.getpass("again: "):
                raise InputError("passphrase: the two entries differ")
        except EOFError:
            raise InputError(
                "passphrase: none given (use --passphrase-file FILE without a terminal)"
            ) from None
        return first

    return read


async def cmd_backup(args: argparse.Namespace, data_dir: Path) -> int:
    passphrase = check_passphrase(_passphrase_from(args, confirm=True)()) if args.with_keys else None
    if args.passphrase_file and not args.with_keys:
        raise InputError("--passphrase-file seals the private keys: give --with-keys too, or leave it out")
    done = await make_backup(data_dir, Path(args.out), passphrase)
    keys = "private keys sealed with the passphrase" if done.with_keys else "no private keys"
    print(
        f"backed up station {done.station_id!r} ({done.backend}, migration {done.revision}, {keys}) "
        f"to {done.path} ({done.size} bytes)"
    )
    return 0


async def cmd_restore(args: argparse.Namespace) -> int:
    archive = Path(args.archive)
    if args.check:
        manifest = read_manifest(archive)
        print(
            f"{archive}: intact backup of station {manifest['station_id']!r} made {manifest['created_at']} "
            f"({manifest['backend']}, migration {manifest['revision']}, private keys {manifest['keys']})"
        )
        return 0
    if not args.data_dir:
        raise InputError("--data-dir: name the new station directory to restore into")
    done = await restore_backup(
        archive,
        Path(args.data_dir),
        database_url=args.database_url,
        keys_from=Path(args.keys_from) if args.keys_from else None,
        passphrase=_passphrase_from(args, confirm=False),
    )
    print(f"restored station {done.station_id!r} into {done.data_dir} (migration {done.revision})")
    print(f"  database      {make_url(done.database_url).render_as_string(hide_password=True)}")
    print(f"  private keys  from {done.keys_from}")
    for peer, (ours, theirs) in sorted(done.peers.items()):
        print(f"  link {peer:<16} chains verify: {ours} sent, {theirs} received")
    print(f"start it with `redline serve --data-dir {done.data_dir}`")
    return 0


def register(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    command: Callable[..., argparse.ArgumentParser],
    data_dir: Callable[[argparse.Namespace], Path],
) -> None:
    """Add ``redline backup`` and ``redline restore``; ``command`` is main's subcommand helper."""

    async def backup(args: argparse.Namespace) -> int:
        return await cmd_backup(args, data_dir(args))

    p = command("backup", backup, "write the station (running or not) to one archive file")
    p.add_argument("--out", required=True, help="the archive to write (must not exist)")
    p.add_argument(
        "--with-keys", action="store_true", help="include the private keys, sealed with a passphrase"
    )
    p.add_argument("--passphrase-file", help="read the passphrase from this file's first line")

    p = command("restore", cmd_restore, "make a new station directory from a backup, all or nothing")
    p.add_argument("archive", help="the file `redline backup` wrote")
    p.add_argument("--database-url", help="PostgreSQL backups: the empty database to restore into")
    p.add_argument(
        "--keys-from", metavar="DIR", help="take the private keys from this station directory (or its keys/)"
    )
    p.add_argument("--passphrase-file", help="read the passphrase from this file's first line")
    p.add_argument("--check", action="store_true", help="only check the archive and print its manifest")
