"""The architecture, enforced: who may import whom, read from the source with ``ast``.

Layers, innermost first: ``domain`` (vocabulary) and ``protocol`` (pure state
machines) use the standard library and each other only in that order;
``wire``/``crypto``/``store``/``transport``/``services`` sit around them; ``web``
and ``cli`` are the outermost shells. ``web`` reaches the station only through
services (never ``store``, ``transport`` or ``runtime``) and the geo engine only
through ``redline.geo``'s exported names and ``redline.geo.formats``; services
reach storage and the network only through the Protocols in ``services.ports``.
Every import counts, including those inside functions and ``if TYPE_CHECKING:``
blocks, and ``importlib.import_module("...")`` with a literal name.
"""

from __future__ import annotations

import ast
import functools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "redline"
MAX_LINES = 600


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "redline.wire.envelope"
    target: str  # the imported module (or module.name), e.g. "redline.protocol"
    line: int
    path: str  # relative to src/

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.target}"


def module_name(path: Path, root: Path = SRC) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imports_of(path: Path, root: Path = SRC) -> Iterator[Import]:
    module = module_name(path, root)
    where = str(path.relative_to(root))
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno, where)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            yield Import(module, base, node.lineno, where)
            for alias in node.names:
                if alias.name != "*":
                    # `from redline import web` imports the module redline.web.
                    yield Import(module, f"{base}.{alias.name}", node.lineno, where)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield Import(module, node.args[0].value, node.lineno, where)


@functools.cache
def all_imports() -> tuple[Import, ...]:
    return tuple(imp for path in python_files() for imp in imports_of(path))


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def is_stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names


def violations(source_package: str, allowed: tuple[str, ...], stdlib: bool) -> list[str]:
    found = []
    for imp in all_imports():
        if not within(imp.module, source_package):
            continue
        if stdlib and is_stdlib(imp.target):
            continue
        if any(within(imp.target, a) for a in allowed):
            continue
        found.append(str(imp))
    return sorted(set(found))


def forbidden(source: str, targets: tuple[str, ...], exempt: tuple[str, ...] = ()) -> list[str]:
    return sorted(
        {
            str(imp)
            for imp in all_imports()
            if within(imp.module, source)
            and not any(within(imp.module, e) for e in exempt)
            and any(within(imp.target, t) for t in targets)
        }
    )


def test_the_source_tree_is_where_we_think() -> None:
    names = {module_name(p) for p in python_files()}
    assert {
        "redline.domain",
        "redline.protocol",
        "redline.web",
        "redline.store",
        "redline.transport",
    } <= names
    assert len(all_imports()) > 50, "the import scanner found almost nothing; is it broken?"


def test_domain_uses_only_the_standard_library() -> None:
    bad = violations("redline.domain", allowed=("redline.domain", "redline.errors"), stdlib=True)
    assert not bad, "redline.domain may import only the standard library, itself and redline.errors:\n" + (
        "\n".join(bad)
    )


def test_protocol_uses_only_the_standard_library_and_domain() -> None:
    bad = violations(
        "redline.protocol", allowed=("redline.protocol", "redline.domain", "redline.errors"), stdlib=True
    )
    assert not bad, (
        "redline.protocol may import only the standard library, itself, redline.domain and "
        "redline.errors:\n" + "\n".join(bad)
    )


def test_geo_is_a_pure_engine() -> None:
    allowed = ("redline.geo", "redline.domain", "redline.errors", "shapely", "pyproj", "numpy")
    bad = violations("redline.geo", allowed=allowed, stdlib=True)
    assert not bad, "redline.geo may import only the standard library, shapely, pyproj, numpy, itself, " + (
        "redline.domain and redline.errors:\n" + "\n".join(bad)
    )


