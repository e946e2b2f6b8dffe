"""What every command module shares: the Typer apps, the error console and the failure exit.

The command modules (`qalqan.cli`'s own screen/serve, `admin`, `monitor`, `store_lists`) import
this; `qalqan.cli` imports them, so nothing imports in a circle.
"""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

#: Exit code for unusable input (a list or an input file): what Click uses for usage errors.
EXIT_BAD_INPUT = 2

app = typer.Typer(help="Qalqan: sanctions screening with explained cross-script matches.", no_args_is_help=True, add_completion=False)
lists_app = typer.Typer(help="Fetch and inspect sanctions lists.", no_args_is_help=True)
app.add_typer(lists_app, name="lists")

#: Messages to standard error are never hard-wrapped: a line of a log or a test stays whole,
#: however long the path it names.
err = Console(stderr=True, soft_wrap=True)


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
