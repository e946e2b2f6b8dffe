"""Web logins (each backend): passwords and their policy, the lockout after failed logins, and
sessions that end on logout, idle and absolute timeouts and a password change."""

from __future__ import annotations

import uuid

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from qalqan.service import users, web_sessions
from qalqan.service.clock import FixedClock
from qalqan.service.core import Qalqan
from qalqan.service.roles import AuthError
from qalqan.service.web_sessions import LoginRefused
from qalqan.store.db import Database
from qalqan.store.tables import AuditEntry, User, WebSession

PASSWORD = "correct horse battery"
CLIENT = "203.0.113.7"


@dataclass
class Site:
    service: Qalqan
    clock: FixedClock


@pytest.fixture()
def site(db: Database) -> Iterator[Site]:
    clock = FixedClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    service = Qalqan(db, audit_key=bytes(range(32)), clock=clock)
    users.create_user(service, "aigerim", "analyst", actor="test")
    users.set_password(service, "aigerim", PASSWORD, actor="test")
    yield Site(service, clock)


def audit(site: Site, action: str) -> list[AuditEntry]:
    with site.service.db.session() as s:
        return list(s.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars())


def refused(site: Site, name: str, password: str) -> LoginRefused:
    with pytest.raises(LoginRefused) as info:
        web_sessions.login(site.service, name, password, client=CLIENT)
    return info.value


def test_login_makes_a_session_whose_token_is_not_stored(site: Site) -> None:
    session = web_sessions.login(site.service, "aigerim", PASSWORD, client=CLIENT)
    assert session.user == "aigerim" and session.role == "analyst" and session.purpose == ""
    assert len(session.token) >= 40 and len(session.csrf) >= 40 and session.token != session.csrf
    assert session.created_at == site.clock.now() == session.last_seen_at
    with site.service.db.session() as s:
        row = s.execute(select(WebSession)).scalar_one()
        assert row.token_hash == hashlib.sha256(session.token.encode()).hexdigest()
        assert row.client == CLIENT and row.ended_at is None
    resumed = web_sessions.resume(site.service, session.token)
    assert resumed is not None and resumed.token == "" and resumed.user == "aigerim" and resumed.csrf == session.csrf
    [entry] = audit(site, "web.login")
    assert entry.actor == "aigerim" and PASSWORD not in entry.detail and session.token not in entry.detail
    with site.service.db.session() as s:
        assert s.execute(select(User.password_hash).where(User.name == "aigerim")).scalar_one().startswith("$argon2id$")
    assert PASSWORD not in "".join(e.detail for e in audit(site, "user.password"))


def test_unknown_user_and_wrong_password_get_the_same_message(site: Site) -> None:
    wrong = refused(site, "aigerim", "not the password at all")
    unknown = refused(site, "nobody", PASSWORD)
    assert wrong.reason == unknown.reason == "bad-credentials"
    assert str(wrong) == str(unknown) and "nobody" not in str(unknown)
    assert wrong.locked_until is None
    users.create_user(site.service, "bob", "analyst", actor="test")  # exists, but no password
    no_password = refused(site, "bob", PASSWORD)
    assert no_password.reason == "no-password" and str(no_password) == str(unknown)
    failed = audit(site, "web.login.failed")
    assert [e.actor for e in failed] == ["aigerim", "anonymous", "bob"]
    assert all(CLIENT in e.detail for e in failed) and '"reason":"bad-credentials"' in failed[1].detail
    assert "nobody" not in failed[1].detail  # a name typed in is not kept (it may be a password)
    assert web_sessions.resume(site.service, "") is None
    assert web_sessions.resume(site.service, "no-such-token") is None


def test_five_failures_lock_the_account_even_against_the_right_password(site: Site) -> None:
    for _ in range(web_sessions.MAX_FAILURES - 1):
        assert refused(site, "aigerim", "wrong password here").reason == "bad-credentials"
    assert audit(site, "web.lockout") == []
    fifth = refused(site, "aigerim", "wrong password here")  # the attempt that locks says so
    assert fifth.reason == "locked" and fifth.locked_until == site.clock.now() + web_sessions.LOCKOUT
    [lockout] = audit(site, "web.lockout")
    assert lockout.actor == "aigerim" and lockout.target == "user:aigerim"
    assert len(audit(site, "web.login.failed")) == web_sessions.MAX_FAILURES
    locked = refused(site, "aigerim", PASSWORD)
    assert locked.reason == "locked" and locked.locked_until == site.clock.now() + web_sessions.LOCKOUT
    site.clock.advance(web_sessions.LOCKOUT - timedelta(seconds=1))
    assert refused(site, "aigerim", PASSWORD).reason == "locked"
    site.clock.advance(timedelta(seconds=1))  # the lock is over
    session = web_sessions.login(site.service, "aigerim", PASSWORD, client=CLIENT)
    assert session.user == "aigerim"
    with site.service.db.session() as s:
        assert s.execute(select(User.failed_logins).where(User.name == "aigerim")).scalar_one() == 0


