"""Vessels and identifiers from the real lists (../shared/data), the readers and screening input."""

from __future__ import annotations

from pathlib import Path

import pytest

from qalqan.api.convert import example_to_query
from qalqan.api.models import EntityExample
from qalqan.matching.compiled import compile_entity
from qalqan.matching.screener import Screener
from qalqan.model import Document, NameKind
from qalqan.model.entity import IdKind
from qalqan.sources.idnumbers import imo_digits
from qalqan.sources.queries import QUERY_COLUMNS, read_queries, read_query
from qalqan.sources.registry import read_list

CANADA = "national/canada_sema_consolidated_autonomous_sanctions.xml"
UN = "un/un_consolidated_2026-02-27.xml"


@pytest.fixture(scope="module")
def canada(shared: Path):
    return read_list(str(shared / CANADA))


@pytest.fixture(scope="module")
def canada_screener(canada) -> Screener:
    return Screener(canada.entities, [canada.info])


@pytest.fixture(scope="module")
def un(shared: Path):
    return read_list(str(shared / UN))


def _screen_csv(tmp_path: Path, screener: Screener, text: str):
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    rows = list(read_queries(path))
    return [(row, screener.match(row.query, limit=3) if row.query else []) for row in rows]


# -- the real lists -----------------------------------------------------------------------------


@pytest.mark.shared
def test_canada_yields_its_109_ships_with_valid_imo_numbers(canada) -> None:
    ships = [e for e in canada.entities if e.schema == "Vessel"]
    assert len(ships) == 109
    for ship in ships:
        [imo] = [d for d in ship.documents if d.kind is IdKind.IMO]
        assert imo_digits(imo.number, vessel_only=True) == imo.number
        assert compile_entity(ship).imo == frozenset({imo.number})
    assert not [w for w in canada.report.warnings if w.field == "ShipIMONumber"]


@pytest.mark.shared
def test_a_query_by_imo_alone_finds_the_ship(tmp_path: Path, canada_screener: Screener) -> None:
    [(row, results)] = _screen_csv(tmp_path, canada_screener, "name,imo\nNothing Like It,IMO 9144782\n")
    assert row.query is not None and row.query.schema == "Vessel"  # a vessel column makes a Vessel
    top = results[0]
    assert top.entity.caption == "Bodhi" and top.match
    assert [f.detail for f in top.explanation if f.feature == "imo_match"] == ["exact"]


@pytest.mark.shared
def test_a_misspelt_ship_name_with_the_right_imo_is_a_match(tmp_path: Path, canada_screener: Screener) -> None:
    [(_, with_imo)] = _screen_csv(tmp_path, canada_screener, "name,schema,imo\nBalitiyski 3,Vessel,7612448\n")
    [(_, name_only)] = _screen_csv(tmp_path, canada_screener, "name,schema\nBalitiyski 3,Vessel\n")
    assert with_imo[0].entity.caption == "Balitiyskiy III" and with_imo[0].score >= canada_screener.threshold
    assert with_imo[0].match
    assert all(m.entity.caption != "Balitiyskiy III" or m.score < with_imo[0].score for m in name_only)


@pytest.mark.shared
def test_a_wrong_imo_check_digit_is_a_warning_and_the_row_is_still_screened(tmp_path: Path, canada_screener: Screener) -> None:
    [(row, results)] = _screen_csv(tmp_path, canada_screener, "name,imo\nBodhi,9144783\n")
    assert row.error is None and row.query is not None
    [warning] = row.warnings
    assert warning.field == "imo" and warning.value == "9144783" and "check digit" in warning.message
    assert not row.query.documents
    assert results[0].entity.caption == "Bodhi"  # found by its name


