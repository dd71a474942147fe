"""A database's online snapshot and its restoration: SQLite's backup API, ``pg_dump``/``pg_restore``.

Both snapshots are consistent while the station runs: SQLite's backup API copies every page
inside one read transaction (WAL lets the station keep writing meanwhile), and ``pg_dump``
reads in one repeatable-read snapshot. Restoring a PostgreSQL dump needs an empty database;
:func:`drop_restored` empties it again when the restored station fails its checks.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from redline.errors import InputError, StoreError
from redline.store.engine import _MIGRATIONS, _create_private, driver_url
from redline.store.station import Store

SQLITE, POSTGRES = "sqlite", "postgresql"
_PG_BIN_DIRS = "/usr/lib/postgresql"


def backend_of(url: str) -> str:
    return SQLITE if driver_url(url).startswith("sqlite") else POSTGRES


def sqlite_path(url: str) -> Path:
    database = make_url(driver_url(url)).database
    assert database, "driver_url refuses SQLite URLs without a path"
    return Path(database)


def known_revisions() -> tuple[set[str], str]:
    """Every migration revision this Redline knows, and its head."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    assert head is not None
    return {rev.revision for rev in script.walk_revisions()}, head


# -- SQLite ---------------------------------------------------------------------


def snapshot_sqlite(url: str, dest: Path) -> str:
    """Copy the live database at ``url`` into ``dest`` (a new file, 0600); its migration revision."""
    source_path = sqlite_path(url)
    if not source_path.is_file():
        raise StoreError(f"the station's database {source_path} does not exist")
    _create_private(str(dest))
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(dest)
    try:
        source.execute("PRAGMA busy_timeout=30000")
        source.backup(target)  # all pages at once: one read transaction, one consistent state
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        return _sqlite_revision(target)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot back up {source_path}: {exc}") from None
    finally:
        target.close()
        source.close()


def _sqlite_revision(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0])


def check_sqlite_snapshot(path: Path) -> None:
    """The file is an intact SQLite database (``PRAGMA integrity_check``)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"the backup's database is damaged: {exc}") from None
    if result is None or result[0] != "ok":
        raise StoreError(f"the backup's database is damaged: {result}")


# -- PostgreSQL -----------------------------------------------------------------


def pg_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: on the PATH, else the newest in /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        (p for p in Path(_PG_BIN_DIRS).glob(f"*/bin/{name}") if p.parent.parent.name.isdigit()),
        key=lambda p: int(p.parent.parent.name),
    )
    if not versions:
        raise StoreError(f"{name} not found: install the PostgreSQL client (Debian: postgresql-client)")
    return str(versions[-1])


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq reads it, without its password, and the environment carrying it (a
    password on a command line is visible to every user of the machine)."""
    parsed: URL = make_url(driver_url(url))
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600, check=False)
    except OSError as exc:
        raise StoreError(f"{what}: cannot run {command[0]}: {exc}") from None
    if done.returncode != 0:
        raise StoreError(f"{what} failed: {done.stderr.strip()[-2000:]}")


def dump_postgres(url: str, dest: Path) -> None:
    """``pg_dump --format=custom`` of the live database at ``url`` into ``dest``."""
    conninfo, env = _libpq(url)
    _create_private(str(dest))
    command = [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={dest}"]
    _run([*command, f"--dbname={conninfo}"], env, "pg_dump")


def restore_postgres(dump: Path, url: str) -> None:
    """``pg_restore`` the dump into the (empty) database at ``url``, all or nothing."""
    conninfo, env = _libpq(url)
    command = [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
    _run([*command, "--single-transaction", f"--dbname={conninfo}", str(dump)], env, "pg_restore")


def check_pg_dump(dump: Path) -> None:
    """The file is a dump ``pg_restore`` can read (its table of contents lists)."""
    _run([pg_tool("pg_restore"), "--list", str(dump)], dict(os.environ), "reading the backup's dump")


async def _pg(url: str) -> Any:
    import asyncpg

    conninfo, env = _libpq(url)
    try:
        return await asyncpg.connect(conninfo, password=env.get("PGPASSWORD"))
    except (OSError, asyncpg.PostgresError) as exc:
        raise StoreError(f"cannot connect to {make_url(url).render_as_string()}: {exc}") from None


_USER_RELATIONS = """
    SELECT n.nspname, c.relname, c.relkind::text AS relkind
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      AND n.nspname NOT LIKE 'pg_temp%' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
"""


async def postgres_extensions(url: str) -> set[str]:
    """The database's extensions; refuses a database holding any table, view or sequence."""
    conn = await _pg(url)
    try:
        relations = await conn.fetch(_USER_RELATIONS)
        if relations:
            names = ", ".join(f"{r['nspname']}.{r['relname']}" for r in relations[:5])
            raise InputError(
                f"the database {make_url(url).render_as_string()} is not empty ({names}…): "
                "a restore needs an empty database (CREATE DATABASE …)"
            )
        rows = await conn.fetch("SELECT extname FROM pg_extension")
        return {str(r["extname"]) for r in rows}
    finally:
        await conn.close()


async def drop_restored(url: str, extensions_before: set[str]) -> None:
    """Empty the database again after a failed restore: every table, view and sequence, and the
    extensions the restore created."""
    conn = await _pg(url)
    try:
        async with conn.transaction():
            kinds = {"v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "f": "FOREIGN TABLE"}
            for row in await conn.fetch(_USER_RELATIONS):
                kind = kinds.get(row["relkind"], "TABLE")
                name = f'"{row["nspname"]}"."{row["relname"]}"'
                await conn.execute(f"DROP {kind} IF EXISTS {name} CASCADE")
            for row in await conn.fetch("SELECT extname FROM pg_extension"):
                if row["extname"] not in extensions_before:
                    await conn.execute(f'DROP EXTENSION IF EXISTS "{row["extname"]}" CASCADE')
    finally:
        await conn.close()


async def postgres_revision(url: str) -> str:
    conn = await _pg(url)
    try:
        return str(await conn.fetchval("SELECT version_num FROM alembic_version"))
    finally:
        await conn.close()


async def current_revision(store: Store) -> str:
    """The migration revision of an open store's database."""
    rows = await store.database.fetch(text("SELECT version_num FROM alembic_version"))
    return str(rows[0][0])
