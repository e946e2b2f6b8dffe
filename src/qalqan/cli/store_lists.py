"""`qalqan lists import / versions / diff`: versioned lists in the store (`service.lists`).

`qalqan lists fetch` (in `qalqan.cli`) uses the progress display and actor defined here.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from qalqan.cli.base import _fail, err, lists_app
from qalqan.model import ListError

#: Diff lines shown in the table unless --limit says otherwise (the rest are counted); --json
#: prints every line.
DIFF_SHOW = 200
#: Characters of an old or new field value shown in the diff table (full values: --json).
VALUE_SHOW = 80
#: Exit code for a store that cannot be opened or written (bad input keeps EXIT_BAD_INPUT).
EXIT_STORE = 1
#: Exit code of an import the guard held as pending: nothing failed, but nothing went live either.
EXIT_HELD = 3


def default_actor() -> str:
    """The audit actor for command-line use: "cli:" and the login name."""
    try:
        user = os.environ.get("USER") or getpass.getuser()
    except Exception:  # no login name in a bare container
        user = "unknown"
    return f"cli:{user}"


ActorOption = Annotated[str | None, typer.Option("--actor", help="Who is acting, for the audit log (default: cli:$USER)")]


@contextmanager
def stage_progress(console: Console = err) -> Iterator[Any]:
    """A progress callback for `service.lists` (stage, done, total): a Rich bar per stage on a
    terminal, else one plain line per stage and per written chunk (for logs and for tests that
    wait for "writing entities")."""
    if console.is_terminal:
        bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total or None)
            bars.update(tasks[stage], completed=done, total=total or None)

        with bars:
            yield update
    else:

        def line(stage: str, done: int, total: int) -> None:
            if stage in ("downloading", "reading", "comparing", "committing"):
                if not done:  # one line when the stage starts
                    console.print(f"{stage} ...", highlight=False)
                return
            console.print(f"{stage} {done:,}/{total:,}", highlight=False)

        yield line


def _open_service() -> Any:
    from qalqan.service.core import Qalqan

    try:
        return Qalqan.open()
    except Exception as exc:  # unreachable database, bad URL, unwritable data dir
        _fail(f"cannot open the store: {type(exc).__name__}: {exc}", code=EXIT_STORE)


def _open_db() -> Any:
    from qalqan.store.db import open_database

    try:
        return open_database()
    except Exception as exc:
        _fail(f"cannot open the store: {type(exc).__name__}: {exc}", code=EXIT_STORE)


def change_summary(changes: dict[str, dict[str, int]]) -> str:
    """"+130 −4 ~17 (added Organization 80, Person 50; removed Person 4; amended Person 17)"."""
    totals = {c: sum((changes.get(c) or {}).values()) for c in ("added", "removed", "amended")}
    head = f"+{totals['added']:,} −{totals['removed']:,} ~{totals['amended']:,}"
    parts = [f"{c} " + ", ".join(f"{k} {v:,}" for k, v in sorted(changes[c].items())) for c in ("added", "removed", "amended") if changes.get(c)]
    return head + (f" ({'; '.join(parts)})" if parts else "")


def print_import(result: Any, out: Console) -> None:
    if result.created and result.status == "pending":
        out.print(
            f"[bold yellow]{escape(result.list_name)} version {result.number} is held, not live[/]: {change_summary(result.changes)}",
            highlight=False,
            soft_wrap=True,
        )
        for hold in result.held:
            out.print(f"  held: {escape(hold['detail'])}", highlight=False, soft_wrap=True)
        out.print(
            f"  review it with `qalqan lists diff {escape(result.list_name)} --version {result.number}`, then "
            f"`qalqan lists confirm {escape(result.list_name)} {result.number} --reason ...` (or `lists reject`)",
            highlight=False,
            soft_wrap=True,
        )
    elif result.created:
        if result.forced:
            out.print(f"[bold yellow]forced live[/] despite: {escape('; '.join(h['detail'] for h in result.held))}", highlight=False, soft_wrap=True)
        out.print(f"{escape(result.list_name)} version {result.number} is live: {sum(result.counts.values()):,} entities, {change_summary(result.changes)}", highlight=False, soft_wrap=True)
    else:
        out.print(f"{escape(result.list_name)} unchanged: same content as live version {result.number}; no new version", highlight=False, soft_wrap=True)
    rescreen = result.rescreen
    if rescreen is not None:
        shown = rescreen.as_dict() if hasattr(rescreen, "as_dict") else rescreen
        out.print(f"re-screened the watched population: {escape(orjson.dumps(shown, default=str).decode())}", highlight=False, soft_wrap=True)


@lists_app.command("import")
def lists_import(
    file: Annotated[str, typer.Argument(help="The list file: PATH, or FORMAT:PATH to force a format (un, ofac, canada, ftm, csv)")],
    name: Annotated[str | None, typer.Option("--name", help="List name (default: un / ofac / ca, or the file's stem)")] = None,
    actor: ActorOption = None,
    force: Annotated[bool, typer.Option("--force", help="Make the version live even if the import guard holds it (needs --reason)")] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why a held version is forced live")] = "",
) -> None:
    """Import a list file into the store as its new live version (atomically), with the diff
    against the version before, and re-screen the watched population against what changed.

    A version that removes more than 10% of the live entities (QALQAN_MAX_REMOVED_SHARE), is
    older than the live one, or changes the list's format is held as pending (exit code 3) until
    `qalqan lists confirm`; --force --reason makes it live at once."""
    if force and not reason.strip():
        _fail("--force needs --reason")
    q = _open_service()
    try:
        with stage_progress() as progress:
            result = q.import_list(file, actor=actor or default_actor(), name=name, progress=progress, force=force, reason=reason)
    except ListError as exc:
        _fail(str(exc))
    print_import(result, Console())
    if result.status == "pending":
        raise typer.Exit(EXIT_HELD)


def _decide_version(name: str, number: int, reason: str, actor: str | None, confirm: bool) -> None:
    from qalqan.service import lists
    from qalqan.service.versions import NotFound

    if not reason.strip():
        _fail("--reason is required")
    q = _open_service()
    who = actor or default_actor()
    try:
        if confirm:
            print_import(q.confirm_version(name, number, actor=who, reason=reason), Console())
        else:
            lists.reject_version(q, name, number, actor=who, reason=reason)
            Console().print(f"{escape(name)} version {number} rejected: it will not go live", highlight=False)
    except (NotFound, lists.VersionStateError) as exc:
        _fail(str(exc))


@lists_app.command("confirm")
def lists_confirm(
    name: Annotated[str, typer.Argument(help="List name, e.g. un")],
    number: Annotated[int, typer.Argument(help="The held version's number (see `qalqan lists versions`)")],
    reason: Annotated[str, typer.Option("--reason", help="Why it may go live (audited)")] = "",
    actor: ActorOption = None,
) -> None:
    """Confirm a version the import guard held: it goes live and the population is re-screened."""
    _decide_version(name, number, reason, actor, True)


@lists_app.command("reject")
def lists_reject(
    name: Annotated[str, typer.Argument(help="List name, e.g. un")],
    number: Annotated[int, typer.Argument(help="The held version's number")],
    reason: Annotated[str, typer.Option("--reason", help="Why it must not go live (audited)")] = "",
    actor: ActorOption = None,
) -> None:
    """Reject a version the import guard held: it stays stored with its diff and never goes live."""
    _decide_version(name, number, reason, actor, False)


@lists_app.command("versions")
def lists_versions(
    name: Annotated[str, typer.Argument(help="List name, e.g. un")],
    json_: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
) -> None:
    """Every stored version of a list, newest first."""
    from qalqan.service.versions import NotFound, versions

    db = _open_db()
    try:
        rows = versions(db, name)
    except NotFound as exc:
        _fail(str(exc))
    out = Console()
    if json_:
        out.print_json(orjson.dumps(rows).decode())
        return
    table = Table(title=f"Versions of {escape(name)}")
    for col in ("#", "live", "status", "published", "imported", "entities", "changes", "sha256", "source", "by"):
        table.add_column(col)
    for v in rows:
        table.add_row(
            str(v["number"]), "yes" if v["live"] else "", escape(v["status"]), escape(v["published"] or "-"), escape(v["fetched_at"] or "-"), f"{v['total']:,}",
            change_summary(v["changes"]).split(" (")[0], v["sha256"][:12], escape(v["source"]), escape(v["imported_by"]),
        )
    out.print(table)


def _short(value: Any) -> str:
    text = "-" if value is None else value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= VALUE_SHOW else text[: VALUE_SHOW - 1] + "…"


@lists_app.command("diff")
def lists_diff(
    name: Annotated[str, typer.Argument(help="List name, e.g. un")],
    version: Annotated[int | None, typer.Option("--version", min=1, help="Version number (default: the live one); diffed against the version before it")] = None,
    json_: Annotated[bool, typer.Option("--json", help="The whole diff as JSON (every line, full field values)")] = False,
    change: Annotated[str | None, typer.Option("--change", help="Only added, removed or amended")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help=f"Lines shown (default: {DIFF_SHOW} in the table, all with --json)")] = None,
) -> None:
    """What a version added, removed and amended, with the changed fields: counts per schema
    first, then one line per entity."""
    from qalqan.service.versions import DIFF_PAGE_MAX, NotFound, get_diff

    if change is not None and change not in ("added", "removed", "amended"):
        _fail(f"--change must be added, removed or amended, not {change!r}")
    db = _open_db()
    want = limit if limit is not None else (None if json_ else DIFF_SHOW)
    lines: list[dict[str, Any]] = []
    try:
        while True:  # page through the stored diff
            size = DIFF_PAGE_MAX if want is None else min(DIFF_PAGE_MAX, want - len(lines))
            diff = get_diff(db, name, version, offset=len(lines), limit=size, change=change)
            lines.extend(diff["lines"])
            if not diff["lines"] or len(lines) >= diff["total"] or (want is not None and len(lines) >= want):
                break
    except NotFound as exc:
        _fail(str(exc))
    diff["lines"], diff["offset"], diff["limit"] = lines, 0, len(lines)
    out = Console()
    if json_:
        out.print_json(orjson.dumps(diff).decode())
        return
    v, prev = diff["version"], diff["previous"]
    out.print(
        f"[bold]{escape(name)}[/] version {v['number']} (published {escape(v['published'] or '-')})"
        + (f" against version {prev['number']} (published {escape(prev['published'] or '-')})" if prev else " (first version)"),
        highlight=False,
    )
    counts = Table(title="Changes per schema")
    for col in ("change", "schema", "entities"):
        counts.add_column(col)
    for kind in ("added", "removed", "amended"):
        per = diff["changes"].get(kind) or {}
        for schema, n in sorted(per.items()):
            counts.add_row(kind, schema, f"{n:,}")
        counts.add_row(kind, "[bold]total[/]", f"[bold]{sum(per.values()):,}[/]")
    out.print(counts)
    table = Table(title="Entities")
    for col in ("change", "key", "schema", "caption", "fields"):
        table.add_column(col, overflow="fold")
    for line in lines:
        fields = "\n".join(f"{f['field']}: {_short(f['old'])} → {_short(f['new'])}" for f in line["fields"])
        table.add_row(line["change"], escape(line["key"]), line["schema"], escape(line["caption"]), escape(fields))
    out.print(table)
    if len(lines) < diff["total"]:
        out.print(f"... {diff['total'] - len(lines):,} more lines: use --limit or --json", highlight=False)


#: The shortest `--every`: a publisher's server is not to be polled more than once a minute.
MIN_EVERY_SECONDS = 60.0


def _store_exists() -> bool:
    from qalqan.store.db import SQLITE_FILE, data_dir

    return bool(os.environ.get("QALQAN_DATABASE_URL")) or (data_dir() / SQLITE_FILE).exists()


def print_fetch(name: str, result: Any, out: Console) -> None:
    if result.status == "not-modified":
        out.print(f"{escape(name)}: not modified since the last fetch ({escape(result.url)}); nothing downloaded", highlight=False)
    else:
        print_import(result.import_result, out)


def fetch_into_store(source: str, *, url: str | None, timeout: float, every: str | None, actor: str | None) -> None:
    """`qalqan lists fetch NAME` into the store (once, or every interval until Ctrl-C)."""
    import threading

    from qalqan.service.fetch import default_url, parse_interval, run_schedule

    seconds = None
    if every is not None:
        try:
            seconds = parse_interval(every)
        except ValueError as exc:
            _fail(str(exc))
        if seconds < MIN_EVERY_SECONDS:
            _fail(f"--every must be at least {MIN_EVERY_SECONDS:.0f}s")
    # Checked before opening the store, so a mistyped name does not create an empty store.
    if url is None and default_url(source) is None and not _store_exists():
        _fail(f"unknown list {source!r}: give --url (known without one: un)")
    q = _open_service()
    who = actor or default_actor()
    out = Console()
    if seconds is None:
        try:
            with stage_progress() as progress:
                result = q.fetch_list(source, url, actor=who, timeout=timeout, progress=progress)
        except ListError as exc:
            _fail(str(exc))
        print_fetch(source, result, out)
        return

    def report(name: str, outcome: Any) -> None:
        if isinstance(outcome, Exception):
            err.print(f"[bold red]fetch of {escape(name)} failed:[/] {escape(str(outcome))}", highlight=False, soft_wrap=True)
        else:
            print_fetch(name, outcome, out)

    stop = threading.Event()
    err.print(f"fetching {escape(source)} every {every}; Ctrl-C stops", highlight=False)
    try:
        run_schedule(lambda name, u: q.fetch_list(name, u, actor=who, timeout=timeout), {source: url}, seconds, stop, report)
    except KeyboardInterrupt:
        stop.set()
        err.print("stopped", highlight=False)
