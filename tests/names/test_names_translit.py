"""latinize: behaviour tables per script and properties over arbitrary text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qalqan.names import latinize
from qalqan.names.translit import _latinize

WORDS = re.compile(r"^([a-z0-9]+( [a-z0-9]+)*)?$")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Kazakh Cyrillic: Қ is K as in passports and English spellings.
        ("Қасым-Жомарт Тоқаев", "kasym zhomart tokaev"),
        ("Нұрсұлтан Әбішұлы Назарбаев", "nursultan abishuly nazarbaev"),
        ("Ғани Үмбетов", "gani umbetov"),
        ("Өмірзақ Һ Іле Ң", "omirzak h ile n"),
        ("Шамиль Басаев", "shamil basaev"),
        ("Ўткир Ҳамза Тоҷикистон", "utkir hamza tojikiston"),  # Uzbek, Tajik
        # Latin with diacritics, hyphens split, apostrophes join.
        ("José Müller-Lüdenscheidt", "jose muller ludenscheidt"),
        ("al-Zawahiri", "al zawahiri"),
        ("Ma'ruf", "maruf"),
        ("MA\u2019RUF", "maruf"),
        ("Oʻzbek", "ozbek"),
        ("  SADDAM   HUSSEIN, AL-TIKRITI. ", "saddam hussein al tikriti"),
        ("Group 2", "group 2"),
        ("", ""),
    ],
)
def test_latin_and_cyrillic(text: str, expected: str) -> None:
    assert latinize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("محمد بن عبد الله", "muhammad bin abd allah"),
        ("أيمن الظواهري", "ayman al zawahiri"),
        ("الزواهري", "al zawahiri"),
        ("أسامة بن لادن", "usama bin laden"),  # لادن: the learned model (bench/train_arabic.py)
        ("عبدالرحمن", "abd al rahman"),  # joined prefix and article split
        ("أبو بكر البغدادي", "abu bakr al baghdadi"),
        ("خالد", "khalid"),  # long a then a cluster: the CaCiC pattern
        ("فاطمة", "fatima"),  # ta marbuta
        ("جعفر", "jafar"),  # ayn closes a syllable
        ("منصور", "mansur"),
        ("ابراهيم", "ibrahim"),
        ("اقبال", "iqbal"),  # initial alif before CC + long vowel is i-
        ("اشرف", "ashraf"),
        ("حسن", "hasan"),  # final cluster after a short vowel is split
        ("شدّاد", "shaddad"),  # shadda doubles
        ("مُحَمَّد", "muhammad"),  # harakat present
        ("سَعِيد", "said"),
        ("خَالِد", "khalid"),  # fatha before alif is not a second vowel
        ("مُوَفَّق", "muwaffaq"),  # haraka stored before shadda (canonical order)
        ("شَدَّاد", "shaddad"),
        ("فَهْد", "fahd"),  # sukun: no vowel inferred
        ("فهد", "fahad"),  # without marks the final cluster is split
        ("فيصل", "faysal"),  # CayCaC
        ("وائل", "wail"),  # hamza carrier
        ("سيف الدين", "sayf al din"),
        ("نصرالله", "nasrallah"),
        ("آخوند", "akhund"),
        ("گلبدین حکمتیار", "galbadin hakmatyar"),  # Persian letters گ ی ک
        ("پاکستانی", "pakistani"),
        ("چ ژ", "ch zh"),
        ("ﷲ", "allah"),  # presentation-form ligature
        ("محمـــد", "muhammad"),  # tatweel
        ("محمد ١٢٣", "muhammad 123"),  # Arabic-Indic digits
        ("Ali علي", "ali ali"),  # mixed scripts in one string
    ],
)
def test_arabic_script(text: str, expected: str) -> None:
    assert latinize(text) == expected


def test_arabic_beats_icu_skeleton() -> None:
    # rigour/ICU gives 'mhmd bn ?bd allh'; ours must carry vowels and no '?'.
    out = latinize("محمد بن عبد الله")
    assert "?" not in out and "mhmd" not in out.split()


def test_other_scripts_fall_back_to_ascii_text() -> None:
    assert latinize("北京") == "bei jing"
    assert WORDS.match(latinize("עברית"))
    assert latinize("עברית") != ""


def test_long_input_is_not_cached_but_handled() -> None:
    text = "محمد " * 5000
    out = latinize(text)
    assert out.split() == ["muhammad"] * 5000


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_latinize_properties(text: str) -> None:
    out = latinize(text)
    assert WORDS.match(out), out
    assert latinize(out) == out


_ARABIC_LETTERS = st.text(
    alphabet=st.sampled_from(
        "ابتثجحخدذرزسشصضطظعغفقكلمنهويىةءآأإؤئ"
        "پچژگکی\u064e\u0650\u064f\u0651\u0652\u064b\u0640 -"
    ),
    max_size=30,
)


@settings(max_examples=400, deadline=None)
@given(_ARABIC_LETTERS)
def test_arabic_properties(text: str) -> None:
    out = _latinize(text)
    assert WORDS.match(out), out
    assert latinize(out) == out
    # Every Arabic letter word yields something: nothing is silently dropped
    # except words made only of silent letters (ع ء) or marks.
    if any(c in "بتثجحخدذرزسشصضطظغفقكلمنهپچژگک" for c in text):
        assert out
