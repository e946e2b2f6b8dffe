"""Indicator records, the CSV and hash-bank readers, and STIX patterns both ways."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stix2
from stix2patterns.validator import run_validator

from qalqan.content.indicators import (
    CATEGORIES, Indicator, IndicatorError, canonical_value, read_csv, read_hash_bank,
)
from qalqan.content.patterns import PatternError, escape, indicator_from_pattern, pattern_for, unescape

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def ind(kind: str, value: str, **kw: object) -> Indicator:
    return Indicator(id="", type=kind, value=value, category=str(kw.pop("category", "other")), **kw)  # type: ignore[arg-type]


# --- the record ---------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "raw", "expected"), [
    ("md5", " D41D8CD98F00B204E9800998ECF8427E ", "d41d8cd98f00b204e9800998ecf8427e"),
    ("sha1", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    ("sha256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("pdq", PDQ.upper(), PDQ),
    ("url", "WWW.Example.com/a?utm_source=x", "http://example.com/a"),
    ("url", "https://example.com/a/b/*", "https://example.com/a/b/*"),
    ("domain", "WWW.Пример.РФ.", "xn--e1afmkfd.xn--p1ai"),
    ("ip", "2001:DB8:0::1", "2001:db8::1"),
    ("cidr", "10.1.2.3/8", "10.0.0.0/8"),
])
def test_values_canonical_on_creation(kind: str, raw: str, expected: str) -> None:
    assert ind(kind, raw).value == expected


@pytest.mark.parametrize(("kind", "raw"), [
    ("md5", "abc"), ("sha1", "z" * 40), ("sha256", "a" * 63), ("pdq", "a" * 63), ("pdq", "g" * 64),
    ("ip", "10.0.0.0/8"), ("ip", "999.1.1.1"), ("cidr", "10.0.0.0/33"), ("domain", "co.uk"), ("domain", "192.0.2.1"),
    ("url", "http://"), ("url", ""),
])
def test_bad_values_refused_naming_value(kind: str, raw: str) -> None:
    with pytest.raises(IndicatorError) as err:
        ind(kind, raw)
    assert err.value.field == "value"


def test_unknown_type_category_tlp_refused() -> None:
    with pytest.raises(IndicatorError, match="type"):
        ind("sha512", "a" * 128)
    with pytest.raises(IndicatorError) as err:
        ind("md5", "a" * 32, category="spam")
    assert err.value.field == "category"
    with pytest.raises(IndicatorError) as err:
        ind("md5", "a" * 32, tlp="purple")
    assert err.value.field == "tlp"
    assert ind("md5", "a" * 32, tlp="TLP:WHITE").tlp == "clear"
    assert {"attacker-manifesto", "violent-propaganda", "recruitment", "instruction", "glorification", "threat", "other"} <= CATEGORIES


def test_is_active_and_id() -> None:
    i = ind("md5", "a" * 32, valid_from=datetime(2026, 1, 1, tzinfo=UTC), valid_until=datetime(2026, 2, 1, tzinfo=UTC), source_org="gifct")
    assert not i.is_active(datetime(2025, 12, 31, tzinfo=UTC))
    assert i.is_active(datetime(2026, 1, 15, tzinfo=UTC))
    assert not i.is_active(datetime(2026, 2, 1, tzinfo=UTC))
    assert not i.retract().is_active(datetime(2026, 1, 15, tzinfo=UTC))
    assert i.id == ind("md5", "A" * 32, source_org="gifct").id and i.id.startswith("content--")
    assert ind("md5", "a" * 32).is_active()
    with pytest.raises(IndicatorError, match="valid_until"):
        ind("md5", "a" * 32, valid_from=datetime(2026, 2, 1), valid_until=datetime(2026, 1, 1))


def test_frozen() -> None:
    with pytest.raises(AttributeError):
        ind("md5", "a" * 32).value = "x"  # type: ignore[misc]


# --- CSV ------------------------------------------------------------------------------------

GOOD_CSV = """value,type,category,tlp,valid_from,valid_until,source
https://www.example.com/manifesto.pdf?utm_source=t,url,attacker-manifesto,amber,2026-01-01,2026-12-31,tat
Example.co.uk,domain,violent-propaganda,green,,,gifct
192.0.2.0/24,cidr,recruitment,,2026-01-01T10:00:00Z,,
D41D8CD98F00B204E9800998ECF8427E,md5,instruction,red,,,

