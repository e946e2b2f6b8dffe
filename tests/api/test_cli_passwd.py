"""`qalqan users passwd` over a real store (each backend): prompted twice or read from standard
input, refused by the policy with exit 2, never shown or audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from qalqan.cli import app
from qalqan.service import users, web_sessions
from qalqan.store.db import Database
from qalqan.store.tables import AuditEntry, User

from .conftest import make_service
from .test_cli_admin import store_env  # noqa: F401  the fixture

runner = CliRunner()
PASSWORD = "a long enough secret"


def test_passwd_from_stdin_and_prompt(store_env: Database) -> None:  # noqa: F811
    assert runner.invoke(app, ["users", "add", "aigerim", "--role", "analyst"]).exit_code == 0
    r = runner.invoke(app, ["users", "passwd", "aigerim", "--password-stdin"], input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    assert "password set for aigerim" in r.stdout and PASSWORD not in r.output
    service = make_service(store_env, with_list=False)
    session = web_sessions.login(service, "aigerim", PASSWORD, client="local")

    # Prompted: typed twice, hidden; a password change ends the open sessions.
    r = runner.invoke(app, ["users", "passwd", "aigerim"], input="another long secret\nanother long secret\n")
    assert r.exit_code == 0, r.output
    assert "password set for aigerim" in r.stdout and "another long secret" not in r.output
    assert web_sessions.resume(service, session.token) is None
    assert web_sessions.login(service, "aigerim", "another long secret", client="local").user == "aigerim"

    with store_env.session() as s:
        entries = s.execute(select(AuditEntry).where(AuditEntry.action == "user.password")).scalars().all()
    assert [e.actor for e in entries] == ["cli:operator", "cli:operator"]
    assert all(PASSWORD not in e.detail and "another long secret" not in e.detail for e in entries)


@pytest.mark.parametrize("password", ["short", "x" * 16, "aigerim"])
def test_passwd_refused_by_the_policy(store_env: Database, password: str) -> None:  # noqa: F811
    assert runner.invoke(app, ["users", "add", "aigerim", "--role", "analyst"]).exit_code == 0
    r = runner.invoke(app, ["users", "passwd", "aigerim", "--password-stdin"], input=password + "\n")
    assert r.exit_code == 2 and "error:" in r.stderr and "password" in r.stderr
    assert "password set" not in r.stdout


def test_passwd_unknown_user(store_env: Database) -> None:  # noqa: F811
    r = runner.invoke(app, ["users", "passwd", "nobody", "--password-stdin"], input=PASSWORD + "\n")
    assert r.exit_code == 2 and "no such user" in r.stderr


def test_passwd_prompt_mismatch_sets_nothing(store_env: Database) -> None:  # noqa: F811
    assert runner.invoke(app, ["users", "add", "aigerim", "--role", "analyst"]).exit_code == 0
    r = runner.invoke(app, ["users", "passwd", "aigerim"], input="first long secret\nsecond long secret\n")
    assert r.exit_code != 0
    with store_env.session() as s:
        assert s.execute(select(User.password_hash).where(User.name == "aigerim")).scalar_one() is None


def test_serve_writes_the_admin_password_to_a_private_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import qalqan.cli as cli
    from qalqan.service.core import Qalqan

    from .conftest import demo_list

    monkeypatch.setattr(cli, "_run_server", lambda app_, host, port, on_ready: on_ready())
    env = {"QALQAN_DATA": str(tmp_path), "QALQAN_UN_XML": "", "QALQAN_UN_FALLBACK": "", "QALQAN_DATABASE_URL": "", "QALQAN_AUDIT_KEY": "", "COLUMNS": "400"}
    r = runner.invoke(app, ["serve", "--port", "8765", "--list", f"csv:{demo_list()}"], env=env)
    assert r.exit_code == 0, r.output
    password_file = tmp_path / "admin-bootstrap.password"
    password = password_file.read_text().strip()
    assert (password_file.stat().st_mode & 0o777) == 0o600 and len(password) >= users.MIN_PASSWORD_CHARS
    assert (
        f"Web interface: http://127.0.0.1:8765/ — log in as admin with the password in {password_file} "
        "(readable by you only; change it with: qalqan users passwd admin)"
    ) in " ".join(r.stderr.split())
    assert password not in r.stderr
    service = Qalqan.open(f"sqlite:///{tmp_path / 'qalqan.db'}", audit_key=bytes.fromhex((tmp_path / "audit.key").read_text()))
    assert web_sessions.login(service, "admin", password, client="local").role == "admin"

    # A second start: the admin has a password, none is written or announced.
    password_file.unlink()
    r = runner.invoke(app, ["serve", "--port", "8765", "--list", f"csv:{demo_list()}"], env=env)
    assert r.exit_code == 0, r.output
    assert not password_file.exists() and "Web interface: http://127.0.0.1:8765/\n" in r.stderr and "log in as" not in r.stderr
