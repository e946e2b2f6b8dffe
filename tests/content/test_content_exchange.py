"""Content indicators between nodes, over real HTTP and TAXII 2.1 (issue 12's exchange test).

A (kz-ctc) imports the PDQ hash of an image and shares it under TLP:GREEN with the sharing group
{A, B}; after one sync B matches a re-encoded copy of the image (and says who shared it), C
(uz-fiu, not in the group) does not; A retracts the indicator; B still matches until its next
sync and never after it, and A sees B's acknowledgement of the retraction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from qalqan.service.clock import FixedClock
from tests.content.images import encoded, textured
from tests.exchange.nodes import Node, connect, stop_all, sync

IMAGE = textured(41)


@pytest.fixture()
def nodes(tmp_path: Path) -> Iterator[dict[str, Node]]:
    clock = FixedClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    made = connect(tmp_path, clock, (("kz-ctc", "Counter-terrorism centre"), ("kg-border", "Border service"), ("uz-fiu", "Financial intelligence unit")))
    r = made["kz-ctc"].http("admin", "PUT", "/exchange/groups/ab", json={"members": ["kz-ctc", "kg-border"]})
    assert r.status_code == 200, r.text
    yield made
    stop_all(made)


def _check(node: Node, data: bytes) -> list[dict]:
    r = node.http("analyst", "POST", "/content/check", content=data, headers={"Content-Type": "image/jpeg", "X-Filename": "upload.jpg"})
    assert r.status_code == 200, r.text
    return r.json()["matches"]  # type: ignore[no-any-return]


def test_a_shared_pdq_hash_matches_on_the_partner_until_retracted(nodes: dict[str, Node]) -> None:
    a, b, c = nodes["kz-ctc"], nodes["kg-border"], nodes["uz-fiu"]
    original = encoded(IMAGE)
    r = a.http("analyst", "POST", "/content/check", content=original, headers={"Content-Type": "image/png"})
    pdq = r.json()["input"]["pdq"][0]["hash"]
    csv = f"value,type,category,tlp\n{pdq},pdq,violent-propaganda,green\n".encode()
    # Importing is a supervisor's; sharing the liaison officer's.
    assert a.http("analyst", "POST", "/content/indicators", content=csv, params={"list": "bank"}).status_code == 403
    r = a.http("supervisor", "POST", "/content/indicators", content=csv, params={"list": "bank"}, headers={"Content-Type": "text/csv"})
    assert r.status_code == 201, r.text
    assert r.json()["added"] == 1
    assert a.http("supervisor", "POST", "/content/share", json={"list": "bank"}).status_code == 403
    r = a.http("liaison", "POST", "/content/share", json={"list": "bank", "distribution": "sharing-group", "group": "ab"})
    assert r.status_code == 200, r.text
    [stix_id] = r.json()["stix_ids"]

    copy = encoded(IMAGE, "JPEG", quality=60)
    assert _check(b, copy) == []  # nothing before a sync
    assert sync(b)["kz-ctc"]["ok"] is True
    assert sync(c)["kz-ctc"]["ok"] is True
    [m] = _check(b, copy)
    assert m["rule"] == "pdq" and m["distance"] <= 31
    assert m["indicator"]["value"] == pdq and m["indicator"]["shared_by"] == "kz-ctc" and m["indicator"]["tlp"] == "green"
    assert m["indicator"]["category"] == "violent-propaganda"
    assert _check(c, copy) == []  # not in the sharing group
    held = b.http("analyst", "GET", "/content/indicators", params={"origin": "kz-ctc"}).json()
    assert held["total"] == 1 and held["items"][0]["stix_id"] == stix_id
    # Only the originator retracts.
    r = b.http("supervisor", "POST", f"/content/indicators/{held['items'][0]['id']}/retract", json={"reason": "not ours"})
    assert r.status_code == 409, r.text

    [local] = a.http("analyst", "GET", "/content/indicators").json()["items"]
    r = a.http("supervisor", "POST", f"/content/indicators/{local['id']}/retract", json={"reason": "classified in error"})
    assert r.status_code == 200, r.text
    assert _check(a, copy) == []  # at once on the originator
    assert len(_check(b, copy)) == 1  # B learns of it at its next sync
    assert sync(b)["kz-ctc"]["ok"] is True
    assert _check(b, copy) == []
    assert b.http("analyst", "GET", "/content/indicators", params={"origin": "kz-ctc"}).json()["total"] == 0
    retracted = b.http("analyst", "GET", "/content/indicators", params={"origin": "kz-ctc", "retracted": "true"}).json()["items"]
    assert [i["retracted"] for i in retracted] == [True]
    # B acknowledged the retraction to A.
    sync(a)
    acks = a.http("analyst", "GET", f"/exchange/retractions/{stix_id}").json()
    assert list(acks["acknowledged_by"]) == ["kg-border"] and acks["not_acknowledged"] == []
