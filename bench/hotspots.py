"""Where a station's CPU time goes: a summary of py-spy's collapsed stacks (``--format raw``).

    python bench/hotspots.py PROFILE.txt [PROFILE.txt ...] [--top 15] [--json FILE]

py-spy records only samples where a thread was running (not waiting), so the
shares are of busy time. Five views per file:

groups: the areas below gathered into what they do (crypto, database, HTTP
server, ...; ``GROUPS``), the view the README's breakdown quotes.
areas: by the package of the innermost frame (where the CPU actually was:
``rfc8785``, ``sqlalchemy``, ``asyncio``, ``redline/services`` ...).
on behalf of: by the innermost Redline function in the stack (the Redline code
that the time was spent for, including the libraries it called).
functions: by the innermost frame itself (self time).
redline inclusive: each Redline function by the samples with it anywhere in the
stack (a call tree flattened: callers include their callees).

bench/link.py --profile DIR and bench/notices.py --profile DIR write the files this reads
(start_profiles, finish_profiles).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# What each area is for; an area in none of them counts as "other".
GROUPS = {
    "crypto (HPKE, Ed25519)": ("redline/crypto", "cryptography"),
    "database (SQLAlchemy Core, sqlite3 / asyncpg, fsync thread)": (
        "sqlalchemy",
        "concurrent",
        "asyncpg",
        "redline/store",
        "threading",
    ),
    "HTTP server (uvicorn, Starlette, anyio)": ("uvicorn", "starlette", "anyio", "h11", "redline/web"),
    "HTTP client to the peer (httpx, httpcore, ssl)": ("httpx", "httpcore", "ssl", "h2", "hpack"),
    "RFC 8785 canonicalisation": ("rfc8785",),
    "event loop (uvloop, asyncio)": ("asyncio",),
    "JSON (stdlib)": ("json",),
    "Redline's own Python (services, wire, domain, geo ...)": (
        "redline/services",
        "redline/wire",
        "redline/domain",
        "redline/geo",
        "redline",
        "redline/protocol",
        "redline/runtime",
        "redline/transport",
        "numpy",
        "shapely",
        "pyproj",
    ),
}

FRAME = re.compile(r"^(?P<function>.*) \((?P<path>[^()]*?)(?::(?P<line>\d+))?\)$")


def start_profiles(stations: list[Any], seconds: int, out: Path) -> list[subprocess.Popen[bytes]]:
    """py-spy sampling each station (tests.support.stations.StationProcess) for ``seconds``, all
    threads, busy samples only, as
    collapsed stacks: DIR/<station>.txt."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        raise SystemExit("--profile needs py-spy: pip install py-spy")
    out.mkdir(parents=True, exist_ok=True)
    procs = []
    for s in stations:
        assert s.proc is not None
        procs.append(
            subprocess.Popen(
                [
                    spy,
                    "record",
                    "--pid",
                    str(s.proc.pid),
                    "--duration",
                    str(seconds),
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--output",
                    str(out / f"{s.station_id}.txt"),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
    return procs


def finish_profiles(spies: list[subprocess.Popen[bytes]]) -> None:
    for spy in spies:
        _, err = spy.communicate(timeout=120)
        if spy.returncode != 0:
            raise RuntimeError(f"py-spy failed: {err.decode()[-2000:]}")


def parse(path: Path) -> list[tuple[list[tuple[str, str]], int]]:
    """Each stack as [(function, file), ...] outermost first, with its sample count."""
    stacks = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            raise SystemExit(f"{path}:{number}: expected 'frame;frame;... COUNT', got {line[:120]!r}")
        frames = []
        for raw in stack.split(";"):
            match = FRAME.match(raw)
            frames.append((match["function"], match["path"]) if match else (raw, ""))
        stacks.append((frames, int(count)))
    if not stacks:
        raise SystemExit(f"{path}: no samples (was the station busy while py-spy ran?)")
    return stacks


def area(file: str) -> str:
    parts = file.split("/")
    if parts[0] == "redline" and len(parts) > 2:
        return "/".join(parts[:2])
    if file.startswith("<frozen"):
        return file
    return parts[0].removesuffix(".py")


def summarise(stacks: list[tuple[list[tuple[str, str]], int]], top: int) -> dict[str, Any]:
    areas: Counter[str] = Counter()
    behalf: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for frames, count in stacks:
        total += count
        function, file = frames[-1]
        areas[area(file)] += count
        functions[f"{function} ({file})"] += count
        ours = [f"{fn} ({fl})" for fn, fl in frames if fl.startswith("redline/")]
        behalf[ours[-1] if ours else "(no Redline frame)"] += count
        for name in set(ours):
            inclusive[name] += count

    def shares(counter: Counter[str]) -> dict[str, float]:
        return {key: round(100 * n / total, 1) for key, n in counter.most_common(top)}

    groups: Counter[str] = Counter()
    for name, n in areas.items():
        groups[next((g for g, members in GROUPS.items() if name in members), "other")] += n
    return {
        "samples": total,
        "groups_pct": {key: round(100 * n / total, 1) for key, n in groups.most_common()},
        "areas_pct": shares(areas),
        "on_behalf_of_pct": shares(behalf),
        "functions_pct": shares(functions),
        "redline_inclusive_pct": shares(inclusive),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("profiles", nargs="+", type=Path, help="py-spy raw (collapsed) profiles")
    parser.add_argument("--top", type=int, default=15, help="rows per view (default 15)")
    parser.add_argument("--json", help="write the summaries to this file as JSON")
    args = parser.parse_args()
    if args.top <= 0:
        parser.error(f"--top: must be positive, not {args.top}")
    summaries = {}
    for path in args.profiles:
        if not path.is_file():
            parser.error(f"{path}: no such file")
        summary = summarise(parse(path), args.top)
        summaries[path.stem] = summary
        print(f"\n== {path} ({summary['samples']} busy samples)")
        for view in ("groups_pct", "areas_pct", "on_behalf_of_pct", "functions_pct", "redline_inclusive_pct"):
            print(f"-- {view.removesuffix('_pct').replace('_', ' ')} (% of busy samples)")
            for key, pct in summary[view].items():
                print(f"  {pct:5.1f}  {key}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(summaries, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
