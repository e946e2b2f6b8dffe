"""`qalqan partners`, `share`, `retract`, `sync`, `warnings`: exchange with partner agencies.

This node's organisation is QALQAN_ORG (its name QALQAN_ORG_NAME); the store is opened as
`serve` opens it. Every act is audited under `--as NAME` (default "cli:<login name>").
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from qalqan.cli.base import _fail, app, err
from qalqan.cli.monitor import EXIT_FAILED, AsOption, JsonOption, _actor, _print_json, _service, out

partners_app = typer.Typer(help="Partner agencies: add, list, remove; sharing groups.", no_args_is_help=True)
share_app = typer.Typer(help="Share a subject of interest, an early warning or a document with partners.", no_args_is_help=True)
warnings_app = typer.Typer(help="Early warnings: list, acknowledge, escalations.", no_args_is_help=True)
app.add_typer(partners_app, name="partners")
app.add_typer(share_app, name="share")
app.add_typer(warnings_app, name="warnings")

TlpOption = Annotated[str, typer.Option("--tlp", help="clear | green | amber | amber+strict | red")]
DistOption = Annotated[str, typer.Option("--distribution", help="organisation | community | connected | all | sharing-group")]
GroupOption = Annotated[str | None, typer.Option("--group", help="Sharing group (with --distribution sharing-group)")]
RecipientOption = Annotated[list[str] | None, typer.Option("--recipient", help="Named recipient organisation (repeat; required for TLP:RED)")]


def _errors() -> tuple[type[BaseException], ...]:
    from qalqan.exchange import policy, stix
    from qalqan.service import exchange

    return (exchange.ExchangeError, stix.StixError, policy.PolicyError, ValueError)


def _marking(q: Any, tlp: str, distribution: str, group: str | None, recipients: list[str] | None) -> Any:
    from qalqan.service import exchange

    return exchange.make_marking(q, distribution=distribution, tlp=tlp, group=group, recipients=recipients or [])


@partners_app.command("add")
def partners_add(
    org: Annotated[str, typer.Argument(help="The partner's organisation code, e.g. kg-border")],
    name: Annotated[str, typer.Option("--name", help="Its full name")],
    url: Annotated[str | None, typer.Option("--url", help="Its TAXII 2.1 server (discovery or API root URL), pulled by `qalqan sync`")] = None,
    collection: Annotated[str | None, typer.Option("--collection", help="Collection id to pull (default: the first readable one)")] = None,
    credential: Annotated[str | None, typer.Option("--credential", help="What we send when pulling: USER:KEY (Basic), a bearer token, or env:VARIABLE")] = None,
    community: Annotated[bool, typer.Option("--community/--no-community", help="A member of this node's community")] = False,
    connected: Annotated[bool, typer.Option("--connected/--not-connected", help="A connected partner node")] = True,
    relay: Annotated[bool, typer.Option("--relay", help="A hub that may serve objects made by other organisations")] = False,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add (or update) a partner; prints the TAXII key its client uses to read from us, once."""
    from qalqan.service import exchange

    q = _service()
    try:
        result = exchange.add_partner(q, org, name, actor=_actor(as_user), url=url, collection=collection, credential=credential, community=community, connected=connected, relay=relay)
    except _errors() as exc:
        _fail(str(exc))
    if as_json:
        _print_json(result)
        return
    out.print(f"partner {result['org']} ({result['name']}) added; it reads from us as user {result['user']}")
    if result.get("key"):
        out.print(f"its TAXII key (shown once): {result['key']}")


@partners_app.command("list")
def partners_list(as_json: JsonOption = False, all_: Annotated[bool, typer.Option("--all", help="Removed partners too")] = False) -> None:
    """Partners, with where their last pull stands."""
    from qalqan.service import exchange

    rows = exchange.list_partners(_service(), include_removed=all_)
    if as_json:
        _print_json(rows)
        return
    table = Table("org", "name", "url", "community", "connected", "relay", "last pull", "error")
    for p in rows:
        sync = p.get("sync") or {}
        table.add_row(p["org"], p["name"], p["url"] or "", str(p["community"]), str(p["connected"]), str(p["relay"]), sync.get("last_ok") or "", (sync.get("last_error") or "")[:60])
    out.print(table)


@partners_app.command("remove")
def partners_remove(org: Annotated[str, typer.Argument()], as_user: AsOption = None) -> None:
    """Remove a partner: its keys are revoked, it is no longer pulled."""
    from qalqan.service import exchange

    try:
        exchange.remove_partner(_service(), org, actor=_actor(as_user))
    except _errors() as exc:
        _fail(str(exc))
    out.print(f"partner {org} removed")


