"""What crosses a link, byte for byte: envelopes, receipts and contact cards.

Everything signed is signed over its RFC 8785 canonical JSON encoding with a
domain-separation prefix, so a signature made for one purpose can never be
replayed as another. Parsing is strict (exact field sets, types, sizes) and
every refusal names the field at fault.
"""
