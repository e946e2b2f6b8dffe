"""Cyrillic names read under Russian and Kazakh conventions (names.cyrillic)."""

from __future__ import annotations

from qalqan.matching.compiled import compile_query
from qalqan.matching.screener import score_pair
from qalqan.model import Entity, Name, Query
from qalqan.names.cyrillic import MAX_READINGS, cyrillic_readings, has_cyrillic, korean_readings, russian_readings


def _score(query: str, listed: str, schema: str = "Person") -> float:
    entity = Entity("t-1", schema, "test", "1", (Name(listed),))
    return score_pair(Query(names=(query,), schema=schema), entity).score


def test_kontsevich_korean_reads_back_to_mccune_reischauer() -> None:
    assert korean_readings("Ли Мён Су")[0] == "ri myong su"
    assert korean_readings("Чхве Рён Хэ")[0] == "choe ryong hae"
    assert "kim jong un" in korean_readings("Ким Чен Ын")[:3]  # older practice: Чен = Jong, Ын = Un
    assert "kim il song" in korean_readings("Ким Ир Сен")  # final ㄹ written р is l
    assert korean_readings("Ли Мёнсу")[0] == "ri myong su"  # a joined given name comes apart


def test_only_korean_names_get_korean_readings() -> None:
    assert korean_readings("Иван Петров") == ()
    assert korean_readings("Абу Омар") == ()  # parses as syllables, but no Korean family name
    assert korean_readings("Ким") == ()


def test_russian_practice_readings() -> None:
    readings = russian_readings("Ибрагим аль-Багдади")
    assert "ibrahim al bagdadi" in readings  # intervocalic г as h, the article split off
    assert "abu muhammad al julani" in russian_readings("Абу Мухаммад аль-Джулани")  # дж = j
    assert "haji muhammad ashraf" in russian_readings("Қажы Мұхаммед Ашраф")  # Kazakh forms
    assert "abdirahman uly" in russian_readings("Әбдірахманұлы")[1]  # patronymic suffix apart


def test_no_readings_for_latin_names() -> None:
    assert not has_cyrillic("Kim Jong Un")
    assert cyrillic_readings("Kim Jong Un") == ()
    assert len(compile_query(Query(names=("Kim Jong Un",), schema="Person")).names) == len(
        compile_query(Query(names=("Kim Jong Un",), schema="Person")).names
    )


def test_readings_are_bounded() -> None:
    assert 1 <= len(cyrillic_readings("Чон Сон Чхоль Кан")) <= MAX_READINGS


def test_cyrillic_query_gets_extra_compiled_names() -> None:
    compiled = compile_query(Query(names=("Ли Мён Су",), schema="Person"))
    assert any([t.text for t in n.tokens] == ["ri", "myong", "su"] for n in compiled.names)


def test_korean_name_in_russian_matches_its_mr_spelling() -> None:
    assert _score("Ли Мён Су", "RI MYONG SU") >= 0.9
    assert _score("Чхве Рён Хэ", "CHOE RYONG HAE") >= 0.9
    assert _score("Ким Чен Ын", "Kim Jong Un") >= 0.9


def test_arabic_name_in_russian_matches() -> None:
    assert _score("Ибрагим аль-Багдади", "Ibrahim al-Baghdadi") >= 0.9
    assert _score("Ибраһим Әбдірахманұлы", "Ibrahim Abdirahman") >= 0.8


def test_different_korean_name_does_not_match() -> None:
    assert _score("Пак Ён Сик", "KIM JONG UN") < 0.5
    assert _score("Ли Мён Су", "RI CHOL HO") < 0.7


def _threshold() -> float:
    from qalqan.matching.config import load_config

    return load_config().threshold


def test_u_after_a_vowel_reads_as_w() -> None:
    """Russian and Kazakh write w after a vowel as у (Nawaz / Науаз): one reading has it as w."""
    assert "nawaz shawki" in russian_readings("Науаз Шауки")
    assert _score("Науаз Шауки Бакр", "NAWAZ SHAWKI BAKR") >= _threshold()
    assert "musa" in russian_readings("Муса")[-1]  # у after a consonant stays u


def test_an_arabic_interdental_written_s_or_z_meets_th_or_dh() -> None:
    assert _score("Хайсам Мусанна Казими", "HAYTHAM MUTHANNA KADHIMI") >= _threshold()
    assert _score("Thomas Barker", "Somas Barker") < _score("Thomas Barker", "Tomas Barker")


def test_titles_written_in_cyrillic_are_dropped_like_their_latin_forms() -> None:
    """Кари (Qari), Хаджи (Haji), Шейх, Мавлави ... are titles, not names, as in Latin script."""
    threshold = _threshold()
    assert _score("Кари Джамиль Навид", "QARI JAMIL NAVID") >= threshold
    assert _score("Хаджи Джамиль Навид", "HAJI JAMIL NAVID") >= threshold
    assert _score("Шейх Джамиль Навид", "JAMIL NAVID") >= threshold
    # A lone title with one name is still a name of two words: nothing is dropped.
    assert _score("Кари Навид", "NAVID") < threshold
