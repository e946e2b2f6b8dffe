"""Vessel and organisation identifiers: validation, kinds, the vessel features and exact retrieval."""

from __future__ import annotations

import pytest

from qalqan.matching.compiled import compile_entity, compile_query
from qalqan.matching.config import load_config
from qalqan.matching.features import FEATURES, flag_conflict, imo_conflict, imo_match, vessel_id_match
from qalqan.matching.screener import Screener, score_pair
from qalqan.model import Document, Entity, Name, NameKind, Query
from qalqan.model.codec import entity_from_dict, entity_to_dict
from qalqan.model.entity import IdKind, identifier_kind
from qalqan.sources.idnumbers import identifier_problem, imo_digits, imo_problem, kz_bin_valid

CONFIG = load_config()
BODHI_IMO = "9144782"  # a real ship's number (Canada's list): 9*7+1*6+4*5+4*4+7*3+8*2 = 142 -> 2


def vessel(eid: str, name: str, *, imo: str | None = None, flags: tuple[str, ...] = (), former: tuple[str, ...] = (), docs: tuple[Document, ...] = ()) -> Entity:
    documents = ((Document(imo, "IMO number"),) if imo else ()) + docs
    names = (Name(name), *(Name(n, NameKind.FORMER) for n in former))
    return Entity(eid, "Vessel", "test", eid, names, documents=documents, flags=flags)


def ship_query(name: str, *, imo: str | None = None, flags: tuple[str, ...] = (), docs: tuple[Document, ...] = ()) -> Query:
    documents = ((Document(imo, "IMO number"),) if imo else ()) + docs
    return Query((name,), "Vessel", nationalities=flags, documents=documents)


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [BODHI_IMO, f"IMO {BODHI_IMO}", f"IMO{BODHI_IMO}", f"imo: {BODHI_IMO}", f"IMO No. {BODHI_IMO}"])
def test_imo_number_forms_are_read(text: str) -> None:
    assert imo_digits(text) == BODHI_IMO and imo_problem(text) is None


def test_imo_check_digit_is_enforced() -> None:
    assert imo_digits("9144783") is None
    assert "check digit" in (imo_problem("9144783") or "")
    assert "not an IMO number" in (imo_problem("914478") or "")
    assert imo_digits("0000000") is None


def test_company_imo_numbers_pass_their_own_check_digit_but_not_a_ships() -> None:
    # UN KPe.056 CHONMYONG SHIPPING CO: a registered owner's number.
    assert imo_digits("5571322") == "5571322"
    assert imo_digits("5571322", vessel_only=True) is None


def test_kazakh_bin_iin_check_digit() -> None:
    assert kz_bin_valid("971240001315")  # a real bank's BIN
    assert not kz_bin_valid("971240001316")
    assert not kz_bin_valid("1000000002005")  # 13 digits
    assert kz_bin_valid("100000000205")  # the first weighting gives 10: the second decides
    assert not kz_bin_valid("9712400013")


def test_identifier_kinds_from_the_types_lists_write() -> None:
    assert identifier_kind("IMO number") is IdKind.IMO
    assert identifier_kind("Vessel Registration Identification") is IdKind.IMO  # OFAC
    assert identifier_kind("MMSI") is IdKind.MMSI
    assert identifier_kind("Call sign") is IdKind.CALL_SIGN
    assert identifier_kind("Digital Currency Address - XBT") is IdKind.CRYPTO
    assert identifier_kind("SWIFT/BIC") is IdKind.BIC
    assert identifier_kind("BIK (RU)") is None  # Russia's domestic bank code is no BIC
    assert identifier_kind("Tax ID No.") is IdKind.TAX_ID
    assert identifier_kind("BIN") is IdKind.TAX_ID
    assert identifier_kind("Registration ID") is IdKind.REGISTRATION
    assert identifier_kind("Passport") is None and identifier_kind(None) is None


