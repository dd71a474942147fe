"""The docs must describe every route, CLI command and ``station.json`` setting, and the OpenAPI
document must describe exactly the operator API's routes.

Routes are collected at run time from the Starlette route objects: every module under
``redline.web`` is imported and each module-level ``ROUTES`` list read, so a route added (or a
module split) anywhere under ``web`` is seen without this test naming it. Where a route must be
documented follows from its path: ``/api/…`` in docs/api.md, ``/link/…`` in docs/protocol.md,
everything else (the console, served at ``/``) in docs/console.md, each as a table row
``| METHOD | `PATH…``. The settings are the keys ``redline init`` writes to ``station.json`` and
the fields the station reads back, found by initialising a station.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest
from starlette.routing import BaseRoute, Mount, Route

import redline.web
from redline.cli.main import build_parser
from redline.runtime import init_station
from redline.services.station import load_identity
from redline.web.openapi import OPENAPI

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SKIPPED_METHODS = {"HEAD"}  # Starlette adds HEAD to every GET route
CONVERTER = re.compile(r"\{(\w+):\w+\}")  # /vendor/{path:path} is documented as /vendor/{path}


def _commands(parser: argparse.ArgumentParser, prefix: str = "redline") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = _commands(sub, f"{prefix} {name}")
                found.extend(nested or [f"{prefix} {name}"])
    return found


def declared_routes() -> set[tuple[str, str]]:
    """(METHOD, path) of every route in a ``ROUTES`` list of a module under ``redline.web``;
    a mount (static files) counts as ``GET`` of ``PATH/{path}``."""
    found: set[tuple[str, str]] = set()
    for info in pkgutil.walk_packages(redline.web.__path__, "redline.web."):
        routes = getattr(importlib.import_module(info.name), "ROUTES", None)
        if not isinstance(routes, list):
            continue
        for route in routes:
            assert isinstance(route, BaseRoute), f"{info.name}.ROUTES holds {route!r}"
            if isinstance(route, Mount):
                found.add(("GET", route.path + "/{path}"))
            elif isinstance(route, Route):
                found.update((m, CONVERTER.sub(r"{\1}", route.path)) for m in route.methods or ["GET"])
    return {(m, p) for m, p in found if m not in SKIPPED_METHODS}


ROUTES = declared_routes()


def doc_for(path: str) -> str:
    if path.startswith("/api/"):
        return "api.md"
    if path.startswith("/link/"):
        return "protocol.md"
    if path == "/metrics":
        return "operations.md"
    return "console.md"


def test_the_route_collector_sees_every_kind_of_route() -> None:
    paths = {p for _m, p in ROUTES}
    for known in ("/api/v1/health", "/api/v1/links/{peer}", "/api/v1/notices", "/link/v1/ping", "/login"):
        assert known in paths, f"no ROUTES list under redline.web declares {known}: is the collector broken?"
    assert len(ROUTES) >= 50, sorted(ROUTES)


@pytest.mark.parametrize(("method", "path"), sorted(ROUTES), ids=lambda v: str(v))
def test_every_route_is_documented(method: str, path: str) -> None:
    name = doc_for(path)
    row = f"| {method} | `{path}"
    assert row in (DOCS / name).read_text(), f"docs/{name} lacks a row for the route: {row}…"


def test_the_openapi_document_has_every_api_route() -> None:
    paths = OPENAPI["paths"]
    api = sorted((m, p) for m, p in ROUTES if p.startswith("/api/"))
    missing = [f"{m} {p}" for m, p in api if m.lower() not in paths.get(p, {})]
    assert not missing, f"src/redline/web/openapi.py lacks {missing}"


def test_every_openapi_operation_is_a_route() -> None:
    methods = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
    operations = {(m.upper(), p) for p, item in OPENAPI["paths"].items() for m in item if m in methods}
    assert operations, "the OpenAPI document has no operations"
    unknown = sorted(f"{m} {p}" for m, p in operations - ROUTES)
    assert not unknown, f"src/redline/web/openapi.py describes routes that do not exist: {unknown}"


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    commands = _commands(build_parser())
    assert len(commands) >= 8
    missing = [c for c in commands if f"`{c}" not in text]
    assert not missing, f"docs/cli.md does not document {missing}"


def test_every_station_json_setting_is_documented(tmp_path: Path) -> None:
    me = asyncio.run(init_station(tmp_path / "s", "washington", "Washington"))
    written = set(json.loads((tmp_path / "s" / "station.json").read_text()))
    config = load_identity(tmp_path / "s").config
    read = {f.name for f in dataclasses.fields(config)} if dataclasses.is_dataclass(config) else set()
    assert me.station_id == "washington" and "database_url" in written
    section = (DOCS / "cli.md").read_text().split("## `station.json`", 1)
    assert len(section) == 2, "docs/cli.md has no `station.json` section"
    settings = section[1].split("\n## ", 1)[0]
    missing = sorted(k for k in written | read if f"| `{k}` |" not in settings)
    assert not missing, f"docs/cli.md's `station.json` section does not document {missing}"


def test_readme_opens_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text().split("\n## ", 1)[0]
    assert "make demo" in head and "make test" in head


TEST_REFERENCE = re.compile(r"`(?:([\w/]+\.py))?::(test_\w+)`")


def test_every_test_the_threat_model_names_exists() -> None:
    """docs/threat-model.md proves each defence by naming a test (`file::test`, or `::test` for
    one more in the file named just before): each must exist, so the table cannot drift."""
    text = (DOCS / "threat-model.md").read_text(encoding="utf-8")
    named, current = [], None
    for match in TEST_REFERENCE.finditer(text):
        current = match.group(1) or current
        assert current is not None, f"{match.group(0)} names no file"
        named.append((current, match.group(2)))
    assert len(named) >= 20, named
    missing = [
        f"{file}::{test}"
        for file, test in named
        if not re.search(rf"^(async )?def {test}\(", (ROOT / "tests" / file).read_text(), re.MULTILINE)
    ]
    assert not missing, f"docs/threat-model.md names tests that do not exist: {missing}"
    assert not re.search(r"\b[A-Z]+_(TESTS|LIMITS)\b", text), "a placeholder is left in the threat model"
