"""Organisation names translated word by word meet their original (names.orgwords)."""

from __future__ import annotations

from qalqan.matching.screener import score_pair
from qalqan.model import Entity, Name, Query
from qalqan.names.orgwords import CONCEPTS, concept, rewrite, vocabulary_size
from qalqan.names.tokens import name_tokens


def _score(query: str, listed: str) -> float:
    entity = Entity("t-1", "Organization", "test", "1", (Name(listed),))
    return score_pair(Query(names=(query,), schema="Organization"), entity).score


def test_vocabulary_is_large_and_distinct() -> None:
    size = vocabulary_size()
    assert size["concepts"] >= 150
    assert len(set(CONCEPTS)) == len(CONCEPTS)
    assert size["cyrillic_forms"] > 300 and size["arabic_forms"] > 150


def test_inflected_forms_share_a_concept() -> None:
    for word in ("Корейская", "корейского", "Корея", "Korean", "KOREA", "Кореяның", "كوريا", "الكورية"):
        assert concept(word) == "korea", word
    for word in ("торговая", "торговли", "сауда", "саудасы", "Trading", "trade", "للتجارة", "التجارة"):
        assert concept(word) == "trading", word
    assert concept("корпорациясы") == concept("корпорации") == concept("Corporation") == "corporation"
    assert concept("Банкі") == concept("банка") == "bank"
    # Russian and Kazakh translate a Bureau (the DPRK's General Bureaux) as управление / басқарма,
    # and "main" (главное) as general.
    assert concept("Bureau") == concept("управление") == concept("басқармасы") == concept("бюро") == concept("Directorate")
    assert concept("Главное") == concept("главного") == concept("General") == "general"


def test_proper_names_starting_like_a_stem_are_left_alone() -> None:
    assert concept("Исламабад") is None  # ислам- needs an inflection, not -абад
    assert concept("Тангун") is None
    assert rewrite("Корейская торговая корпорация «Тангун»") == "korea trading corporation «Тангун»"


def test_tokens_of_a_translated_name_are_the_original_tokens() -> None:
    english = [t.text for t in name_tokens("Korea Mining Trading Corporation", True)]
    russian = [t.text for t in name_tokens("Корейская горнодобывающая торговая корпорация", True)]
    kazakh = [t.text for t in name_tokens("Корея тау-кен сауда корпорациясы", True)]
    assert english == russian == kazakh == ["korea", "mining", "trading", "corporation"]


def test_translated_name_scores_above_threshold() -> None:
    listed = "KOREA MINING DEVELOPMENT TRADING CORPORATION"
    for query in (
        "Корейская горнодобывающая торговая корпорация",
        "Корея тау-кен сауда корпорациясы",
        "شركة التعدين الكورية للتجارة",
    ):
        m = score_pair(Query(names=(query,), schema="Organization"), Entity("t-1", "Organization", "test", "1", (Name(listed),)))
        assert m.match, (query, m.score)
    assert _score("Ислам жиһады одағы", "ISLAMIC JIHAD UNION") >= 0.8
    assert _score("Исламская армия Ирака", "ISLAMIC ARMY OF IRAQ") >= 0.8


def test_one_shared_generic_word_is_no_match() -> None:
    listed = "KOREA MINING DEVELOPMENT TRADING CORPORATION"
    assert _score("Корейский национальный банк", listed) < 0.5
    assert _score("Казахская нефтяная корпорация", listed) < 0.5
    assert _score("Sunrise Trading Corporation", listed) < 0.5


def test_a_translated_word_is_shown_where_it_was_written() -> None:
    from qalqan.names.tokens import token_spans

    name = "ТОО Корейская торговая компания"
    tokens = [t.text for t in name_tokens(name, True)]
    shown = [name[a:b] for a, b in token_spans(name, True)]
    assert list(zip(tokens, shown)) == [("llp", "ТОО"), ("korea", "Корейская"), ("trading", "торговая"), ("company", "компания")]


def test_a_long_word_one_typo_from_a_form_reads_as_its_concept() -> None:
    assert concept("Finsnce") == concept("Finance") == "financial"  # a letter replaced
    assert concept("Egyptiaan") == concept("Egyptian")  # a letter added
    assert concept("Mouvement") == concept("Movement")
    assert concept("Intrenational") == concept("International")  # two letters swapped
    assert _score("Kortrading Finsnce Corporation", "Kortrading Finance Corporation") > 0.95


def test_short_words_other_first_letters_and_generic_words_are_not_corrected() -> None:
    assert concept("Marina") is None  # under MIN_TYPO_LETTERS: too often another word
    assert concept("Minance") is None  # the first letter is never guessed
    assert concept("Hilding") is None  # one letter from "holding", a generic word
    assert concept("Zorbekov") is None


def test_transliterated_organisation_words_share_the_concept_of_their_translation() -> None:
    # Arabic, Persian and Urdu words in Latin and Cyrillic letters
    assert rewrite("HARAKAT-UL JIHAD") == "movement-UL jihad"
    assert rewrite("Jamaat Tehrik") == "group movement"
    assert rewrite("AL-QAIDA") == "AL-base" and rewrite("Аль-Каида") == "Аль-base"
    assert concept("Каида") == concept("qaida") == concept("قاعدة") == "base"
    # English words as Russian registries write them, letter for sound
    assert concept("Трейдинг") == "trading"
    assert concept("Шиппинг") == "shipping"
    assert concept("Энгинирс") == "engineering"  # the English plural -s as -с
    assert concept("Интернешнл") == "international"


def test_persian_and_urdu_letters_fold_to_their_arabic_forms() -> None:
    assert rewrite("تنظیم جیش المھاجرین") == "organization army emigrants"  # ی ک ھ
    assert concept("شبکه") == concept("شبكة") == "network"
    assert concept("حرکت") == "movement"  # the Persian and Urdu spelling of حركة


def test_a_name_written_in_another_script_meets_its_transliteration() -> None:
    assert _score("شبکه حقانی", "HAQQANI NETWORK") > 0.9
    assert _score("Сахел Консултант Энгинирс", "SAHEL CONSULTANT ENGINEERS") > 0.9


def test_a_charitable_foundation_keeps_its_words_in_every_language() -> None:
    # rigour reads "Благотворительный фонд" (and Stiftung) as the type NGO, but not "Charitable
    # Foundation": left to the vocabulary, both sides keep the same words
    assert [t.text for t in name_tokens("Международный благотворительный фонд", True)] == ["international", "charity", "foundation"]
    assert _score("Международный благотворительный фонд", "BENEVOLENCE INTERNATIONAL FOUNDATION") > 0.95
    # other legal forms are still read by rigour and weigh like particles
    llc = name_tokens("Общество с ограниченной ответственностью Ромашка", True)
    assert [t.text for t in llc if not t.particle] == ["romashka"]
