"""`model.identifiers`: what a subject id or a list name may contain, and its two uses — the
subject rows of every import (`monitoring.rescreen.prepare_subject`) and list names
(`sources.registry.read_list`)."""

from __future__ import annotations

import re
import shutil
from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qalqan.model import ListError
from qalqan.model.identifiers import BIDI_CONTROLS, check_identifier, check_text
from qalqan.monitoring.rescreen import RowError, prepare_subject
from qalqan.sources.registry import read_list

DEMO = Path(str(files("qalqan") / "data" / "demo.csv"))


@pytest.mark.parametrize("value", ["CUST-000123", "un", "Иван-7", "محمد_1", "a b.c", "x" * 500])
def test_ordinary_identifiers_pass(value: str) -> None:
    assert check_identifier(value, "subject id") == value


@pytest.mark.parametrize(
    ("value", "codepoint"),
    [
        ("C\x001", "U+0000"),
        ("C\n1", "U+000A"),
        ("C\t1", "U+0009"),
        ("C\x7f1", "U+007F"),
        ("C\x851", "U+0085"),  # C1 control
        ("C\u202e1", "U+202E"),
        ("C\u202a1", "U+202A"),
        ("C\u20661", "U+2066"),
        ("C\u20691", "U+2069"),
        ("C\u200e1", "U+200E"),
        ("C\u200f1", "U+200F"),
        ("C\u061c1", "U+061C"),
        ("C\ud8001", "U+D800"),
        ("C\u20281", "U+2028"),
    ],
)
def test_refused_characters_are_named_with_the_field(value: str, codepoint: str) -> None:
    with pytest.raises(ValueError, match=rf"^subject id .*\({re.escape(codepoint)}\) at position 1$"):
        check_identifier(value, "subject id")


def test_reserved_names_are_refused_whatever_their_case() -> None:
    for name in ("default", "DEFAULT", "Default"):
        with pytest.raises(ValueError, match=rf"^list name '{name}' is reserved$"):
            check_identifier(name, "list name", reserved=("default",))
    assert check_identifier("defaults", "list name", reserved=("default",)) == "defaults"


def test_an_empty_identifier_is_refused() -> None:
    with pytest.raises(ValueError, match="^subject id is empty$"):
        check_identifier("", "subject id")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="".join(BIDI_CONTROLS)), min_size=1))
def test_every_other_text_is_an_identifier(value: str) -> None:
    assert check_identifier(value, "id") == value


def test_free_text_refuses_only_nul_and_lone_surrogates() -> None:
    assert check_text("line one\nline two \u202e tab\t", "reason") == "line one\nline two \u202e tab\t"
    with pytest.raises(ValueError, match=r"^reason contains a NUL character \(U\+0000\) at position 1$"):
        check_text("a\x00", "reason")
    with pytest.raises(ValueError, match=r"^name contains a lone surrogate \(U\+DC00\) at position 0"):
        check_text("\udc00", "name")


# -- where they are used ------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "codepoint"), [("C\u202e1", "U+202E"), ("C\x001", "U+0000"), ("C\u20671", "U+2067")])
def test_a_subject_row_with_a_disguised_id_is_refused_naming_row_and_field(raw: str, codepoint: str) -> None:
    err = prepare_subject({"id": raw, "name": "Ali Khan"}, 12)
    assert isinstance(err, RowError) and err.row == 12 and err.field == "id" and codepoint in err.message


def test_a_subject_row_with_unstorable_text_is_refused_naming_the_field() -> None:
    err = prepare_subject({"id": "C1", "name": "Ali \ud800 Khan"}, 3)
    assert isinstance(err, RowError) and err.field == "name" and "U+D800" in err.message
    # Any other column: the value is left out (stored and screened without it), with a warning.
    rec = prepare_subject({"id": "C1", "name": "Ali Khan", "document_number": "N1\x00"}, 3)
    assert not isinstance(rec, RowError) and "document_number" not in rec.data
    [warning] = rec.warnings
    assert warning.field == "document_number" and "U+0000" in warning.message and warning.value == "N1\\x00"


def test_a_subject_id_longer_than_the_store_holds_is_refused() -> None:
    err = prepare_subject({"id": "C" * 201, "name": "Ali Khan"}, 1)
    assert isinstance(err, RowError) and err.field == "id" and "at most 200" in err.message
    assert not isinstance(prepare_subject({"id": "C" * 200, "name": "Ali Khan"}, 1), RowError)


@pytest.mark.parametrize("name", ["default", "sanctions", "Default", "my\u202elist", "my\x00list", "x" * 65])
def test_a_list_name_that_shadows_or_disguises_is_refused(name: str) -> None:
    with pytest.raises(ListError, match="list name") as caught:
        read_list(f"csv:{DEMO}", name=name)
    assert caught.value.field == "name"


def test_a_list_named_after_its_file_is_checked_too(tmp_path: Path) -> None:
    path = tmp_path / "default.csv"
    shutil.copy(DEMO, path)
    with pytest.raises(ListError, match="'default' is reserved"):
        read_list(f"csv:{path}")
    assert read_list(f"csv:{DEMO}", name="national").info.name == "national"
