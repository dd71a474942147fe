"""``redline notice ...``: activity notices and conflicts, through the running station.

The station holds the conflict index, so these commands never touch the
database: each one is a single request to the station's operator API
(``/api/v1``, found from the station's ``station.json`` or given with
``--api``), authenticated with an operator's bearer token (``--token`` or
``$REDLINE_TOKEN``). :class:`OperatorApi` is the one place httpx is used; it
turns refused connections, timeouts and the API's JSON error answers into
``RedlineError`` with one readable line, which ``main`` prints as
``redline: error: ...``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from redline.errors import AuthError, InputError, RedlineError, StationConfigError
from redline.json_input import parse_json
from redline.services.station import load_identity

TOKEN_VARIABLE = "REDLINE_TOKEN"
TIMEOUT_SECONDS = 30.0  # a large import is checked against every notice before the answer
FORMATS = ("geojson", "f3548", "notam")
IMPORT_FORMATS = (*FORMATS, "navwarn")
SOURCE_NAMES = {
    "item_e": "areas from item E)",
    "q_line": "Q-line circle (item E) defines no area)",
    "text": "areas from the warning text",
}

Command = Callable[[argparse.Namespace], Awaitable[int]]


class StationUnreachable(RedlineError):
    """The station's operator API did not answer: not running, wrong address, or too slow."""

    code = "station_unreachable"


# -- talking to the station -----------------------------------------------------------------


def api_url(args: argparse.Namespace, data_dir: Path) -> str:
    """``--api`` if given, else the operator API address in the station's configuration."""
    if args.api:
        return str(args.api).rstrip("/")
    try:
        config = load_identity(data_dir).config
    except StationConfigError as exc:
        raise StationConfigError(f"{exc.message} (or give the station's API with --api URL)") from None
    host = config.api_host
    if host in ("0.0.0.0", "::", ""):  # listening everywhere: reach it on loopback
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{config.api_port}/api/v1"


def api_token(args: argparse.Namespace) -> str:
    token = args.token or os.environ.get(TOKEN_VARIABLE)
    if not token:
        raise AuthError(
            f"no API token: pass --token TOKEN or set ${TOKEN_VARIABLE} "
            "(an operator's token, printed once by `redline operator add`)"
        )
    return str(token).strip()


