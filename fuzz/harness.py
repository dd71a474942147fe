"""Atheris harness: ``python fuzz/harness.py <target> [libFuzzer options] [corpus dirs]``.

One coverage-guided harness per target in ``fuzz.targets.TARGETS``; see README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports(include=["redline"]):
    from fuzz.targets import TARGETS, run


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options] [corpus dirs]")
    target = sys.argv.pop(1)
    atheris.Setup(sys.argv, lambda data: run(target, data))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
