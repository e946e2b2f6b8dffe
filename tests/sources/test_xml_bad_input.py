"""Hostile and broken XML: each is refused with a ListError naming the file, never half-read."""

from __future__ import annotations

from pathlib import Path

import pytest

from qalqan.model import ListError
from qalqan.sources import un
from qalqan.model import Report
from qalqan.sources.registry import read_list
from qalqan.sources.xmlsafe import iter_records

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def record(dataid: int, name: str = "TEST") -> str:
    return (
        f"<INDIVIDUAL><DATAID>{dataid}</DATAID><FIRST_NAME>{name}</FIRST_NAME>"
        f"<REFERENCE_NUMBER>QDi.{dataid}</REFERENCE_NUMBER></INDIVIDUAL>"
    )


def un_doc(body: str, prolog: str = "") -> str:
    return f'{HEAD}{prolog}<CONSOLIDATED_LIST dateGenerated="2030-01-01"><INDIVIDUALS>{body}</INDIVIDUALS></CONSOLIDATED_LIST>'


def write(tmp_path: Path, text: str | bytes, name: str = "list.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_well_formed_baseline(tmp_path: Path) -> None:
    loaded = read_list(str(write(tmp_path, un_doc(record(1) + record(2)))))
    assert [e.id for e in loaded.entities] == ["un-1", "un-2"]


def test_billion_laughs(tmp_path: Path) -> None:
    lol = "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    prolog = f'<!DOCTYPE CONSOLIDATED_LIST [<!ENTITY lol0 "lol">{lol}]>'
    path = write(tmp_path, un_doc(record(1, "&lol9;"), prolog))
    with pytest.raises(ListError, match="entities") as exc:
        read_list(f"un:{path}")
    assert str(path) in str(exc.value)


def test_external_entity(tmp_path: Path) -> None:
    secret = write(tmp_path, "TOP SECRET", "secret.txt")
    prolog = f'<!DOCTYPE CONSOLIDATED_LIST [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    path = write(tmp_path, un_doc(record(1, "&xxe;"), prolog))
    with pytest.raises(ListError, match="entities"):
        read_list(str(path))


def test_parameter_entity_and_network_dtd(tmp_path: Path) -> None:
    prolog = '<!DOCTYPE x [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>'
    path = write(tmp_path, un_doc(record(1), prolog))
    with pytest.raises(ListError):
        read_list(f"un:{path}")


def test_entities_refused_even_past_the_sniffed_prolog(tmp_path: Path) -> None:
    # A DOCTYPE behind a long comment defeats the byte sniff; lxml's docinfo check still refuses it.
    prolog = "<!--" + "x" * 70_000 + '-->\n<!DOCTYPE CONSOLIDATED_LIST [<!ENTITY e "boom">]>'
    path = write(tmp_path, un_doc(record(1, "&e;"), prolog))
    with pytest.raises(ListError, match="entit"):
        read_list(f"un:{path}")


def test_truncated_names_last_record(tmp_path: Path) -> None:
    full = un_doc(record(11) + record(12) + record(13))
    cut = full[: full.index("<DATAID>13")]
    path = write(tmp_path, cut)
    with pytest.raises(ListError, match="truncated") as exc:
        read_list(f"un:{path}")
    assert exc.value.record == "12"
    assert str(path) in str(exc.value)


def test_malformed(tmp_path: Path) -> None:
    path = write(tmp_path, un_doc(record(1) + "<INDIVIDUAL><DATAID>2</DATAID><FIRST_NAME>X</INDIVIDUAL>"))
    with pytest.raises(ListError, match="malformed") as exc:
        read_list(f"un:{path}")
    assert exc.value.record == "1"


def test_latin1_bytes_declared_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, un_doc(record(1, "JOSÉ")).encode("latin-1"))
    with pytest.raises(ListError) as exc:
        read_list(f"un:{path}")
    assert "encoding" in str(exc.value).lower() or "utf-8" in str(exc.value).lower()


def test_empty_and_not_xml(tmp_path: Path) -> None:
    with pytest.raises(ListError):
        read_list(f"un:{write(tmp_path, b'')}")
    with pytest.raises(ListError):
        read_list(f"un:{write(tmp_path, b'<<<>>>', 'junk.xml')}")


def test_wrong_root_for_forced_format(tmp_path: Path, fixtures: Path) -> None:
    with pytest.raises(ListError, match="not an OFAC sdnList"):
        read_list(f"ofac:{fixtures / 'un_small.xml'}")


def test_ten_megabyte_text_node_is_an_error_not_a_crash(tmp_path: Path) -> None:
    # libxml2 refuses text nodes over 10,000,000 bytes unless huge_tree is on (it is off).
    path = write(tmp_path, un_doc(record(1, "A" * (10 * 1024 * 1024))))
    with pytest.raises(ListError):
        read_list(f"un:{path}")


def test_long_name_below_parser_limit_is_cut_with_warning(tmp_path: Path) -> None:
    path = write(tmp_path, un_doc(record(1, "B" * 2_000_000) + record(2)))
    loaded = read_list(f"un:{path}")
    assert len(loaded.entities[0].caption) == 1000
    [w] = loaded.report.warnings
    assert (w.record, w.field) == ("1", "FIRST_NAME")


def test_records_are_freed_while_streaming(tmp_path: Path) -> None:
    count = 20_000  # ~2 MB: far more than the parser reads ahead in one buffer
    path = write(tmp_path, un_doc("".join(record(i) for i in range(1, count + 1))))
    sizes = []
    for el in iter_records(path, frozenset({"INDIVIDUAL"})):
        sizes.append(len(el.getparent()))
    # Consumed records are removed from their parent, so the tree holds only the parser's
    # read-ahead, not the file.
    assert len(sizes) == count
    assert max(sizes) < count / 10


def test_un_reader_direct_report_counts(tmp_path: Path) -> None:
    report = Report()
    parsed = un.read(write(tmp_path, un_doc(record(1) + record(2, " "))), report)
    assert len(parsed.entities) == 1
    assert report.records_read == 2 and report.records_skipped == 1


def test_reversed_between_range_is_repaired_with_warning(tmp_path: Path) -> None:
    dob = "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1970</FROM_YEAR><TO_YEAR>1965</TO_YEAR></INDIVIDUAL_DATE_OF_BIRTH>"
    loaded = read_list(f"un:{write(tmp_path, un_doc(record(1).replace('</INDIVIDUAL>', dob + '</INDIVIDUAL>')))}")
    [d] = loaded.entities[0].birth_dates
    assert (d.year, d.year_to) == (1965, 1970)
    [w] = loaded.report.warnings
    assert w.record == "1" and "reversed" in w.message


def test_correctly_declared_latin1_is_read(tmp_path: Path) -> None:
    doc = un_doc(record(1, "JOSÉ")).replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    loaded = read_list(str(write(tmp_path, doc.encode("latin-1"))))
    assert loaded.entities[0].caption == "JOSÉ"


def test_external_dtd_is_refused_not_silently_dropped(tmp_path: Path) -> None:
    # Without the refusal, "&xxe;" would vanish and the name would silently read "AB".
    prolog = '<!DOCTYPE CONSOLIDATED_LIST SYSTEM "http://127.0.0.1:9/evil.dtd">'
    path = write(tmp_path, un_doc(record(1, "AB&xxe;CD"), prolog))
    with pytest.raises(ListError, match="external DTD"):
        read_list(str(path))
