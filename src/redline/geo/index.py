"""``ConflictIndex``: every live notice, and the conflicts between them, kept current.

Each live notice occupies a slot, and everything the index keeps of it is in
shared numpy columns, not in per-notice Python objects: per slot the notice's
times, band, buffers and version, its window and band already grown by its
own buffers (the time and altitude prefilters), its party, and a bounding
disc (anchor + reach, grown by the horizontal buffer) that decides most pairs
without exact geometry; per volume its kind, radius, anchor and reach and a
run of vertices in two shared coordinate arrays. An ``Entry`` with its
``Core`` objects is rebuilt from those columns only for the few candidates
that reach exact geometry.

Lon/lat boxes of every volume, grown by the buffer and split at the
antimeridian (or widened to all longitudes over a pole), live in a shapely
``STRtree`` plus a small unsorted tail of recent boxes scanned with numpy; the
tree is rebuilt when the tail grows past 1/64 of it. Removed and superseded
slots are marked dead and compacted away at a rebuild once they are a quarter
of the live ones. Exact geometry (``conflicts.check_pair``) runs last, on the
few candidates left, always with the smaller id first, so both stations and
every insertion order reach identical conflicts.

``recheck()`` splits the boxes by time bucket (a box joins every bucket its
grown window touches; two windows that overlap share the bucket of the later
start) and joins the boxes of each bucket with a small tree, so the spatial
join never produces the many pairs that are near in space but far apart in
time. Notices with windows much longer than a bucket (permanent ones) are
joined against the whole tree instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from redline.geo.conflicts import FOREVER, Conflict, Entry, check_pair, to_us
from redline.geo.model import Notice
from redline.geo.shapes import GEOD, Core, CoreKind, bounds_of, core_of, distance_m, spherical_mean

_MIN_TAIL = 1024
_RECHECK_CHUNK = 20_000
_KINDS = (CoreKind.POINT, CoreKind.LINE, CoreKind.AREA)
_KIND_CODE = {kind: code for code, kind in enumerate(_KINDS)}
# Re-check buckets: about twice the 90th percentile of the grown windows; windows longer than
# _LONG_BUCKETS buckets are joined against the whole tree instead.
_LONG_BUCKETS = 4
_MIN_BUCKET_S = 60.0


class _Columns:
    """Growable numpy columns, one row per slot (or volume, or vertex)."""

    def __init__(self, names: dict[str, type]) -> None:
        self.size = 0
        self.capacity = 1024
        self.data: dict[str, NDArray[Any]] = {n: np.zeros(self.capacity, t) for n, t in names.items()}

    def _reserve(self, size: int) -> None:
        if size <= self.capacity:
            return
        while self.capacity < size:
            self.capacity *= 2
        for name, column in self.data.items():
            grown = np.zeros(self.capacity, column.dtype)
            grown[: self.size] = column[: self.size]
            self.data[name] = grown

    def append(self, **values: float) -> int:
        self._reserve(self.size + 1)
        row = self.size
        for name, value in values.items():
            self.data[name][row] = value
        self.size += 1
        return row

    def extend(self, **values: NDArray[Any]) -> int:
        """Append rows from equally long arrays; returns the first new row."""
        count = len(next(iter(values.values())))
        self._reserve(self.size + count)
        row = self.size
        for name, value in values.items():
            self.data[name][row : row + count] = value
        self.size += count
        return row

    def keep(self, mask: NDArray[np.bool_], **replace: NDArray[Any]) -> None:
        """Keep only the rows where ``mask`` holds (new arrays), then overwrite columns in ``replace``."""
        kept = {name: column[: self.size][mask] for name, column in self.data.items()}
        kept.update(replace)
        self.size = int(np.count_nonzero(mask))
        self.capacity = max(1024, self.size)
        for name, column in kept.items():
            fresh = np.zeros(self.capacity, column.dtype)
            fresh[: self.size] = column
            self.data[name] = fresh

    def __getitem__(self, name: str) -> NDArray[Any]:
        return self.data[name][: self.size]


class ConflictIndex:
    def __init__(self) -> None:
        self._ids: list[str | None] = []  # per slot; None once dead
        self._slot_of: dict[str, int] = {}
        self._parties: dict[str, int] = {}
        self._party_names: list[str] = []
        self._slots = _Columns(
            {"t_lo": np.float64, "t_hi": np.float64, "z_lo": np.float64, "z_hi": np.float64,
             "party": np.int32, "alive": np.bool_, "lon": np.float64, "lat": np.float64,
             "reach": np.float64, "version": np.int64, "start_us": np.int64, "end_us": np.int64,
             "time_buffer_us": np.int64, "lower_m": np.float64, "upper_m": np.float64,
             "vertical_m": np.float64, "horizontal_m": np.float64, "core": np.int64,
             "cores": np.int32}
        )  # fmt: skip
        self._cores = _Columns(
            {"kind": np.int8, "radius": np.float64, "vertex": np.int64, "vertices": np.int32,
             "lon": np.float64, "lat": np.float64, "reach": np.float64}
        )  # fmt: skip
        self._vertices = _Columns({"lon": np.float64, "lat": np.float64})
        self._boxes = _Columns(
            {"slot": np.int64, "w": np.float64, "s": np.float64, "e": np.float64, "n": np.float64}
        )
        self._dead = 0
        self._tree: shapely.STRtree | None = None
        self._tree_size = 0
        self._conflicts: dict[tuple[str, str], Conflict] = {}
        self._pairs_of: dict[str, set[tuple[str, str]]] = {}

    # -- public -------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, notice_id: object) -> bool:
        return notice_id in self._slot_of

    def add(self, notice: Notice) -> list[Conflict]:
        """File or amend ``notice``: replaces any earlier version; returns its conflicts now."""
        self.remove(notice.id)
        if not notice.is_live:
            return []
        slot = self._insert(notice)
        entry = self._entry(slot)
        found = []
        for other in self._candidates(slot):
            conflict = check_pair(entry, self._entry(other))
            if conflict is not None:
                self._record(conflict)
                found.append(conflict)
        self._maybe_rebuild()
        return sorted(found, key=lambda c: c.key)

    def load(self, notices: Iterable[Notice]) -> None:
        """Bulk-load without checking (at start-up); call ``recheck()`` afterwards."""
        for notice in notices:
            if notice.id in self._slot_of:
                self._drop(notice.id)
            if notice.is_live:
                self._insert(notice)
        self._rebuild()

    def remove(self, notice_id: str) -> None:
        """Forget a notice (cancelled, expired, withdrawn); its conflicts close."""
        if notice_id in self._slot_of:
            self._drop(notice_id)

    def conflicts_of(self, notice_id: str) -> list[Conflict]:
        return sorted((self._conflicts[p] for p in self._pairs_of.get(notice_id, ())), key=lambda c: c.key)

    def conflicts(self) -> list[Conflict]:
        return sorted(self._conflicts.values(), key=lambda c: c.key)

    def recheck(self) -> list[Conflict]:
        """Recompute every conflict from scratch (after a restart); returns them all, sorted by key."""
        self._conflicts.clear()
        self._pairs_of.clear()
        if self._tree is None or self._tree_size != self._boxes.size or self._too_many_dead():
            self._rebuild()
        for first, second in self._candidate_pairs().tolist():
            conflict = check_pair(self._entry(first), self._entry(second))
            if conflict is not None:
                self._record(conflict)
        return self.conflicts()

    # -- slots and boxes ----------------------------------------------------

    def _entry(self, slot: int) -> Entry:
        """The ``Entry`` of a live slot, rebuilt from the columns."""
        notice_id = self._ids[slot]
        assert notice_id is not None
        c, k, v = self._slots.data, self._cores.data, self._vertices.data
        cores = []
        for row in range(int(c["core"][slot]), int(c["core"][slot]) + int(c["cores"][slot])):
            first = int(k["vertex"][row])
            last = first + int(k["vertices"][row])
            anchor = (float(k["lon"][row]), float(k["lat"][row]))
            cores.append(
                Core.restore(
                    _KINDS[int(k["kind"][row])],
                    v["lon"][first:last].copy(),
                    v["lat"][first:last].copy(),
                    float(k["radius"][row]),
                    anchor,
                    float(k["reach"][row]),
                )
            )
        return Entry(
            id=notice_id,
            party=self._party_names[int(c["party"][slot])],
            version=int(c["version"][slot]),
            live=True,
            start_us=int(c["start_us"][slot]),
            end_us=int(c["end_us"][slot]),
            time_buffer_us=int(c["time_buffer_us"][slot]),
            lower_m=float(c["lower_m"][slot]),
            upper_m=float(c["upper_m"][slot]),
            vertical_m=float(c["vertical_m"][slot]),
            horizontal_m=float(c["horizontal_m"][slot]),
            cores=tuple(cores),
        )

    def _insert(self, notice: Notice) -> int:
        window, buffers = notice.window, notice.buffers
        cores = [core_of(volume) for volume in notice.volumes]
        if len(cores) == 1:
            anchor = cores[0].anchor
            reach = cores[0].reach + cores[0].radius
        else:
            anchors = [core.anchor for core in cores]
            anchor = spherical_mean(np.array([p[0] for p in anchors]), np.array([p[1] for p in anchors]))
            reach = max(distance_m(anchor, c.anchor) + c.reach + c.radius for c in cores)
        start_us = to_us(window.start)
        end_us = FOREVER if window.end is None else to_us(window.end)
        time_buffer_us = math.ceil(buffers.time_s * 1e6)
        lower_m, upper_m = notice.altitude.lower.metres, notice.altitude.upper.metres
        party = self._parties.get(notice.party)
        if party is None:
            party = self._parties[notice.party] = len(self._party_names)
            self._party_names.append(notice.party)
        slot = self._slots.append(
            t_lo=(start_us - time_buffer_us) / 1e6 - 1e-3,
            t_hi=(math.inf if end_us >= FOREVER else (end_us + time_buffer_us) / 1e6) + 1e-3,
            z_lo=lower_m - buffers.vertical_m - 1e-6,
            z_hi=upper_m + buffers.vertical_m + 1e-6,
            party=party,
            alive=True,
            lon=anchor[0],
            lat=anchor[1],
            reach=reach + buffers.horizontal_m,
            version=notice.version,
            start_us=start_us,
            end_us=end_us,
            time_buffer_us=time_buffer_us,
            lower_m=lower_m,
            upper_m=upper_m,
            vertical_m=buffers.vertical_m,
            horizontal_m=buffers.horizontal_m,
            core=self._cores.size,
            cores=len(cores),
        )
        self._ids.append(notice.id)
        self._slot_of[notice.id] = slot
        for core in cores:
            vertex = self._vertices.extend(lon=core.lons, lat=core.lats)
            self._cores.append(
                kind=_KIND_CODE[core.kind],
                radius=core.radius,
                vertex=vertex,
                vertices=len(core.lons),
                lon=core.anchor[0],
                lat=core.anchor[1],
                reach=core.reach,
            )
            for w, s, e, n in bounds_of(core, buffers.horizontal_m):
                self._boxes.append(slot=slot, w=w, s=s, e=e, n=n)
        return slot

    def _drop(self, notice_id: str) -> None:
        slot = self._slot_of.pop(notice_id)
        self._slots.data["alive"][slot] = False
        self._ids[slot] = None
        self._dead += 1
        for pair in self._pairs_of.pop(notice_id, set()):
            self._conflicts.pop(pair, None)
            other = pair[1] if pair[0] == notice_id else pair[0]
            self._pairs_of.get(other, set()).discard(pair)

    def _record(self, conflict: Conflict) -> None:
        self._conflicts[conflict.pair] = conflict
        self._pairs_of.setdefault(conflict.notice_a, set()).add(conflict.pair)
        self._pairs_of.setdefault(conflict.notice_b, set()).add(conflict.pair)

    def _compact(self) -> None:
        """Forget dead slots: renumber the live ones, their volumes, vertices and boxes."""
        alive = self._slots["alive"].copy()
        new_slot = np.cumsum(alive) - 1
        core_slot = np.repeat(np.arange(self._slots.size), self._slots["cores"])
        core_alive = alive[core_slot]
        new_core = np.cumsum(core_alive) - 1
        counts = self._cores["vertices"]
        vertex_alive = np.repeat(core_alive, counts)
        kept_counts = counts[core_alive]
        box_alive = alive[self._boxes["slot"]]
        self._slots.keep(alive, core=new_core[self._slots["core"][alive]])
        self._cores.keep(core_alive, vertex=np.cumsum(kept_counts) - kept_counts)
        self._vertices.keep(vertex_alive)
        self._boxes.keep(box_alive, slot=new_slot[self._boxes["slot"][box_alive]])
        live = [notice_id for notice_id in self._ids if notice_id is not None]
        self._ids = list(live)
        self._slot_of = {notice_id: slot for slot, notice_id in enumerate(live)}
        self._dead = 0

    def _box_geometries(self, rows: slice | NDArray[np.int64]) -> NDArray[np.object_]:
        b = self._boxes
        boxes: NDArray[np.object_] = shapely.box(b["w"][rows], b["s"][rows], b["e"][rows], b["n"][rows])
        return boxes

    def _too_many_dead(self) -> bool:
        return self._dead >= max(_MIN_TAIL, len(self._slot_of) // 4)

    def _rebuild(self) -> None:
        if self._too_many_dead():
            self._compact()
        self._tree = None  # let the old tree go before building the new one
        self._tree = shapely.STRtree(self._box_geometries(slice(0, self._boxes.size)))
        self._tree_size = self._boxes.size

    def _maybe_rebuild(self) -> None:
        if self._boxes.size - self._tree_size > max(_MIN_TAIL, self._tree_size // 64):
            self._rebuild()

    # -- candidates ---------------------------------------------------------

    def _candidates(self, slot: int) -> list[int]:
        """Slots that pass the box, party, time, altitude and disc filters against ``slot``."""
        b = self._boxes
        mine = np.flatnonzero(b["slot"][self._tree_size :] == slot) + self._tree_size
        hits: list[NDArray[np.int64]] = []
        for row in mine:
            w, s, e, n = (float(b[k][row]) for k in ("w", "s", "e", "n"))
            if self._tree is not None and self._tree_size:
                hits.append(self._tree.query(shapely.box(w, s, e, n)))
            tail = slice(self._tree_size, b.size)
            overlap = (b["w"][tail] <= e) & (b["e"][tail] >= w) & (b["s"][tail] <= n) & (b["n"][tail] >= s)
            hits.append(np.flatnonzero(overlap) + self._tree_size)
        if not hits:
            return []
        slots = np.unique(b["slot"][np.concatenate(hits)])
        slots = slots[slots != slot]
        keep = self._prefilter(np.full(len(slots), slot), slots)
        chosen = slots[keep]
        order = np.argsort([self._ids[s] for s in chosen], kind="stable")
        return [int(s) for s in chosen[order]]

    def _prefilter(self, first: NDArray[np.int64], second: NDArray[np.int64]) -> NDArray[np.bool_]:
        keep = self._cheap_filter(first, second)
        idx = np.flatnonzero(keep)
        keep[idx[~self._disc_filter(first[idx], second[idx])]] = False
        return keep

    def _cheap_filter(self, first: NDArray[np.int64], second: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Alive, different parties, grown windows and grown bands overlap."""
        c = self._slots
        keep = c["alive"][first] & c["alive"][second] & (c["party"][first] != c["party"][second])
        keep &= (c["t_lo"][first] <= c["t_hi"][second]) & (c["t_lo"][second] <= c["t_hi"][first])
        keep &= (c["z_lo"][first] <= c["z_hi"][second]) & (c["z_lo"][second] <= c["z_hi"][first])
        return np.asarray(keep, dtype=np.bool_)

    def _disc_filter(self, first: NDArray[np.int64], second: NDArray[np.int64]) -> NDArray[np.bool_]:
        """The bounding discs (grown by the horizontal buffers) meet."""
        if not len(first):
            return np.zeros(0, dtype=np.bool_)
        c = self._slots
        _, _, dist = GEOD.inv(c["lon"][first], c["lat"][first], c["lon"][second], c["lat"][second])
        return np.asarray(np.asarray(dist) - c["reach"][first] - c["reach"][second] <= 1.0, dtype=np.bool_)

    def _pair_codes(self, box_a: NDArray[np.int64], box_b: NDArray[np.int64]) -> NDArray[np.int64]:
        """Box pairs -> codes ``slot_a * n + slot_b`` (smaller slot first) passing the cheap filter."""
        slot_a, slot_b = self._boxes["slot"][box_a], self._boxes["slot"][box_b]
        first, second = np.minimum(slot_a, slot_b), np.maximum(slot_a, slot_b)
        keep = first < second
        first, second = first[keep], second[keep]
        keep = self._cheap_filter(first, second)
        codes: NDArray[np.int64] = first[keep] * np.int64(self._slots.size) + second[keep]
        return codes

    def _candidate_pairs(self) -> NDArray[np.int64]:
        """All slot pairs (smaller slot first, sorted) that pass every filter."""
        assert self._tree is not None
        c, b = self._slots, self._boxes
        rows = np.flatnonzero(c["alive"][b["slot"]])
        t_lo, t_hi = c["t_lo"][b["slot"][rows]], c["t_hi"][b["slot"][rows]]
        span = t_hi - t_lo
        finite = np.isfinite(span)
        width = max(2 * float(np.quantile(span[finite], 0.9)), _MIN_BUCKET_S) if finite.any() else math.inf
        long = ~finite | (span > _LONG_BUCKETS * width)
        found = [np.zeros(0, dtype=np.int64)]
        # Long windows: against every box, through the whole tree.
        long_rows = rows[long]
        for start in range(0, len(long_rows), _RECHECK_CHUNK):
            chunk = long_rows[start : start + _RECHECK_CHUNK]
            local, other = self._tree.query(self._box_geometries(chunk))
            found.append(np.unique(self._pair_codes(chunk[local], other)))
        # The rest: within each time bucket their grown windows touch.
        short = rows[~long]
        first = np.floor(t_lo[~long] / width).astype(np.int64)
        counts = np.floor(t_hi[~long] / width).astype(np.int64) - first + 1
        offsets = np.repeat(np.cumsum(counts) - counts, counts)
        bucket = np.repeat(first, counts) + (np.arange(int(counts.sum())) - offsets)
        member = np.repeat(short, counts)
        order = np.argsort(bucket, kind="stable")
        bucket, member = bucket[order], member[order]
        bounds = np.flatnonzero(np.diff(bucket)) + 1
        for group in np.split(member, bounds):
            if len(group) < 2:
                continue
            geometries = self._box_geometries(group)
            local, other = shapely.STRtree(geometries).query(geometries)
            found.append(self._pair_codes(group[local], group[other]))
        codes = np.unique(np.concatenate(found))
        first_slot, second_slot = np.divmod(codes, np.int64(c.size))
        pairs = np.column_stack((first_slot, second_slot))
        step = _RECHECK_CHUNK * 10
        keep = np.concatenate(
            [
                self._disc_filter(pairs[i : i + step, 0], pairs[i : i + step, 1])
                for i in range(0, len(pairs), step)
            ]
            or [np.zeros(0, dtype=np.bool_)]
        )
        result: NDArray[np.int64] = pairs[keep]
        return result
