"""`qalqan subjects` and `qalqan alerts`: the watched population and the alerts it raises.

The store is opened as `serve` opens it (QALQAN_DATABASE_URL, else $QALQAN_DATA/qalqan.db).
Views and decisions are recorded in the audit log under the acting user: `--as NAME` (default
"cli:<login name>"); a decision needs `--as`, `--role` and `--reason`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from qalqan.cli.base import _fail, app, err
from qalqan.model import ListError

#: Exit code when the store cannot be opened or an id is unknown (bad input keeps 2).
EXIT_FAILED = 1

subjects_app = typer.Typer(help="The watched population: import, show, remove.", no_args_is_help=True)
alerts_app = typer.Typer(help="Alerts: list, show, decide.", no_args_is_help=True)
app.add_typer(subjects_app, name="subjects")
app.add_typer(alerts_app, name="alerts")

#: Width of tables written to a pipe or file (Rich would assume 80 columns): wide enough for an
#: alert row, so `qalqan alerts list > today.txt` reads like the terminal does.
PIPE_WIDTH = 200
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else PIPE_WIDTH)

AsOption = Annotated[str | None, typer.Option("--as", help="The user acting, for the audit log (default: cli:$USER)")]
PurposeOption = Annotated[str, typer.Option("--purpose", help="Why you look, recorded in the audit log")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def _actor(name: str | None) -> str:
    from qalqan.cli.admin import cli_actor

    return name.strip() if name and name.strip() else cli_actor()


def _service() -> Any:
    from qalqan.service.core import Qalqan

    try:
        return Qalqan.open()
    except Exception as exc:  # noqa: BLE001  unreachable database, bad URL, unreadable audit key
        _fail(f"cannot open the store: {type(exc).__name__}: {exc}", code=EXIT_FAILED)


def _print_json(data: Any) -> None:
    print(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


def _count_rows(path: Path) -> int | None:
    """Records in the file, for the progress bar (lines, less a CSV header; approximate when a
    CSV cell holds a line break)."""
    try:
        with open(path, "rb") as fh:
            lines = sum(1 for line in fh if line.strip())
            fh.seek(0)
            first = fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return None
    return max(0, lines - (0 if first.startswith(b"{") else 1))


@subjects_app.command("import")
def subjects_import(
    file: Annotated[Path, typer.Argument(help="CSV or JSON lines: id,schema,name,birth_date,nationality,gender,document_number")],
    as_user: AsOption = None,
    purpose: PurposeOption = "",
    workers: Annotated[int | None, typer.Option("--workers", help="Screening processes (default: all CPUs)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add or update subjects from a file (upserted by id); new and changed ones are screened."""
    from qalqan.service import subjects

    if not file.is_file():
        _fail(f"{file}: no such file")
    q = _service()
    total = _count_rows(file)
    # The progress bar runs a thread, so the automatic choice would screen in-process: ask for
    # the CPUs explicitly (the workers only screen; they never touch the bar).
    if workers is None:
        workers = os.cpu_count() or 1
    bar = Progress(
        TextColumn("subjects"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=True, disable=not err.is_terminal
    )
    try:
        # Screening workers are forked before the bar's refresh thread starts (see qalqan.batch).
        with bar:
            task = bar.add_task("subjects", total=total)
            result = subjects.import_subjects_file(
                q, file, actor=_actor(as_user), purpose=purpose, workers=workers, progress=lambda done: bar.update(task, completed=done)
            )
    except ListError as exc:
        _fail(str(exc))
    if as_json:
        _print_json(result.as_dict())
        return
    out.print(
        f"{result.rows:,} records: {result.added:,} added, {result.updated:,} updated, {result.unchanged:,} unchanged, "
        f"{result.error_count:,} errors; {result.alerts_new:,} new alerts ({result.seconds:.1f} s)"
    )
    for e in result.errors[:20]:
        err.print(escape(f"row {e['row']}" + (f" field {e['field']}" if e["field"] else "") + f": {e['message']}"), highlight=False)
    if result.error_count > 20:
        err.print(f"... and {result.error_count - 20:,} more errors")


@subjects_app.command("show")
def subjects_show(
    subject_id: Annotated[str, typer.Argument(help="The subject's id (your system's)")],
    as_user: AsOption = None,
    purpose: PurposeOption = "",
    as_json: JsonOption = False,
) -> None:
    """A subject's data and its alerts (the view is audited)."""
    from qalqan.service import subjects
    from qalqan.service.alerts import PurposeRequired

    try:
        found = subjects.get_subject(_service(), subject_id, actor=_actor(as_user), purpose=purpose)
    except PurposeRequired as exc:
        _fail(f"{exc}: give --purpose")
    if found is None:
        _fail(f"no subject with id {subject_id!r}", code=EXIT_FAILED)
    if as_json:
        _print_json(found)
        return
    table = Table(title=f"subject {escape(subject_id)}", show_header=False)
    for key in ("schema", "caption", "created_at", "updated_at", "created_by", "removed_at"):
        table.add_row(key, escape(str(found[key] or "-")))
    for key, value in found["data"].items():
        table.add_row(f"data.{key}", escape(str(value)))
    out.print(table)
    _alerts_table(found["alerts"], "alerts")


@subjects_app.command("remove")
def subjects_remove(
    subject_id: Annotated[str, typer.Argument(help="The subject's id")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded; required)")],
    as_user: AsOption = None,
) -> None:
    """Remove a subject: its data is erased and its open alerts are closed."""
    from qalqan.service import subjects

    try:
        removed = subjects.remove_subject(_service(), subject_id, actor=_actor(as_user), reason=reason)
    except subjects.SubjectError as exc:
        _fail(str(exc))
    if not removed:
        _fail(f"no (active) subject with id {subject_id!r}", code=EXIT_FAILED)
    out.print(f"removed subject {escape(subject_id)}")


def _table(title: str, columns: tuple[str, ...], keep: tuple[str, ...] = ()) -> Table:
    """A table that never cuts a value short: a narrow terminal (or a pipe, which Rich takes as
    80 columns) wraps cells instead of ending them in "…"; the `keep` columns (ids, references)
    are never broken at all."""
    table = Table(title=title)
    for col in columns:
        table.add_column(col, overflow="fold", no_wrap=col in keep)
    return table


def _alerts_table(items: list[dict[str, Any]], title: str) -> None:
    # The queue's columns; trigger, generation and the full times are in `alerts show` and --json.
    columns = ("id", "subject", "entry", "entity", "score", "status", "assignee", "updated")
    table = _table(title, columns, keep=("id", "entry", "score", "updated"))
    for a in items:
        updated = (a["updated_at"] or "-")[5:16].replace("T", " ")  # "12-02 07:02" (UTC)
        table.add_row(
            str(a["id"]), escape(str(a["subject"])), escape(f"{a['list']}:{a['entity_key']}"), escape(a["entity_caption"]), f"{a['score']:.3f}",
            a["status"], escape(a["assignee"] or "-"), updated,
        )
    out.print(table)


def _value(value: Any) -> str:
    if value is None or value == [] or value == "":
        return "-"
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _alignment_table(feature: dict[str, Any]) -> None:
    """The token-by-token alignment of a name feature: the words as written on each side, how
    they were matched and how similar they are."""
    table = _table(f"{feature['feature']}: token alignment", ("subject", "listed", "similarity", "how"), keep=("similarity",))
    for t in feature["alignment"]:
        similarity = t.get("similarity")
        table.add_row(
            escape(_value(t.get("query"))), escape(_value(t.get("candidate"))), f"{similarity:.2f}" if isinstance(similarity, int | float) else "-", escape(str(t.get("how") or "")),
        )
    out.print(table)


@alerts_app.command("list")
def alerts_list(
    status: Annotated[str | None, typer.Option("--status", help="open, escalated, confirmed, false_positive, closed, closed_delisted")] = None,
    list_name: Annotated[str | None, typer.Option("--list", help="Only this list's alerts")] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Only this subject's alerts")] = None,
    assignee: Annotated[str | None, typer.Option("--assignee")] = None,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """Alerts, newest first."""
    from qalqan.service import alerts

    try:
        page = alerts.list_alerts(_service(), status=status, list_name=list_name, subject=subject, assignee=assignee, offset=offset, limit=limit)
    except alerts.DecisionError as exc:
        _fail(str(exc))
    if as_json:
        _print_json(page.as_dict())
        return
    _alerts_table(page.items, f"alerts {offset + 1 if page.items else 0}-{offset + len(page.items)} of {page.total:,}")


@alerts_app.command("show")
def alerts_show(
    alert_id: Annotated[int, typer.Argument(help="The alert's number")],
    purpose: PurposeOption = "",
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """An alert with its explanation (and each name's token alignment), subject, listed entity
    and decisions. The view is audited with its purpose (required)."""
    from qalqan.service import alerts

    try:
        found = alerts.get_alert(_service(), alert_id, actor=_actor(as_user), purpose=purpose)
    except alerts.PurposeRequired as exc:
        _fail(f"{exc}: give --purpose")
    if found is None:
        _fail(f"no alert {alert_id}", code=EXIT_FAILED)
    if as_json:
        _print_json(found)
        return
    _alerts_table([found], f"alert {alert_id}")
    out.print(f"trigger {found['trigger']}, generation {found['generation']}, created {found['created_at']}, updated {found['updated_at']}", highlight=False)
    subject = found["subject_record"] or {}
    out.print(f"subject: {escape(str(subject.get('id')))} {escape(orjson.dumps(subject.get('data', {})).decode())}")
    version = found["version"] or {}
    out.print(f"produced by {escape(str(version.get('list')))} version {version.get('number')} (published {version.get('published') or '-'})")
    for change in found["changes"]:
        out.print(escape(f"changed ({change.get('side')}): {change.get('field')}: {change.get('old')!r} -> {change.get('new')!r}"), highlight=False)
    table = _table("explanation", ("feature", "score", "weight", "subject", "listed", "detail"), keep=("feature", "score", "weight"))
    for f in found["explanation"]:
        table.add_row(
            f["feature"], f"{f['score']:.3f}", f"{f['weight']}", escape(_value(f.get("query_value"))), escape(_value(f.get("candidate_value"))), escape(str(f.get("detail") or "")),
        )
    out.print(table)
    for f in found["explanation"]:
        if f.get("alignment"):
            _alignment_table(f)
    if found["decisions"]:
        dt = _table("decisions", ("at", "by", "action", "from", "to", "reason"), keep=("at",))
        for d in found["decisions"]:
            dt.add_row(d["at"] or "-", escape(d["actor"]), d["action"], d["from"], d["to"], escape(d["reason"]))
        out.print(dt)


@alerts_app.command("decide")
def alerts_decide(
    alert_id: Annotated[int, typer.Argument(help="The alert's number")],
    action: Annotated[str, typer.Argument(help="escalate, confirm, false_positive, close, reopen, reassign")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded with the decision; required)")],
    as_user: Annotated[str, typer.Option("--as", help="The user deciding (a user of the store: `qalqan users add`); acts in their stored role")],
    assignee: Annotated[str | None, typer.Option("--assignee", help="For reassign: who takes the alert")] = None,
    as_json: JsonOption = False,
) -> None:
    """Take a decision on an alert as a named user of the store, in that user's role."""
    from qalqan.service import alerts

    q = _service()
    try:
        result = q.decide(alert_id, actor=as_user, action=action, reason=reason, assignee=assignee)
    except alerts.AlertNotFound as exc:
        _fail(str(exc), code=EXIT_FAILED)
    except alerts.DecisionError as exc:
        _fail(str(exc))
    if as_json:
        _print_json(result)
        return
    out.print(f"alert {alert_id}: {result['status']}" + (f", assigned to {escape(result['assignee'])}" if result["assignee"] else ""))
