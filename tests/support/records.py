"""Records for pure tests that need one without a station behind it."""

from __future__ import annotations

from typing import Any

from redline.domain.stations import PeerRecord


def peer_record(station_id: str, endpoints: tuple[str, ...] = ()) -> PeerRecord:
    """A verified peer with the given endpoints and no real keys (for code that never checks them)."""
    return PeerRecord(
        station_id=station_id,
        name=station_id.title(),
        signing_key="",
        encryption_key="",
        tls_fingerprint="fp",
        tls_certificate="",
        endpoints=endpoints,
        card="{}",
        added_at="2026-01-01T00:00:00Z",
        verified_at="2026-01-01T00:00:00Z",
    )


def circle_notice(
    lon: float, lat: float, radius_m: float, hours: tuple[int, int] = (0, 12), **extra: Any
) -> dict[str, Any]:
    """An air-operations notice over one circle, surface to FL120, on 2030-01-01 between ``hours``."""
    return {
        "activity": "air_operations",
        "volumes": [{"circle": {"centre": [lon, lat], "radius_m": radius_m}}],
        "altitude": {
            "lower": {"value": 0, "unit": "M", "reference": "MSL"},
            "upper": {"value": 120, "unit": "FL", "reference": "STD"},
        },
        "window": {"start": f"2030-01-01T{hours[0]:02d}:00:00Z", "end": f"2030-01-01T{hours[1]:02d}:00:00Z"},
        **extra,
    }
