"""`qalqan users`, `qalqan keys`, `qalqan audit`: accounts, API keys and the audit log.

The store is opened as `serve` opens it (QALQAN_DATABASE_URL, else $QALQAN_DATA/qalqan.db) with
the audit key of QALQAN_AUDIT_KEY or $QALQAN_DATA/audit.key. What these commands change is
recorded in the audit log under the actor "cli:<login name>".
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from qalqan.cli.base import _fail, app

#: Exit code when the store cannot be opened, and when `audit verify` finds a problem.
EXIT_FAILED = 1
#: Audit entries `audit show` prints unless --limit says otherwise.
SHOW_DEFAULT = 50

users_app = typer.Typer(help="Users and their roles (analyst, supervisor, admin, auditor).", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: list, create (shown once) and revoke.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log: show entries, verify the hash chain.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")

out = Console(soft_wrap=True)


def cli_actor() -> str:
    """The audit actor of command-line use: "cli:" and the login name."""
    try:
        user = os.environ.get("USER") or getpass.getuser()
    except Exception:  # noqa: BLE001  no login name in a bare container
        user = "unknown"
    return f"cli:{user}"


def _service() -> Any:
    from qalqan.service.core import Qalqan

    try:
        return Qalqan.open()
    except Exception as exc:  # noqa: BLE001  unreachable database, bad URL, unreadable audit key
        _fail(f"cannot open the store: {type(exc).__name__}: {exc}", code=EXIT_FAILED)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The user's name (letters, digits, . _ @ -)")],
    role: Annotated[str, typer.Option("--role", "-r", help="analyst | supervisor | admin | auditor")],
) -> None:
    """Add a user with a role."""
    from qalqan.service import roles, users

    try:
        users.create_user(_service(), name, role, actor=cli_actor())
    except roles.AuthError as exc:
        _fail(str(exc))
    out.print(f"added user {escape(name)} ({role}); make a key with: qalqan keys create {escape(name)}", highlight=False)


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="The user whose web interface password is set")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input instead of prompting")] = False,
) -> None:
    """Set a user's password for the web interface (at least 12 characters). Ends the user's
    open web sessions and lifts a lockout; the password is never shown or audited."""
    from qalqan.service import roles, users

    if password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
    else:
        password = typer.prompt(f"New password for {name}", hide_input=True, confirmation_prompt=True)
    try:
        users.set_password(_service(), name, password, actor=cli_actor())
    except roles.AuthError as exc:
        _fail(str(exc))
    out.print(f"password set for {escape(name)}", highlight=False)


@users_app.command("list")
def users_list() -> None:
    """Users, their roles and their keys (prefixes only)."""
    from qalqan.service import users

    service = _service()
    table = Table(title="Users")
    for col in ("name", "role", "active", "created", "keys (prefix, label, made by, last used)"):
        table.add_column(col)
    offset, total = 0, None
    while total is None or offset < total:
        items, total = users.list_users(service, offset=offset, limit=500)
        for u in items:
            keys = "\n".join(
                f"{k['prefix']} {escape(k['label'] or '-')} by {escape(_issuer(k, u['name']))} {k['last_used_at'] or 'never'}" + (" [red]revoked[/]" if k["revoked_at"] else "")
                for k in u["keys"]
            )
            table.add_row(escape(u["name"]), u["role"], "yes" if u["active"] else "no", (u["created_at"] or "")[:19], keys or "-")
        offset += len(items)
        if not items:
            break
    out.print(table)


def _issuer(key: dict[str, Any], holder: str) -> str:
    """Who made a key, as listed: "self" for the holder's own, "?" when not recorded."""
    made_by = key.get("created_by")
    if made_by is None:
        return "?"
    return "self" if made_by == holder else str(made_by)


