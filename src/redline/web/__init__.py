"""HTTP faces of a station (Starlette): the operator API and the peer link endpoint.

``app`` builds both ASGI apps around a running :class:`redline.runtime.Station`;
``errors`` is the one table from Redline errors to HTTP answers. Nothing
outside ``redline.cli`` imports this package.
"""
