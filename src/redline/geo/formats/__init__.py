"""Import and export: ICAO NOTAM text (``notam``), GeoJSON (``geojson``), ASTM F3548 ``Volume4D`` (``f3548``).

Each importer returns validated ``Notice`` records and raises ``InputError``
naming the line, item or field that could not be read.
"""
