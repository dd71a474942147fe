"""HTTP faces of a station (Starlette): the operator API and the peer link endpoint.

``app`` builds both ASGI apps around services, never the store or the running
station: the API and console get a ``redline.services.queries.StationServices``
(commands, read-only queries, the change feed), the link endpoint a
``LinkEndpoint``; handlers reach them through ``services.services_of``.
``errors`` is the one table from Redline errors to HTTP answers. Nothing
outside ``redline.cli`` imports this package.
"""
