"""The docs must list every API route and CLI command; the OpenAPI document every route."""

from __future__ import annotations

import argparse
from pathlib import Path

from redline.cli.main import build_parser
from redline.web import api, notices
from redline.web.openapi import OPENAPI

ROOT = Path(__file__).resolve().parents[1]


def _commands(parser: argparse.ArgumentParser, prefix: str = "redline") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = _commands(sub, f"{prefix} {name}")
                found.extend(nested or [f"{prefix} {name}"])
    return found


def test_every_cli_command_is_documented():
    text = (ROOT / "docs" / "cli.md").read_text()
    commands = _commands(build_parser())
    assert len(commands) >= 8
    missing = [c for c in commands if f"`{c}" not in text]
    assert not missing, f"docs/cli.md does not document {missing}"


def test_every_api_route_is_documented_and_in_openapi():
    text = (ROOT / "docs" / "api.md").read_text()
    for route in [*api.ROUTES, *notices.ROUTES]:
        for method in route.methods or []:
            if method == "HEAD":
                continue
            assert f"| {method} | `{route.path}" in text, f"docs/api.md lacks {method} {route.path}"
            assert method.lower() in OPENAPI["paths"].get(route.path, {}), (
                f"OpenAPI lacks {method} {route.path}"
            )


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text().split("\n## ", 1)[0]
    assert "make demo" in head and "make test" in head
