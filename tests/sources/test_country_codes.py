"""Country values: codes and exact English names are read without rigour's full name table
(about 2 s to build, which a 10-row screening file should not wait for), and agree with it."""

from __future__ import annotations

import pytest
from rigour.territories import lookup_territory

from qalqan.sources import values
from qalqan.sources.values import _exact_territories, country_code


@pytest.mark.parametrize(("text", "code"), [("KZ", "kz"), ("kaz", "kz"), ("Kazakhstan", "kz"), (" AFGHANISTAN ", "af"), ("Russia", "ru")])
def test_codes_and_names_skip_the_full_lookup(monkeypatch: pytest.MonkeyPatch, text: str, code: str) -> None:
    country_code.cache_clear()

    def refused(*_: object, **__: object) -> None:
        raise AssertionError("full lookup used")

    monkeypatch.setattr(values, "lookup_territory", refused)
    assert country_code(text) == code
    country_code.cache_clear()


def test_the_fast_table_agrees_with_rigour_everywhere() -> None:
    table = _exact_territories()
    assert len(table) > 500
    wrong = [(k, v) for k, v in table.items() if (t := lookup_territory(k)) is None or t.code != v]
    assert wrong == []


def test_other_forms_still_reach_rigour() -> None:
    country_code.cache_clear()
    assert country_code("Kazakh") == "kz"  # a demonym: not in the fast table
    assert country_code("Atlantis") is None