@keys_app.command("list")
def keys_list(
    user: Annotated[str | None, typer.Argument(help="Only this user's keys")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """API keys (prefixes only), with their holder and who made them: a key made for someone
    else is listed with its issuer."""
    from qalqan.service import roles, users

    try:
        keys = users.list_keys(_service(), user)
    except roles.AuthError as exc:
        _fail(str(exc))
    if as_json:
        for k in keys:
            typer.echo(orjson.dumps(k).decode())
        return
    table = Table(title="API keys" if user is None else f"API keys of {escape(user)}")
    table.add_column("prefix", no_wrap=True)  # whole: it is what `keys revoke` takes
    for col in ("user", "label", "created", "made by", "last used", "revoked"):
        table.add_column(col, overflow="fold")
    for k in keys:
        table.add_row(
            k["prefix"],
            escape(k["user"]),
            escape(k["label"] or "-"),
            (k["created_at"] or "")[:19],
            escape(_issuer(k, k["user"])),
            (k["last_used_at"] or "never")[:19],
            (k["revoked_at"] or "-")[:19],
        )
    out.print(table)


@keys_app.command("create")
def keys_create(
    user: Annotated[str, typer.Argument(help="The user the key acts as")],
    label: Annotated[str, typer.Option("--label", help="What the key is for (shown in `users list`)")] = "",
) -> None:
    """Make an API key and print it: the only time it is shown (only its hash is stored).
    The only way to make a key for an auditor (the API refuses to); audited as `key.issue`."""
    from qalqan.service import auth, roles, users

    try:
        key = users.create_key(_service(), user, actor=cli_actor(), label=label)
    except roles.AuthError as exc:
        _fail(str(exc))
    typer.echo(key)  # alone on stdout, so `KEY=$(qalqan keys create ana)` works
    typer.echo(f"API key for {user}, prefix {auth.parse_key(key)}: shown once, store it now.", err=True)


@keys_app.command("revoke")
def keys_revoke(prefix: Annotated[str, typer.Argument(help="The key's prefix (the part after 'qk_', see `users list`)")]) -> None:
    """Revoke an API key. A running server stops accepting it within a minute (at once if revoked through its API)."""
    from qalqan.service import users

    if not users.revoke_key(_service(), prefix, actor=cli_actor()):
        _fail(f"no active key with prefix {prefix!r}")
    out.print(f"revoked key {escape(prefix)}", highlight=False)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain: exit 0 when intact; else exit 1 and one line per edited,
    inserted or deleted entry, naming its sequence number."""
    from qalqan.service import audit

    service = _service()
    report = audit.verify(service.db, service.key)
    if report.ok:
        typer.echo(f"{report.checked} entries, chain intact")
        return
    for p in report.problems:
        typer.echo(f"entry {p.seq}: {p.kind}: {p.message}")
    typer.echo(f"{report.checked} entries checked, {len(report.problems)} problems", err=True)
    raise typer.Exit(EXIT_FAILED)


@audit_app.command("show")
def audit_show(
    limit: Annotated[int, typer.Option(min=1, help="How many entries (newest first)")] = SHOW_DEFAULT,
    actor: Annotated[str | None, typer.Option(help="Only entries by this actor")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action (screen, login, alert.decide, ...)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """The newest audit entries."""
    from sqlalchemy import select

    from qalqan.store.tables import AuditEntry

    service = _service()
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    with service.db.session() as s:
        rows = s.execute(stmt).scalars().all()
    if as_json:
        for e in rows:
            typer.echo(orjson.dumps({"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "target": e.target, "purpose": e.purpose, "input_hash": e.input_hash, "detail": e.detail}).decode())
        return
    table = Table(title=f"Audit log (newest {len(rows)})")
    for col in ("seq", "at", "actor", "action", "target", "purpose", "detail"):
        table.add_column(col)
    for e in rows:
        table.add_row(str(e.seq), e.at[:19], escape(e.actor), escape(e.action), escape(e.target), escape(e.purpose[:60]), escape(e.detail[:80]))
    out.print(table)