example.co.uk,domain,other,,,,
"""


def test_csv_good_rows() -> None:
    found, warnings = read_csv(GOOD_CSV.encode("utf-8-sig"), source_list="tcap-2026")
    assert [(i.type, i.value) for i in found] == [
        ("url", "https://example.com/manifesto.pdf"), ("domain", "example.co.uk"),
        ("cidr", "192.0.2.0/24"), ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
    ]
    first = found[0]
    assert (first.category, first.tlp, first.source_org, first.source_list) == ("attacker-manifesto", "amber", "tat", "tcap-2026")
    assert first.valid_until == datetime(2027, 1, 1, tzinfo=UTC)  # the whole last day
    assert found[2].tlp == "amber" and found[2].valid_from == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert warnings == ["row 7: duplicate of row 3 (domain example.co.uk) skipped"]


def test_csv_unknown_column_warns() -> None:
    _, warnings = read_csv("value,type,category,notes\nexample.com,domain,other,x\n")
    assert warnings == ["row 1: unknown column 'notes' ignored"]


@pytest.mark.parametrize(("body", "row", "field"), [
    ("example.com,domain,other\nexample.com,domian,other\n", 3, "type"),
    ("example.com,domain,spam\n", 2, "category"),
    ("abc,md5,other\n", 2, "value"),
    (",md5,other\n", 2, "value"),
    ("a.com,domain,other\nb.com,domain,\n", 3, "category"),
])
def test_csv_bad_row_names_row_and_field(body: str, row: int, field: str) -> None:
    with pytest.raises(IndicatorError) as err:
        read_csv("value,type,category\n" + body)
    assert (err.value.row, err.value.field) == (row, field)
    assert f"row {row}" in str(err.value) and repr(field) in str(err.value)


@pytest.mark.parametrize(("extra", "field"), [("tlp\npurple", "tlp"), ("valid_from\nyesterday", "valid_from"), ("valid_until\n2026-13-01", "valid_until")])
def test_csv_bad_optional_fields(extra: str, field: str) -> None:
    head, value = extra.split("\n")
    with pytest.raises(IndicatorError) as err:
        read_csv(f"value,type,category,{head}\nexample.com,domain,other,{value}\n")
    assert (err.value.row, err.value.field) == (2, field)


def test_csv_header_lacking_columns() -> None:
    with pytest.raises(IndicatorError) as err:
        read_csv("value,kind\nexample.com,domain\n")
    assert (err.value.row, err.value.field) == (1, "type")


# --- hash banks -------------------------------------------------------------------------------

HASH_BANK = f"""# GIFCT-style PDQ bank
{PDQ}
{PDQ.replace('f8', 'a8', 1)},100,manifesto.jpg
{PDQ.replace('f8', 'b8', 1)}\t90
pdq {PDQ.replace('f8', 'c8', 1)}