@partners_app.command("group")
def partners_group(
    name: Annotated[str, typer.Argument(help="The sharing group's name")],
    members: Annotated[list[str], typer.Argument(help="Member organisation codes")],
    as_user: AsOption = None,
) -> None:
    """Create or replace a sharing group (this node is always a member)."""
    from qalqan.service import exchange

    try:
        result = exchange.set_group(_service(), name, members, actor=_actor(as_user))
    except _errors() as exc:
        _fail(str(exc))
    out.print(f"sharing group {result['name']}: {', '.join(result['members'])}")


@share_app.command("subject")
def share_subject(
    name: Annotated[list[str], typer.Option("--name", help="A name (repeat for names in other scripts)")],
    alias: Annotated[list[str] | None, typer.Option("--alias", help="An alias (repeat)")] = None,
    birth_date: Annotated[list[str] | None, typer.Option("--birth-date", help="YYYY, YYYY-MM or YYYY-MM-DD (repeat)")] = None,
    nationality: Annotated[list[str] | None, typer.Option("--nationality", help="Country code (repeat)")] = None,
    passport: Annotated[list[str] | None, typer.Option("--passport", help="Passport number (repeat)")] = None,
    gender: Annotated[str | None, typer.Option("--gender")] = None,
    status: Annotated[str, typer.Option("--status", help="suspected | travelling | returned | relocated | detained | deceased")] = "suspected",
    location: Annotated[str | None, typer.Option("--location", help="Last known location")] = None,
    tlp: TlpOption = "amber",
    distribution: DistOption = "connected",
    group: GroupOption = None,
    recipient: RecipientOption = None,
    as_user: AsOption = None,
) -> None:
    """Share a subject of interest (a foreign terrorist fighter, returnee, relocator, facilitator)."""
    from qalqan.service import exchange

    props: dict[str, list[str]] = {"name": name}
    for key, values in (("alias", alias), ("birthDate", birth_date), ("nationality", nationality), ("passportNumber", passport)):
        if values:
            props[key] = values
    if gender:
        props["gender"] = [gender]
    q = _service()
    try:
        entity = exchange.entity_from_ftm(q, {"schema": "Person", "properties": props})
        sid = exchange.share_subject(q, entity, _marking(q, tlp, distribution, group, recipient), actor=_actor(as_user), status=status, last_location=location)
    except _errors() as exc:
        _fail(str(exc))
    out.print(sid)


@share_app.command("warning")
def share_warning(
    title: Annotated[str, typer.Option("--title")],
    valid_until: Annotated[str, typer.Option("--valid-until", help="ISO 8601 time")],
    description: Annotated[str, typer.Option("--description")] = "",
    priority: Annotated[str, typer.Option("--priority", help="flash | priority | routine")] = "routine",
    sector: Annotated[list[str] | None, typer.Option("--sector", help="energy | transport | water | finance | health | telecommunications | government (repeat)")] = None,
    domain: Annotated[str, typer.Option("--domain", help="physical | cyber")] = "physical",
    ack_by: Annotated[str | None, typer.Option("--ack-by", help="Acknowledgement required by this ISO 8601 time")] = None,
    indicator: Annotated[list[str] | None, typer.Option("--indicator", help="KIND:VALUE, e.g. ipv4:203.0.113.5, domain:example.org, sha256:... (repeat)")] = None,
    tlp: TlpOption = "amber",
    distribution: DistOption = "connected",
    group: GroupOption = None,
    recipient: RecipientOption = None,
    as_user: AsOption = None,
) -> None:
    """Issue an early warning (possible attack plans, including on critical infrastructure)."""
    from qalqan.service import exchange

    inds = []
    for item in indicator or []:
        kind, sep, value = item.partition(":")
        if not sep:
            _fail(f"indicator {item!r} is not KIND:VALUE")
        inds.append((kind.strip().lower(), value.strip()))
    q = _service()
    try:
        fields = exchange.warning_fields(title=title, description=description, priority=priority, valid_until=valid_until, sectors=sector or [],
                                         domain=domain, ack_required=ack_by is not None, ack_deadline=ack_by)
        sid = exchange.share_warning(q, _marking(q, tlp, distribution, group, recipient), actor=_actor(as_user), indicators=inds, **fields)
    except _errors() as exc:
        _fail(str(exc))
    out.print(sid)


