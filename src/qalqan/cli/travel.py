"""`qalqan travel`: API (PAXLST) and PNR (PNRGOV) messages, screened traveller by traveller.

- `check FILE...`: read and screen, store nothing (against the store's live lists, or `--list`).
- `ingest FILE...` / `watch DIR`: take messages into the store (kept as received, or quarantined
  with the segment and position at fault); every hit is an alert in the queue.
- `documents FILE`: import the lost and stolen travel documents list (CSV).
- `messages`, `hold`, `retention`: the stored messages, case holds, and the passenger-data rules
  (depersonalise, delete) run now — `serve` or cron runs `retention` daily.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from qalqan.cli.base import EXIT_BAD_INPUT, app, err
from qalqan.cli.monitor import AsOption, JsonOption, _actor, _print_json, _service, out

travel_app = typer.Typer(help="Travellers in API (PAXLST) and PNR (PNRGOV) messages, screened.", no_args_is_help=True)
app.add_typer(travel_app, name="travel")


def _screener(list_: list[str] | None) -> Any:
    if list_:
        from qalqan.matching.screener import Screener
        from qalqan.sources.registry import read_list

        entities = [e for spec in list_ for e in read_list(spec).entities]
        return Screener(entities)
    from qalqan.service.core import Qalqan

    return Qalqan.open().screener


@travel_app.command("check")
def check(
    files: Annotated[list[Path], typer.Argument(help="EDIFACT files (PAXLST or PNRGOV), as carriers send them", exists=True, dir_okay=False)],
    list_: Annotated[list[str] | None, typer.Option("--list", "-l", help="Screen against this list file (FORMAT:PATH) instead of the store's live lists; repeat for several")] = None,
    threshold: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Match threshold (default: calibrated)")] = None,
) -> None:
    """Screen every traveller (passengers and crew) of each message: a table of the hits with their
    flight, best first per traveller. Stores nothing. Exit 2 if a file does not read (the others
    are still screened)."""
    from qalqan.model import ListError
    from qalqan.travel.model import MessageError
    from qalqan.travel.screening import read_message, screen_message

    try:
        screener = _screener(list_)
    except ListError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    table = Table(title="Travellers matching a listed party")
    for col in ("file", "flight", "departure", "traveller", "born", "listed", "reference", "score"):
        table.add_column(col)
    bad, travellers, hits = 0, 0, 0
    for path in files:
        try:
            messages = read_message(path.read_bytes())
        except MessageError as exc:
            bad += 1
            err.print(f"[bold red]refused[/] {escape(str(path))}: {escape(str(exc))}", highlight=False, soft_wrap=True)
            continue
        for message in messages:
            travellers += len(message.travellers)
            for hit in screen_message(screener, message, threshold=threshold):
                hits += 1
                t, m = hit.traveller, hit.matches[0]
                leg = hit.legs[0] if hit.legs else None
                flight = f"{leg.carrier}{leg.number} {leg.origin}-{leg.destination}" if leg else ""
                table.add_row(path.name, flight, hit.first_departure or "", f"{t.surname}, {t.given_names}", t.birth_date or "",
                              m.entity.caption, m.entity.reference or m.entity.id, f"{m.score:.2f}")
    if hits:
        out.print(table)
    err.print(f"{travellers:,} travellers screened in {len(files) - bad} message file(s): {hits} with a match; every hit goes to a named official for review", highlight=False)
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


def _report(name: str, result: Any) -> None:
    if result.duplicate:
        err.print(f"[yellow]already received[/] {escape(name)} (message {result.message_id}, {result.status})", highlight=False)
    elif result.status == "quarantined":
        err.print(f"[bold red]quarantined[/] {escape(name)} (message {result.message_id}): {escape(result.error or '')}", highlight=False, soft_wrap=True)
    else:
        err.print(f"stored {escape(name)} (message {result.message_id}): {result.travellers:,} travellers screened, {len(result.alerts)} alert(s)", highlight=False)


@travel_app.command("ingest")
def ingest(
    files: Annotated[list[Path], typer.Argument(help="EDIFACT files (PAXLST or PNRGOV), as carriers send them", exists=True, dir_okay=False)],
    workers: Annotated[int, typer.Option(min=1, max=64, help="Processes reading and screening (storing is in order, in this one)")] = 1,
    as_user: AsOption = None,
    json: JsonOption = False,
) -> None:
    """Take messages into the store: each kept as received (its SHA-256 recorded) and every
    traveller screened, hits raised as alerts in the queue; a message that does not read is
    quarantined with the segment and position at fault (exit 2), the others still taken in."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from qalqan.service import travel

    service = _service()
    actor = _actor(as_user)
    items = [(path.read_bytes(), f"cli:{path.name}") for path in files]
    with Progress(TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True,
                  disable=len(files) < 2 or json) as bar:
        task = bar.add_task("ingest", total=len(items))
        try:
            done = travel.ingest_many(service, items, actor=actor, workers=workers, progress=lambda n: bar.update(task, completed=n))
        except travel.TravelError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
    results = [{"file": str(path), **result.as_dict()} for path, result in zip(files, done, strict=True)]
    if json:
        _print_json(results)
    else:
        for path, result in zip(files, done, strict=True):
            _report(path.name, result)
    if any(r["status"] == "quarantined" and not r["duplicate"] for r in results):
        raise typer.Exit(EXIT_BAD_INPUT)


