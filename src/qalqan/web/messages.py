"""The interface's message ids, for translators and for the catalogue test.

`extract()` reads every template with Jinja2's Babel extractor (`_()`, `gettext`, `ngettext`,
`{% trans %}`), and adds the ids the code passes through `_()` at run time (`DYNAMIC`: roles,
alert statuses, navigation labels, ...). `python -m qalqan.web.messages --missing ru` lists the
ids a language's catalogue lacks; `--po kk` writes a `.po` skeleton of them to standard output.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from jinja2.ext import babel_extract

from qalqan.service import roles
from qalqan.web import i18n

TEMPLATES = Path(__file__).parent / "templates"

#: Ids used through a variable (`_(value)`), grouped by what they name.
DYNAMIC: dict[str, tuple[str, ...]] = {
    "roles": tuple(roles.ROLES),
    "alert statuses": ("open", "escalated", "pending_approval", "confirmed", "false_positive", "closed", "closed_delisted"),
    "alert actions": ("escalate", "confirm", "false_positive", "close", "reopen", "reassign", "approve", "reject", "take"),
    "alert triggers": ("new-subject", "subject-changed", "list-added", "list-amended", "data-changed", "relisted", "traveller", "lost-document"),
    "age buckets": ("<1d", "1-7d", "7-30d", ">30d"),
    "job kinds": ("subjects.import", "list.import", "list.fetch", "batch-screen"),
    "warning priorities": ("flash", "priority", "routine"),
    "schemata": ("Person", "Organization", "LegalEntity", "Vessel"),
    "genders": ("male", "female", "other"),
    "fetch outcomes": ("imported", "unchanged", "not-modified", "failed"),
    "navigation": ("Dashboard", "Screen a name", "Alerts", "Subjects", "Lists", "Batch screening", "Travel", "Content", "Audit"),
    "error titles": ("Bad request", "Not allowed", "Not found", "Conflict", "Too large", "Cannot be done", "Too many attempts", "Error"),
    "error messages": ("forbidden", "the form's security token is missing or stale: reload the page and try again"),
}


def _from_template(path: Path) -> Iterable[str]:
    with path.open("rb") as fh:
        for _lineno, _func, message, _comments in babel_extract(fh, ("_", "gettext", "ngettext"), [], {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}):
            if isinstance(message, (tuple, list)):
                first = message[0]
                if first:
                    yield str(first)
            elif message:
                yield str(message)


def extract() -> set[str]:
    """Every message id the interface shows."""
    ids: set[str] = set()
    for path in sorted(TEMPLATES.rglob("*.html")):
        ids.update(_from_template(path))
    for group in DYNAMIC.values():
        ids.update(group)
    return ids


def missing(lang: str) -> list[str]:
    """The ids `lang`'s catalogues do not translate (English needs none)."""
    if lang == i18n.DEFAULT:
        return []
    have = i18n.message_ids()[lang]
    return sorted(extract() - have)


def _po_line(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--missing", metavar="LANG", help="list the ids LANG lacks")
    parser.add_argument("--po", metavar="LANG", help="write a .po skeleton of the ids LANG lacks")
    args = parser.parse_args(argv)
    if args.missing:
        for m in missing(args.missing):
            print(m)
        return 0
    if args.po:
        print(f'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: {args.po}\\n"\n')
        for m in missing(args.po):
            print(f"msgid {_po_line(m)}\nmsgstr \"\"\n")
        return 0
    for m in sorted(extract()):
        print(m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
