"""`qalqan content`: terrorist-content indicators (URLs, domains, addresses, file hashes, PDQ
perceptual hashes) — imported, listed, shared with partners, retracted — and URLs, files and
folders checked against them.

- `hash FILE...`: a file's MD5, SHA-1, SHA-256 and, for an image, its PDQ hash and quality
  (needs no store);
- `import FILE`: a CSV file (value,type,category...), a PDQ hash bank or a STIX bundle;
- `check URL|FILE|DIR...`: every matching indicator with the rule or distance that matched and
  its source; exit 1 when anything matched (for scripts), 2 on bad input;
- `list`, `share`, `retract`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from qalqan.cli.base import EXIT_BAD_INPUT, _fail, app, err
from qalqan.cli.exchange import DistOption, GroupOption, RecipientOption
from qalqan.cli.monitor import AsOption, JsonOption, _actor, _print_json, _service, out

content_app = typer.Typer(help="Terrorist-content indicators: URLs, domains, file hashes and PDQ image hashes.", no_args_is_help=True)
app.add_typer(content_app, name="content")

#: Exit code of `check` when something matched.
EXIT_MATCHED = 1


@content_app.command("hash")
def hash_files(
    files: Annotated[list[Path], typer.Argument(help="Files to hash", exists=True, dir_okay=False)],
    json: JsonOption = False,
) -> None:
    """Print each file's MD5, SHA-1, SHA-256 and, for an image, its PDQ hash with its quality (one
    per sampled frame of an animated image), or why it has none. Reads no store."""
    from qalqan.service.content import hash_file

    results = []
    for path in files:
        facts = hash_file(path.read_bytes())
        results.append({"file": str(path), **facts})
    if json:
        _print_json(results)
        return
    for r in results:
        out.print(f"[bold]{escape(r['file'])}[/] ({r['size']:,} bytes)", highlight=False)
        for kind in ("md5", "sha1", "sha256"):
            out.print(f"  {kind:<7}{r[kind]}", highlight=False)
        for i, p in enumerate(r["pdq"]):
            frame = (f" frame {i}" + (f" at {p['time']:.2f} s" if "time" in p else "")) if len(r["pdq"]) > 1 else ""
            out.print(f"  pdq    {p['hash']}  quality {p['quality']}{frame}", highlight=False)
        if r["unhashable"]:
            out.print(f"  pdq    [yellow]none[/]: {escape(r['unhashable'])}", highlight=False)


@content_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="CSV (value,type,category[,tlp,valid_from,valid_until,source,id]), a PDQ hash bank, or a STIX bundle", exists=True, dir_okay=False)],
    format: Annotated[str, typer.Option("--format", help="auto | csv | hashbank | stix")] = "auto",
    list_: Annotated[str, typer.Option("--list", help="The list the indicators belong to (default: the file's name)")] = "",
    category: Annotated[str, typer.Option("--category", help="Category of a hash bank's hashes (attacker-manifesto, livestream, violent-propaganda, recruitment, instruction, glorification, threat, other)")] = "",
    tlp: Annotated[str, typer.Option("--tlp", help="TLP of indicators whose file gives none: clear | green | amber | amber+strict | red")] = "amber",
    source: Annotated[str, typer.Option("--source", help="The organisation that contributed them")] = "",
    replace: Annotated[bool, typer.Option("--replace", help="Retract the list's indicators the file no longer has")] = False,
    share: Annotated[str | None, typer.Option("--share", help="Also share what was added or changed with partners, at this distribution (organisation | community | connected | all | sharing-group)")] = None,
    group: GroupOption = None,
    recipient: RecipientOption = None,
    as_user: AsOption = None,
    json: JsonOption = False,
) -> None:
    """Import indicators, all or nothing: a bad record stores nothing and is named (row, field)."""
    from qalqan.service import content

    q = _service()
    marking = {"distribution": share, "group": group, "recipients": recipient or []} if share else None
    try:
        summary = content.import_indicators(q, file.read_bytes(), actor=_actor(as_user), format=format, filename=file.name, source_list=list_,
                                            category=category, tlp=tlp, source_org=source, replace=replace, share=marking)
    except (content.ContentError, ValueError) as exc:
        _fail(f"{file}: {exc}")
    if json:
        _print_json(summary.as_dict())
        return
    out.print(f"{file.name}: read {summary.read} ({summary.format}) into list {escape(summary.source_list)!s}: {summary.added} added, {summary.updated} updated, "
              f"{summary.unchanged} unchanged, {summary.retracted} retracted; {len(summary.shared)} shared", highlight=False)
    for w in summary.warnings[:20]:
        err.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
    if len(summary.warnings) > 20:
        err.print(f"[yellow]... and {len(summary.warnings) - 20} more warnings[/]")


def _looks_like_url(text: str) -> bool:
    """A URL with a scheme, or a host name under a known public suffix (``example.org/a``)."""
    from qalqan.content import urls

    if "://" in text:
        return True
    try:
        host = urls.canonical_url(text).split("://", 1)[1].split("/", 1)[0].split(":")[0]
    except urls.UrlError:
        return False
    return bool(urls.registrable_domain(host)) or urls.is_ip(host)


def _targets(items: list[str]) -> list[tuple[str, Path | None]]:
    """(label, path) per thing to check: a URL (path None), a file, every file under a folder."""
    found: list[tuple[str, Path | None]] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found += [(str(p), p) for p in sorted(path.rglob("*")) if p.is_file()]
        elif path.is_file():
            found.append((item, path))
        elif _looks_like_url(item):
            found.append((item, None))
        else:
            _fail(f"{item}: no such file or folder, and not a URL")
    return found


@content_app.command("check")
def check(
    items: Annotated[list[str], typer.Argument(help="URLs, files or folders (every file under a folder)")],
    keep: Annotated[bool, typer.Option("--keep", help="Keep the checked files in the store (by default they are hashed and forgotten)")] = False,
    max_distance: Annotated[int | None, typer.Option("--max-distance", min=0, max=128, help="PDQ match distance in bits (default 31, or QALQAN_PDQ_DISTANCE)")] = None,
    as_user: AsOption = None,
    json: JsonOption = False,
) -> None:
    """Check URLs and files against every indicator held (our own and partners'): each match with
    the rule (url, url-prefix, domain, ip, cidr, md5, sha1, sha256, pdq), the PDQ distance and its
    source. Exit 1 when anything matched, 0 when nothing did."""
    from qalqan.service import content

    targets = _targets(items)
    q = _service()
    actor = _actor(as_user)
    results: list[dict[str, Any]] = []
    with Progress(console=err, transient=True, disable=len(targets) < 20) as progress:
        task = progress.add_task("checking", total=len(targets))
        for label, path in targets:
            try:
                if path is None:
                    r = content.check_url(q, label, actor=actor)
                else:
                    r = content.check_file(q, path.read_bytes(), actor=actor, filename=path.name, keep=keep, max_distance=max_distance)
            except content.ContentError as exc:
                _fail(f"{label}: {exc}")
            results.append({"checked": label, **r})
            progress.advance(task)
    matched = sum(1 for r in results if r["matches"])
    if json:
        _print_json(results)
    else:
        table = Table(title=f"{matched} of {len(results)} matched")
        for col in ("checked", "rule", "distance", "indicator", "category", "source", "tlp"):
            table.add_column(col)
        for r in results:
            for m in r["matches"]:
                ind = m["indicator"]
                source = " / ".join(p for p in (ind.get("shared_by") and f"shared by {ind['shared_by']}", ind["source_org"], ind["source_list"]) if p)
                where = f" (frame {m['frame']}" + (f", {m['time']:.1f} s)" if "time" in m else ")") if m.get("frame") is not None else ""
                table.add_row(escape(r["checked"]), m["rule"], ("" if m["distance"] is None else str(m["distance"])) + where, escape(ind["value"][:70]),
                              ind["category"], escape(source), ind["tlp"].upper())
            if r["input"].get("unhashable") and r["input"].get("kind") == "file":
                err.print(f"[dim]{escape(r['checked'])}: no PDQ hash ({escape(r['input']['unhashable'])}); checked by exact hashes only[/]", highlight=False)
        out.print(table)
    if matched:
        raise typer.Exit(EXIT_MATCHED)


@content_app.command("list")
def list_indicators(
    type: Annotated[str | None, typer.Option("--type", help="url | domain | ip | cidr | md5 | sha1 | sha256 | pdq")] = None,
    list_: Annotated[str | None, typer.Option("--list", help="Only this list")] = None,
    origin: Annotated[str | None, typer.Option("--origin", help="local, or a partner's org code")] = None,
    retracted: Annotated[bool, typer.Option("--retracted", help="Include retracted indicators")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 100,
    json: JsonOption = False,
) -> None:
    """The indicators held: our own and those partners shared."""
    from qalqan.service import content

    total, items = content.list_indicators(_service(), type=type, source_list=list_, origin=origin, include_retracted=retracted, limit=limit)
    if json:
        _print_json({"total": total, "items": items})
        return
    table = Table(title=f"{total} indicator(s)" + (f", first {len(items)}" if total > len(items) else ""))
    for col in ("id", "type", "value", "category", "tlp", "list", "from", "state"):
        table.add_column(col)
    for i in items:
        state = "retracted" if i["retracted"] else ("shared" if i["stix_id"] and not i["shared_by"] else "")
        table.add_row(i["id"], i["type"], escape(i["value"][:70]), i["category"], i["tlp"].upper(), escape(i["source_list"]), i["shared_by"] or "local", state)
    out.print(table)


@content_app.command("share")
def share(
    ids: Annotated[list[str] | None, typer.Argument(help="Indicator ids (or give --list)")] = None,
    list_: Annotated[str | None, typer.Option("--list", help="Share every active indicator of this list")] = None,
    distribution: DistOption = "connected",
    group: GroupOption = None,
    recipient: RecipientOption = None,
    as_user: AsOption = None,
) -> None:
    """Share our indicators with partners: STIX indicators under each one's own TLP and this
    distribution, read by partners at their next sync."""
    from qalqan.service import content

    try:
        published = content.share_indicators(_service(), actor=_actor(as_user), ids=ids or None, source_list=list_, distribution=distribution,
                                             group=group, recipients=recipient or [])
    except (content.ContentError, ValueError) as exc:
        _fail(str(exc))
    out.print(f"shared {len(published)} indicator(s)")


@content_app.command("retract")
def retract(
    indicator_id: Annotated[str, typer.Argument(help="content--<uuid>")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded, and sent to partners)")],
    as_user: AsOption = None,
) -> None:
    """Retract one of our indicators: it stops matching here at once, and on every partner at its
    next sync."""
    from qalqan.service import content

    try:
        r = content.retract_indicator(_service(), indicator_id, actor=_actor(as_user), reason=reason)
    except (content.ContentError, ValueError) as exc:
        _fail(str(exc))
    out.print(f"retracted {r['id']}" + (" (partners told)" if r["stix_id"] else ""))
