"""The learned Arabic-script transliterator (qalqan.names.arabic_model) and its use in latinize.

Examples are well-known people's names in their usual Arabic spelling (public knowledge, not
taken from the training pairs); assertions are tolerant (edit distance), as any spelling a
reader would accept is fine.
"""

from __future__ import annotations

import gzip
import json
import math
from importlib import resources

import pytest
from rapidfuzz.distance import Levenshtein

from qalqan.names import arabic_model, translit
from qalqan.names.arabic_model import DATA_FILE, ArabicModel, candidates, load_model, normalise, transliterate
from qalqan.names.translit import latinize

# (Arabic spelling, usual Latin spelling, edits tolerated)
KNOWN = [
    ("فلاديمير", "vladimir", 1),
    ("شنايدر", "schneider", 2),
    ("ميركل", "merkel", 1),
    ("ترامب", "trump", 1),
    ("كينيدي", "kennedy", 2),
    ("روبرتو", "roberto", 1),
    ("ناكاموتو", "nakamoto", 1),
    ("موتسارت", "mozart", 2),
    ("تولستوي", "tolstoy", 2),
    ("دوستويفسكي", "dostoevsky", 3),
    ("كريستيانو", "cristiano", 2),
    ("ماكرون", "macron", 2),
]


def test_package_data_file_is_found_through_importlib_resources() -> None:
    path = resources.files("qalqan.names").joinpath(DATA_FILE)
    assert path.is_file()
    data = json.loads(gzip.decompress(path.read_bytes()))
    assert data["format"] == arabic_model.FORMAT and data["version"] == arabic_model.FORMAT_VERSION
    # Small enough to ship in the wheel.
    assert len(path.read_bytes()) < 1_500_000


def test_model_loads_once_with_its_provenance() -> None:
    model = load_model()
    assert load_model() is model
    assert model.order >= 3
    assert model.meta["trained_by"] == "bench/train_arabic.py"
    assert "wd_arabic_20" in model.meta["held_out"]


@pytest.mark.parametrize(("arabic", "latin", "edits"), KNOWN)
def test_decodes_names_of_non_arab_people(arabic: str, latin: str, edits: int) -> None:
    assert Levenshtein.distance(transliterate(arabic), latin) <= edits


def test_known_names_are_mostly_decoded_exactly_or_in_the_top_five() -> None:
    top5 = sum(any(c == latin for c, _ in candidates(arabic, 5)) for arabic, latin, _ in KNOWN)
    assert top5 >= len(KNOWN) * 2 // 3


def test_candidates_are_ranked_probabilities_led_by_the_best_spelling() -> None:
    found = candidates("شنايدر", 5)
    assert 1 < len(found) <= 5
    assert found[0][0] == transliterate("شنايدر")
    probs = [p for _, p in found]
    assert probs == sorted(probs, reverse=True)
    assert math.isclose(sum(probs), 1.0)
    assert len({c for c, _ in found}) == len(found)


def test_deterministic_across_calls_and_fresh_models() -> None:
    raw = resources.files("qalqan.names").joinpath(DATA_FILE).read_bytes()
    fresh = ArabicModel(json.loads(gzip.decompress(raw)))
    for arabic, _, _ in KNOWN:
        letters = normalise(arabic)
        assert fresh.decode(letters, 3) == load_model().decode(letters, 3)
        assert transliterate(arabic) == transliterate(arabic)


def test_score_of_the_best_spelling_is_its_decoding_score() -> None:
    model = load_model()
    letters = normalise("فلاديمير")
    (best, logp), *_ = model.decode(letters, 3)
    assert math.isclose(model.score(letters, best), logp)
    assert model.score(letters, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz") == -math.inf
    assert model.score(letters, "") == -math.inf


@pytest.mark.parametrize("odd", ["", "   ", "abc", "١٢٣", "ـــ", "\u064e\u0651", "?!", "\u200c\u200f"])
def test_odd_input_gives_nothing_rather_than_failing(odd: str) -> None:
    assert transliterate(odd) == ""
    assert candidates(odd, 3) == []


def test_marks_presentation_forms_and_tatweel_are_read_as_plain_letters() -> None:
    plain = transliterate("ميركل")
    assert transliterate("مـيـركـل") == plain  # tatweel
    assert transliterate("\ufee3\ufef4\ufead\ufedb\ufede") == plain  # presentation forms
    assert normalise("مِيرْكِل") == "ميركل"


def test_long_and_unknown_letter_input_is_declined() -> None:
    assert transliterate("ب" * 500) == ""
    assert candidates("شنايدر", 0) == []
    # A Persian letter the training pairs hardly have: left to the rules.
    assert not load_model().covers(normalise("پ"))


def test_mixed_input_keeps_the_arabic_letters_only() -> None:
    assert transliterate("X-ميركل!") == transliterate("ميركل")


def test_latinize_uses_the_model_for_words_the_lexicon_and_rules_do_not_know() -> None:
    assert Levenshtein.distance(latinize("فلاديمير شنايدر"), "vladimir schneider") <= 2
    # Arabic name morphemes and structure stay with the lexicon and the rules.
    assert latinize("محمد بن عبد الله") == "muhammad bin abd allah"
    assert latinize("عبدالرحمن").split()[:2] == ["abd", "al"]


def test_switching_the_model_off_restores_the_rule_spelling() -> None:
    try:
        translit.use_arabic_model(False)
        rules = latinize("شنايدر")
        assert rules != "schneider"
    finally:
        translit.use_arabic_model(True)
    assert latinize("شنايدر") == "schneider"


def test_harakat_keep_the_rules() -> None:
    # Vowelled words the lexicon lacks: the rules read the marks, the model would ignore them.
    words = ["مَارْكُو", "بُوتِين", "فِيلِيب"]
    with_model = [latinize(w) for w in words]
    try:
        translit.use_arabic_model(False)
        assert [latinize(w) for w in words] == with_model
    finally:
        translit.use_arabic_model(True)
    assert latinize("مُوسَى") == "musa"