@pytest.mark.shared
def test_un_dprk_shipping_companies_imo_numbers_are_read_from_their_comments(un, tmp_path: Path) -> None:
    [owner] = [e for e in un.entities if e.reference == "KPe.056"]  # CHONMYONG SHIPPING CO
    assert "IMO number: 5571322" in owner.notes[0]
    assert Document("5571322", "IMO number", note="from the comments") in owner.documents
    with_imo = [e for e in un.entities if any(d.kind is IdKind.IMO for d in e.documents)]
    assert len(with_imo) == 16 and {e.programs for e in with_imo} == {("DPRK",)}
    screener = Screener(un.entities, [un.info])
    [(_, results)] = _screen_csv(tmp_path, screener, "name,schema,imo\nSome Other Company,Organization,IMO 5571322\n")
    assert results[0].entity.reference == "KPe.056" and results[0].match


# -- the readers ----------------------------------------------------------------------------------


def test_canada_fixture_ship_with_a_bad_imo_is_warned(fixtures: Path) -> None:
    small = read_list(str(fixtures / "canada_small.xml"))
    [w] = [i for i in small.report.warnings if i.field == "ShipIMONumber"]
    assert "check digit" in w.message
    ship = next(e for e in small.entities if e.schema == "Vessel")
    assert not compile_entity(ship).imo and compile_entity(ship).documents == frozenset({"9000009"})


OFAC_VESSEL = """<?xml version="1.0" encoding="utf-8"?>
<sdnList xmlns="https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML">
  <publshInformation><Publish_Date>01/02/2025</Publish_Date><Record_Count>2</Record_Count></publshInformation>
  <sdnEntry>
    <uid>1</uid><lastName>OCEAN GLORY</lastName><sdnType>Vessel</sdnType>
    <idList>
      <id><uid>11</uid><idType>Vessel Registration Identification</idType><idNumber>IMO 9144782</idNumber></id>
      <id><uid>12</uid><idType>MMSI</idType><idNumber>273456789</idNumber></id>
      <id><uid>13</uid><idType>Vessel Registration Identification</idType><idNumber>IMO 9144783</idNumber></id>
    </idList>
    <akaList><aka><uid>14</uid><type>f.k.a.</type><category>strong</category><lastName>SEA PHANTOM</lastName></aka></akaList>
    <vesselInfo><callSign>UBCD7</callSign><vesselType>Crude Oil Tanker</vesselType><vesselFlag>Panama</vesselFlag><vesselOwner>FICTIONAL SHIPPING CO</vesselOwner></vesselInfo>
  </sdnEntry>
  <sdnEntry>
    <uid>2</uid><lastName>FICTIONAL COIN EXCHANGE</lastName><sdnType>Entity</sdnType>
    <idList>
      <id><uid>21</uid><idType>Digital Currency Address - XBT</idType><idNumber>1AbCdEfGhJkLmNpQrStUvWxYz123456</idNumber></id>
      <id><uid>22</uid><idType>SWIFT/BIC</idType><idNumber>NOTABIC!</idNumber></id>
    </idList>
  </sdnEntry>
</sdnList>
"""


def test_ofac_vessel_info_and_identifiers(tmp_path: Path) -> None:
    path = tmp_path / "sdn.xml"
    path.write_text(OFAC_VESSEL, encoding="utf-8")
    loaded = read_list(f"ofac:{path}")
    ship, exchange = loaded.entities
    assert ship.schema == "Vessel" and ship.flags == ("pa",)
    kinds = {(d.kind, d.number) for d in ship.documents}
    assert {(IdKind.IMO, "IMO 9144782"), (IdKind.MMSI, "273456789"), (IdKind.CALL_SIGN, "UBCD7")} <= kinds
    assert ship.extra["ownerName"] == ("FICTIONAL SHIPPING CO",)
    assert ("SEA PHANTOM", NameKind.FORMER) in {(n.value, n.kind) for n in ship.names}
    compiled = compile_entity(ship)
    assert compiled.imo == frozenset({"9144782"}) and compiled.vessel_ids == frozenset({"mmsi:273456789", "call_sign:ubcd7"})
    warned = {(w.record, w.field) for w in loaded.report.warnings}
    assert ("1", "idList/Vessel Registration Identification") in warned  # IMO 9144783: bad check digit
    assert ("2", "idList/SWIFT/BIC") in warned
    assert [d.kind for d in exchange.documents] == [IdKind.CRYPTO, IdKind.BIC]
    screener = Screener(loaded.entities, [loaded.info])
    by_former_name = screener.match(read_query({"name": "Sea Phantom", "flag": "Panama"}, 1)[0])
    assert by_former_name[0].entity.id == ship.id and by_former_name[0].match


