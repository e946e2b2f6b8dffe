"""The generated matching documentation is current and says what the code does."""

from __future__ import annotations

from pathlib import Path

from qalqan.matching.config import load_config
from qalqan.matching.docs import render
from qalqan.matching.features import FEATURES

DOC = Path(__file__).resolve().parents[2] / "docs" / "matching-features.md"


def test_committed_documentation_is_regenerated_from_the_code() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run: python -m qalqan.matching.docs > docs/matching-features.md"


def test_documentation_names_every_feature_and_the_threshold() -> None:
    text = render()
    for feature in FEATURES:
        assert f"`{feature.__name__}`" in text
    assert f"**{load_config().threshold}**" in text
