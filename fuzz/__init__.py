"""Fuzz targets for Redline's parsers of outside input; see fuzz/README.md."""