hash={PDQ.replace('f8', 'd8', 1)},norm=128,delta=0,quality=30,filename=x.png
{PDQ.upper()} 100
"""


def test_hash_bank() -> None:
    found, warnings = read_hash_bank(HASH_BANK, category="violent-propaganda", source_org="gifct")
    assert [i.value[:2] for i in found] == ["f8", "a8", "b8", "c8", "d8"]
    assert all(i.type == "pdq" and i.category == "violent-propaganda" for i in found)
    assert dict(found[1].metadata) == {"quality": "100", "filename": "manifesto.jpg"}
    assert dict(found[2].metadata) == {"quality": "90"}
    assert dict(found[4].metadata)["quality"] == "30"
    assert warnings == ["line 7: PDQ quality 30 is under 50: the hash is unreliable", "line 8: duplicate of line 2 skipped"]


@pytest.mark.parametrize(("text", "line", "field"), [
    (f"{PDQ}\nnot-a-hash\n", 2, "hash"),
    (f"# c\n{PDQ[:-1]}\n", 2, "hash"),
    (f"{PDQ},101\n", 1, "quality"),
    (f"{PDQ},quality=high\n", 1, "quality"),
])
def test_hash_bank_bad_lines(text: str, line: int, field: str) -> None:
    with pytest.raises(IndicatorError) as err:
        read_hash_bank(text, category="other")
    assert (err.value.row, err.value.field) == (line, field)


def test_hash_bank_needs_known_category() -> None:
    with pytest.raises(IndicatorError) as err:
        read_hash_bank(PDQ, category="memes")
    assert (err.value.row, err.value.field) == (1, "category")


# --- STIX patterns ------------------------------------------------------------------------------

ROUND_TRIP = [
    ("url", "https://example.com/it's/a?b=c"),
    ("url", "http://example.com/a/b/*"),
    ("domain", "пример.рф"),
    ("ip", "192.0.2.1"),
    ("ip", "2001:db8::1"),
    ("cidr", "192.0.2.0/24"),
    ("cidr", "2001:db8::/32"),
    ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
    ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("pdq", PDQ),
]


@pytest.mark.parametrize(("kind", "value"), ROUND_TRIP)
def test_pattern_round_trip_and_valid_stix(kind: str, value: str) -> None:
    i = ind(kind, value)
    pattern = pattern_for(i)
    assert indicator_from_pattern(pattern) == (i.type, i.value)
    assert run_validator(pattern, stix_version="2.1") == []
    stix2.Indicator(pattern=pattern, pattern_type="stix", valid_from="2026-01-01T00:00:00Z")


def test_pattern_forms() -> None:
    assert pattern_for(ind("md5", "a" * 32)) == f"[file:hashes.MD5 = '{'a' * 32}']"
    assert pattern_for(ind("sha1", "a" * 40)) == f"[file:hashes.'SHA-1' = '{'a' * 40}']"
    assert pattern_for(ind("pdq", PDQ)) == f"[file:hashes.'x_pdq' = '{PDQ}']"
    assert pattern_for(ind("cidr", "10.0.0.0/8")) == "[ipv4-addr:value = '10.0.0.0/8']"
    assert pattern_for(ind("ip", "::1")) == "[ipv6-addr:value = '::1']"
    assert pattern_for(ind("url", "http://x.org/it's")) == "[url:value = 'http://x.org/it\\'s']"


def test_pattern_variants_read() -> None:
    assert indicator_from_pattern(f"[file:hashes.'MD5' = '{'A' * 32}']") == ("md5", "a" * 32)
    assert indicator_from_pattern(f"[file:hashes.'x-pdq' = '{PDQ}']") == ("pdq", PDQ)
    assert indicator_from_pattern("[ url:value  =  'HTTP://Example.com' ]") == ("url", "http://example.com/")


def test_escaping() -> None:
    assert escape("a\\b'c") == "a\\\\b\\'c"
    assert unescape(escape("a\\b'c")) == "a\\b'c"
    with pytest.raises(PatternError):
        unescape("bad\\n")


@pytest.mark.parametrize("pattern", [
    "[file:hashes.'SHA-512' = 'aa']",
    "[file:hashes.MD5 = 'abc']",
    "[url:value != 'http://example.com/']",
    "[url:value = 'http://a/' AND domain-name:value = 'b.com']",
    "[email-addr:value = 'a@b.com']",
    "[ipv4-addr:value = '2001:db8::1']",
    "[ipv6-addr:value = '10.0.0.1']",
    "[domain-name:value = 'co.uk']",
    "[url:value = 'http://a/x' OR url:value LIKE 'http://a/y/%']",
    "[url:value = 'http://a/x/*']",
    "[process:name = 'x']",
    "[url:value = 'unterminated]",
    "url:value = 'http://a/'",
    "[domain-name:value = 'a\\nb.com']",
    "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e'] WITHIN 5 SECONDS",
])
def test_other_patterns_refused(pattern: str) -> None:
    with pytest.raises(PatternError):
        indicator_from_pattern(pattern)


def test_canonical_value_shared_with_patterns() -> None:
    assert canonical_value("domain", "WWW.example.com") == "example.com"
