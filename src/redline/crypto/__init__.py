"""Keys, signatures, sealing and link TLS, all through the `cryptography` package.

A station holds three private keys, each in its own 0600 file under
``DATA_DIR/keys``: an Ed25519 signing key (envelopes, receipts, its contact
card), an X25519 key that peers seal payloads to with HPKE (RFC 9180), and a
P-256 key behind the self-signed certificate that peers pin for mutual TLS.
"""