def test_an_unknown_name_locks_like_a_real_one(site: Site) -> None:
    """Else the lockout message would tell a guesser which names exist."""
    real = [refused(site, "aigerim", "wrong password here") for _ in range(web_sessions.MAX_FAILURES)]
    # Unknown names are counted per process: a name of this test's own, so another run of it
    # (the other backend) starts afresh.
    name = f"no-such-person-{uuid.uuid4().hex}"
    ghost = [refused(site, name, "wrong password here") for _ in range(web_sessions.MAX_FAILURES)]
    assert [r.reason for r in real] == [r.reason for r in ghost] == ["bad-credentials"] * (web_sessions.MAX_FAILURES - 1) + ["locked"]
    assert str(real[-1]) == str(ghost[-1]) and real[-1].locked_until == ghost[-1].locked_until
    site.clock.advance(web_sessions.LOCKOUT)
    assert refused(site, name, "wrong password here").reason == "bad-credentials"


def test_an_expired_lock_gives_a_fresh_count(site: Site) -> None:
    for _ in range(web_sessions.MAX_FAILURES):
        refused(site, "aigerim", "wrong password here")
    site.clock.advance(web_sessions.LOCKOUT)
    assert refused(site, "aigerim", "wrong password here").reason == "bad-credentials"
    assert web_sessions.login(site.service, "aigerim", PASSWORD, client=CLIENT).user == "aigerim"  # not locked again after one


def test_a_success_resets_the_count(site: Site) -> None:
    for _ in range(web_sessions.MAX_FAILURES - 1):
        refused(site, "aigerim", "wrong password here")
    web_sessions.login(site.service, "aigerim", PASSWORD, client=CLIENT)
    for _ in range(web_sessions.MAX_FAILURES - 1):
        refused(site, "aigerim", "wrong password here")
    assert web_sessions.login(site.service, "aigerim", PASSWORD, client=CLIENT).user == "aigerim"


def test_idle_timeout_ends_a_session(site: Site) -> None:
    session = web_sessions.login(site.service, "aigerim", PASSWORD, client=CLIENT)
    site.clock.advance(web_sessions.IDLE_TIMEOUT - timedelta(minutes=1))
    assert web_sessions.resume(site.service, session.token) is not None  # its use keeps it alive
    site.clock.advance(web_sessions.IDLE_TIMEOUT - timedelta(minutes=1))
    assert web_sessions.resume(site.service, session.token) is not None
    site.clock.advance(web_sessions.IDLE_TIMEOUT)
    assert web_sessions.resume(site.service, session.token) is None
    with site.service.db.session() as s:
        assert s.execute(select(WebSession.ended_at)).scalar_one() is not None
    [expired] = audit(site, "web.session.expired")
    assert '"reason":"idle"' in expired.detail


