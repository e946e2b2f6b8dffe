"""`qalqan travel check`: API (PAXLST) and PNR (PNRGOV) messages screened traveller by traveller.

Against the store's live lists (as `serve` has them), or a list file given with `--list`. Reads
and screens; stores nothing (the stored intake, alerts and retention rules are not built yet).
A message that does not read is reported with the segment and position at fault.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from qalqan.cli.base import EXIT_BAD_INPUT, app, err
from qalqan.cli.monitor import out

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
    flight, best first per traveller. Exit 2 if a file does not read (the others are still screened)."""
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
