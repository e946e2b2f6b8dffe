"""Shared paths for the list-reader tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The real public lists (../shared/data, or QALQAN_SHARED). CI always has them."""
    return Path(os.environ.get("QALQAN_SHARED", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES
