"""Network adapters: one path transport per URL scheme, failover above them, and the TLS server hook.

How a delivery travels: the services hand a body to the ``LinkTransport`` port,
implemented by ``failover.FailoverTransport``. It keeps the state of each of
the peer's paths (its card's endpoints, in order of preference) and tries them
in turn; each path goes through the ``paths.PathTransport`` mounted for its URL
scheme in a ``mounts.Mounts`` table (httpx's ``mounts`` are the model):

- ``https.HttpsPathTransport``: mutual TLS pinned to the peer's card, keep-alive;
- ``relay.NatsRelayTransport``: store-and-forward through NATS JetStream, which
  also gives a station that lists a relay in its own card a ``relay.RelayInbox``;
- ``memory.MemoryPathTransport``: for tests only, stations in one process.

``tls_server.ClientCertProtocol`` puts the client certificate of a mutual-TLS
connection into the ASGI scope of the link app. Errors of httpx, ssl and nats
are translated into ``TransportError`` / ``RemoteProtocolError`` in the adapter
that meets them and never leak upward. Nothing here imports ``redline.services``
or ``redline.web``.
"""