class OperatorApi:
    """One station's operator API; errors come back as ``RedlineError`` with the API's message."""

    def __init__(self, base_url: str, token: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self.base_url = base_url
        self._timeout = timeout
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )

    async def __aenter__(self) -> OperatorApi:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: object = None,
        content: bytes | None = None,
        content_type: str = "application/json",
    ) -> httpx.Response:
        url = f"{self.base_url}{path}"
        if body is not None:
            content = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": content_type} if content is not None else None
        try:
            response = await self._client.request(
                method, path, params=params, content=content, headers=headers
            )
        except httpx.ConnectError:
            raise StationUnreachable(
                f"cannot connect to the station at {self.base_url}: is `redline serve` running? "
                "(check --data-dir or --api)"
            ) from None
        except httpx.TimeoutException:
            raise StationUnreachable(
                f"the station at {self.base_url} did not answer {method} {url} within {self._timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise StationUnreachable(f"{method} {url} failed: {exc or type(exc).__name__}") from None
        if response.status_code >= 400:
            raise RedlineError(_error_message(response))
        return response

    async def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self.request(method, path, **kwargs)
        try:
            data = response.json()
        except ValueError:
            raise StationUnreachable(
                f"{self.base_url}{path} answered HTTP {response.status_code} with something "
                "that is not JSON: is --api the station's operator API?"
            ) from None
        if not isinstance(data, dict):
            raise StationUnreachable(f"{self.base_url}{path} answered JSON that is not an object")
        return data


async def walk_pages(
    api: OperatorApi, path: str, key: str, params: dict[str, str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every row of a paged list (following ``next`` until it is null), and the last page's answer."""
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        answer = await api.json("GET", path, params={**params, **({"cursor": cursor} if cursor else {})})
        rows.extend(answer.get(key) or [])
        cursor = answer.get("next")
        if not cursor:
            return rows, answer


def _error_message(response: httpx.Response) -> str:
    """The API's own message (``{"error": {"code", "message"}}``), else the status and some text."""
    try:
        error = response.json()["error"]
        return str(error["message"])
    except (ValueError, KeyError, TypeError):
        text = " ".join(response.text.split())[:200]
        return f"the station answered HTTP {response.status_code} {response.reason_phrase}: {text}"


# -- reading files ----------------------------------------------------------------------------


def read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def read_json(path: str) -> object:
    raw = read_input(path)
    where = "standard input" if path == "-" else path
    return parse_json(raw, where)


# -- what the commands print ----------------------------------------------------------------------


def short_time(value: object) -> str:
    """``2026-03-01T10:00:00.000000Z`` as ``2026-03-01 10:00:00Z``; None as ``-``."""
    if not isinstance(value, str):
        return "-"
    text = value.replace("T", " ")
    if "." in text:
        text = text.split(".", 1)[0] + "Z"
    return text


def window_text(window: dict[str, Any]) -> tuple[str, str]:
    start = short_time(window.get("start"))
    if window.get("permanent"):
        return start, "PERM"
    end = short_time(window.get("end"))
    return start, f"{end} EST" if window.get("estimated_end") else end


def conflict_text(c: dict[str, Any], *, mine: str | None = None) -> str:
    """One line: the pair (or the other notice), how close, when, and the altitude band."""
    a, b = c.get("notice_a"), c.get("notice_b")
    if mine is not None:
        other = b if a == mine else a
        party = c.get("party_b") if a == mine else c.get("party_a")
        who = f"conflict with {other}" + (f" ({party})" if party else "")
    else:
        who = f"{a} ({c.get('party_a') or '?'}) ~ {b} ({c.get('party_b') or '?'})"
    if c.get("overlap"):
        area = c.get("overlap_area_m2")
        how = "volumes overlap" + (f" ({area / 1e6:.3f} km2)" if isinstance(area, int | float) else "")
    else:
        how = f"separation {float(c.get('separation_m') or 0):.0f} m (within buffers)"
    end = short_time(c["end"]) if c.get("end") else "PERM"
    when = f"{short_time(c.get('start'))} to {end}"
    band = f"{float(c.get('lower_m') or 0):.0f}-{float(c.get('upper_m') or 0):.0f} m"
    state = f"{c['state']}  " if "state" in c else ""
    return f"{state}{who}  {how}  {when}  {band}"


def print_filed(verb: str, answer: dict[str, Any]) -> None:
    notice = answer["notice"]
    print(f"{verb} notice {notice['id']} (version {notice['version']}, {notice['state']})")
    conflicts = answer.get("conflicts") or []
    for c in conflicts:
        print(conflict_text(c, mine=notice["id"]))
    if not conflicts and notice["state"] in ("active", "amended"):
        print("no conflicts")


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


NOTICE_COLUMNS = ("ID", "PARTY", "VER", "STATE", "ACTIVITY", "START", "END", "IN FORCE")


def notice_table(notices: list[dict[str, Any]]) -> list[str]:
    rows = [NOTICE_COLUMNS]
    for n in notices:
        start, end = window_text(n.get("window") or {})
        rows.append(
            (
                str(n["id"]),
                str(n["party"]),
                str(n["version"]),
                str(n["state"]),
                str(n.get("activity", "")),
                start,
                end,
                "yes" if n.get("in_force") else "no",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(NOTICE_COLUMNS))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]


# -- the commands ---------------------------------------------------------------------------------------


class NoticeCommands:
    """Each command opens the API, does one request and prints the answer."""

    def __init__(self, data_dir: Callable[[argparse.Namespace], Path]) -> None:
        self._data_dir = data_dir

    def api(self, args: argparse.Namespace) -> OperatorApi:
        token = api_token(args)
        return OperatorApi(api_url(args, self._data_dir(args)), token)

    async def file(self, args: argparse.Namespace) -> int:
        body = read_json(args.file)
        async with self.api(args) as api:
            answer = await api.json("POST", "/notices", body=body)
        if args.json:
            print_json(answer)
        else:
            print_filed("filed", answer)
        return 0

    async def amend(self, args: argparse.Namespace) -> int:
        body = read_json(args.file)
        async with self.api(args) as api:
            answer = await api.json("POST", f"/notices/{_path_id(args.id)}/amend", body=body)
        if args.json:
            print_json(answer)
        else:
            print_filed("amended", answer)
        return 0

    async def cancel(self, args: argparse.Namespace) -> int:
        body = {"reason": args.reason} if args.reason else {}
        async with self.api(args) as api:
            answer = await api.json("POST", f"/notices/{_path_id(args.id)}/cancel", body=body)
        if args.json:
            print_json(answer)
        else:
            notice = answer["notice"]
            print(f"cancelled notice {notice['id']} (version {notice['version']})")
        return 0

    async def list(self, args: argparse.Namespace) -> int:
        params = {}
        if args.party:
            params["party"] = args.party
        if args.state:
            params["state"] = args.state
        if args.in_force:
            params["in_force"] = "true"
        async with self.api(args) as api:
            notices, last = await walk_pages(api, "/notices", "notices", params)
        by_party: dict[str, int] = {}
        for n in notices:
            by_party[n["party"]] = by_party.get(n["party"], 0) + 1
        if args.json:
            print_json({**last, "notices": notices, "count": len(notices), "by_party": by_party})
            return 0
        if not notices:
            print("no notices")
            return 0
        for line in notice_table(notices):
            print(line)
        counts = ", ".join(f"{party} {n}" for party, n in sorted(by_party.items()))
        print(f"{len(notices)} notice(s) at {short_time(last.get('at'))}: {counts}")
        return 0

    async def conflicts(self, args: argparse.Namespace) -> int:
        async with self.api(args) as api:
            conflicts, last = await walk_pages(api, "/conflicts", "conflicts", {"state": args.state})
        if args.json:
            print_json({**last, "conflicts": conflicts})
            return 0
        if not conflicts:
            print(f"no {'' if args.state == 'all' else args.state + ' '}conflicts")
        for c in conflicts:
            print(conflict_text(c))
        return 0

    async def import_(self, args: argparse.Namespace) -> int:
        if args.format in ("notam", "navwarn"):
            raw, content_type = read_input(args.file), "text/plain; charset=utf-8"
        else:
            raw, content_type = json.dumps(read_json(args.file)).encode("utf-8"), "application/json"
        async with self.api(args) as api:
            answer = await api.json(
                "POST",
                "/notices/import",
                params={"format": args.format},
                content=raw,
                content_type=content_type,
            )
        if args.json:
            print_json(answer)
            return 0
        notices = answer.get("notices") or []
        print(f"filed {answer.get('count', len(notices))} notice(s) from {args.format}")
        for n in notices:
            print(n["id"])
        # Where each geometry came from, on stderr: stdout stays one id per line for scripts.
        for source in answer.get("sources") or []:
            if source.get("geometry_source") in SOURCE_NAMES:
                what = SOURCE_NAMES[source["geometry_source"]]
                notes = "".join(f"; {note}" for note in source.get("notes") or [])
                print(f"{source['id']}: {what}, {source.get('areas')} area(s){notes}", file=sys.stderr)
        return 0

    async def export(self, args: argparse.Namespace) -> int:
        params = {"format": args.format}
        if args.party:
            params["party"] = args.party
        async with self.api(args) as api:
            response = await api.request("GET", "/notices/export", params=params)
        if args.out:
            try:
                Path(args.out).write_bytes(response.content)
            except OSError as exc:
                raise InputError(f"cannot write {args.out}: {exc.strerror}") from None
            print(
                f"wrote {args.format} export ({len(response.content)} bytes) to {args.out}", file=sys.stderr
            )
        else:
            sys.stdout.buffer.write(response.content)
            sys.stdout.flush()
        return 0


def _path_id(notice_id: str) -> str:
    """A notice id as a path segment: ids are letters, digits and ``._:-``; refuse anything else."""
    if not notice_id or any(not (ch.isascii() and (ch.isalnum() or ch in "._:-")) for ch in notice_id):
        raise InputError(f"notice id {notice_id!r}: expected letters, digits, '.', '_', ':' or '-'")
    return notice_id


# -- the parser --------------------------------------------------------------------------------------


def register(
    subparsers: Any,
    command: Callable[..., argparse.ArgumentParser],
    data_dir: Callable[[argparse.Namespace], Path],
) -> None:
    """Add ``redline notice ...`` to the top-level parser; ``command`` is main's subcommand helper."""
    run = NoticeCommands(data_dir)
    group = subparsers.add_parser(
        "notice", help="activity notices and conflicts, through the running station's API"
    ).add_subparsers(dest="notice_command", required=True, metavar="ACTION")

    def action(name: str, func: Command, help_text: str) -> argparse.ArgumentParser:
        p = command(name, func, help_text, group)
        p.add_argument("--api", metavar="URL", help="operator API (default: from the station's station.json)")
        p.add_argument("--token", help=f"operator API token (default ${TOKEN_VARIABLE})")
        return p

    p = action("file", run.file, "file a new notice from a JSON file; prints its id and any conflicts")
    p.add_argument("file", help="notice JSON (docs/deconfliction.md), or - for standard input")
    p.add_argument("--json", action="store_true", help="print the API's JSON answer")

    p = action("list", run.list, "list notices: ours and our peers'")
    p.add_argument("--party", help="only this party's notices")
    p.add_argument("--state", help="only these states, comma-separated (e.g. active,amended)")
    p.add_argument("--in-force", action="store_true", help="only notices in force now")
    p.add_argument("--json", action="store_true", help="print the API's JSON answer")

    p = action("amend", run.amend, "replace one of our notices with a new version from a JSON file")
    p.add_argument("id", help="notice id")
    p.add_argument("file", help="the amended notice JSON, or - for standard input")
    p.add_argument("--json", action="store_true", help="print the API's JSON answer")

    p = action("cancel", run.cancel, "cancel one of our notices; its conflicts close")
    p.add_argument("id", help="notice id")
    p.add_argument("--reason", help="why, sent to the peers (up to 500 characters)")
    p.add_argument("--json", action="store_true", help="print the API's JSON answer")

    p = action(
        "import",
        run.import_,
        "file notices from GeoJSON, ASTM F3548 JSON, ICAO NOTAM or navigational warning text",
    )
    p.add_argument("--format", required=True, choices=IMPORT_FORMATS)
    p.add_argument("file", help="file to import, or - for standard input")
    p.add_argument("--json", action="store_true", help="print the API's JSON answer")

    p = action("export", run.export, "write the notices in force as GeoJSON, ASTM F3548 JSON or NOTAM text")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--party", help="only this party's notices")
    p.add_argument("--out", help="file to write (default: standard output)")

    p = action("conflicts", run.conflicts, "list conflicts between our notices and our peers'")
    p.add_argument("--state", default="open", choices=("open", "closed", "all"), help="default open")
    p.add_argument("--json", action="store_true", help="print the API's JSON answer")
