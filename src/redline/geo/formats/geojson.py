"""Notices as a GeoJSON FeatureCollection: one Feature per volume.

Polygons are ``Polygon`` features (one closed ring, lon/lat), circles ``Point``
features with a ``radius_m`` property, corridors ``LineString`` features with
a ``half_width_m`` property. Every other notice field rides in ``properties``
exactly as in the notice's own JSON dict, with ``volume_index`` ordering the
volumes of one notice. Edges are geodesics, whatever a GeoJSON viewer draws.
"""

from __future__ import annotations

from typing import Any

from redline.geo.codec import notice_to_json, parse_notice
from redline.geo.model import CircleVolume, Fault, Notice, PolygonVolume

JSON = dict[str, Any]


def to_geojson(notices: list[Notice]) -> JSON:
    features = []
    for notice in notices:
        props = notice_to_json(notice)
        del props["volumes"]
        for i, volume in enumerate(notice.volumes):
            extra: JSON = {"volume_index": i}
            if isinstance(volume, PolygonVolume):
                ring = [list(p) for p in (*volume.ring, volume.ring[0])]
                geometry: JSON = {"type": "Polygon", "coordinates": [ring]}
            elif isinstance(volume, CircleVolume):
                geometry = {"type": "Point", "coordinates": list(volume.centre)}
                extra["radius_m"] = volume.radius_m
            else:
                geometry = {"type": "LineString", "coordinates": [list(p) for p in volume.path]}
                extra["half_width_m"] = volume.half_width_m
            features.append({"type": "Feature", "geometry": geometry, "properties": {**props, **extra}})
    return {"type": "FeatureCollection", "features": features}


def from_geojson(collection: object) -> list[Notice]:
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise Fault("type", "expected a GeoJSON FeatureCollection")
    features = collection.get("features")
    if not isinstance(features, list):
        raise Fault("features", "expected a list of features")
    grouped: dict[str, tuple[JSON, list[tuple[int, JSON]]]] = {}
    for i, feature in enumerate(features):
        path = f"features[{i}]"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise Fault(path, "expected a Feature")
        props = feature.get("properties")
        if not isinstance(props, dict) or not isinstance(props.get("id"), str):
            raise Fault(f"{path}.properties.id", "every feature needs the id of its notice")
        props = dict(props)
        index = props.pop("volume_index", 0)
        volume = _volume(feature.get("geometry"), props, f"{path}.geometry")
        _, volumes = grouped.setdefault(props["id"], (props, []))
        volumes.append((index if isinstance(index, int) else 0, volume))
    notices = []
    for props, volumes in grouped.values():
        obj = {**props, "volumes": [v for _, v in sorted(volumes, key=lambda item: item[0])]}
        notices.append(parse_notice(obj))
    return notices


def _volume(geometry: object, props: JSON, path: str) -> JSON:
    if not isinstance(geometry, dict):
        raise Fault(path, "expected a geometry object")
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        if not isinstance(coords, list) or len(coords) != 1:
            raise Fault(f"{path}.coordinates", "expected exactly one ring (holes are not supported)")
        return {"polygon": coords[0]}
    if kind == "Point":
        return {"circle": {"centre": coords, "radius_m": props.pop("radius_m", None)}}
    if kind == "LineString":
        return {"corridor": {"path": coords, "half_width_m": props.pop("half_width_m", None)}}
    raise Fault(f"{path}.type", f"{kind!r} is not supported; use Polygon, Point (+ radius_m) or LineString")
