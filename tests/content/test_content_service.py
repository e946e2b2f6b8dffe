"""Content indicators in the store (SQLite and PostgreSQL): imports all or nothing, checks of
URLs and of generated images through the service, validity by the injected clock, retraction,
kept files and the audit trail."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from qalqan.content.patterns import to_stix
from qalqan.content.indicators import Indicator
from qalqan.exchange import stix
from qalqan.service import content
from qalqan.service.clock import FixedClock
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from qalqan.store.tables import AuditEntry, ContentIndicatorRow, ContentSample
from tests.content.images import animated, copies, encoded, flat, textured, tiny, video

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ORIGINALS = [textured(seed) for seed in (11, 12, 13)]
UNRELATED = [textured(seed) for seed in (21, 22, 23)]


def _service(db: Database) -> tuple[Qalqan, FixedClock]:
    clock = FixedClock(T0)
    return Qalqan(db, audit_key=bytes(32), clock=clock, org="kz-ctc"), clock


def _pdq(img: object) -> str:
    return content.hash_file(encoded(img))["pdq"][0]["hash"]  # type: ignore[arg-type]


def _csv(rows: list[tuple[str, ...]], header: str = "value,type,category,tlp") -> bytes:
    return (header + "\n" + "\n".join(",".join(r) for r in rows) + "\n").encode()


def _audit(db: Database, action: str) -> list[AuditEntry]:
    with db.session() as s:
        return list(s.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars())


def test_image_copies_match_and_unrelated_images_do_not(db: Database) -> None:
    q, _ = _service(db)
    rows = [(_pdq(img), "pdq", "violent-propaganda", "green") for img in ORIGINALS]
    summary = content.import_indicators(q, _csv(rows), actor="sup", source_list="bank")
    assert summary.added == 3 and summary.format == "csv"
    for i, img in enumerate(ORIGINALS):
        for name, data in copies(img).items():
            result = content.check_file(q, data, actor="analyst", filename=f"{name}.bin")
            ids = [m["indicator"]["value"] for m in result["matches"]]
            assert ids == [rows[i][0]], f"image {i}, {name}: {result['matches']}"
            m = result["matches"][0]
            assert m["rule"] == "pdq" and 0 <= m["distance"] <= 31, (name, m)
            assert m["indicator"]["category"] == "violent-propaganda" and m["indicator"]["source_list"] == "bank"
    for img in UNRELATED:
        assert content.check_file(q, encoded(img, "JPEG", quality=60), actor="analyst")["matches"] == []


def test_flat_and_tiny_images_are_unhashable_not_matched(db: Database) -> None:
    q, _ = _service(db)
    # An indicator made of a flat image's (low-quality) hash must never match through PDQ.
    flat_hash = "0" * 64
    content.import_indicators(q, _csv([(flat_hash, "pdq", "other", "green")]), actor="sup", source_list="bank")
    for data in (flat(), tiny()):
        result = content.check_file(q, data, actor="analyst")
        assert result["input"]["pdq"] == [] and result["input"]["unhashable"], result["input"]
        assert result["matches"] == []
    assert "too small" in content.check_file(q, tiny(), actor="a")["input"]["unhashable"]
    assert "quality" in content.check_file(q, flat(), actor="a")["input"]["unhashable"]


def test_exact_file_hashes_and_animated_frames(db: Database) -> None:
    q, _ = _service(db)
    blob = b"%PDF-1.4 an attacker's manifesto\n" * 100
    facts = content.hash_file(blob)
    frames = [ORIGINALS[0], UNRELATED[0], ORIGINALS[1]]
    gif = animated(frames)
    content.import_indicators(q, _csv([(facts["sha256"], "sha256", "attacker-manifesto", "amber"), (facts["md5"], "md5", "attacker-manifesto", "amber"),
                                       (_pdq(UNRELATED[0]), "pdq", "glorification", "green")]), actor="sup", source_list="files")
    result = content.check_file(q, blob, actor="analyst", filename="manifesto.pdf")
    assert [m["rule"] for m in result["matches"]] == ["sha256", "md5"]
    assert result["input"]["unhashable"].startswith("not an image")
    # The GIF's second frame is the indexed image (through GIF's palette): matched at that frame.
    result = content.check_file(q, gif, actor="analyst")
    assert len(result["input"]["pdq"]) == 3
    [m] = result["matches"]
    assert m["rule"] == "pdq" and m["frame"] == 1 and m["distance"] <= 31
    # Not one byte of a checked file is kept unless asked.
    with db.session() as s:
        assert s.execute(select(func.count()).select_from(ContentSample)).scalar() == 0
    kept = content.check_file(q, blob, actor="analyst", keep=True)
    assert kept["kept"] is True
    info, data = content.get_sample(q, facts["sha256"])
    assert data == blob and info["kept_by"] == "analyst"


def test_urls_match_by_rule_and_validity_follows_the_clock(db: Database) -> None:
    q, clock = _service(db)
    rows = [
        ("https://www.Propaganda.example.org:443/videos/*", "url", "violent-propaganda", "green", "", ""),
        ("http://example.net/post?id=7&utm_source=x", "url", "recruitment", "amber", "", ""),
        ("bad-forum.example.com", "domain", "glorification", "amber", "", "2026-12-31"),
        ("198.51.100.0/24", "cidr", "other", "amber", "2026-12-05", ""),
    ]
    content.import_indicators(q, _csv(rows, "value,type,category,tlp,valid_from,valid_until"), actor="sup", source_list="urls")

    def rules(url: str) -> list[str]:
        return [m["rule"] for m in content.check_url(q, url, actor="analyst")["matches"]]

    assert rules("HTTPS://propaganda.example.org/videos/2024/clip.mp4#t=3") == ["url-prefix"]
    assert rules("https://propaganda.example.org/videosx") == []
    assert rules("http://EXAMPLE.net:80/post?id=7&fbclid=abc") == ["url"]
    assert rules("http://example.net/post?id=8") == []
    assert rules("https://m.bad-forum.example.com/thread/1") == ["domain"]
    assert rules("http://198.51.100.77/x") == []  # valid from 5 December
    clock.advance(timedelta(days=5))
    assert rules("http://198.51.100.77/x") == ["cidr"]
    clock.advance(datetime(2027, 1, 1, tzinfo=UTC) - clock.now())
    assert rules("https://m.bad-forum.example.com/thread/1") == []  # valid until 31 December (inclusive)
    with pytest.raises(content.ContentError) as bad:
        content.check_url(q, "http://exa mple.org/", actor="analyst")
    assert bad.value.field == "url"
    entries = _audit(db, "content.check")
    assert entries and all(e.actor == "analyst" for e in entries)
    assert entries[0].target.startswith("url:https://propaganda.example.org/videos/2024/clip.mp4")


def test_a_bad_record_stores_nothing_and_names_row_and_field(db: Database) -> None:
    q, _ = _service(db)
    content.import_indicators(q, _csv([("https://a.example.org/", "url", "threat", "red")]), actor="sup", source_list="l")
    bad = _csv([("https://b.example.org/", "url", "threat", "red"), ("12345", "sha256", "threat", "red")])
    with pytest.raises(content.ContentError) as err:
        content.import_indicators(q, bad, actor="sup", source_list="l")
    assert err.value.row == 3 and err.value.field == "value" and "row 3" in str(err.value)
    with pytest.raises(content.ContentError) as err:
        content.import_indicators(q, _csv([("https://c.example.org/", "url", "propaganda", "red")]), actor="sup", source_list="l")
    assert err.value.field == "category"
    with pytest.raises(content.ContentError) as err:
        content.import_indicators(q, b"f" * 64 + b"\n", actor="sup", source_list="bank")
    assert err.value.field == "category"  # a hash bank names its category
    with db.session() as s:
        assert [r.value for r in s.execute(select(ContentIndicatorRow)).scalars()] == ["https://a.example.org/"]


def test_reimport_updates_replace_retracts_and_a_retraction_stays(db: Database) -> None:
    q, clock = _service(db)
    first = content.import_indicators(q, _csv([("https://a.example.org/", "url", "threat", "amber"), ("b.example.org", "domain", "threat", "amber")]),
                                      actor="sup", source_list="l")
    assert (first.added, first.updated) == (2, 0)
    clock.advance(timedelta(hours=1))
    again = content.import_indicators(q, _csv([("https://a.example.org/", "url", "threat", "green"), ("b.example.org", "domain", "threat", "amber")]),
                                      actor="sup", source_list="l")
    assert (again.added, again.updated, again.unchanged) == (0, 1, 1)
    [a_id] = [i["id"] for i in content.list_indicators(q, type="url")[1]]
    content.retract_indicator(q, a_id, actor="sup", reason="taken down and reviewed")
    assert content.check_url(q, "https://a.example.org/", actor="x")["matches"] == []
    with pytest.raises(content.ContentError, match="already retracted"):
        content.retract_indicator(q, a_id, actor="sup", reason="again")
    third = content.import_indicators(q, _csv([("https://a.example.org/", "url", "threat", "green")]), actor="sup", source_list="l", replace=True)
    assert third.still_retracted == 1 and third.retracted == 1  # b is gone from the file: retracted
    assert content.list_indicators(q)[0] == 0
    assert content.list_indicators(q, include_retracted=True)[0] == 2
    assert content.check_url(q, "https://b.example.org/", actor="x")["matches"] == []


def test_hash_bank_and_stix_bundle_imports(db: Database) -> None:
    q, _ = _service(db)
    h1, h2 = _pdq(ORIGINALS[0]), _pdq(ORIGINALS[1])
    bank = f"# exported bank\npdq {h1} quality=95 first.jpg\n{h2},40,second.jpg\n".encode()
    summary = content.import_indicators(q, bank, actor="sup", source_list="gifct", category="livestream", source_org="gifct", tlp="amber")
    assert summary.format == "hashbank" and summary.added == 2
    assert any("quality 40" in w for w in summary.warnings)
    by = stix.org_identity("tcap", "Tech Against Terrorism")["id"]
    ind = Indicator(id="", type="url", value="https://archive.example.org/manifesto/*", category="attacker-manifesto", tlp="clear")
    obj = to_stix(ind, created_by=by, created=T0, markings=[stix.TLP_MARKINGS["clear"]["id"]])
    # Another producer's indicator: no extension of ours, its label gives the category.
    plain = {**obj, "id": "indicator--0f5c6c2e-8d6e-4c3a-9b6a-6f3f1d7e2a10", "extensions": {}, "labels": ["recruitment"],
             "pattern": "[url:value = 'https://join.example.org/now']"}
    bundle = json.dumps(stix.bundle([stix.TLP_MARKINGS["clear"], obj, plain, obj])).encode()
    summary = content.import_indicators(q, bundle, actor="sup", source_list="tcap", source_org="tcap")
    assert summary.format == "stix" and summary.read == 2
    assert any("given twice" in w for w in summary.warnings) and any("marking-definition" in w for w in summary.warnings)
    held = {i["value"]: i for i in content.list_indicators(q, type="url")[1]}
    assert held["https://archive.example.org/manifesto/*"]["category"] == "attacker-manifesto"
    assert held["https://archive.example.org/manifesto/*"]["tlp"] == "clear"
    assert held["https://join.example.org/now"]["category"] == "recruitment"
    [m] = content.check_url(q, "https://archive.example.org/manifesto/part1.pdf", actor="x")["matches"]
    assert m["rule"] == "url-prefix" and m["indicator"]["source_org"] == "tcap"
    bad = json.dumps(stix.bundle([{**plain, "pattern": "[process:name = 'x']"}])).encode()
    with pytest.raises(content.ContentError) as err:
        content.import_indicators(q, bad, actor="sup", source_list="tcap")
    assert err.value.field == "pattern" and err.value.row == 1


def test_the_index_is_rebuilt_only_when_indicators_change(db: Database) -> None:
    q, _ = _service(db)
    content.import_indicators(q, _csv([("https://a.example.org/", "url", "threat", "amber")]), actor="sup", source_list="l")
    first, _ = content.content_index(q)
    assert content.content_index(q)[0] is first
    content.import_indicators(q, _csv([("https://b.example.org/", "url", "threat", "amber")]), actor="sup", source_list="m")
    second, _ = content.content_index(q)
    assert second is not first and len(second) == 2


def test_a_video_matches_at_the_frame_showing_an_indexed_image(db: Database) -> None:
    q, _ = _service(db)
    scene = ORIGINALS[2]
    # The indicator is the still image as it was hashed (not a frame of this video).
    content.import_indicators(q, _csv([(_pdq(scene.resize((360, 280)).crop((0, 0, 320, 240))), "pdq", "livestream", "amber")]),
                              actor="sup", source_list="bank")
    clip = video([UNRELATED[0], scene, UNRELATED[1]], seconds_each=2.0)
    result = content.check_file(q, clip, actor="analyst", filename="clip.mp4")
    assert result["input"]["media"] == "video" and len(result["input"]["pdq"]) >= 12
    [m] = result["matches"]
    assert m["rule"] == "pdq" and m["distance"] <= 31 and 2.0 <= m["time"] < 4.0, m
    # The unrelated scenes alone match nothing.
    assert content.check_file(q, video([UNRELATED[0], UNRELATED[1]]), actor="analyst")["matches"] == []
    assert content.hash_file(b"not a video at all")["unhashable"] == "not an image or a video"


def test_a_share_is_all_or_nothing_across_tlp_labels(db: Database) -> None:
    q, _ = _service(db)
    content.import_indicators(q, _csv([("https://a.example.org/", "url", "threat", "green"), ("https://b.example.org/", "url", "threat", "red")]),
                              actor="sup", source_list="l")
    with pytest.raises(content.ContentError) as err:
        content.share_indicators(q, actor="liaison", source_list="l", distribution="all")  # TLP:RED needs named recipients
    assert err.value.field == "marking" and "RED" in str(err.value)
    from qalqan.store.tables import ExchangeObject

    with db.session() as s:
        assert s.execute(select(func.count()).select_from(ExchangeObject)).scalar() == 0
    assert all(i["stix_id"] is None for i in content.list_indicators(q)[1])
    published = content.share_indicators(q, actor="liaison", source_list="l", distribution="all", recipients=["kg-border"])
    assert len(published) == 2 and all(i["stix_id"] for i in content.list_indicators(q)[1])