def test_idle_timeout_from_the_environment(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QALQAN_SESSION_IDLE_MINUTES", "5")
    assert web_sessions.idle_timeout() == timedelta(minutes=5)
    session = web_sessions.login(site.service, "aigerim", PASSWORD, client=CLIENT)
    site.clock.advance(timedelta(minutes=5))
    assert web_sessions.resume(site.service, session.token) is None
    monkeypatch.setenv("QALQAN_SESSION_IDLE_MINUTES", "not a number")
    assert web_sessions.idle_timeout() == web_sessions.IDLE_TIMEOUT


def test_absolute_timeout_ends_a_session_in_use(site: Site) -> None:
    session = web_sessions.login(site.service, "aigerim", PASSWORD, client=CLIENT)
    step = timedelta(minutes=20)
    used = timedelta()
    while used + step < web_sessions.ABSOLUTE_TIMEOUT:
        site.clock.advance(step)
        used += step
        assert web_sessions.resume(site.service, session.token) is not None
    site.clock.advance(web_sessions.ABSOLUTE_TIMEOUT - used)
    assert web_sessions.resume(site.service, session.token) is None
    [expired] = audit(site, "web.session.expired")
    assert '"reason":"absolute"' in expired.detail


def test_logout(site: Site) -> None:
    session = web_sessions.login(site.service, "aigerim", PASSWORD, client=CLIENT)
    other = web_sessions.login(site.service, "aigerim", PASSWORD, client="198.51.100.1")
    web_sessions.logout(site.service, session.token)
    assert web_sessions.resume(site.service, session.token) is None
    assert web_sessions.resume(site.service, other.token) is not None  # only that one
    web_sessions.logout(site.service, session.token)  # again: nothing
    web_sessions.logout(site.service, "unknown")
    [entry] = audit(site, "web.logout")
    assert entry.actor == "aigerim"


def test_password_policy(site: Site) -> None:
    for bad in ["short pass", "a" * 20, "aigerim", "AIGERIM"]:
        with pytest.raises(AuthError) as info:
            users.set_password(site.service, "aigerim", bad, actor="test")
        assert info.value.field == "password"
    with pytest.raises(AuthError) as info:
        users.set_password(site.service, "aigerim12345", "aigerim12345", actor="test")
    assert info.value.field == "password"
    with pytest.raises(users.NotFound):
        users.set_password(site.service, "nobody", PASSWORD, actor="test")
    assert web_sessions.login(site.service, "aigerim", PASSWORD, client=CLIENT)  # unchanged


def test_a_password_change_ends_the_sessions_and_the_lock(site: Site) -> None:
    session = web_sessions.login(site.service, "aigerim", PASSWORD, client=CLIENT)
    for _ in range(web_sessions.MAX_FAILURES):
        refused(site, "aigerim", "wrong password here")
    assert web_sessions.resume(site.service, session.token) is not None  # a lock does not log the holder out
    users.set_password(site.service, "aigerim", "a new long password", actor="admin")
    assert web_sessions.resume(site.service, session.token) is None
    assert refused(site, "aigerim", PASSWORD).reason == "bad-credentials"
    assert web_sessions.login(site.service, "aigerim", "a new long password", client=CLIENT).user == "aigerim"
    entry = audit(site, "user.password")[-1]
    assert entry.actor == "admin" and entry.target == "user:aigerim" and "a new long password" not in entry.detail


def test_end_sessions_and_a_disabled_user(site: Site) -> None:
    first = web_sessions.login(site.service, "aigerim", PASSWORD, client=CLIENT)
    second = web_sessions.login(site.service, "aigerim", PASSWORD, client=CLIENT)
    assert web_sessions.end_sessions(site.service, "aigerim") == 2
    assert web_sessions.resume(site.service, first.token) is None and web_sessions.resume(site.service, second.token) is None
    assert web_sessions.end_sessions(site.service, "nobody") == 0
    third = web_sessions.login(site.service, "aigerim", PASSWORD, client=CLIENT)
    with site.service.transaction() as s:
        s.execute(select(User).where(User.name == "aigerim")).scalar_one().active = False
    assert web_sessions.resume(site.service, third.token) is None  # a disabled user's session is over
    assert refused(site, "aigerim", PASSWORD).reason == "inactive"
    assert refused(site, "aigerim", "wrong password here").reason == "bad-credentials"


def test_purpose_is_stored_and_audited(site: Site) -> None:
    session = web_sessions.login(site.service, "aigerim", PASSWORD, client=CLIENT)
    with pytest.raises(ValueError):
        web_sessions.set_purpose(site.service, session.token, "  ")
    web_sessions.set_purpose(site.service, session.token, "case 2026-114: onboarding review")
    resumed = web_sessions.resume(site.service, session.token)
    assert resumed is not None and resumed.purpose == "case 2026-114: onboarding review"
    [entry] = audit(site, "web.purpose")
    assert entry.actor == "aigerim" and entry.purpose == "case 2026-114: onboarding review"
    web_sessions.logout(site.service, session.token)
    with pytest.raises(LookupError):
        web_sessions.set_purpose(site.service, session.token, "after logout")


def test_ensure_admin_password(site: Site) -> None:
    assert users.ensure_admin_password(site.service) is None  # no admin yet
    assert users.ensure_admin(site.service) is None  # the store has users: no bootstrap
    users.create_user(site.service, users.BOOTSTRAP_ADMIN, "admin", actor="test")
    password = users.ensure_admin_password(site.service)
    assert password is not None and len(password) >= users.MIN_PASSWORD_CHARS
    assert web_sessions.login(site.service, "admin", password, client=CLIENT).role == "admin"
    assert users.ensure_admin_password(site.service) is None  # it has one now


def test_migration_0006_keeps_existing_users_and_is_undone(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import inspect, text

    from qalqan.store.db import alembic_config

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    db.migrate("0005")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO users (name, role, active, created_at) VALUES ('old', 'analyst', 1, :t)"), {"t": datetime(2025, 1, 1, tzinfo=UTC)})
    db.migrate()
    with db.session() as s:
        row = s.execute(select(User).where(User.name == "old")).scalar_one()
        assert row.password_hash is None and row.failed_logins == 0 and row.locked_until is None
    assert "web_sessions" in db.tables()
    with db.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0005")
    assert "failed_logins" not in {c["name"] for c in inspect(db.engine).get_columns("users")}
    assert "web_sessions" not in set(inspect(db.engine).get_table_names())
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM users")).scalar_one() == "old"
    db.dispose()
