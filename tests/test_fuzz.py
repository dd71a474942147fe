"""A short, bounded fuzz run of every target in fuzz/targets.py, and replay of the crashes found.

The property: each target returns or raises a ``RedlineError``; any other exception is a
crash. Hypothesis mutates the valid seeds of ``fuzz/seeds.py`` in-process; Atheris
(coverage-guided) runs each harness for a few thousand inputs in a subprocess. Inputs that
once crashed a target live in ``tests/fuzz_corpus/<target>/`` and are replayed here. The long
run by hand is in fuzz/README.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz import seeds
from fuzz.targets import TARGETS, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "fuzz_corpus"
SEEDS = seeds.seeds()
ATHERIS_RUNS = 3000


def regressions() -> list[tuple[str, Path]]:
    return [(path.parent.name, path) for path in sorted(CORPUS.glob("*/*"))]


@pytest.mark.parametrize(
    ("target", "path"), regressions(), ids=lambda v: v.name if isinstance(v, Path) else v
)
def test_inputs_that_once_crashed_are_refused(target: str, path: Path) -> None:
    run(target, path.read_bytes())


def test_every_saved_crash_names_a_target() -> None:
    assert regressions(), "tests/fuzz_corpus/ is empty"
    assert {target for target, _ in regressions()} <= set(TARGETS)


@st.composite
def mutated(draw: st.DrawFn, target: str) -> bytes:
    """A seed of ``target`` with a few bytes replaced, inserted or cut."""
    data = bytearray(draw(st.sampled_from(SEEDS[target])))
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(("replace", "insert", "cut")))
        chunk = draw(
            st.binary(min_size=1, max_size=8) | st.sampled_from([b"[", b"{", b'"', b"-1e999", b"\\u"])
        )
        if edit == "replace":
            data[at : at + len(chunk)] = chunk
        elif edit == "insert":
            data[at:at] = chunk
        else:
            del data[at : at + len(chunk)]
    return bytes(data)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_mutated_seeds_never_crash_a_target(target: str) -> None:
    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(mutated(target) | st.binary(max_size=256))
    def one_input(data: bytes) -> None:
        run(target, data)

    one_input()


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_a_short_atheris_run_finds_no_crash(target: str, tmp_path: Path) -> None:
    seeds.write(tmp_path / "corpus")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "fuzz" / "harness.py"),
            target,
            f"-runs={ATHERIS_RUNS}",
            "-seed=1",
            "-max_len=8192",
            str(tmp_path / "corpus" / target),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Done {ATHERIS_RUNS} runs" in done.stderr
