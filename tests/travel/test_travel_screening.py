"""Travellers screened against the UN list: a real API message (GTAS's 260-passenger PAXLST) in
which one passenger is a UN-listed person under another spelling of his name. The screening
finds him, with the flight context, and no one else on the manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from qalqan.matching.screener import Screener
from qalqan.sources.registry import read_list
from qalqan.travel.model import Traveller, TravelDocument
from qalqan.travel.screening import read_message, screen_message, traveller_query

pytestmark = pytest.mark.shared

#: QDi.006, listed as AIMAN MUHAMMED RABI AL-ZAWAHIRI (born 19 June 1951, Egypt), written as a
#: carrier's reservation system would: another transliteration, family name first.
LISTED_AS_BOOKED = "NAD+FL+++AL ZAWAHRI:AYMAN MOHAMMED RABIE'ATT+2++M'DTM+329:510619'NAT+2+EGY'"


@pytest.fixture(scope="module")
def un_screener(shared: Path) -> Screener:
    newest = sorted((shared / "un").glob("un_consolidated_2026-*.xml"))[-1]
    return Screener(read_list(f"un:{newest}").entities)


def test_a_listed_passenger_under_another_spelling_is_found_with_the_flight(shared: Path, un_screener: Screener) -> None:
    text = (shared / "messages" / "paxlst" / "loader__Test3.txt").read_bytes()  # bytes: the reader decodes them
    first = text.index(b"NAD+FL")
    end = text.index(b"NAD+FL", first + 1)
    manifest = text[:first] + LISTED_AS_BOOKED.encode() + text[end:]  # the first passenger replaced
    [message] = read_message(manifest)
    assert len(message.travellers) == 260
    hits = screen_message(un_screener, message)
    assert [h.index for h in hits] == [0], [(h.traveller.surname, [m.entity.caption for m in h.matches]) for h in hits]
    hit = hits[0]
    assert hit.matches[0].entity.reference == "QDi.006"
    assert hit.legs and hit.legs[0].origin and hit.legs[0].carrier  # the flight context comes with the hit
    assert hit.first_departure is not None


def test_a_traveller_query_keeps_what_reads_and_drops_what_does_not() -> None:
    t = Traveller(surname="PETROV", given_names="IVAN", birth_date="1970-02-30", nationality="XXQ", gender="male",
                  documents=(TravelDocument("AB123", "P", "RUS"),))
    q = traveller_query(t, "m/1")
    assert q.names == ("IVAN PETROV",) and q.birth_dates == () and q.nationalities == ()  # impossible date, unknown country dropped
    assert q.gender == "male" and q.documents[0].type == "Passport" and q.documents[0].country == "ru"


def test_a_pnr_message_is_told_from_an_api_message(shared: Path) -> None:
    [pnr] = read_message((shared / "messages" / "pnrgov" / "loader__infant.edi").read_bytes())
    assert pnr.kind == "PNRGOV"
    [api] = read_message((shared / "messages" / "paxlst" / "parsers__apisMessage.txt").read_bytes())
    assert api.kind == "PAXLST"


def test_the_check_command_reports_the_hit_and_refuses_a_broken_file(shared: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from qalqan.cli import app

    text = (shared / "messages" / "paxlst" / "loader__Test3.txt").read_bytes()
    first = text.index(b"NAD+FL")
    end = text.index(b"NAD+FL", first + 1)
    manifest = tmp_path / "manifest.edi"
    manifest.write_bytes(text[:first] + LISTED_AS_BOOKED.encode() + text[end:])
    un = sorted((shared / "un").glob("un_consolidated_2026-*.xml"))[-1]
    runner = CliRunner()
    ok = runner.invoke(app, ["travel", "check", str(manifest), "--list", f"un:{un}"])
    assert ok.exit_code == 0, ok.output
    assert "QDi.006" in ok.output and "AL ZAWAHRI" in ok.output and "260 travellers screened" in ok.output
    bad = runner.invoke(app, ["travel", "check", str(manifest), str(shared / "messages" / "pnrgov" / "parsers__pnrBadFormat.txt"), "--list", f"un:{un}"])
    assert bad.exit_code == 2 and "QDi.006" in bad.output and "segment 28: UNZ" in bad.output


def test_the_benchmarks_manifest_reads_as_500_distinct_passengers(shared: Path) -> None:
    from bench.travel import manifest

    [message] = read_message(manifest(500))
    assert len(message.travellers) == 500
    assert len({(t.surname, t.given_names, t.birth_date) for t in message.travellers}) == 500


def test_screening_at_a_cutoff_returns_exactly_the_matches(shared: Path, un_screener: Screener) -> None:
    """Travel screening asks only for matches (`cutoff` at the threshold, so candidates below it
    are not fully scored): the same matches, scores and explanations as screening everything."""
    text = (shared / "messages" / "paxlst" / "loader__Test3.txt").read_bytes()
    first = text.index(b"NAD+FL")
    end = text.index(b"NAD+FL", first + 1)
    [message] = read_message(text[:first] + LISTED_AS_BOOKED.encode() + text[end:])
    threshold = un_screener.threshold
    for i, traveller in enumerate(message.travellers):
        query = traveller_query(traveller, str(i))
        full = [m.as_dict() for m in un_screener.match(query, limit=3) if m.match]
        cut = [m.as_dict() for m in un_screener.match(query, limit=3, cutoff=threshold) if m.match]
        assert cut == full, traveller.surname
