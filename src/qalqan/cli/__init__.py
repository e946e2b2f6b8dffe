"""The `qalqan` command: screen files, serve the HTTP API, fetch and inspect lists."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from qalqan.model import ListError

#: How long `serve` waits for the UN server before falling back: `make run` must start promptly
#: where there is no network, and the real list downloads in seconds where there is.
SERVE_FETCH_TIMEOUT = 10.0
#: `lists fetch` is asked for explicitly, so it may wait for a slow server.
FETCH_TIMEOUT = 120.0
UN_FILE = Path("un") / "consolidated.xml"
DEMO_BANNER = "DEMO LIST OF FICTIONAL NAMES — NOT FOR SCREENING"
#: Issues printed by `lists show` per list; the rest are counted.
SHOW_ISSUES = 20
#: Exit code for unusable input (a list or an input file): what Click uses for usage errors.
EXIT_BAD_INPUT = 2

app = typer.Typer(help="Qalqan: sanctions screening with explained cross-script matches.", no_args_is_help=True, add_completion=False)
lists_app = typer.Typer(help="Fetch and inspect sanctions lists.", no_args_is_help=True)
app.add_typer(lists_app, name="lists")

err = Console(stderr=True)


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def demo_list_path() -> Path:
    return Path(str(files("qalqan") / "data" / "demo.csv"))


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """The data directory: the store's own definition (QALQAN_DATA, default ./data)."""
    from qalqan.store.db import data_dir as store_data_dir

    return store_data_dir(env)


def _un_url() -> str:
    from qalqan.sources.fetch import UN_URL

    return UN_URL


def _default_fetch(url: str, dest: Path, timeout: float) -> Any:
    from qalqan.sources.fetch import fetch

    return fetch(url, dest, timeout)


Fetcher = Callable[[str, Path, float], Any]


@dataclass(slots=True)
class ServeLists:
    """Which lists `serve` loads, and why."""

    specs: list[str]
    origin: str  # "explicit", "env", "data-dir", "fetched", "fallback", "demo"
    notes: list[str] = field(default_factory=list)

    @property
    def demo(self) -> bool:
        return self.origin == "demo"


def resolve_serve_lists(
    lists: list[str] | None = None,
    file: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    url: str | None = None,
    fetcher: Fetcher | None = None,
    timeout: float = SERVE_FETCH_TIMEOUT,
) -> ServeLists:
    """The lists to serve, first that applies: explicit --list / --file; env QALQAN_UN_XML; a
    previously fetched UN file in the data dir; a fresh download of the UN list; a local copy
    named by QALQAN_UN_FALLBACK (`make run` points it at the newest UN file in ../shared/data,
    for machines without a network); the bundled demo list. A file named explicitly (flag or env) that does not exist is an error, not a fallback:
    the operator asked for that list and must not silently get another."""
    env = os.environ if env is None else env
    specs = list(lists or [])
    if file is not None:
        specs.append(f"un:{file}")
    if specs:
        return ServeLists(specs, "explicit")
    env_file = env.get("QALQAN_UN_XML")
    if env_file:
        if not Path(env_file).is_file():
            raise ListError(env_file, "QALQAN_UN_XML names a file that does not exist")
        return ServeLists([f"un:{env_file}"], "env")
    local = data_dir(env) / UN_FILE
    if local.is_file():
        return ServeLists([f"un:{local}"], "data-dir", [f"using the UN list fetched earlier: {local}"])
    notes = []
    try:
        target = url or _un_url()
        (fetcher or _default_fetch)(target, local, timeout)
        if local.is_file():
            return ServeLists([f"un:{local}"], "fetched", [f"fetched the UN list from {target} to {local}"])
        notes.append(f"fetching {target} produced no file at {local}")
    except Exception as exc:  # no network, DNS, TLS, HTTP error, fetch module absent: fall back
        notes.append(f"could not fetch the UN list: {type(exc).__name__}: {exc}")
    fallback = env.get("QALQAN_UN_FALLBACK")
    if fallback and Path(fallback).is_file():
        notes.append(f"using the local copy of the UN list named by QALQAN_UN_FALLBACK: {fallback}")
        return ServeLists([f"un:{fallback}"], "fallback", notes)
    return ServeLists([f"csv:{demo_list_path()}"], "demo", notes)


def _read_list(spec: str) -> Any:
    """One list by spec, through the registry (format sniffed, or forced by FORMAT:PATH)."""
    from qalqan.sources.registry import read_list

    return read_list(spec)


