"""The `qalqan` command: screen files, serve the HTTP API, fetch and inspect lists."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from qalqan.cli.base import _fail, app, err, lists_app
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
#: Exit code of a `screen` run in which some rows could not be screened (each has an error line
#: in the output): a script must not take such a run for a clean one.
EXIT_ROWS_FAILED = 2
#: Where `serve` puts the key of the admin it creates in an empty store (in the data directory):
#: not on the terminal, whose output a service manager keeps in its logs.
ADMIN_KEY_FILE = "admin-bootstrap.key"
#: Where `serve` writes the bootstrap admin's first web interface password.
ADMIN_PASSWORD_FILE = "admin-bootstrap.password"


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
    failure: str | None = None  # why the download failed ("host: reason"), when one was tried

    @property
    def fetch_attempted(self) -> bool:
        """Whether a download was tried just now (a schedule then waits a full interval)."""
        return self.origin in ("fetched", "fallback", "demo")

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
    target = url or _un_url()
    try:
        (fetcher or _default_fetch)(target, local, timeout)
        if local.is_file():
            return ServeLists([f"un:{local}"], "fetched", [f"fetched the UN list from {target} to {local}"])
        failure = f"{_host(target)}: the download produced no file at {local}"
    except Exception as exc:  # no network, DNS, TLS, HTTP error, fetch module absent: fall back
        failure = f"{_host(target)}: {_reason(exc)}"
    fallback = env.get("QALQAN_UN_FALLBACK")
    if fallback and Path(fallback).is_file():
        # `prepare_store` says so in one line, with the copy's date once it has read it.
        return ServeLists([f"un:{fallback}"], "fallback", failure=failure)
    return ServeLists([f"csv:{demo_list_path()}"], "demo", [f"offline: could not fetch the UN list ({failure})"], failure=failure)


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


def _reason(exc: Exception) -> str:
    """The last, most specific part of a download error ("Name or service not known"), not the
    URL and exception chain a person has already been told or cannot act on."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return re.sub(r"^\[Errno -?\d+\]\s*", "", text.rsplit(": ", 1)[-1])


def _offline_note(failure: str | None, spec: str, published: str | None) -> str:
    """The one line `serve` prints when it falls back to a local copy of the UN list."""
    when = f"of {published[:10]} " if published else ""
    return f"offline: using the UN list {when}from {spec.split(':', 1)[-1]}" + (f" ({failure})" if failure else "")


def _read_list(spec: str) -> Any:
    """One list by spec, through the registry (format sniffed, or forced by FORMAT:PATH)."""
    from qalqan.sources.registry import read_list

    return read_list(spec)


def _load(specs: list[str], threshold: float | None = None) -> Any:
    """Read every list (reporting problems on stderr) and build one Screener over them; a
    Screener built before for the same list content and code comes from the index cache
    (`service.index_cache`; QALQAN_CACHE_DIR, default ~/.cache/qalqan; QALQAN_NO_CACHE=1 skips it)."""
    from qalqan.service.index_cache import load_screener

    use_cache = os.environ.get("QALQAN_NO_CACHE", "") in ("", "0")
    with err.status("reading the lists ...") as status:
        loaded = load_screener(specs, threshold, use_cache=use_cache, on_read=lambda spec: status.update(f"reading {spec} and building the index ..."), read=lambda spec: _read_list(spec))
    if loaded.note:
        err.print(f"[dim]{escape(loaded.note)}[/]", highlight=False, soft_wrap=True)
    for item in loaded.lists:
        err.print(
            f"[green]loaded[/] {escape(item.name)} ({item.format}) {item.entities:,} entities"
            + (f", published {item.published}" if item.published else "")
            + (f", [yellow]{item.warnings} warnings, {item.skipped} records skipped[/]" if item.issues else "")
            + (" [dim](cached index)[/]" if loaded.cached else ""),
            highlight=False,
        )
    return loaded.screener