def test_identifier_problems_by_kind() -> None:
    assert identifier_problem(Document("DEUTDEFF", "SWIFT/BIC")) is None
    assert identifier_problem(Document("DEUTXXFF1", "SWIFT/BIC")) is not None
    assert identifier_problem(Document("DE89 3704 0044 0532 0130 00", "IBAN")) is None
    assert identifier_problem(Document("DE89 3704 0044 0532 0130 01", "IBAN")) is not None
    assert identifier_problem(Document("971240001316", "BIN")) is not None
    assert identifier_problem(Document("971240001316", "Tax ID No.", "kz")) is not None
    assert identifier_problem(Document("971240001316", "Tax ID No.", "ru")) is None  # not Kazakh: no rule known
    assert identifier_problem(Document("273456789", "MMSI")) is None
    assert identifier_problem(Document("27345678", "MMSI")) is not None
    assert identifier_problem(Document("X1234567", "Passport")) is None


# -- the model ----------------------------------------------------------------------------------


def test_flags_are_stored_and_entities_stored_before_flags_still_read() -> None:
    ship = vessel("v1", "Sea Star", imo=BODHI_IMO, flags=("pa", "lr"))
    assert entity_from_dict(entity_to_dict(ship)) == ship
    old = entity_to_dict(ship)
    del old["flags"]
    assert entity_from_dict(old).flags == ()
    props = ship.properties()
    assert props["imoNumber"] == [BODHI_IMO] and props["flag"] == ["pa"] and props["pastFlags"] == ["lr"]


# -- features -----------------------------------------------------------------------------------


def test_imo_match_and_conflict() -> None:
    ship = compile_entity(vessel("v1", "Sea Star", imo=BODHI_IMO))
    same = compile_query(ship_query("Other", imo=f"IMO {BODHI_IMO}"))
    other = compile_query(ship_query("Other", imo="9000003"))
    assert imo_match(same, ship, CONFIG).score == 1.0 and imo_conflict(same, ship, CONFIG).score == 0.0
    assert imo_match(other, ship, CONFIG).score == 0.0 and imo_conflict(other, ship, CONFIG).score == 1.0
    none = compile_query(ship_query("Sea Star"))
    assert imo_match(none, ship, CONFIG).missing == "query" and imo_match(none, ship, CONFIG).contribution == 0.0


def test_an_imo_failing_its_check_digit_is_a_plain_document_number() -> None:
    ship = compile_entity(vessel("v1", "Sea Star", imo="9000009"))  # a list's typo
    assert not ship.imo and ship.documents == frozenset({"9000009"})


def test_a_ships_imo_number_must_pass_the_ships_check_digit_a_companys_either() -> None:
    company_number = "5571322"  # valid for a shipping company only
    assert not compile_entity(vessel("v1", "Sea Star", imo=company_number)).imo
    owner = Entity("o1", "Organization", "test", "o1", (Name("Chonmyong Shipping"),), documents=(Document(company_number, "IMO number"),))
    assert compile_entity(owner).imo == frozenset({company_number})


def test_mmsi_and_call_sign_meet_only_their_own_kind() -> None:
    ship = compile_entity(vessel("v1", "Sea Star", docs=(Document("273456789", "MMSI"), Document("UBCD7", "Call sign"))))
    by_mmsi = compile_query(ship_query("x", docs=(Document("273 456 789", "MMSI"),)))
    by_call = compile_query(ship_query("x", docs=(Document("ubcd7", "Call sign"),)))
    wrong_kind = compile_query(ship_query("x", docs=(Document("UBCD7", "MMSI"),)))
    assert vessel_id_match(by_mmsi, ship, CONFIG).score == 1.0
    assert vessel_id_match(by_call, ship, CONFIG).score == 1.0
    assert vessel_id_match(wrong_kind, ship, CONFIG).score == 0.0


