"""What a station does, independent of how it is reached.

* ``station``   - data directory, keys, configuration; ``redline init``.
* ``pairing``   - contact cards, peers, verification codes.
* ``operators`` - operator accounts and bearer tokens.
* ``outbox``    - accepting messages and acknowledgements: group commit, signing, sealing.
* ``inbound``   - receiving a batch from a peer: verify, classify, store, receipt.
* ``delivery``  - one worker per peer pushing the outbox, with backoff, until receipted.
* ``runtime``   - the running station: store, services and workers in one task group.

Services reach the database and the network only through the protocols in
``ports`` (implemented by ``redline.store`` and ``redline.transport``).
"""