@travel_app.command("watch")
def watch(
    directory: Annotated[Path, typer.Argument(help="The inbox carriers' gateways drop messages into", exists=True, file_okay=False)],
    interval: Annotated[float, typer.Option(min=0.5, help="Seconds between passes")] = 5.0,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit")] = False,
    settle: Annotated[float, typer.Option(min=0.0, help="Take a file only once it has not changed for this many seconds")] = 2.0,
    as_user: AsOption = None,
) -> None:
    """Watch an inbox: every file that appears is taken in (as `ingest`) and then deleted from the
    inbox (the store keeps the message as received, for its retention period)."""
    from qalqan.service import travel

    service = _service()
    actor = _actor(as_user)
    while True:
        for name, result in travel.ingest_inbox(service, directory, actor=actor, settle_seconds=settle):
            _report(name, result)
        if once:
            return
        time.sleep(interval)


@travel_app.command("documents")
def documents(
    file: Annotated[Path, typer.Argument(help="CSV: number, issuing country, type, reported date (header names as these)", exists=True, dir_okay=False)],
    as_user: AsOption = None,
) -> None:
    """Import the lost and stolen travel documents list as the new version of "travel-documents";
    a file that does not read leaves the previous version live (exit 2)."""
    from qalqan.service import travel

    try:
        result = travel.import_documents(_service(), file.read_bytes(), actor=_actor(as_user), source=str(file))
    except (travel.lostdocs.DocumentListError, UnicodeDecodeError) as exc:
        err.print(f"[bold red]refused[/] {escape(str(file))}: {escape(str(exc))}; the previous version stays live", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    for warning in result["warnings"]:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    err.print(f"{result['documents']:,} lost or stolen documents live as version {result['version']} of {result['list']}", highlight=False)


@travel_app.command("messages")
def messages(
    status: Annotated[str | None, typer.Option(help="stored or quarantined")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    json: JsonOption = False,
) -> None:
    """The messages received, newest first: flights and counts (no personal data)."""
    from qalqan.service import travel

    page = travel.list_messages(_service(), status=status, limit=limit)
    if json:
        _print_json(page.as_dict())
        return
    table = Table(title=f"Travel messages ({page.total:,})")
    for col in ("id", "received", "kind", "status", "flights", "travellers", "hits", "masked", "hold / error"):
        table.add_column(col)
    for m in page.items:
        legs = [leg for f in m["flights"] for leg in f["legs"]]
        flights = ", ".join(sorted({f"{leg['carrier']}{leg['number']}" for leg in legs}))
        table.add_row(str(m["id"]), m["received_at"] or "", m["kind"] or "", m["status"], escape(flights), str(m["travellers"]), str(m["hits"]),
                      "yes" if m["depersonalised_at"] else "", escape(m["hold"] or m["error"] or ""))
    out.print(table)


@travel_app.command("hold")
def hold(
    message_id: Annotated[int, typer.Argument(help="The message's id")],
    case: Annotated[str | None, typer.Option(help="The case that holds it past its deletion date")] = None,
    release: Annotated[bool, typer.Option("--release", help="Release the hold")] = False,
    as_user: AsOption = None,
) -> None:
    """Hold a message for a case (it is not deleted at the end of its retention period), or
    release it."""
    from qalqan.service import travel

    if bool(case) == release:
        err.print("[bold red]error:[/] give --case CASE or --release", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        travel.set_hold(_service(), message_id, actor=_actor(as_user), case=None if release else case)
    except travel.TravelNotFound as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    err.print(f"message {message_id} {'released' if release else 'held for ' + escape(case or '')}", highlight=False)


@travel_app.command("retention")
def retention(as_user: AsOption = None, json: JsonOption = False) -> None:
    """Apply the passenger-data rules now: depersonalise the messages past
    QALQAN_TRAVEL_DEPERSONALISE_MONTHS (6), delete those past QALQAN_TRAVEL_DELETE_MONTHS (60)
    unless a case holds them or a hit on them was confirmed."""
    from qalqan.service import travel

    result = travel.apply_retention(_service(), actor=_actor(as_user))
    if json:
        _print_json(result)
        return
    err.print(", ".join(f"{k.replace('_', ' ')}: {v:,}" for k, v in result.items()), highlight=False)