def test_flag_conflict_lowers_the_score_unless_the_imo_agrees() -> None:
    ship = vessel("v1", "Sea Star", imo=BODHI_IMO, flags=("pa",))
    no_flag = score_pair(ship_query("Sea Star"), ship)
    same_flag = score_pair(ship_query("Sea Star", flags=("pa",)), ship)
    other_flag = score_pair(ship_query("Sea Star", flags=("lr",)), ship)
    assert other_flag.score < no_flag.score <= same_flag.score
    [fc] = [f for f in other_flag.explanation if f.feature == "flag_conflict"]
    assert fc.score == 1.0 and fc.weight == -CONFIG.flag_conflict_weight
    reflagged = score_pair(ship_query("Sea Star", imo=BODHI_IMO, flags=("lr",)), ship)
    assert [f.score for f in reflagged.explanation if f.feature == "flag_conflict"] == [0.0]


def test_a_vessels_flag_is_not_a_nationality_conflict() -> None:
    q = compile_query(ship_query("Sea Star", flags=("lr",)))
    assert q.flags == frozenset({"lr"}) and not q.nationalities
    assert flag_conflict(q, compile_entity(vessel("v1", "Sea Star", flags=("pa",))), CONFIG).score == 1.0


def test_former_names_count_as_names() -> None:
    ship = vessel("v1", "Ocean Glory", former=("Sea Phantom",))
    assert score_pair(ship_query("Sea Phantom"), ship).score == 1.0


def test_people_without_the_new_fields_get_zero_from_the_vessel_features() -> None:
    person = Entity("p1", "Person", "test", "p1", (Name("Ivan Petrov"),), documents=(Document("X1234567", "Passport"),))
    match = score_pair(Query(("Ivan Petrov",), documents=(Document("X1234567"),)), person)
    vessel_features = [f for f in match.explanation if f.feature in ("imo_match", "imo_conflict", "vessel_id_match", "flag_conflict")]
    assert len(vessel_features) == 4 and all(f.contribution == 0.0 and f.missing == "both" for f in vessel_features)
    assert [f.__name__ for f in FEATURES][-4:] == ["imo_match", "imo_conflict", "vessel_id_match", "flag_conflict"]


# -- retrieval ------------------------------------------------------------------------------------


def fleet() -> Screener:
    entities = [
        vessel("v1", "Sea Star", imo=BODHI_IMO, flags=("pa",), docs=(Document("273456789", "MMSI"),)),
        vessel("v2", "Sea Star 2", imo="9000003"),
        Entity("o1", "Organization", "test", "o1", (Name("Golden Wallet Trading LLC"),),
               documents=(Document("1AbCdEfGhJkLmNpQrStUvWxYz123456", "Digital Currency Address - XBT"),
                          Document("DEUTDEFF", "SWIFT/BIC"))),
        Entity("p1", "Person", "test", "p1", (Name("Ivan Petrov"),)),
    ]
    return Screener(entities)


def test_a_ship_is_found_by_its_imo_number_whatever_its_name() -> None:
    [top, *_] = fleet().match(ship_query("Completely Renamed", imo=f"IMO{BODHI_IMO}"))
    assert top.entity.id == "v1" and top.match


def test_sister_ships_are_told_apart_by_imo() -> None:
    results = fleet().match(ship_query("Sea Star", imo="9000003"))
    assert results[0].entity.id == "v2" and results[0].match
    other = next(m for m in results if m.entity.id == "v1")
    assert not other.match


def test_a_ship_is_found_by_its_mmsi() -> None:
    results = fleet().match(ship_query("Unknown", docs=(Document("273456789", "MMSI"),)))
    assert results and results[0].entity.id == "v1"


def test_wallet_addresses_and_bics_match_exactly_through_the_index() -> None:
    by_wallet = fleet().match(Query(("Somebody Else",), "Organization", documents=(Document("1AbCdEfGhJkLmNpQrStUvWxYz123456"),)))
    assert by_wallet and by_wallet[0].entity.id == "o1"
    assert [f.score for f in by_wallet[0].explanation if f.feature == "document_match"] == [1.0]
    by_bic = fleet().match(Query(("Golden Wallet Trading",), "Organization", documents=(Document("DEUTDEFF", "SWIFT/BIC"),)))
    assert by_bic[0].entity.id == "o1" and by_bic[0].score == 1.0
