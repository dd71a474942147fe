"""``ConflictIndex``: every live notice, and the conflicts between them, kept current.

Each live notice occupies a slot. Per slot, numpy arrays hold the window and
band already grown by the notice's own buffers (the time and altitude
prefilters), its party, and a bounding disc (anchor + reach, grown by the
horizontal buffer) that decides most pairs without exact geometry. Lon/lat
boxes of every volume, grown by the buffer and split at the antimeridian (or
widened to all longitudes over a pole), live in a shapely ``STRtree`` plus a
small unsorted tail of recent boxes scanned with numpy; the tree is rebuilt
when the tail grows past 1/64 of it. Removed and superseded slots are only
marked dead. Exact geometry (``conflicts.check_pair``) runs last, on the few
candidates left, always with the smaller id first, so both stations and every
insertion order reach identical conflicts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from redline.geo.conflicts import FOREVER, Conflict, Entry, check_pair
from redline.geo.model import Notice
from redline.geo.shapes import GEOD, bounds_of, distance_m, spherical_mean

_MIN_TAIL = 1024
_RECHECK_CHUNK = 20_000


class _Columns:
    """Growable numpy columns, one row per slot."""

    def __init__(self, names: dict[str, type]) -> None:
        self.size = 0
        self.capacity = 1024
        self.data: dict[str, NDArray[Any]] = {n: np.zeros(self.capacity, t) for n, t in names.items()}

    def append(self, **values: float) -> int:
        if self.size == self.capacity:
            self.capacity *= 2
            for name, column in self.data.items():
                grown = np.zeros(self.capacity, column.dtype)
                grown[: self.size] = column[: self.size]
                self.data[name] = grown
        row = self.size
        for name, value in values.items():
            self.data[name][row] = value
        self.size += 1
        return row

    def __getitem__(self, name: str) -> NDArray[Any]:
        return self.data[name][: self.size]


class ConflictIndex:
    def __init__(self) -> None:
        self._entries: list[Entry | None] = []
        self._slot_of: dict[str, int] = {}
        self._parties: dict[str, int] = {}
        self._slots = _Columns(
            {"t_lo": np.float64, "t_hi": np.float64, "z_lo": np.float64, "z_hi": np.float64,
             "party": np.int32, "alive": np.bool_, "lon": np.float64, "lat": np.float64,
             "reach": np.float64}
        )  # fmt: skip
        self._boxes = _Columns(
            {"slot": np.int64, "w": np.float64, "s": np.float64, "e": np.float64, "n": np.float64}
        )
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
        entry = Entry.of(notice)
        slot = self._insert(entry)
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
                self._insert(Entry.of(notice))
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
        self._rebuild()
        for first, second in self._candidate_pairs():
            conflict = check_pair(self._entry(int(first)), self._entry(int(second)))
            if conflict is not None:
                self._record(conflict)
        return self.conflicts()

    # -- slots and boxes ----------------------------------------------------

    def _entry(self, slot: int) -> Entry:
        entry = self._entries[slot]
        assert entry is not None
        return entry

    def _insert(self, entry: Entry) -> int:
        anchors = [core.anchor for core in entry.cores]
        if len(anchors) == 1:
            anchor = anchors[0]
        else:
            anchor = spherical_mean(np.array([p[0] for p in anchors]), np.array([p[1] for p in anchors]))
        reach = max(distance_m(anchor, c.anchor) + c.reach + c.radius for c in entry.cores)
        end = math.inf if entry.end_us >= FOREVER else (entry.end_us + entry.time_buffer_us) / 1e6
        slot = self._slots.append(
            t_lo=(entry.start_us - entry.time_buffer_us) / 1e6 - 1e-3,
            t_hi=end + 1e-3,
            z_lo=entry.lower_m - entry.vertical_m - 1e-6,
            z_hi=entry.upper_m + entry.vertical_m + 1e-6,
            party=self._parties.setdefault(entry.party, len(self._parties)),
            alive=True,
            lon=anchor[0],
            lat=anchor[1],
            reach=reach + entry.horizontal_m,
        )
        self._entries.append(entry)
        self._slot_of[entry.id] = slot
        for core in entry.cores:
            for w, s, e, n in bounds_of(core, entry.horizontal_m):
                self._boxes.append(slot=slot, w=w, s=s, e=e, n=n)
        return slot

    def _drop(self, notice_id: str) -> None:
        slot = self._slot_of.pop(notice_id)
        self._slots.data["alive"][slot] = False
        self._entries[slot] = None
        for pair in self._pairs_of.pop(notice_id, set()):
            self._conflicts.pop(pair, None)
            other = pair[1] if pair[0] == notice_id else pair[0]
            self._pairs_of.get(other, set()).discard(pair)

    def _record(self, conflict: Conflict) -> None:
        self._conflicts[conflict.pair] = conflict
        self._pairs_of.setdefault(conflict.notice_a, set()).add(conflict.pair)
        self._pairs_of.setdefault(conflict.notice_b, set()).add(conflict.pair)

    def _box_geometries(self, start: int, stop: int) -> NDArray[np.object_]:
        b = self._boxes
        boxes: NDArray[np.object_] = shapely.box(
            b["w"][start:stop], b["s"][start:stop], b["e"][start:stop], b["n"][start:stop]
        )
        return boxes

    def _rebuild(self) -> None:
        self._tree = shapely.STRtree(self._box_geometries(0, self._boxes.size))
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
        order = np.argsort([self._entry(int(s)).id for s in chosen], kind="stable")
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

    def _candidate_pairs(self) -> NDArray[np.int64]:
        """All slot pairs (smaller slot first) that pass every filter, from bulk tree queries in chunks."""
        assert self._tree is not None
        found = [np.zeros((0, 2), dtype=np.int64)]
        for start in range(0, self._boxes.size, _RECHECK_CHUNK):
            stop = min(start + _RECHECK_CHUNK, self._boxes.size)
            local, box_b = self._tree.query(self._box_geometries(start, stop))
            slot_a, slot_b = self._boxes["slot"][local + start], self._boxes["slot"][box_b]
            keep = slot_a < slot_b
            slot_a, slot_b = slot_a[keep], slot_b[keep]
            keep = self._cheap_filter(slot_a, slot_b)
            pairs = np.unique(np.column_stack((slot_a[keep], slot_b[keep])), axis=0)
            found.append(pairs[self._disc_filter(pairs[:, 0], pairs[:, 1])])
        return np.unique(np.concatenate(found), axis=0)