# What the web layer may use of the geo engine: the names ``redline.geo`` exports (its
# ``__all__``: the notice model, parsing, drawing for the map) and the public functions of the
# exchange formats (``redline.geo.formats.*``). The engine's modules (``model``, ``shapes``,
# ``index``, ...) are its own business, and so is the geometry stack under it.
GEO_FORMATS = "redline.geo.formats"


def geo_exports() -> set[str]:
    tree = ast.parse((PACKAGE / "geo" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, list)
            return {str(name) for name in value}
    raise AssertionError("redline.geo has no __all__")


def is_public_geo(target: str) -> bool:
    if target == "redline.geo":
        return True
    if within(target, GEO_FORMATS):
        return not any(part.startswith("_") for part in target.split("."))
    return target.removeprefix("redline.geo.") in geo_exports()


def test_geo_exports_what_web_uses() -> None:
    assert {"Notice", "drawn_shapes", "reference_longitude"} <= geo_exports()
    assert is_public_geo("redline.geo.Notice") and is_public_geo("redline.geo.formats.notam.to_notam")
    assert not is_public_geo("redline.geo.shapes") and not is_public_geo("redline.geo.model.Notice")


def test_web_uses_geo_through_its_public_names_only() -> None:
    bad = sorted(
        {
            str(imp)
            for imp in all_imports()
            if within(imp.module, "redline.web")
            and within(imp.target, "redline.geo")
            and not is_public_geo(imp.target)
        }
    )
    assert not bad, (
        "redline.web may import from redline.geo only the names in redline.geo.__all__ and "
        "redline.geo.formats.*:\n" + "\n".join(bad)
    )


@pytest.mark.parametrize(
    ("source", "targets", "exempt"),
    [
        ("redline.domain", ("redline.protocol",), ()),
        ("redline", ("redline.web",), ("redline.web", "redline.cli")),
        ("redline.transport", ("redline.services",), ()),
        ("redline.store", ("redline.services", "redline.web"), ()),
        # Web handlers get services (commands and queries), never the store or the running station;
        # geodesy happens in redline.geo, not in the web layer.
        ("redline.web", ("redline.store", "redline.runtime", "redline.transport"), ()),
        ("redline.web", ("numpy", "shapely", "pyproj"), ()),
        # Services reach storage and the network through ports only (even `redline init`, whose
        # database is created through the DatabaseSetup port that runtime.opening implements).
        ("redline.services", ("redline.store", "redline.transport", "redline.web", "redline.runtime"), ()),
    ],
    ids=[
        "domain-not-protocol",
        "web-only-from-web-and-cli",
        "transport-not-services",
        "store-not-services-or-web",
        "web-through-services-only",
        "web-does-no-geometry",
        "services-through-ports-only",
    ],
)
def test_forbidden_imports(source: str, targets: tuple[str, ...], exempt: tuple[str, ...]) -> None:
    bad = forbidden(source, targets, exempt)
    where = f"{source} (except {', '.join(exempt)})" if exempt else source
    assert not bad, f"{where} must not import {' or '.join(targets)}:\n" + "\n".join(bad)


def test_the_scanner_sees_relative_and_aliased_imports(tmp_path: Path) -> None:
    """Guard the guard: the forms an import can take are all recognised."""
    pkg = tmp_path / "redline" / "store"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from ..services import ports\n")
    (pkg / "x.py").write_text(
        "import importlib\n"
        "def f():\n"
        "    from redline import web\n"
        "    importlib.import_module('redline.services.delivery')\n"
        "from .. import web as w\n"
    )
    found = {(i.module, i.target) for p in sorted(pkg.rglob("*.py")) for i in imports_of(p, tmp_path)}
    assert ("redline.store", "redline.services.ports") in found
    assert ("redline.store.x", "redline.web") in found
    assert ("redline.store.x", "redline.services.delivery") in found


def test_no_module_is_longer_than_600_lines() -> None:
    long = {
        str(p.relative_to(SRC)): n
        for p in sorted(SRC.rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split them): {long}"
