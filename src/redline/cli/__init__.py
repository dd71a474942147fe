"""The ``redline`` command: station administration, ``serve`` and ``demo``."""
