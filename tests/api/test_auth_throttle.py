"""Failed authentications: refused requests are audited (aggregated per minute, with exact
counts), and a source that keeps failing backs off exponentially, answered 429 before any hash
or database look-up; a legitimate key from elsewhere, or the holder of an attacked prefix, keeps
working. Time is a FixedClock moved by hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from qalqan.api import create_app
from qalqan.service import auth, throttle, users
from qalqan.service.clock import FixedClock
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from qalqan.store.tables import AuditEntry, User

from .conftest import AUDIT_KEY

ATTACKER = "203.0.113.9"
HONEST = "198.51.100.7"
FLOOD = 500


@dataclass
class Site:
    service: Qalqan
    clock: FixedClock
    keys: dict[str, str]
    app: Any

    def client(self, host: str) -> TestClient:
        return TestClient(self.app, client=(host, 40000), raise_server_exceptions=False)

    def get(self, host: str, key: str | None, url: str = "/subjects") -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        return self.client(host).get(url, headers=headers)

    def failed(self) -> list[dict[str, Any]]:
        return [{"actor": e.actor, "target": e.target, **orjson.loads(e.detail)} for e in self.entries("login.failed")]

    def entries(self, action: str) -> list[AuditEntry]:
        with self.service.db.session() as s:
            return list(s.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars())


@pytest.fixture()
def site(db: Database) -> Iterator[Site]:
    clock = FixedClock()
    service = Qalqan(db, audit_key=AUDIT_KEY, clock=clock)
    keys = {}
    for name, role in (("ana", "analyst"), ("aud", "auditor")):
        users.create_user(service, name, role, actor="test")
        keys[name] = users.create_key(service, name, actor="test")
    yield Site(service, clock, keys, create_app(service))


class Counting:
    """Counts calls of a wrapped function."""

    def __init__(self, fn: Any):
        self.fn, self.calls = fn, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.fn(*args, **kwargs)


class CountingHasher:
    """auth.HASHER with its verifications counted."""

    def __init__(self) -> None:
        self.verify = Counting(auth.HASHER.verify)
        self.hash = auth.HASHER.hash


def wrong_secret(key: str) -> str:
    return f"qk_{auth.parse_key(key)}_{'W' * 43}"


def test_a_flood_of_bad_keys_is_throttled_and_audited_in_a_handful_of_rows(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    lookups = Counting(auth._verify)
    monkeypatch.setattr(auth, "_verify", lookups)
    hasher = CountingHasher()
    monkeypatch.setattr(auth, "HASHER", hasher)
    attacker = site.client(ATTACKER)
    statuses = []
    for i in range(FLOOD):
        r = attacker.get("/subjects", headers={"Authorization": f"Bearer qk_{i:012x}_{'B' * 43}"})  # unknown keys
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert r.headers["retry-after"] == str(int(throttle.BACKOFF_BASE_SECONDS)) and r.headers["x-content-type-options"] == "nosniff"
    limit = throttle.FAILURE_LIMIT
    assert statuses == [401] * limit + [429] * (FLOOD - limit)
    assert lookups.calls == limit and hasher.verify.calls == 0  # a refused attempt touches neither the store nor argon2
    # A valid key from another client still works, during the attacker's back-off.
    assert site.get(HONEST, site.keys["ana"]).status_code == 200
    # Within the minute: the first failure of each kind written at once, the rest counted.
    assert [(f["reason"], f["count"]) for f in site.failed()] == [("unknown key", 1), ("throttled", 1)]
    site.clock.advance(throttle.AUDIT_PERIOD_SECONDS)
    assert site.get(HONEST, site.keys["ana"]).status_code == 200  # the next request writes the counts due
    failed = site.failed()
    assert [(f["reason"], f["count"]) for f in failed] == [("unknown key", 1), ("throttled", 1), ("unknown key", limit - 1), ("throttled", FLOOD - limit - 1)]
    assert sum(f["count"] for f in failed) == FLOOD
    assert all(f["client"] == ATTACKER and f["route"] == "GET /subjects" and f["actor"].startswith("key:") for f in failed)
    assert failed[-1]["blocked_by"] == f"client:{ATTACKER}"
    # The back-off is over: the attacker's next failure is verified again, and blocks it for twice as long.
    r = attacker.get("/subjects", headers={"Authorization": "Bearer not-a-key"})
    assert r.status_code == 401
    r = attacker.get("/subjects", headers={"Authorization": "Bearer not-a-key"})
    assert r.status_code == 429 and r.headers["retry-after"] == str(int(2 * throttle.BACKOFF_BASE_SECONDS))


def test_wrong_secrets_for_a_known_prefix_stop_being_hashed(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = CountingHasher()
    monkeypatch.setattr(auth, "HASHER", hasher)
    wrong = wrong_secret(site.keys["ana"])
    limit = throttle.FAILURE_LIMIT
    # Each from a different client: it is the prefix that backs off, not the address.
    for i in range(limit):
        assert site.get(f"10.0.0.{i}", wrong).status_code == 401
    assert hasher.verify.calls == limit
    r = site.get("10.0.1.1", wrong)
    assert r.status_code == 429 and int(r.headers["retry-after"]) == throttle.BACKOFF_BASE_SECONDS
    assert hasher.verify.calls == limit  # not hashed
    # When the back-off ends, one more failure is hashed and doubles it.
    site.clock.advance(throttle.BACKOFF_BASE_SECONDS)
    assert site.get("10.0.1.2", wrong).status_code == 401 and hasher.verify.calls == limit + 1
    r = site.get("10.0.1.3", wrong)
    assert r.status_code == 429 and int(r.headers["retry-after"]) == 2 * throttle.BACKOFF_BASE_SECONDS
    site.clock.advance(throttle.BACKOFF_BASE_SECONDS)
    assert site.get("10.0.1.4", wrong).status_code == 429 and hasher.verify.calls == limit + 1
    site.clock.advance(throttle.BACKOFF_BASE_SECONDS)
    assert site.get("10.0.1.5", wrong).status_code == 401 and hasher.verify.calls == limit + 2
    prefix = auth.parse_key(site.keys["ana"])
    auth.flush_failures(site.service)
    failed = site.failed()
    assert {f["target"] for f in failed} == {f"key:{prefix}"} and sum(f["count"] for f in failed) == limit + 5
    assert {f["reason"] for f in failed} == {"wrong secret", "throttled"}


def test_the_holder_of_an_attacked_prefix_is_not_locked_out(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = CountingHasher()
    monkeypatch.setattr(auth, "HASHER", hasher)
    key = site.keys["ana"]
    assert site.get(HONEST, key).status_code == 200  # verified once
    site.clock.advance(auth.CACHE_TTL_SECONDS)  # its verification expired
    for i in range(throttle.FAILURE_LIMIT):
        site.get(f"10.0.0.{i}", wrong_secret(key))
    assert site.get("10.0.1.1", wrong_secret(key)).status_code == 429
    calls = hasher.verify.calls
    assert site.get(HONEST, key).status_code == 200  # the very key verified before: hashed again, not held back
    assert hasher.verify.calls == calls + 1
    assert site.get("10.0.1.2", wrong_secret(key)).status_code == 429
    # But not a key that stopped working: revoked, it is held back like any other.
    assert users.revoke_key(site.service, auth.parse_key(key) or "", actor="test")
    assert site.get(HONEST, key).status_code == 429


def test_a_success_does_not_reset_the_count_of_another_source(site: Site) -> None:
    key = site.keys["ana"]
    limit = throttle.FAILURE_LIMIT
    for i in range(limit - 1):  # one short of the limit, each from another address
        assert site.get(f"10.0.0.{i}", wrong_secret(key)).status_code == 401
    assert site.get(HONEST, key).status_code == 200  # the holder's success ...
    assert site.get("10.0.0.9", wrong_secret(key)).status_code == 401
    assert site.get("10.0.0.10", wrong_secret(key)).status_code == 429  # ... did not reset the prefix's count
    # Nor does a client's own success buy it more failures.
    for _ in range(limit - 1):
        assert site.get(ATTACKER, "not-a-key").status_code == 401
    assert site.get(ATTACKER, site.keys["aud"], "/audit").status_code == 200
    assert site.get(ATTACKER, "not-a-key").status_code == 401
    assert site.get(ATTACKER, "not-a-key").status_code == 429
    assert site.get(ATTACKER, site.keys["aud"], "/audit").status_code == 200  # a cached key is never held back


def test_refusals_are_audited_with_actor_route_and_reason(site: Site) -> None:
    assert site.get(ATTACKER, None, "/alerts").status_code == 401
    assert site.get(ATTACKER, "not-a-key", "/lists").status_code == 401
    assert site.get(ATTACKER, wrong_secret(site.keys["ana"]), "/alerts/7").status_code == 401
    with site.service.transaction() as s:
        s.execute(update(User).where(User.name == "aud").values(active=False))
    assert site.get(HONEST, site.keys["aud"], "/audit").status_code == 401
    prefix = {name: auth.parse_key(k) for name, k in site.keys.items()}
    assert [(f["actor"], f["route"], f["reason"], f["client"]) for f in site.failed()] == [
        ("anonymous", "GET /alerts", "no key", ATTACKER),
        ("anonymous", "GET /lists", "malformed key", ATTACKER),
        (f"key:{prefix['ana']}", "GET /alerts/7", "wrong secret", ATTACKER),
        ("aud", "GET /audit", "disabled user", HONEST),  # the secret was right: it is them
    ]
    # 403: the role lacks the permission.
    assert site.get(HONEST, site.keys["ana"], "/audit?limit=5").status_code == 403
    [denied] = site.entries("access.denied")
    detail = orjson.loads(denied.detail)
    assert denied.actor == "ana" and denied.target == "GET /audit" and detail["route"] == "GET /audit"
    assert detail["permission"] == "audit:read" and "analyst" in detail["reason"] and detail["count"] == 1 and detail["client"] == HONEST


def test_the_throttle_and_the_counts_are_bounded() -> None:
    t = throttle.Throttle(max_sources=100)
    for i in range(1000):
        t.failed([f"client:{i}"], float(i))
    assert len(t) == 100
    agg = throttle.Aggregator(max_groups=10)
    written = 0
    for i in range(1000):
        event = throttle.Event("anonymous", "login.failed", "", {"reason": "no key"})
        written += sum(e.count for e in agg.add((f"client:{i % 50}", "no key"), event, 0.0))
        assert len(agg) <= 10
    assert written + sum(e.count for e in agg.drain()) == 1000  # never a count lost


def test_aggregation_writes_once_a_period_and_counts_exactly() -> None:
    agg = throttle.Aggregator(period=60.0)
    a, b = ("client:a", "unknown key"), ("client:b", "unknown key")
    ev = throttle.Event("anonymous", "login.failed", "", {"reason": "unknown key"})
    assert [e.count for e in agg.add(a, ev, 0.0)] == [1]
    assert agg.add(a, ev, 10.0) == [] and agg.add(a, ev, 59.0) == []
    assert [e.count for e in agg.add(b, ev, 59.5)] == [1]
    assert agg.due(59.9) == []
    # a's period is over: its 2 counted failures are written; the failure at 61 opens no new entry.
    assert [e.count for e in agg.add(a, ev, 61.0)] == [2]
    assert [e.detail()["count"] for e in agg.due(119.6)] == []  # b had nothing counted: dropped
    assert [e.count for e in agg.due(121.0)] == [1]  # a's failure at 61
    assert agg.due(200.0) == [] and len(agg) == 0
    assert [e.count for e in agg.add(a, ev, 200.0)] == [1]  # quiet for a period: written at once again


def test_back_off_doubles_and_is_forgiven() -> None:
    t = throttle.Throttle(limit=3, window=60, base=10, cap=35, forgive=100)
    assert [t.failed(["s"], float(i)) for i in range(3)] == [None, None, 10]
    assert t.blocked(["x", "s"], 5.0) == ("s", 7.0)
    assert t.blocked(["s"], 12.0) is None
    assert t.failed(["s"], 12.0) == 20  # right after a block: doubled
    assert t.failed(["s"], 40.0) == 35  # capped
    assert t.failed(["s"], 75.0 + 100) is None  # quiet long enough after its block: a clean slate
    assert t.failed(["s"], 176.0) is None and t.failed(["s"], 177.0) == 10
