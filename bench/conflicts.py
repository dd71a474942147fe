"""Deconfliction benchmark: ConflictIndex with many active notices of two parties.

    python bench/conflicts.py [--notices 1000000] [--filings 1000] [--json FILE]

Notices are circles and polygons (4-8 geodesic edges) of 1-200 km across,
scattered over the western Pacific and across the antimeridian (100E..170W,
40S..50N), with windows of 1-12 h within a year, altitude bands within
0-15 km and buffers of 0-5 km, 0-30 min, 0-300 m.

build_s: building the notices and bulk-loading the index (``load``);
recheck_s: the full ``recheck()`` after that; file_p50_ms / file_p99_ms:
``add()`` of one new notice with its conflict check, over ``--filings`` new
notices; peak_rss_mb: the process's peak resident set size.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from pyproj import Geod

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from redline.geo.index import ConflictIndex
from redline.geo.model import (
    ActivityType,
    AltitudeBand,
    AltitudeLimit,
    AltitudeReference,
    AltitudeUnit,
    Buffers,
    CircleVolume,
    Notice,
    PolygonVolume,
    TimeWindow,
)

GEOD = Geod(ellps="WGS84")
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
PARTIES = ("washington", "beijing")


def generate(count: int, seed: int, prefix: str) -> Iterator[Notice]:
    rng = np.random.default_rng(seed)
    py = random.Random(seed)
    chunk = 10_000
    for base in range(0, count, chunk):
        n = min(chunk, count - base)
        lon = rng.uniform(100.0, 190.0, n)
        lon = np.where(lon > 180.0, lon - 360.0, lon)
        lat = rng.uniform(-40.0, 50.0, n)
        size = np.exp(rng.uniform(math.log(500.0), math.log(100_000.0), n))  # radius: 1-200 km across
        sides = rng.integers(4, 9, n)
        turn = rng.uniform(0, 360, n)
        polygon = rng.random(n) < 0.5
        # All polygon vertices of the chunk in one vectorised Geod.fwd call.
        owner = np.repeat(np.arange(n), sides)
        k = np.arange(len(owner)) - np.repeat(np.cumsum(sides) - sides, sides)
        az = turn[owner] + k * 360.0 / sides[owner] + rng.uniform(-10, 10, len(owner))
        dist = size[owner] * rng.uniform(0.7, 1.0, len(owner))
        vlon, vlat, _ = GEOD.fwd(lon[owner], lat[owner], az, dist)
        starts = np.cumsum(sides) - sides
        for i in range(n):
            if polygon[i]:
                s = starts[i]
                ring = tuple(
                    zip(vlon[s : s + sides[i]].tolist(), vlat[s : s + sides[i]].tolist(), strict=True)
                )
                volume: CircleVolume | PolygonVolume = PolygonVolume(ring)
            else:
                volume = CircleVolume((float(lon[i]), float(lat[i])), float(size[i]))
            start = YEAR_START + timedelta(minutes=py.randrange(365 * 24 * 60))
            lower = py.uniform(0, 12_000)
            yield Notice(
                id=f"{prefix}{base + i:08d}",
                party=PARTIES[(base + i) % 2],
                version=1,
                activity=ActivityType.AIR_OPERATIONS,
                volumes=(volume,),
                altitude=AltitudeBand(
                    AltitudeLimit(round(lower), AltitudeUnit.M, AltitudeReference.MSL),
                    AltitudeLimit(
                        round(lower + py.uniform(500, 3000)), AltitudeUnit.M, AltitudeReference.MSL
                    ),
                ),
                window=TimeWindow(start, start + timedelta(minutes=py.randrange(60, 12 * 60))),
                buffers=Buffers(py.uniform(0, 5000), py.uniform(0, 300), py.uniform(0, 1800)),
            )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--notices", type=int, default=1_000_000)
    parser.add_argument("--filings", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    index = ConflictIndex()
    began = time.perf_counter()
    index.load(generate(args.notices, seed=1, prefix="n"))
    build_s = time.perf_counter() - began
    print(f"built {len(index)} notices in {build_s:.1f} s", flush=True)

    began = time.perf_counter()
    conflicts = index.recheck()
    recheck_s = time.perf_counter() - began
    print(f"recheck: {len(conflicts)} conflicts in {recheck_s:.1f} s", flush=True)

    fresh = list(generate(args.filings, seed=2, prefix="f"))
    times, found = [], 0
    for notice in fresh:
        began = time.perf_counter()
        found += len(index.add(notice))
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    result = {
        "notices": args.notices,
        "filings": args.filings,
        "build_s": round(build_s, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "file_p50_ms": round(statistics.median(times), 3),
        "file_p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 3),
        "file_max_ms": round(times[-1], 3),
        "recheck_s": round(recheck_s, 2),
        "conflicts_at_recheck": len(conflicts),
        "conflicts_found_by_filings": found,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