def _load(specs: list[str], threshold: float | None = None) -> Any:
    """Read every list (reporting problems on stderr) and build one Screener over them."""
    from qalqan.matching.screener import Screener

    loaded = []
    for spec in specs:
        with err.status(f"reading {spec} ..."):
            item = _read_list(spec)
        rep = item.report
        err.print(
            f"[green]loaded[/] {escape(item.info.name)} ({item.info.format}) {len(item.entities):,} entities"
            + (f", published {item.info.published}" if item.info.published else "")
            + (f", [yellow]{len(rep.warnings)} warnings, {rep.records_skipped} records skipped[/]" if rep.issues else ""),
            highlight=False,
        )
        loaded.append(item)
    with err.status("building the index ..."):
        return Screener([e for item in loaded for e in item.entities], [item.info for item in loaded], threshold)


@app.command()
def screen(
    input: Annotated[Path, typer.Argument(help="CSV or JSON lines with columns id,schema,name,birth_date,nationality,gender,document_number", exists=True, dir_okay=False, readable=True)],
    list_: Annotated[list[str], typer.Option("--list", "-l", help="A list file; its format is detected from content, FORMAT:PATH forces one (un, ofac, canada, ftm, csv). Repeat for several.")],
    threshold: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Score at which a candidate is a match (default: calibrated)")] = None,
    top: Annotated[int, typer.Option(min=1, max=100, help="Most candidates reported per record")] = 5,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output JSON lines (default: standard output)", dir_okay=False)] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 2,
    chunk: Annotated[int, typer.Option(min=1, help="Rows per worker task")] = 500,
    cutoff: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Lowest score reported (default: the threshold, so only matches)")] = None,
    progress: Annotated[bool | None, typer.Option("--progress/--no-progress", help="Progress bar on stderr (default: when stderr is a terminal)")] = None,
) -> None:
    """Screen every record of INPUT; write one JSON line per record, in input order."""
    from qalqan.batch import screen_file

    specs = list_
    try:
        # screen_file checks the input's columns before it calls the factory that reads the lists.
        out: Any = output if output is not None else sys.stdout.buffer
        stats = screen_file(lambda: _load(specs, threshold), input, out, threshold=threshold, top=top, workers=workers, chunk=chunk, cutoff=cutoff, progress=progress)
    except ListError as exc:
        _fail(str(exc))
    except BrokenPipeError:  # e.g. `qalqan screen ... | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(1) from None
    err.print(
        f"screened {stats.rows:,} records in {stats.seconds:.1f}s ({stats.rows_per_second:,.0f}/s): "
        f"{stats.alerted:,} with a match, {stats.errors:,} could not be screened",
        highlight=False,
    )


def demo_population_path() -> Path:
    return Path(str(files("qalqan") / "data" / "demo_population.csv"))


#: The actor recorded for what `serve` does on its own at start-up.
SERVE_ACTOR = "system:serve"


@dataclass(slots=True)
class Startup:
    """What `serve` did to the store before listening (printed, and kept for tests)."""

    imported: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    population: Any = None
    admin_key: str | None = None
    demo: bool = False
    caught_up: list[Any] = field(default_factory=list)  # re-screens an earlier run left unfinished


