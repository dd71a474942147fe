"""Party colours that are the same on every console: chosen from the station id, not from who is looking.

Each console used to draw its own notices blue and the peers' in other colours,
so "the blue area" meant opposite things on the two ends of a hotline. Now a
party's colour depends only on its station id: the SHA-256 of the id picks a
slot in ``PALETTE``; when two parties pick the same slot, the one whose id
sorts first keeps it and the other takes the next free one. On a link between
two stations both consoles know the same two parties, so both draw each party
alike. Red is kept for conflicts and is not in the palette.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

# blue, green, violet, brown, amber, grey
PALETTE = ("#4c9aff", "#3ecf8e", "#b57cf2", "#c08457", "#f5a524", "#c9d1d9")
CONFLICT_COLOUR = "#e5484d"


def party_colours(parties: Iterable[str]) -> dict[str, str]:
    """A colour for each party, from its id alone unless two ids collide (then sorted order decides)."""
    taken: dict[int, str] = {}
    for party in sorted(set(parties)):
        slot = int.from_bytes(hashlib.sha256(party.encode()).digest()[:8], "big") % len(PALETTE)
        while slot in taken and len(taken) < len(PALETTE):
            slot = (slot + 1) % len(PALETTE)
        taken.setdefault(slot, party)
    colours = {party: PALETTE[slot] for slot, party in taken.items()}
    # More parties than colours: the rest share, still by sorted id, so every console agrees.
    extra = sorted(set(parties) - set(colours))
    return colours | {party: PALETTE[i % len(PALETTE)] for i, party in enumerate(extra)}
