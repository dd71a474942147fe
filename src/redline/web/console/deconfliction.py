"""The deconfliction page: a map and a timeline of the notices in force and the open conflicts.

``/deconfliction`` is a shell; ``static/map.js`` fetches ``/deconfliction/data``
every few seconds and draws it with Leaflet. The server does the geodesy
(``redline.geo.drawing``), so the browser only joins points: a circle arrives
as a ring of points on the WGS84 geodesic circle, a polygon with its geodesic
edges densified, a corridor as its centre line plus the outline of its
half-width. Each notice is shifted by whole turns towards the centre of
everything shown, so a volume across the antimeridian draws contiguous and two
notices either side of it draw side by side (the basemap is drawn three times,
at -360, 0 and +360 degrees, to lie under them).

Leaflet, Leaflet-Geoman (drawing our notices, ``notice_forms``), topojson-client
and the Natural Earth coastline (``world-atlas``) are npm packages installed by
``make setup`` into ``vendor/node_modules`` (never committed); ``/vendor/...``
serves only the files named in ``VENDOR_FILES``.
Without them the page still lists notices and conflicts and draws the
timeline, and the log says what to run.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from redline.domain.records import ConflictDetail, NoticeRecord
from redline.errors import RedlineError
from redline.geo import AltitudeLimit, AltitudeUnit, Notice, drawn_point, drawn_shapes, reference_longitude
from redline.web.console.colours import CONFLICT_COLOUR, party_colours
from redline.web.console.i18n import error_text
from redline.web.console.pages import SENDERS, console_errors
from redline.web.console.render import language_of, page
from redline.web.console.security import HEADERS, NotLoggedIn, current_session, require_session
from redline.web.errors import status_for
from redline.web.services import services_of

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
    "geoman/leaflet-geoman.js": "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js",
    "geoman/leaflet-geoman.css": "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css",
    "topojson-client/topojson-client.min.js": "topojson-client/dist/topojson-client.min.js",
    "world-atlas/land-50m.json": "world-atlas/land-50m.json",
}
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".json": "application/json"}
VENDOR_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=86400"}

MAX_NOTICES = 500

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
    may_file = session.operator.role in SENDERS
    return page(request, "deconfliction.html", session, vendor=vendor_ready(), may_file=may_file)


async def deconfliction_data(request: Request) -> Response:
    """What the page draws, as JSON; errors as JSON too (a script reads this, not a person)."""
    try:
        await require_session(request)
        body = await map_data(request)
    except NotLoggedIn as exc:
        return await _error(request, 401, exc)
    except RedlineError as exc:
        return await _error(request, status_for(exc), exc)
    return JSONResponse(body, headers=HEADERS)


async def _error(request: Request, status: int, exc: RedlineError) -> JSONResponse:
    """The error as the page's script shows it: ``message`` in the reader's language."""
    lang = language_of(request, await current_session(request))
    return JSONResponse(
        {"error": {"code": exc.code, "message": error_text(exc, lang)}}, status_code=status, headers=HEADERS
    )


# -- the data ----------------------------------------------------------------------


async def map_data(request: Request) -> dict[str, Any]:
    services = services_of(request)
    me = services.station.station_id
    live = await services.notices.live(MAX_NOTICES)
    now, rows, notices, conflicts = live.now, live.rows, live.notices, live.conflicts
    conflicting = {c["notice_a"] for c in conflicts} | {c["notice_b"] for c in conflicts}
    peers = {p.station_id for p in await services.links.verified_peers()}
    parties = sorted({n.party for n in notices} | peers | {me}, key=lambda p: (p != me, p))
    colours = party_colours(parties)
    ref = reference_longitude(notices)
    party_of = {n.id: n.party for n in notices}
    return {
        "now": now,
        "me": me,
        "truncated": live.truncated,
        "parties": [{"id": p, "ours": p == me, "colour": colours[p]} for p in parties],
        "conflict_colour": CONFLICT_COLOUR,
        "notices": [
            _notice_view(n, row, now, ref, n.id in conflicting, colours[n.party], me)
            for n, row in zip(notices, rows, strict=True)
        ],
        "conflicts": [_conflict_view(c, ref, party_of) for c in conflicts],
    }


def _notice_view(
    n: Notice, row: NoticeRecord, now: str, ref: float, conflicting: bool, colour: str, me: str
) -> dict[str, Any]:
    return {
        "id": n.id,
        "party": n.party,
        "ours": n.party == me,
        "colour": colour,
        "version": n.version,
        "activity": n.activity.value,
        "title": n.title,
        "state": n.state.value,
        "priority": n.priority,
        "text": n.text[:200],
        "start": row.starts_at,
        "end": row.ends_at,
        "permanent": n.window.permanent,
        "estimated_end": n.window.estimated_end,
        "in_force": row.starts_at <= now,
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
        "shapes": drawn_shapes(n, ref),
        # Our own notices come whole, so the console can put them back into the form to amend.
        "notice": n.to_json() if n.party == me else None,
    }


def _limit(limit: AltitudeLimit) -> str:
    value = f"{limit.value:g}"
    if limit.unit is AltitudeUnit.FL:
        return f"FL{value}"
    return f"{value} {limit.unit.value} {limit.reference.value}"


def _conflict_view(c: ConflictDetail, ref: float, party_of: dict[str, str]) -> dict[str, Any]:
    return {
        "key": c["key"],
        "pair": [c["notice_a"], c["notice_b"]],
        "parties": [
            c.get("party_a") or party_of.get(c["notice_a"]),
            c.get("party_b") or party_of.get(c["notice_b"]),
        ],
        "names": [
            {"activity": c.get("activity_a", "other"), "title": c.get("title_a", "")},
            {"activity": c.get("activity_b", "other"), "title": c.get("title_b", "")},
        ],
        "where": drawn_point(float(c["where"][0]), float(c["where"][1]), ref),
        "overlap": bool(c["overlap"]),
        "separation_m": c["separation_m"],
        "overlap_area_m2": c.get("overlap_area_m2"),
        "start": c["start"],
        "end": c["end"],
        "lower_m": c["lower_m"],
        "upper_m": c["upper_m"],
    }