def prepare_store(
    service: Any,
    lists: list[str] | None = None,
    file: Path | None = None,
    *,
    population: Path | None = None,
    env: Mapping[str, str] | None = None,
    fetcher: Fetcher | None = None,
    timeout: float = SERVE_FETCH_TIMEOUT,
) -> Startup:
    """Bring the store to a servable state: lists named on the command line are imported (a new
    version only if their content changed); with none named and no UN version live, the UN list
    is found as `resolve_serve_lists` says (env, data dir, download) — and failing all, the demo
    list is imported, loudly; `population` (a screening-input file with ids) is imported when the
    store watches nobody yet; an admin key is created when the store has no user."""
    from qalqan.service import auth, monitor

    done = Startup()
    explicit = list(lists or []) + ([f"un:{file}"] if file is not None else [])
    live = service.live_versions()
    if explicit:
        specs = explicit
    elif "un" in live:
        specs = []
    else:
        chosen = resolve_serve_lists(env=env, fetcher=fetcher, timeout=timeout)
        done.notes.extend(chosen.notes)
        specs = [] if (chosen.demo and live) else chosen.specs
    for spec in specs:
        result = service.import_list(spec, actor=SERVE_ACTOR)
        done.imported.append(
            f"{result.list_name}: version {result.number} "
            + ("imported" if result.created else "unchanged (same content as the live version)")
        )
    done.caught_up = service.catch_up(actor=SERVE_ACTOR)
    done.demo = "demo" in service.live_versions()
    if population is not None and monitor.list_subjects(service, offset=0, limit=1).total == 0:
        done.population = monitor.import_subjects_file(service, population, actor=SERVE_ACTOR, purpose="demo population at first start")
    done.admin_key = auth.ensure_admin(service)
    return done


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    list_: Annotated[list[str] | None, typer.Option("--list", "-l", help="A list to import and serve (PATH or FORMAT:PATH); repeat for several")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="A UN Consolidated List XML file to import")] = None,
    threshold: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Default match threshold (default: calibrated)")] = None,
    demo_population: Annotated[bool, typer.Option("--demo-population/--no-demo-population", help="Watch the bundled demo population (256 people and organisations) when the store watches nobody yet")] = False,
    public_docs: Annotated[bool, typer.Option("--public-docs", help="Serve the interactive API docs (/docs, /redoc, /openapi.json) without a key, for development; by default /openapi.json needs a key of any role")] = False,
    fetch_every: Annotated[str | None, typer.Option("--fetch-every", "--every", help="Re-fetch the UN list on this schedule (e.g. 1h, 30m); each new version is re-screened against the watched population")] = None,
) -> None:
    """Serve the monitoring service and the screening API over the store.

    The store is QALQAN_DATABASE_URL (PostgreSQL) or $QALQAN_DATA/qalqan.db (SQLite, default
    ./data). Lists: --list / --file are imported; otherwise the live UN version is served, and with
    none yet, the UN list from $QALQAN_UN_XML, $QALQAN_DATA/un/consolidated.xml, or a download;
    failing all, the bundled demo list, loudly."""
    import threading

    import uvicorn

    from qalqan.api import create_app
    from qalqan.service.core import Qalqan

    try:
        service = Qalqan.open(threshold=threshold)
        with err.status("preparing the store ..."):
            startup = prepare_store(service, list_, file, population=demo_population_path() if demo_population else None)
    except ListError as exc:
        _fail(str(exc))
    for note in startup.notes:
        err.print(f"[dim]{escape(note)}[/]", highlight=False)
    for line in startup.imported:
        err.print(f"[green]list[/] {escape(line)}", highlight=False)
    for summary in startup.caught_up:
        err.print(f"[yellow]finished an interrupted re-screen[/] of {escape(summary.list_name)} version id {summary.version_id}: {summary.alerts_new} new alerts", highlight=False)
    if startup.population is not None:
        pop = startup.population
        err.print(f"[green]demo population[/] {pop.added:,} subjects watched and screened: {pop.alerts_new:,} open alerts", highlight=False)
    if startup.demo:
        _demo_panel()
    with err.status("building the index ..."):
        screener = service.screener
    if fetch_every:
        from qalqan.service.lists import parse_interval, run_schedule

        stop = threading.Event()
        names = [n for n in service.live_versions() if n == "un"] or ["un"]
        threading.Thread(target=run_schedule, args=(service, names, parse_interval(fetch_every), stop), daemon=True, name="list-schedule").start()
        err.print(f"[dim]fetching {', '.join(names)} every {fetch_every}[/]", highlight=False)
    base = f"http://{host}:{port}"
    err.print(
        Panel.fit(
            f"Qalqan is serving {len(screener):,} entities from {escape(', '.join(i.name for i in screener.lists))} at [bold]{base}[/]\n"
            f"Store: {escape(service.db.engine.url.render_as_string(hide_password=True))}\n"
            + (f"API docs: {base}/docs" if public_docs else f"API description: {base}/openapi.json (with a key; --public-docs serves {base}/docs)"),
            title="ready" if not startup.demo else "[bold red]ready — DEMO LIST[/]",
            border_style="red" if startup.demo else "green",
        ),
        highlight=False,
    )
    if startup.admin_key:
        # Shown once: only its hash is stored. Outside the panel so it is never wrapped or cropped.
        err.print("[bold yellow]Admin API key (shown once, store it now):[/]", highlight=False)
        err.print(startup.admin_key, markup=False, highlight=False, soft_wrap=True, crop=False)
    err.print("Try it (with an API key in $KEY):", highlight=False)
    err.print(f"curl -s -H \"Authorization: Bearer $KEY\" '{base}/alerts?status=open'", markup=False, highlight=False, soft_wrap=True, crop=False)
    uvicorn.run(create_app(service, banner=DEMO_BANNER if startup.demo else None, public_docs=public_docs), host=host, port=port)