@app.command()
def screen(
    input: Annotated[Path, typer.Argument(help="CSV, XLSX (first sheet) or JSON lines with columns id,schema,name,birth_date,nationality,gender,document_number", exists=True, dir_okay=False, readable=True)],
    list_: Annotated[list[str], typer.Option("--list", "-l", help="A list file; its format is detected from content, FORMAT:PATH forces one (un, ofac, canada, ftm, csv). Repeat for several.")],
    threshold: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Score at which a candidate is a match (default: calibrated)")] = None,
    top: Annotated[int, typer.Option(min=1, max=100, help="Most candidates reported per record")] = 5,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output file (default: standard output); a .csv or .xlsx name sets --format", dir_okay=False)] = None,
    format_: Annotated[Literal["csv", "xlsx", "jsonl"] | None, typer.Option("--format", "-f", help="jsonl: one line per record; csv / xlsx: one row per (record, match), explanation in columns (default: from the -o extension, else jsonl)")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (--engine ray without --address: CPUs of the local Ray)")] = 2,
    chunk: Annotated[int, typer.Option(min=1, help="Rows per worker task")] = 500,
    cutoff: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Lowest score reported (default: the threshold, so only matches)")] = None,
    progress: Annotated[bool | None, typer.Option("--progress/--no-progress", help="Progress bar on stderr (default: when stderr is a terminal)")] = None,
    engine: Annotated[Literal["local", "ray"], typer.Option("--engine", help="local: worker processes on this machine; ray: tasks on a Ray cluster (needs Ray: the package's ray extra)")] = "local",
    address: Annotated[str | None, typer.Option("--address", help="With --engine ray: the Ray cluster to join (e.g. auto, ray://head:10001); default: start a local Ray")] = None,
) -> None:
    """Screen every record of INPUT; write the results in input order (JSON lines, CSV or XLSX)."""
    from qalqan.batch import output_format, screen_file
    from qalqan.distributed import RayUnavailable

    specs = list_
    if address is not None and engine != "ray":
        _fail("--address is for --engine ray")
    try:
        fmt = output_format(format_, output)
        if fmt == "xlsx" and output is None:
            _fail("XLSX output needs a file: add -o FILE.xlsx")
        runner = _ray_engine(address, workers) if engine == "ray" else None  # RayUnavailable if no Ray
        # screen_file checks the input's columns before it calls the factory that reads the lists.
        out: Any = output if output is not None else sys.stdout.buffer
        stats = screen_file(
            lambda: _load(specs, threshold), input, out, threshold=threshold, top=top, workers=workers, chunk=chunk, cutoff=cutoff, progress=progress,
            on_warning=_warn, fmt=fmt, engine=runner,
        )
    except ListError as exc:
        _fail(str(exc))
    except RayUnavailable as exc:  # --engine ray: Ray not installed, or no cluster to join
        _fail(str(exc), code=1)
    except BrokenPipeError:  # e.g. `qalqan screen ... | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(1) from None
    err.print(
        f"screened {stats.rows:,} records in {stats.seconds:.1f}s ({stats.rows_per_second:,.0f}/s): "
        f"{stats.alerted:,} with a match, {stats.errors:,} could not be screened",
        highlight=False,
    )
    if stats.errors:
        _fail(f"{stats.errors:,} of {stats.rows:,} rows could not be screened (see their \"error\" lines in the output)", EXIT_ROWS_FAILED)


def _ray_engine(address: str | None, workers: int) -> Any:
    """The Ray engine (checked to be installed before any list is read): joining `address`, or
    a local Ray with `workers` CPUs."""
    from qalqan.distributed import RayEngine, require_ray

    require_ray()
    return RayEngine(address=address, num_cpus=None if address else workers)


def _warn(message: str) -> None:
    err.print(f"[bold yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


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
    admin_key: str | None = None  # kept in memory for tests; written only to `admin_key_file`
    admin_key_file: Path | None = None
    admin_password: str | None = None  # kept in memory for tests; written only to `admin_password_file`
    admin_password_file: Path | None = None
    demo: bool = False
    fetch_attempted: bool = False  # the UN list was downloaded (or tried) just now
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
    url: str | None = None,
) -> Startup:
    """Bring the store to a servable state: lists named on the command line are imported (a new
    version only if their content changed); with none named and no UN version live, the UN list
    is found as `resolve_serve_lists` says (env, data dir, download) — and failing all, the demo
    list is imported, loudly; `population` (a screening-input file with ids) is imported when the
    store watches nobody yet; an admin key is created when the store has no user, and written to
    `$QALQAN_DATA/admin-bootstrap.key` (see `write_admin_key`); and when the admin has no web
    password, one is made and written to `$QALQAN_DATA/admin-bootstrap.password` the same way."""
    from qalqan.service import subjects, users

    done = Startup()
    explicit = list(lists or []) + ([f"un:{file}"] if file is not None else [])
    live = service.live_versions()
    chosen: ServeLists | None = None
    if explicit:
        specs = explicit
    elif "un" in live:
        specs = []
    else:
        chosen = resolve_serve_lists(env=env, fetcher=fetcher, timeout=timeout, url=url)
        done.notes.extend(chosen.notes)
        done.fetch_attempted = chosen.fetch_attempted
        specs = [] if (chosen.demo and live) else chosen.specs
    for spec in specs:
        result = service.import_list(spec, actor=SERVE_ACTOR)
        if chosen is not None and chosen.origin == "fallback":
            done.notes.append(_offline_note(chosen.failure, spec, result.published))
        done.imported.append(
            f"{result.list_name}: version {result.number} "
            + ("imported" if result.created else "unchanged (same content as the live version)")
        )
    done.caught_up = service.catch_up(actor=SERVE_ACTOR)
    done.demo = "demo" in service.live_versions()
    if population is not None and subjects.list_subjects(service, offset=0, limit=1).total == 0:
        done.population = subjects.import_subjects_file(service, population, actor=SERVE_ACTOR, purpose="demo population at first start")
    done.admin_key = users.ensure_admin(service)
    if done.admin_key:
        try:
            done.admin_key_file = write_admin_key(done.admin_key, env)
        except OSError as exc:  # the key is lost, not the store: another can be made locally
            done.notes.append(f"could not write the admin key to {data_dir(env) / ADMIN_KEY_FILE} ({exc.strerror or exc}); make one with `qalqan keys create {users.BOOTSTRAP_ADMIN}`")
    done.admin_password = users.ensure_admin_password(service)
    if done.admin_password:
        try:
            done.admin_password_file = write_private_file(ADMIN_PASSWORD_FILE, done.admin_password, env)
        except OSError as exc:  # the password is lost, not the store: another can be set locally
            done.notes.append(
                f"could not write the admin password to {data_dir(env) / ADMIN_PASSWORD_FILE} ({exc.strerror or exc}); set one with `qalqan users passwd {users.BOOTSTRAP_ADMIN}`"
            )
    return done


def write_admin_key(key: str, env: Mapping[str, str] | None = None) -> Path:
    """Write the bootstrap admin key to `$QALQAN_DATA/admin-bootstrap.key`, readable by its owner
    only (see `write_private_file`)."""
    return write_private_file(ADMIN_KEY_FILE, key, env)


def write_private_file(name: str, secret: str, env: Mapping[str, str] | None = None) -> Path:
    """Write `secret` (a line of ASCII) to `$QALQAN_DATA/<name>`, readable by its owner only.
    It goes to a new file (created with O_EXCL, mode 0600, by mkstemp) that is then renamed
    into place: nothing planted at the name (a symlink) is followed, and a stale copy left by
    an earlier, deleted store (its secret opens nothing) is replaced."""
    import tempfile

    from qalqan.store.db import private_dir

    folder = private_dir(data_dir(env))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secret + "\n")
        target = folder / name
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    list_: Annotated[list[str] | None, typer.Option("--list", "-l", help="A list to import and serve (PATH or FORMAT:PATH); repeat for several")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="A UN Consolidated List XML file to import")] = None,
    threshold: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Default match threshold (default: calibrated)")] = None,
    demo_population: Annotated[bool, typer.Option("--demo-population/--no-demo-population", help="Watch the bundled demo population (256 people and organisations) when the store watches nobody yet")] = False,
    public_docs: Annotated[bool, typer.Option("--public-docs", help="Serve the interactive API docs (/docs, with Swagger UI from the package, and /openapi.json) without a key, for development; by default /openapi.json needs a key of any role")] = False,
    fetch_every: Annotated[str | None, typer.Option("--fetch-every", "--every", help="Re-fetch the UN list on this schedule (e.g. 1h, 30m); each new version is re-screened against the watched population")] = None,
    travel_inbox: Annotated[Path | None, typer.Option("--travel-inbox", help="Take in the API/PNR messages carriers drop into this directory (as `qalqan travel watch`)", file_okay=False)] = None,
    un_url: Annotated[str | None, typer.Option("--un-url", hidden=True, help="Download the UN list from here (tests: a local server, or a closed port for no network)")] = None,
) -> None:
    """Serve the monitoring service and the screening API over the store.

    The store is QALQAN_DATABASE_URL (PostgreSQL) or $QALQAN_DATA/qalqan.db (SQLite, default
    ./data). Lists: --list / --file are imported; otherwise the live UN version is served, and with
    none yet, the UN list from $QALQAN_UN_XML, $QALQAN_DATA/un/consolidated.xml, or a download;
    failing all, the bundled demo list, loudly."""
    from qalqan.api import create_app
    from qalqan.service.core import Qalqan

    try:
        service = Qalqan.open(threshold=threshold)
        with err.status("preparing the store ..."):
            startup = prepare_store(service, list_, file, population=demo_population_path() if demo_population else None, url=un_url)
    except ListError as exc:
        _fail(str(exc))
    for note in startup.notes:
        err.print(f"[dim]{escape(note)}[/]", highlight=False, soft_wrap=True)
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
        from qalqan.service.fetch import parse_interval

        names = [n for n in service.live_versions() if n == "un"] or ["un"]
        every = parse_interval(fetch_every)
        # A download tried at start-up counts as the schedule's first: one that just failed is
        # not repeated (and reported again) at once, one that just worked is not redone.
        service.scheduler(dict.fromkeys(names, un_url), every, actor=SERVE_ACTOR, start_after=every if startup.fetch_attempted else 0.0).start()
        err.print(f"[dim]fetching {', '.join(names)} every {fetch_every}[/]", highlight=False)
    from qalqan.service.travel import TravelWorker

    # The passenger-data rules run while the service does: at start and every few hours.
    TravelWorker(service, inbox=travel_inbox, actor=SERVE_ACTOR).start()
    if travel_inbox is not None:
        err.print(f"[dim]taking in travel messages from {escape(str(travel_inbox))}[/]", highlight=False)
    base = f"http://{host}:{port}"
    app_ = create_app(service, banner=DEMO_BANNER if startup.demo else None, public_docs=public_docs)
    _run_server(app_, host, port, lambda: _ready(service, screener, startup, base, public_docs))


