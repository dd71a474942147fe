"""Fast tests: no subprocess, no socket, no sleeping. ``make unit`` runs this folder.

Async tests run under anyio's pytest plugin (``@pytest.mark.anyio``), on asyncio only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.inprocess import InProcessPair, inprocess_pair


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[InProcessPair]:
    """washington and beijing in this process, paired, running, links up, on a shared MockClock."""
    async with inprocess_pair(tmp_path) as stations:
        yield stations
