"""The deconfliction page: a map and a timeline of the notices in force and the open conflicts.

``/deconfliction`` is a shell; ``static/map.js`` fetches ``/deconfliction/data``
every few seconds and draws it with Leaflet. The server does the geodesy, so
the browser only joins points: a circle arrives as a ring of points on the
WGS84 geodesic circle, a polygon with its geodesic edges densified, a corridor
as its centre line plus the outline of its half-width. Longitudes are unwrapped
along each shape and each notice is shifted by whole turns towards the centre
of everything shown, so a volume across the antimeridian draws contiguous and
two notices either side of it draw side by side (the basemap is drawn three
times, at -360, 0 and +360 degrees, to lie under them).

Leaflet, topojson-client and the Natural Earth coastline (``world-atlas``) are
npm packages installed by ``make setup`` into ``vendor/node_modules`` (never
committed); ``/vendor/...`` serves only the files named in ``VENDOR_FILES``.
Without them the page still lists notices and conflicts and draws the
timeline, and the log says what to run.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from redline.domain.clock import format_ts, utc_now
from redline.errors import InputError, RedlineError
from redline.geo.model import (
    AltitudeLimit,
    AltitudeUnit,
    CircleVolume,
    CorridorVolume,
    LonLat,
    Notice,
    PolygonVolume,
    Volume,
)
from redline.geo.shapes import GEOD, project, spherical_mean
from redline.services.deconfliction import stored_notice
from redline.web.console.pages import console_errors
from redline.web.console.render import page
from redline.web.console.security import HEADERS, NotLoggedIn, require_session, station_of
from redline.web.errors import status_for

log = logging.getLogger(__name__)

VENDOR_DIR = Path(__file__).resolve().parent / "vendor" / "node_modules"
NPM_COMMAND = "npm ci --prefix src/redline/web/console/vendor --no-audit --no-fund"
# URL under /vendor/ -> file under vendor/node_modules. Nothing else there is served.
VENDOR_FILES = {
    "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    **{
        f"leaflet/images/{n}": f"leaflet/dist/images/{n}"
        for n in ("layers.png", "layers-2x.png", "marker-icon.png", "marker-icon-2x.png", "marker-shadow.png")
    },
    "topojson-client/topojson-client.min.js": "topojson-client/dist/topojson-client.min.js",
    "world-atlas/land-50m.json": "world-atlas/land-50m.json",
}
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".json": "application/json"}
VENDOR_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=86400"}

LIVE_STATES = ("active", "amended")
MAX_NOTICES = 500
CIRCLE_POINTS = 96
EDGE_STEP_M = 25_000.0  # geodesic edges are densified to points at most this far apart
MAX_EDGE_POINTS = 200
MAX_LAT = 85.0  # the map's Web Mercator ends near 85.05 degrees
OURS_COLOUR = "#4c9aff"
PEER_COLOURS = ("#f5a524", "#b57cf2", "#3ecf8e", "#f27ca0", "#6fd3e8", "#d4c44a")

_missing_logged = False


def vendor_ready() -> bool:
    """Whether the npm packages are installed; says so once, loudly, in the log when they are not."""
    global _missing_logged
    missing = [f for f in VENDOR_FILES.values() if not (VENDOR_DIR / f).is_file()]
    if missing and not _missing_logged:
        _missing_logged = True
        log.error(
            "console map: %d file(s) missing under %s (first: %s); run `make setup` or `%s`. "
            "The deconfliction page works without its map until then.",
            len(missing),
            VENDOR_DIR,
            missing[0],
            NPM_COMMAND,
        )
    return not missing


async def vendor_file(request: Request) -> Response:
    name = request.path_params["path"]
    relative = VENDOR_FILES.get(name)
    if relative is None or not (VENDOR_DIR / relative).is_file():
        vendor_ready()
        return Response(
            f"no vendor file {name!r}\n", status_code=404, media_type="text/plain", headers=HEADERS
        )
    path = VENDOR_DIR / relative
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=VENDOR_HEADERS)


@console_errors
async def deconfliction(request: Request) -> Response:
    session = await require_session(request)
    return page(request, "deconfliction.html", session, vendor=vendor_ready())


async def deconfliction_data(request: Request) -> Response:
    """What the page draws, as JSON; errors as JSON too (a script reads this, not a person)."""
    try:
        await require_session(request)
        body = await map_data(request)
    except NotLoggedIn as exc:
        return _error(401, exc)
    except RedlineError as exc:
        return _error(status_for(exc), exc)
    return JSONResponse(body, headers=HEADERS)


def _error(status: int, exc: RedlineError) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": exc.code, "message": exc.message}}, status_code=status, headers=HEADERS
    )


# -- the data ----------------------------------------------------------------------


async def map_data(request: Request) -> dict[str, Any]:
    station = station_of(request)
    me = station.me.station_id
    now = format_ts(utc_now())
    rows = [
        r
        for r in await station.notices.notices(states=LIVE_STATES)
        if r["ends_at"] is None or r["ends_at"] >= now
    ]
    truncated = len(rows) > MAX_NOTICES
    rows = rows[:MAX_NOTICES]
    notices = [stored_notice(r) for r in rows]
    conflicts = [json.loads(r["detail"]) for r in await station.notices.open_conflicts()]
    conflicting = {c["notice_a"] for c in conflicts} | {c["notice_b"] for c in conflicts}
    parties = sorted({n.party for n in notices} | {me}, key=lambda p: (p != me, p))
    colours = {
        p: OURS_COLOUR if p == me else PEER_COLOURS[(i - 1) % len(PEER_COLOURS)]
        for i, p in enumerate(parties)
    }
    anchors = [_anchor(n.volumes[0]) for n in notices]
    ref = _reference_lon(anchors)
    party_of = {n.id: n.party for n in notices}
    return {
        "now": now,
        "me": me,
        "truncated": truncated,
        "parties": [{"id": p, "ours": p == me, "colour": colours[p]} for p in parties],
        "notices": [
            _notice_view(n, row, now, ref, n.id in conflicting, colours[n.party], me)
            for n, row in zip(notices, rows, strict=True)
        ],
        "conflicts": [_conflict_view(c, ref, party_of) for c in conflicts],
    }


def _notice_view(
    n: Notice, row: dict[str, Any], now: str, ref: float, conflicting: bool, colour: str, me: str
) -> dict[str, Any]:
    anchor = _anchor(n.volumes[0])[0]
    target = anchor + 360.0 * _turns(anchor, ref)
    return {
        "id": n.id,
        "party": n.party,
        "ours": n.party == me,
        "colour": colour,
        "version": n.version,
        "activity": n.activity.value,
        "state": n.state.value,
        "priority": n.priority,
        "text": n.text[:200],
        "start": row["starts_at"],
        "end": row["ends_at"],
        "permanent": n.window.permanent,
        "estimated_end": n.window.estimated_end,
        "in_force": row["starts_at"] <= now,
        "lower_m": round(n.altitude.lower.metres, 1),
        "upper_m": round(n.altitude.upper.metres, 1),
        "lower": _limit(n.altitude.lower),
        "upper": _limit(n.altitude.upper),
        "buffers": {
            "horizontal_m": n.buffers.horizontal_m,
            "vertical_m": n.buffers.vertical_m,
            "time_s": n.buffers.time_s,
        },
        "conflicting": conflicting,
        "shapes": [_shape(v, target) for v in n.volumes],
    }


def _limit(limit: AltitudeLimit) -> str:
    value = f"{limit.value:g}"
    if limit.unit is AltitudeUnit.FL:
        return f"FL{value}"
    return f"{value} {limit.unit.value} {limit.reference.value}"


def _conflict_view(c: dict[str, Any], ref: float, party_of: dict[str, str]) -> dict[str, Any]:
    lon, lat = float(c["where"][0]), float(c["where"][1])
    return {
        "key": c["key"],
        "pair": [c["notice_a"], c["notice_b"]],
        "parties": [
            c.get("party_a") or party_of.get(c["notice_a"]),
            c.get("party_b") or party_of.get(c["notice_b"]),
        ],
        "where": [_clamp(lat), lon + 360.0 * _turns(lon, ref)],
        "overlap": bool(c["overlap"]),
        "separation_m": c["separation_m"],
        "overlap_area_m2": c.get("overlap_area_m2"),
        "start": c["start"],
        "end": c["end"],
        "lower_m": c["lower_m"],
        "upper_m": c["upper_m"],
    }


# -- geometry for drawing ------------------------------------------------------------


def _anchor(volume: Volume) -> LonLat:
    if isinstance(volume, CircleVolume):
        return volume.centre
    points = volume.ring if isinstance(volume, PolygonVolume) else volume.path
    lons = np.array([p[0] for p in points], dtype=np.float64)
    lats = np.array([p[1] for p in points], dtype=np.float64)
    return spherical_mean(lons, lats)


def _reference_lon(anchors: list[LonLat]) -> float:
    """The longitude the map centres on: the spherical mean of what is shown (0 when nothing is)."""
    if not anchors:
        return 0.0
    lon, _ = spherical_mean(np.array([a[0] for a in anchors]), np.array([a[1] for a in anchors]))
    return lon


def _turns(lon: float, ref: float) -> int:
    """Whole turns to add to ``lon`` to bring it within half a turn of ``ref``."""
    return round((ref - lon) / 360.0)


def _unwrap(lons: np.ndarray[Any, np.dtype[np.float64]]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Each longitude moved by whole turns to within 180 degrees of the one before it."""
    steps = (np.diff(lons) + 180.0) % 360.0 - 180.0
    return np.concatenate([lons[:1], lons[0] + np.cumsum(steps)])