def _ready(service: Any, screener: Any, startup: Startup, base: str, public_docs: bool) -> None:
    """What `serve` prints once the server accepts connections: the box, where the admin key
    is, and a first request to try."""
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
    if startup.admin_key_file is not None:
        # The key itself is never printed: standard error of a service ends up in its logs.
        err.print(
            f"[bold yellow]Admin API key written to {escape(str(startup.admin_key_file))}[/] (readable by you only): read it, store it, delete the file",
            highlight=False, soft_wrap=True,
        )
    if startup.admin_password_file is not None:
        # Like the key, the password itself is never printed.
        err.print(
            f"Web interface: {base}/ — log in as {_admin_name()} with the password in {escape(str(startup.admin_password_file))} "
            f"(readable by you only; change it with: qalqan users passwd {_admin_name()})",
            highlight=False, soft_wrap=True,
        )
    else:
        err.print(f"Web interface: {base}/", highlight=False, soft_wrap=True)
    err.print("Try it (with an API key in $KEY):", highlight=False)
    err.print(f"curl -s -H \"Authorization: Bearer $KEY\" '{base}/alerts?status=open'", markup=False, highlight=False, soft_wrap=True, crop=False)


def _admin_name() -> str:
    """The bootstrap admin's name."""
    from qalqan.service.users import BOOTSTRAP_ADMIN

    return BOOTSTRAP_ADMIN


def _run_server(app_: Any, host: str, port: int, on_ready: Callable[[], None]) -> None:
    """Serve `app_` with uvicorn until stopped, calling `on_ready` once it accepts connections
    (after uvicorn's start-up has bound the socket), so "ready" is never printed too early."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started and not self.should_exit:
                on_ready()

    Server(uvicorn.Config(app_, host=host, port=port)).run()


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
from qalqan.cli import exchange as _exchange  # noqa: E402,F401  partners, share, retract, sync, warnings
from qalqan.cli import travel as _travel  # noqa: E402,F401  travel check
from qalqan.cli import content as _content  # noqa: E402,F401  content hash / import / check

def main() -> None:  # pragma: no cover - `python -m qalqan.cli`
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
