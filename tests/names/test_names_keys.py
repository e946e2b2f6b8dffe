"""token_key: spelling variants collide, different names do not."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rigour.text import ascii_text

from qalqan.names import latinize, token_key
from qalqan.names.keys import KEY_RULES, make_key

SHARED = Path(os.environ.get("QALQAN_SHARED", Path(__file__).resolve().parents[3] / "shared" / "data"))


@pytest.mark.parametrize(
    "variants",
    [
        ["Muhammad", "Mohammed", "Mohamad", "Mohammad", "Muhamed", "Mouhamed"],
        ["Abdul", "Abdel", "Abdal"],
        ["bin", "ibn", "ben"],
        ["al", "el", "ul"],
        ["Tikriti", "Tikrity", "Tikritiy"],
        ["Khasan", "Hasan", "Hassan"],  # Russian Х for Arabic ح
        ["Qasim", "Kasim", "Kassim"],
        ["Ghazi", "Gazi"],
        ["Youssef", "Yusuf", "Yousef"],
        ["Saeed", "Said", "Sayed"],
        ["Djamal", "Jamal", "Dzhamal", "Zhamal"],
        ["Maxim", "Maksim"],
        ["Mustapha", "Mustafa", "Moustafa"],
        ["Schamil", "Shamil"],
        ["Rachid", "Rashid", "Rasheed"],  # French ch
        ["Osama", "Usama", "Ousama"],
        ["Khaled", "Khalid"],
        ["Saleh", "Salih"],
        ["Fatimah", "Fatima"],
        ["Zarkaoui", "Zarqawi"],
        ["Abdallah", "Abdullah", "Abdulla"],
        ["Hussein", "Husayn", "Hossein", "Hussain"],
    ],
)
def test_spelling_variants_collide(variants: list[str]) -> None:
    keys = {token_key(latinize(v)) for v in variants}
    assert len(keys) == 1, dict(zip(variants, (token_key(latinize(v)) for v in variants)))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Muhammad", "Mahmud"),
        ("Muhammad", "Ahmad"),
        ("Ali", "Allah"),
        ("Omar", "Amr"),
        ("Khalid", "Khalil"),
        ("Ibrahim", "Ismail"),
        ("Karim", "Rahim"),
        ("Hamid", "Hamza"),
        ("Rashid", "Rasul"),
        ("Abu", "Abd"),
        ("bin", "bint"),
        ("Tikriti", "Tikrit"),  # the nisba ending is kept
    ],
)
def test_different_names_differ(a: str, b: str) -> None:
    assert token_key(a.lower()) != token_key(b.lower())


@pytest.mark.parametrize(
    ("arabic", "english"),
    [
        ("محمد", "Mohammed"),
        ("حسين", "Hussein"),
        ("التكريتي", "al-Tikriti"),
        ("الظواهري", "al-Zawahiri"),
        ("يوسف", "Youssef"),
        ("خالد", "Khaled"),
        ("سعيد", "Saeed"),
        ("صالح", "Saleh"),
        ("عمر", "Omar"),
        ("أسامة", "Osama"),
        ("ابن", "bin"),
        ("عبد الرحمن", "Abd al-Rahman"),
        ("فاطمة", "Fatimah"),
        ("منصور", "Mansour"),
        ("جعفر", "Jaafar"),
        ("الزرقاوي", "al-Zarqawi"),
        ("آخوند", "Akhund"),
        ("حقاني", "Haqqani"),
    ],
)
def test_arabic_script_meets_english_spelling(arabic: str, english: str) -> None:
    ours = [token_key(t) for t in latinize(arabic).split()]
    theirs = [token_key(t) for t in latinize(english).split()]
    assert ours == theirs


def test_non_token_input_is_latinized() -> None:
    assert token_key("Мухаммед") == token_key("muhammad")
    assert token_key("محمد") == token_key("mohammed")
    assert token_key("") == ""
    assert token_key("--") == ""


def test_unknown_vowel_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="vowel mode"):
        make_key(vowels="nope")


def test_chosen_rules_are_what_token_key_uses() -> None:
    key = make_key(**KEY_RULES)  # type: ignore[arg-type]
    for tok in ["mohammed", "zarkaoui", "tikritiy", "saleh", "abdoulaye"]:
        assert key(tok) == token_key(tok)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_token_key_never_raises_and_is_ascii(text: str) -> None:
    k = token_key(text)
    assert k == "" or (k.isascii() and k.isalnum() and k == k.lower())


@settings(max_examples=1000, deadline=None)
@given(st.from_regex(r"[a-z]{1,14}", fullmatch=True))
def test_token_key_is_stable_on_its_output(token: str) -> None:
    k = token_key(token)
    assert token_key(k) == k


def _un_arabic_records() -> list[tuple[str, list[str]]]:
    """(NAME_ORIGINAL_SCRIPT in Arabic script, Latin names) per UN record."""
    from lxml import etree  # type: ignore[import-untyped]

    out = []
    tree = etree.parse(str(SHARED / "un" / "un_consolidated_2026-02-27.xml"))
    for tag in ("INDIVIDUAL", "ENTITY"):
        for el in tree.iter(tag):
            orig = (el.findtext("NAME_ORIGINAL_SCRIPT") or "").strip()
            if orig and any("\u0600" <= c <= "\u06ff" for c in orig):
                parts = [el.findtext(f) or "" for f in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
                aliases = [a.findtext("ALIAS_NAME") or "" for a in el.iter(f"{tag}_ALIAS")]
                out.append((orig, [" ".join(parts), *aliases]))
    return out


def test_un_original_script_agreement_beats_icu() -> None:
    """On the UN list's Arabic-script NAME_ORIGINAL_SCRIPT tokens, our keys meet
    a Latin token of the same record far more often than ICU's skeleton does."""
    records = _un_arabic_records()
    assert len(records) > 300

    def rate(lat: Callable[[str], str]) -> float:
        hits = n = 0
        for orig, names in records:
            keys = {token_key(t) for name in names for t in latinize(name).split()}
            for tok in lat(orig).split():
                if len(tok) >= 3:  # al, bn and initials match trivially
                    n += 1
                    hits += token_key(tok) in keys
        return hits / n

    ours = rate(latinize)
    icu = rate(lambda s: latinize(ascii_text(s)))
    assert ours > 0.7
    assert ours > icu + 0.4