def test_ftm_vessel_properties(tmp_path: Path) -> None:
    path = tmp_path / "vessels.jsonl"
    path.write_text(
        '{"id": "v1", "schema": "Vessel", "properties": {"name": ["Ocean Glory"], "previousName": ["Sea Phantom"],'
        ' "imoNumber": ["IMO9144782"], "mmsi": ["273456789"], "callSign": ["UBCD7"], "flag": ["pa"], "pastFlags": ["lr"]}}\n'
        '{"id": "v2", "schema": "Vessel", "properties": {"name": ["Bad Number"], "imoNumber": ["9144783"]}}\n',
        encoding="utf-8",
    )
    loaded = read_list(f"ftm:{path}")
    ship, bad = loaded.entities
    assert ship.flags == ("pa", "lr")
    assert {d.kind for d in ship.documents} == {IdKind.IMO, IdKind.MMSI, IdKind.CALL_SIGN}
    assert ship.properties()["callSign"] == ["UBCD7"] and ship.properties()["pastFlags"] == ["lr"]
    assert ("Sea Phantom", NameKind.FORMER) in {(n.value, n.kind) for n in ship.names}
    assert ("v2", "imoNumber") in {(w.record, w.field) for w in loaded.report.warnings}


# -- screening input ------------------------------------------------------------------------------


def test_vessel_columns_are_accepted() -> None:
    assert QUERY_COLUMNS[-4:] == ("imo", "mmsi", "call_sign", "flag")
    query, warnings = read_query({"name": "Ocean Glory", "imo": "IMO9144782", "mmsi": "273456789", "call_sign": "UBCD 7", "flag": "Panama"}, 1)
    assert query.schema == "Vessel" and query.nationalities == ("pa",) and not warnings
    assert {d.kind for d in query.documents} == {IdKind.IMO, IdKind.MMSI, IdKind.CALL_SIGN}


def test_bad_vessel_values_are_warnings() -> None:
    query, warnings = read_query({"name": "Ocean Glory", "mmsi": "1234", "call_sign": "?", "flag": "Atlantis"}, 1)
    assert {w.field for w in warnings} == {"mmsi", "call_sign", "flag"} and not query.documents
    person, [flag] = read_query({"name": "Ivan Petrov", "schema": "Person", "flag": "Panama"}, 1)
    assert flag.field == "flag" and not person.nationalities


def test_a_ships_imo_must_pass_the_ships_check_digit_a_companys_either() -> None:
    ship, [w] = read_query({"name": "X", "schema": "Vessel", "imo": "5571322"}, 1)
    assert w.field == "imo" and not ship.documents
    company, warnings = read_query({"name": "X", "schema": "Organization", "imo": "5571322"}, 1)
    assert not warnings and company.documents[0].kind is IdKind.IMO


def test_ftm_vessel_properties_over_http() -> None:
    example = EntityExample.model_validate(
        {"schema": "Vessel", "properties": {"name": ["Ocean Glory"], "imoNumber": ["IMO 9144783"], "mmsi": ["273456789"], "callSign": ["UBCD7"], "flag": ["pa"]}}
    )
    query, _, ignored, warnings = example_to_query("q1", example)
    assert query.nationalities == ("pa",) and not ignored
    assert {d.kind for d in query.documents} == {IdKind.MMSI, IdKind.CALL_SIGN}
    [w] = warnings
    assert w.field == "imoNumber" and "check digit" in w.message
