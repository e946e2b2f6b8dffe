"""`qalqan users / keys / audit` over a real store (each backend), and `qalqan audit verify`
naming the entry of every tampering done with SQL: an edited, a deleted and an inserted row."""

from __future__ import annotations

import re

import orjson
import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from qalqan.cli import app
from qalqan.monitoring.audit import entry_hash
from qalqan.service import auth, roles
from qalqan.store.db import Database
from qalqan.store.tables import ApiKey, AuditEntry

from .conftest import AUDIT_KEY, make_service

runner = CliRunner()


@pytest.fixture()
def store_env(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """The CLI opens the store from the environment, as in production."""
    monkeypatch.setenv("QALQAN_DATABASE_URL", db.url)
    monkeypatch.setenv("QALQAN_AUDIT_KEY", AUDIT_KEY.hex())
    monkeypatch.setenv("USER", "operator")
    return db


def run(*args: str) -> object:
    return runner.invoke(app, list(args))


def test_users_and_keys(store_env: Database) -> None:
    r = run("users", "add", "aigerim", "--role", "analyst")
    assert r.exit_code == 0, r.output
    assert run("users", "add", "aigerim", "--role", "analyst").exit_code == 2  # exists
    r = run("users", "add", "bob", "--role", "wizard")
    assert r.exit_code == 2 and "unknown role" in r.output
    r = run("keys", "create", "aigerim", "--label", "laptop")
    assert r.exit_code == 0, r.output
    key = r.stdout.strip().splitlines()[0]
    assert re.fullmatch(r"qk_[0-9a-f]{12}_\S+", key)
    prefix = auth.parse_key(key)
    service = make_service(store_env, with_list=False)
    assert auth.authenticate(service, key) == roles.Principal("aigerim", "analyst", prefix or "")
    listed = run("users", "list")
    assert listed.exit_code == 0 and "aigerim" in listed.stdout and str(prefix) in listed.stdout and key not in listed.stdout
    with store_env.session() as s:
        assert s.execute(select(ApiKey.hash).where(ApiKey.prefix == prefix)).scalar_one().startswith("$argon2id$")
    assert run("keys", "create", "nobody").exit_code == 2
    r = run("keys", "revoke", str(prefix))
    assert r.exit_code == 0, r.output
    auth.clear_cache(service)  # another process: it would forget the key within CACHE_TTL_SECONDS
    assert auth.authenticate(service, key) is None
    assert run("keys", "revoke", str(prefix)).exit_code == 2
    shown = run("audit", "show", "--limit", "20", "--json")
    assert shown.exit_code == 0
    assert '"actor":"cli:operator","action":"user.create"' in shown.stdout and '"action":"key.revoke"' in shown.stdout


@pytest.mark.parametrize("name", ["system", "anonymous", "Anonymous"])
def test_users_add_refuses_the_services_own_actor_names(store_env: Database, name: str) -> None:
    r = run("users", "add", name, "--role", "admin")
    assert r.exit_code == 2 and "reserved" in r.output
    r = run("users", "add", "key:abc", "--role", "admin")
    assert r.exit_code == 2 and "user name" in r.output


def test_keys_made_on_the_command_line_show_their_issuer(store_env: Database) -> None:
    # Only the command line makes keys for auditors (the API refuses to).
    assert run("users", "add", "ilse", "--role", "auditor").exit_code == 0
    r = run("keys", "create", "ilse", "--label", "review")
    assert r.exit_code == 0, r.output
    prefix = str(auth.parse_key(r.stdout.strip().splitlines()[0]))
    with store_env.session() as s:
        assert s.execute(select(ApiKey.created_by).where(ApiKey.prefix == prefix)).scalar_one() == "cli:operator"
        [issued] = s.execute(select(AuditEntry).where(AuditEntry.action == "key.issue")).scalars().all()
    assert issued.actor == "cli:operator" and '"holder":"ilse"' in issued.detail and '"issuer":"cli:operator"' in issued.detail
    listed = run("keys", "list", "ilse")
    assert listed.exit_code == 0, listed.output
    [row] = [line for line in listed.stdout.splitlines() if prefix in line]
    assert "ilse" in row and "review" in row
    [as_json] = [orjson.loads(line) for line in run("keys", "list", "ilse", "--json").stdout.splitlines()]
    assert as_json["prefix"] == prefix and as_json["user"] == "ilse" and as_json["created_by"] == "cli:operator"
    assert "cli:operator" in run("users", "list").stdout
    assert run("keys", "list", "nobody").exit_code == 2
    assert prefix in run("keys", "list").stdout


def _fill(db: Database, n: int = 6) -> None:
    service = make_service(db, with_list=False)
    for i in range(n):
        with service.transaction() as s:
            service.audit(s, actor=f"user{i}", action="alert.view", target=f"alert:{i}", purpose="case 1")


def test_audit_verify_intact(store_env: Database) -> None:
    _fill(store_env)
    r = run("audit", "verify")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == "6 entries, chain intact"


def test_audit_verify_finds_an_edited_row(store_env: Database) -> None:
    _fill(store_env)
    with store_env.transaction() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(purpose="nothing to see"))
    r = run("audit", "verify")
    assert r.exit_code == 1
    assert r.stdout.splitlines() == [line for line in r.stdout.splitlines() if line.startswith("entry ")]
    assert [line.split(":")[:2] for line in r.stdout.splitlines()] == [["entry 3", " edited"]]


def test_audit_verify_finds_a_deleted_row(store_env: Database) -> None:
    _fill(store_env)
    with store_env.transaction() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 4))
    r = run("audit", "verify")
    assert r.exit_code == 1
    [line] = r.stdout.splitlines()
    assert line.startswith("entry 5: deleted:") and "4" in line


def test_audit_verify_finds_an_inserted_row(store_env: Database) -> None:
    _fill(store_env)
    with store_env.transaction() as s:
        for seq in range(6, 3, -1):  # make room after entry 3
            s.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(seq=seq + 1))
        prev = s.execute(select(AuditEntry.hash).where(AuditEntry.seq == 3)).scalar_one()
        forged = {"seq": 4, "at": "2026-01-01T00:00:00.000000+00:00", "actor": "intruder", "action": "alert.view", "target": "alert:9", "purpose": "", "input_hash": "", "detail": "{}"}
        s.add(AuditEntry(prev_hash=prev, hash=entry_hash(b"a guessed key", prev, forged), **forged))
    r = run("audit", "verify")
    assert r.exit_code == 1
    named = {tuple(x.strip() for x in line.split(":")[:2]) for line in r.stdout.splitlines()}
    assert ("entry 4", "edited") in named  # the forged row


def test_audit_verify_cannot_open_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QALQAN_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("QALQAN_AUDIT_KEY", AUDIT_KEY.hex())
    r = run("audit", "verify")
    assert r.exit_code == 1 and "cannot open the store" in r.output