@share_app.command("document")
def share_document(
    file: Annotated[Path, typer.Argument(help="A PDF or Markdown file")],
    title: Annotated[str, typer.Option("--title")],
    description: Annotated[str, typer.Option("--description")] = "",
    tlp: TlpOption = "green",
    distribution: DistOption = "connected",
    group: GroupOption = None,
    recipient: RecipientOption = None,
    as_user: AsOption = None,
) -> None:
    """Share a best-practice document (critical-infrastructure protection guidance)."""
    from qalqan.service import exchange

    if not file.is_file():
        _fail(f"{file}: no such file")
    media = {".pdf": "application/pdf", ".md": "text/markdown", ".markdown": "text/markdown"}.get(file.suffix.lower())
    if media is None:
        _fail(f"{file}: only PDF (.pdf) and Markdown (.md) documents are shared")
    q = _service()
    try:
        sid = exchange.share_document(q, _marking(q, tlp, distribution, group, recipient), actor=_actor(as_user), title=title, description=description,
                                      filename=file.name, media_type=media, content=file.read_bytes())
    except _errors() as exc:
        _fail(str(exc))
    out.print(sid)


@app.command("retract")
def retract(
    object_id: Annotated[str, typer.Argument(help="The STIX id of an object this node shared")],
    reason: Annotated[str, typer.Option("--reason")],
    as_user: AsOption = None,
) -> None:
    """Retract an object this node shared: every recipient removes it within one sync cycle."""
    from qalqan.service import exchange

    try:
        version = exchange.retract(_service(), object_id, actor=_actor(as_user), reason=reason)
    except _errors() as exc:
        _fail(str(exc))
    out.print(f"{object_id} retracted (version {version})")


@app.command("sync")
def sync(
    partner: Annotated[list[str] | None, typer.Option("--partner", help="Only this partner (repeat)")] = None,
    every: Annotated[str | None, typer.Option("--every", help="Keep pulling at this interval, e.g. 5m, 1h")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="Take in a STIX bundle or MISP event file from --partner instead of pulling")] = None,
    as_user: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pull from partners' TAXII servers, resuming where the last pull stopped."""
    from qalqan.service import exchange
    from qalqan.service.fetch import parse_interval

    q = _service()
    actor = _actor(as_user)
    if file is not None:
        if not partner or len(partner) != 1:
            _fail("--file needs exactly one --partner (who sent the file)")
        try:
            objects = exchange.parse_wire(file.read_bytes())
            summary = q.ingest(partner[0], objects, actor=actor)
        except _errors() as exc:
            _fail(f"{file}: {exc}")
        _print_json(summary.as_dict()) if as_json else out.print(f"{summary.stored} objects stored, {summary.duplicates} already held, {summary.tombstoned} retracted before")
        return
    interval = parse_interval(every) if every else None
    while True:
        try:
            result = q.sync(partner or None, actor=actor)
        except _errors() as exc:
            _fail(str(exc))
        if as_json:
            print(orjson.dumps(result).decode(), flush=True)
        else:
            for org, r in result.items():
                if org.startswith("_"):
                    continue
                if r["ok"]:
                    out.print(f"{org}: {r['objects']} objects in {r['pages']} pages")
                else:
                    err.print(f"{org}: failed: {r['error']}")
        if interval is None:
            if any(not r["ok"] for org, r in result.items() if not org.startswith("_")):
                raise typer.Exit(EXIT_FAILED)
            return
        time.sleep(interval)


@warnings_app.command("list")
def warnings_list(as_json: JsonOption = False) -> None:
    """Warnings received and issued; for ours, who has and has not acknowledged."""
    from qalqan.service import exchange

    rows = exchange.warnings(_service())
    if as_json:
        _print_json(rows)
        return
    table = Table("id", "from", "priority", "title", "valid until", "ack by", "acknowledged")
    for w in rows:
        acked = ("yes" if w.get("acknowledged") else "no") if "acknowledged" in w else f"{len(w['acknowledged_by'])}/{len(w.get('recipients', []))}"
        table.add_row(w["id"], w["originator"], str(w.get("priority", "")), str(w.get("title", "")), str(w.get("valid_until", "")), str(w.get("ack_deadline") or ""), acked)
    out.print(table)


@warnings_app.command("ack")
def warnings_ack(object_id: Annotated[str, typer.Argument()], as_user: AsOption = None) -> None:
    """Acknowledge a received warning (a note goes to its originator)."""
    from qalqan.service import exchange

    try:
        note = exchange.ack_warning(_service(), object_id, actor=_actor(as_user))
    except _errors() as exc:
        _fail(str(exc))
    out.print(f"acknowledged ({note})" if note else "already acknowledged")


@warnings_app.command("escalations")
def warnings_escalations(as_json: JsonOption = False) -> None:
    """Our warnings a recipient did not acknowledge by the deadline."""
    from qalqan.service import exchange

    rows = exchange.escalate(_service())
    if as_json:
        _print_json(rows)
        return
    table = Table("warning", "organisation", "deadline", "escalated", "acknowledged late")
    for r in rows:
        table.add_row(r["warning"], r["org"], r["deadline"] or "", r["escalated_at"] or "", str(r["acknowledged_late"]))
    out.print(table)