def _demo_panel() -> None:
    err.print(
        Panel(
            f"[bold]{DEMO_BANNER}[/]\n\nNo UN list was given or could be fetched. Results are meaningless for real screening.\n"
            "Run `qalqan lists fetch un`, or pass --file / set QALQAN_UN_XML to a UN Consolidated List XML.",
            style="bold white on red",
            border_style="red",
        )
    )


@lists_app.command("fetch")
def lists_fetch(
    source: Annotated[str, typer.Argument(help="Which list: un, a list already in the store, or any name with --url")],
    url: Annotated[str | None, typer.Option(help="Download from this URL instead of the stored or official one")] = None,
    every: Annotated[str | None, typer.Option("--every", help="Fetch again at this interval (e.g. 30m, 1h, 1d) until Ctrl-C")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Who is acting, for the audit log (default: cli:$USER)")] = None,
    timeout: Annotated[float, typer.Option(min=1.0, help="Network timeout in seconds")] = FETCH_TIMEOUT,
    dest: Annotated[Path | None, typer.Option(help="Only download the UN list into this directory and check that it reads (a file for `serve --file`); the store is not touched", file_okay=False)] = None,
) -> None:
    """Fetch a list into the store as a new live version and re-screen the watched population.

    Sends the stored ETag / Last-Modified, so a list the server reports unchanged is not
    downloaded again; a download with the live version's content creates no version."""
    if dest is None:
        from qalqan.cli.store_lists import fetch_into_store

        fetch_into_store(source, url=url, timeout=timeout, every=every, actor=actor)
        return
    if source.lower() != "un":
        _fail(f"unknown list {source!r}; available: un")
    target = (dest if dest is not None else data_dir() / UN_FILE.parent) / UN_FILE.name
    # Downloaded beside the target and checked before it replaces it: a list that does not read
    # as a whole never overwrites the last good one.
    incoming = target.with_name(f".{target.name}.new")
    src = url or _un_url()
    try:
        with err.status(f"downloading {src} ..."):
            _default_fetch(src, incoming, timeout)
        item = _read_list(f"un:{incoming}")
        os.replace(incoming, target)
    except ListError as exc:
        incoming.unlink(missing_ok=True)
        _fail(str(exc))
    except Exception as exc:  # network and file-system failures: say what and where
        incoming.unlink(missing_ok=True)
        _fail(f"could not fetch {src}: {type(exc).__name__}: {exc}", code=1)
    err.print(f"[green]saved[/] {escape(str(target))}: {len(item.entities):,} entities, published {item.info.published or 'unknown'}", highlight=False)


@lists_app.command("show")
def lists_show(
    list_: Annotated[list[str], typer.Option("--list", "-l", help="A list file (PATH or FORMAT:PATH); repeat for several")],
) -> None:
    """Read lists and show their counts, publication dates and warnings."""
    out = Console()
    table = Table(title="Lists")
    for col in ("name", "format", "published", "entities", "per schema", "warnings", "skipped", "sha256"):
        table.add_column(col)
    issues = []
    for spec in list_:
        try:
            item = _read_list(spec)
        except ListError as exc:
            _fail(str(exc))
        info = item.info
        counts = ", ".join(f"{k} {v:,}" for k, v in sorted(info.counts.items()))
        table.add_row(
            escape(info.name), info.format, escape(info.published or "-"), f"{len(item.entities):,}", counts,
            str(len(item.report.warnings)), str(item.report.records_skipped), (info.sha256 or "-")[:16],
        )
        issues.append((info.name, item.report.issues))
    out.print(table)
    for name, found in issues:
        for issue in found[:SHOW_ISSUES]:
            out.print(escape(f"{name}: {issue}"), highlight=False, soft_wrap=True)
        if len(found) > SHOW_ISSUES:
            out.print(f"{escape(name)}: ... and {len(found) - SHOW_ISSUES} more", highlight=False)




# Command groups defined in their own modules register themselves on `app` when imported.
from qalqan.cli import admin as _admin  # noqa: E402,F401  users, keys, audit
from qalqan.cli import monitor as _monitor  # noqa: E402,F401  subjects, alerts
from qalqan.cli import store_lists as _store_lists  # noqa: E402,F401  lists import / versions / diff

def main() -> None:  # pragma: no cover - `python -m qalqan.cli`
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