def _clamp(lat: float) -> float:
    return max(-MAX_LAT, min(MAX_LAT, lat))


def _latlngs(lons: Any, lats: Any, target: float) -> list[list[float]]:
    """[lat, lon] pairs for Leaflet: unwrapped, moved whole turns next to ``target``, rounded to ~1 m."""
    unwrapped = _unwrap(np.asarray(lons, dtype=np.float64))
    unwrapped = unwrapped + 360.0 * _turns(float(unwrapped[0]), target)
    pairs = zip(unwrapped, lats, strict=True)
    return [[round(_clamp(float(la)), 5), round(float(lo), 5)] for lo, la in pairs]


def _densify(points: tuple[LonLat, ...], closed: bool) -> tuple[list[float], list[float]]:
    """Points along the geodesic edges between ``points``, at most ``EDGE_STEP_M`` apart."""
    lons: list[float] = []
    lats: list[float] = []
    pairs = list(zip(points, points[1:] + points[:1] if closed else points[1:], strict=False))
    for a, b in pairs:
        lons.append(a[0])
        lats.append(a[1])
        distance = float(GEOD.inv(a[0], a[1], b[0], b[1])[2])
        between = min(MAX_EDGE_POINTS, int(distance // EDGE_STEP_M))
        if between > 0:
            for lon, lat in GEOD.npts(a[0], a[1], b[0], b[1], between):
                lons.append(float(lon))
                lats.append(float(lat))
    if not closed:
        lons.append(points[-1][0])
        lats.append(points[-1][1])
    return lons, lats


def _shape(volume: Volume, target: float) -> dict[str, Any]:
    if isinstance(volume, CircleVolume):
        lon, lat = volume.centre
        az = np.linspace(0.0, 360.0, CIRCLE_POINTS, endpoint=False)
        lons, lats, _ = GEOD.fwd(
            np.full(CIRCLE_POINTS, lon),
            np.full(CIRCLE_POINTS, lat),
            az,
            np.full(CIRCLE_POINTS, volume.radius_m),
        )
        return {"kind": "circle", "radius_m": volume.radius_m, "ring": _latlngs(lons, lats, target)}
    if isinstance(volume, PolygonVolume):
        lons, lats = _densify(volume.ring, closed=True)
        return {"kind": "polygon", "ring": _latlngs(lons, lats, target)}
    return _corridor(volume, target)


def _corridor(volume: CorridorVolume, target: float) -> dict[str, Any]:
    lons, lats = _densify(volume.path, closed=False)
    # The outline of the half-width, drawn in an azimuthal equidistant plane centred on the
    # corridor (where distances from the centre are true), then carried back along geodesics.
    centre = spherical_mean(np.array(lons), np.array(lats))
    xs, ys = project(centre, np.array(lons), np.array(lats))
    outline = shapely.LineString(np.column_stack([xs, ys])).buffer(volume.half_width_m, quad_segs=8)
    ring = np.asarray(outline.exterior.coords)
    n = len(ring)
    az = np.degrees(np.arctan2(ring[:, 0], ring[:, 1]))
    distance = np.hypot(ring[:, 0], ring[:, 1])
    olons, olats, _ = GEOD.fwd(np.full(n, centre[0]), np.full(n, centre[1]), az, distance)
    if not math.isfinite(float(np.sum(olons))):
        raise InputError("a corridor's outline could not be drawn")
    return {
        "kind": "corridor",
        "half_width_m": volume.half_width_m,
        "path": _latlngs(lons, lats, target),
        "outline": _latlngs(olons, olats, target),
    }
