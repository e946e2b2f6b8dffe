"""Exchange with partner agencies: partners, sharing groups, publishing, the TAXII egress, and
taking in what partners serve (docs/exchange.md).

Everything that leaves this node leaves through `serve`, which asks the one default-deny egress
filter (`exchange.policy.decide`) about every object for the partner that asks. Everything that
arrives comes through `ingest`: each object is parsed (`exchange.stix.parse_object`), checked
against its sender (a partner may not publish in another organisation's name unless it is a
relay), against tombstones (a retracted object never comes back) and stored once per version.

Subjects a partner shares form that partner's list (`partner-<org>`), versioned like the UN
list: `partner_list` builds it, and the composition (`service.core.Qalqan`) imports it and
re-screens the watched population, exactly as for any list version.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from qalqan.exchange import policy, stix
from qalqan.exchange import taxii as tx
from qalqan.model import ListInfo
from qalqan.monitoring.alerts import PARTNER_LIST_PREFIX
from qalqan.service import users
from qalqan.service.common import iso, utc
from qalqan.service.context import SYSTEM, Context
from qalqan.sources.registry import LoadedList
from qalqan.store.tables import (
    Acknowledgement,
    Alert,
    EntityRecord,
    Escalation,
    ExchangeObject,
    ExchangePartner,
    ExchangeStatus,
    SharingGroupRow,
    SyncState,
    Tombstone,
)

#: The role of the local user a partner's TAXII client authenticates as.
PARTNER_ROLE = "partner"
#: Org codes: short, lower-case identifiers (they name lists: "partner-<org>").
ORG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
#: Largest object and bundle taken in (bytes), and most objects in one bundle or page.
MAX_OBJECT_BYTES = 1_000_000
MAX_BUNDLE_BYTES = 50_000_000
MAX_BUNDLE_OBJECTS = 20_000
#: Objects the egress filter may read from the store per page served (keyset batches).
SCAN_BATCH = 2_000
#: Most objects one TAXII page returns.
TAXII_MAX_PAGE = 1_000
#: The one collection every partner reads (each sees its own filtered view of it).
COLLECTION_ID = "a5d3ef25-6b49-4f6c-9a9f-0d8c4f7e2b11"
COLLECTION_TITLE = "Qalqan exchange"

DEFAULT_TLP = "amber"
DEFAULT_DISTRIBUTION = "connected"


class ExchangeError(ValueError):
    """An exchange operation that cannot be done; `field` names the input at fault."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.field = field


class NotOriginator(ExchangeError):
    """Only the originator edits or retracts an object."""


class UnknownPartner(ExchangeError):
    """No such (active) partner."""


# --- this node -------------------------------------------------------------------------------


def node_org(ctx: Context) -> str:
    """This node's organisation code (`Context.org`: QALQAN_ORG, default "local")."""
    return check_org(ctx.org)


def check_org(org: str) -> str:
    if not ORG_RE.match(org or ""):
        raise ExchangeError(f"organisation code {org!r} must be 1-41 lower-case letters, digits or '-'", field="org")
    return org


def node_identity(ctx: Context) -> dict[str, Any]:
    """This node's organisation as a STIX identity (created_by_ref of everything made here)."""
    return dict(stix.org_identity(node_org(ctx), ctx.org_name))


def identity_id(org: str) -> str:
    return str(stix.org_identity(org, org)["id"])


# --- partners and sharing groups --------------------------------------------------------------


def _partner_user(org: str) -> str:
    return f"partner-{org}"


def _partner_dict(p: ExchangePartner, sync: SyncState | None = None) -> dict[str, Any]:
    out = {
        "org": p.org, "name": p.name, "identity": p.identity_id, "user": p.user, "url": p.url, "collection": p.collection,
        "community": p.community, "connected": p.connected, "relay": p.relay, "active": p.removed_at is None,
        "added_at": iso(p.added_at), "added_by": p.added_by, "removed_at": iso(p.removed_at),
        "pull_credential": bool(p.credential),
    }
    if sync is not None:
        out["sync"] = {"added_after": sync.added_after, "last_run": iso(sync.last_run), "last_ok": iso(sync.last_ok), "last_error": sync.last_error, "pulled": sync.pulled}
    return out


def add_partner(
    ctx: Context,
    org: str,
    name: str,
    *,
    actor: str,
    url: str | None = None,
    collection: str | None = None,
    credential: str | None = None,
    community: bool = False,
    connected: bool = True,
    relay: bool = False,
) -> dict[str, Any]:
    """Register partner `org` (or re-activate / update it). Creates the local user of role
    partner its TAXII client authenticates as and issues its key, returned once as `key`
    (for a partner seen before: only when it has no active key)."""
    check_org(org)
    if org == node_org(ctx):
        raise ExchangeError("a node cannot be its own partner", field="org")
    if not name.strip():
        raise ExchangeError("a partner needs a name", field="name")
    if url is not None and not re.match(r"^https?://", url):
        raise ExchangeError(f"partner url {url!r} is not an http(s) URL of a TAXII API root", field="url")
    user = _partner_user(org)
    with ctx.transaction() as s:
        row = s.get(ExchangePartner, org)
        created = row is None
        if row is None:
            row = ExchangePartner(org=org, name=name.strip(), identity_id=identity_id(org), user=user, added_at=ctx.clock.now(), added_by=actor)
            s.add(row)
        row.name, row.url, row.collection = name.strip(), url, collection
        if credential is not None:
            row.credential = credential
        row.community, row.connected, row.relay, row.removed_at = community, connected, relay, None
        s.flush()
        ctx.audit(s, actor=actor, action="exchange.partner.add" if created else "exchange.partner.update", target=f"partner:{org}",
                  detail={"name": row.name, "url": url, "community": community, "connected": connected, "relay": relay})
    key = None
    existing = {u["name"] for u in users.list_users(ctx, limit=1000)[0]}
    if user not in existing:
        users.create_user(ctx, user, PARTNER_ROLE, actor=actor)
    if not any(k.get("revoked_at") is None for k in users.list_keys(ctx, user)):
        key = users.create_key(ctx, user, actor=actor, label=f"TAXII key of partner {org}")
    out = get_partner(ctx, org)
    out["key"] = key
    return out


def get_partner(ctx: Context, org: str) -> dict[str, Any]:
    with ctx.db.session() as s:
        row = s.get(ExchangePartner, org)
        if row is None:
            raise UnknownPartner(f"no partner {org!r}", field="org")
        return _partner_dict(row, s.get(SyncState, org))


def list_partners(ctx: Context, *, include_removed: bool = False) -> list[dict[str, Any]]:
    with ctx.db.session() as s:
        rows = s.execute(select(ExchangePartner).order_by(ExchangePartner.org)).scalars().all()
        syncs = {r.partner: r for r in s.execute(select(SyncState)).scalars()}
        return [_partner_dict(r, syncs.get(r.org)) for r in rows if include_removed or r.removed_at is None]


def remove_partner(ctx: Context, org: str, *, actor: str) -> dict[str, Any]:
    """Deactivate a partner: it reads nothing more (its keys are revoked) and is not pulled. Its
    objects stay (alerts and the audit log refer to them)."""
    with ctx.transaction() as s:
        row = s.get(ExchangePartner, org)
        if row is None or row.removed_at is not None:
            raise UnknownPartner(f"no active partner {org!r}", field="org")
        row.removed_at = ctx.clock.now()
        ctx.audit(s, actor=actor, action="exchange.partner.remove", target=f"partner:{org}")
        user = row.user
    if user:
        for k in users.list_keys(ctx, user):
            if k.get("revoked_at") is None:
                users.revoke_key(ctx, k["prefix"], actor=actor)
    return get_partner(ctx, org)


def partner_for_user(ctx: Context, user: str) -> str | None:
    """The active partner org whose TAXII client authenticates as local user `user`."""
    with ctx.db.session() as s:
        return s.execute(select(ExchangePartner.org).where(ExchangePartner.user == user, ExchangePartner.removed_at.is_(None))).scalar_one_or_none()


def set_group(ctx: Context, name: str, members: Sequence[str], *, actor: str) -> dict[str, Any]:
    """Create or replace sharing group `name` (member org codes; this node is always a member)."""
    check_org(name)
    mem = sorted({check_org(m) for m in members} | {node_org(ctx)})
    with ctx.transaction() as s:
        row = s.get(SharingGroupRow, name)
        if row is None:
            row = SharingGroupRow(name=name, members=mem, created_by=actor, created_at=ctx.clock.now())
            s.add(row)
        row.members = mem
        ctx.audit(s, actor=actor, action="exchange.group.set", target=f"group:{name}", detail={"members": mem})
    return {"name": name, "members": mem}


def list_groups(ctx: Context) -> list[dict[str, Any]]:
    with ctx.db.session() as s:
        return [{"name": g.name, "members": list(g.members)} for g in s.execute(select(SharingGroupRow).order_by(SharingGroupRow.name)).scalars()]


def node_policy(ctx: Context) -> policy.NodePolicy:
    """What the egress filter knows about this node: its org, its partners, its sharing groups."""
    with ctx.db.session() as s:
        partners = {
            p.org: policy.Partner(org=p.org, community=p.community, connected=p.connected, active=p.removed_at is None)
            for p in s.execute(select(ExchangePartner)).scalars()
        }
        groups = {g.name: frozenset(g.members) for g in s.execute(select(SharingGroupRow)).scalars()}
    return policy.NodePolicy(org=node_org(ctx), partners=partners, groups=groups)


# --- markings --------------------------------------------------------------------------------


def _marking(row: ExchangeObject) -> policy.Marking:
    return policy.Marking(
        originator=row.originator,
        distribution=policy.Distribution(row.distribution),
        tlp=policy.TLP(row.tlp),
        group=row.sharing_group,
        recipients=frozenset(row.recipients or ()),
        hops=row.hops,
    )


def make_marking(
    ctx: Context, *, distribution: str = DEFAULT_DISTRIBUTION, tlp: str = DEFAULT_TLP, group: str | None = None, recipients: Sequence[str] = ()
) -> policy.Marking:
    """A marking for an object made here, checked (PolicyError names what is inconsistent)."""
    try:
        m = policy.Marking(
            originator=node_org(ctx), distribution=policy.Distribution(distribution), tlp=policy.TLP(tlp.lower()),
            group=group, recipients=frozenset(recipients), hops=0,
        )
    except ValueError as exc:
        raise ExchangeError(str(exc), field="marking") from None
    policy.validate_marking(m)
    return m


# --- input ------------------------------------------------------------------------------------


def entity_from_ftm(ctx: Context, data: Mapping[str, Any]) -> Any:
    """A subject to share, given as a FollowTheMoney entity ({id?, schema, properties})."""
    from qalqan.sources import ftm

    body = dict(data)
    body.setdefault("id", "subject-" + hashlib.sha256(repr(sorted(body.get("properties", {}).items())).encode()).hexdigest()[:16])
    entity, report = ftm.entity_from_dict(body, node_org(ctx))
    if entity is None:
        issue = (report.errors or [None])[0]
        raise ExchangeError(f"not a usable subject: {getattr(issue, 'message', 'no name')}", field=getattr(issue, "field", "entity") or "entity")
    return entity


def warning_fields(*, title: str, description: str, priority: str, valid_until: str | datetime, sectors: Sequence[str], domain: str,
                   ack_required: bool, ack_deadline: str | datetime | None) -> dict[str, Any]:
    """The fields of `stix.warning_report` from user input (times as ISO 8601 strings)."""

    def when(value: str | datetime | None, name: str) -> datetime | None:
        if value is None or isinstance(value, datetime):
            return value
        try:
            out = _parse_time(value.strip())
        except ValueError:
            raise ExchangeError(f"{name} {value!r} is not an ISO 8601 time", field=name) from None
        return out if out.tzinfo else out.replace(tzinfo=UTC)

    if ack_required and ack_deadline is None:
        raise ExchangeError("an acknowledgement deadline is needed when acknowledgement is required", field="ack_deadline")
    return {"title": title, "description": description, "priority": priority, "valid_until": when(valid_until, "valid_until"), "sectors": list(sectors),
            "domain": domain, "ack_required": ack_required, "ack_deadline": when(ack_deadline, "ack_deadline")}


# --- storing ---------------------------------------------------------------------------------


def _kind(obj: Mapping[str, Any]) -> str:
    t = obj.get("type", "")
    ext = obj.get("extensions") or {}
    if t == "identity" and stix.SUBJECT_EXT in ext:
        return "subject"
    if t in ("threat-actor", "intrusion-set"):
        return "group"
    if t == "report" and stix.WARNING_EXT in ext:
        return "warning"
    if t == "report":
        return "document"
    if t == "note" and stix.ACK_EXT in ext:
        return "ack"
    if t == "note" and stix.PROPOSAL_EXT in ext:
        return "proposal"
    if t in ("indicator", "sighting", "relationship", "artifact"):
        return t
    return "other"


def _refs(obj: Mapping[str, Any]) -> str:
    if obj.get("type") == "sighting":
        return str(obj.get("sighting_of_ref", ""))
    refs = obj.get("object_refs") or ()
    return str(refs[0]) if obj.get("type") == "note" and refs else ""


def _version(obj: Mapping[str, Any]) -> str:
    return str(obj.get("modified") or obj.get("created") or "")


def _store(s: Session, obj: Mapping[str, Any], marking: policy.Marking, *, source: str | None, now: datetime) -> ExchangeObject | None:
    """One version of one object, once: an existing (id, version) is not stored again (None)."""
    sid, version = str(obj["id"]), _version(obj)
    if s.execute(select(ExchangeObject.id).where(ExchangeObject.stix_id == sid, ExchangeObject.version == version)).first() is not None:
        return None
    newest = s.execute(select(func.max(ExchangeObject.version)).where(ExchangeObject.stix_id == sid)).scalar()
    latest = newest is None or version > newest
    if latest and newest is not None:
        s.execute(update(ExchangeObject).where(ExchangeObject.stix_id == sid).values(latest=False))
    row = ExchangeObject(
        stix_id=sid, version=version, type=str(obj["type"]), kind=_kind(obj), originator=marking.originator, source=source,
        distribution=marking.distribution.value, sharing_group=marking.group, tlp=marking.tlp.value, recipients=sorted(marking.recipients),
        hops=marking.hops, revoked=bool(obj.get("revoked", False)), latest=latest, refs=_refs(obj)[:200], date_added=now, data=dict(obj),
    )
    s.add(row)
    return row


def _date_added(ctx: Context, s: Session) -> datetime:
    """This node's date_added for the next object: strictly after every stored one, so keyset
    paging by (date_added, id) never reorders objects added in the same millisecond."""
    now = ctx.clock.now().astimezone(UTC)
    last = utc(s.execute(select(func.max(ExchangeObject.date_added))).scalar())
    if last is not None and now <= last:
        now = last + timedelta(milliseconds=1)
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)


def publish(ctx: Context, objects: Sequence[Mapping[str, Any]], marking: policy.Marking, *, actor: str, action: str = "exchange.publish") -> list[str]:
    """Store objects made here under `marking` (each gets the wire form of its distribution);
    audited. Returns their ids."""
    ids = []
    with ctx.transaction() as s:
        now = _date_added(ctx, s)
        for obj in objects:
            wire = stix.with_distribution(dict(obj), marking.distribution.value, marking.group, 0)
            if _store(s, wire, marking, source=None, now=now) is not None:
                ids.append(str(obj["id"]))
            now += timedelta(milliseconds=1)
        ctx.audit(s, actor=actor, action=action, target=ids[0] if ids else "",
                  detail={"objects": ids[:50], "count": len(ids), "tlp": marking.tlp.value, "distribution": marking.distribution.value, "group": marking.group, "recipients": sorted(marking.recipients)})
    return ids


def _tlp_refs(marking: policy.Marking) -> list[str]:
    return [str(stix.TLP_MARKINGS[marking.tlp.value]["id"])]


def share_subject(ctx: Context, entity: Any, marking: policy.Marking, *, actor: str, status: str = "suspected", last_location: str | None = None) -> str:
    obj = stix.subject_to_stix(entity, created_by=identity_id(node_org(ctx)), status=status, last_location=last_location, markings=_tlp_refs(marking))
    return publish(ctx, [obj], marking, actor=actor, action="exchange.share.subject")[0]


def share_warning(ctx: Context, marking: policy.Marking, *, actor: str, indicators: Sequence[tuple[str, str]] = (), **fields: Any) -> str:
    """An early warning (a STIX report with our warning extension) and its indicators."""
    me = identity_id(node_org(ctx))
    now = ctx.clock.now()
    inds = [stix.indicator(kind, value, created_by=me, valid_from=now, markings=_tlp_refs(marking)) for kind, value in indicators]
    report = stix.warning_report(created_by=me, object_refs=[i["id"] for i in inds] or [me], markings=_tlp_refs(marking), published=now, **fields)
    publish(ctx, [*inds, report], marking, actor=actor, action="exchange.share.warning")
    return str(report["id"])


def share_document(ctx: Context, marking: policy.Marking, *, actor: str, title: str, description: str, filename: str, media_type: str, content: bytes) -> str:
    report, artifact = stix.document_report(created_by=identity_id(node_org(ctx)), title=title, description=description, filename=filename,
                                            media_type=media_type, content=content, markings=_tlp_refs(marking))
    publish(ctx, [artifact, report], marking, actor=actor, action="exchange.share.document")
    return str(report["id"])


def _latest_row(s: Session, stix_id: str) -> ExchangeObject | None:
    return s.execute(select(ExchangeObject).where(ExchangeObject.stix_id == stix_id, ExchangeObject.latest.is_(True))).scalar_one_or_none()


def retract(ctx: Context, stix_id: str, *, actor: str, reason: str) -> str:
    """Retract an object made here: a new version with revoked true, under the same marking, and a
    tombstone. Only the originator retracts (NotOriginator)."""
    if not reason.strip():
        raise ExchangeError("a retraction needs a reason", field="reason")
    with ctx.transaction() as s:
        row = _latest_row(s, stix_id)
        if row is None:
            raise ExchangeError(f"no object {stix_id!r}", field="id")
        if row.source is not None or row.originator != node_org(ctx):
            raise NotOriginator(f"{stix_id} was made by {row.originator}: only the originator retracts it; send a proposal instead", field="id")
        if row.revoked:
            raise ExchangeError(f"{stix_id} is already retracted", field="id")
        marking, data = _marking(row), dict(row.data)
        now = _date_added(ctx, s)
        new = stix.revoked_version(data, modified=max(now, _parse_time(_version(data)) + timedelta(milliseconds=1)))
        _store(s, new, marking, source=None, now=now)
        s.merge(Tombstone(stix_id=stix_id, originator=row.originator, version=_version(new), at=now))
        ctx.audit(s, actor=actor, action="exchange.retract", target=stix_id, detail={"reason": reason.strip(), "version": _version(new)})
    return _version(new)


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- egress: what a TAXII read returns ------------------------------------------------------


@dataclass(slots=True)
class Served:
    objects: list[dict[str, Any]]
    more: bool
    next: str | None
    first: datetime | None
    last: datetime | None
    records: list[tx.Record] = field(default_factory=list)


def _record(row: ExchangeObject) -> tx.Record:
    return tx.Record(id=row.stix_id, type=row.type, version=row.version, spec_version=str(row.data.get("spec_version", "2.1")), date_added=utc(row.date_added), obj=row.data)  # type: ignore[arg-type]


def serve(ctx: Context, requester: str, filters: tx.Filters, *, actor: str, object_id: str | None = None, versions: bool = False, what: str = "objects") -> Served:
    """A page of what `requester` (a partner org) may read, through the egress filter.

    Rows are read in (date_added, id) order from after the page cursor, filtered, and paged by
    `exchange.taxii.page`; the common case (match[version]=last) reads only newest versions.
    Every read is audited (who, how many, which filters)."""
    node = node_policy(ctx)
    limit = min(filters.limit or TAXII_MAX_PAGE, TAXII_MAX_PAGE)
    after = tx.cursor_key(filters.next) if filters.next else None
    default_version = tuple(filters.match_version) in ((), ("last",))
    kept: list[tx.Record] = []
    denied = 0
    with ctx.db.session() as s:
        q = select(ExchangeObject).order_by(ExchangeObject.date_added, ExchangeObject.id)
        if object_id is not None:
            q = q.where(ExchangeObject.stix_id == object_id)
        if filters.added_after is not None:
            q = q.where(ExchangeObject.date_added > filters.added_after)
        if filters.match_id:
            q = q.where(ExchangeObject.stix_id.in_(filters.match_id))
        if filters.match_type:
            q = q.where(ExchangeObject.type.in_(filters.match_type))
        if default_version and not versions:
            q = q.where(ExchangeObject.latest.is_(True))
        if default_version and not versions:
            # The common read (newest versions): keyset batches from after the cursor, filtered
            # until a page and one more are found, so a page costs what it returns (plus what
            # the filter withheld), not the whole collection.
            if after is not None:
                added, sid, ver = after
                q = q.where(or_(ExchangeObject.date_added > added, and_(ExchangeObject.date_added == added, or_(ExchangeObject.stix_id > sid, and_(ExchangeObject.stix_id == sid, ExchangeObject.version > ver)))))
            q = q.order_by(None).order_by(ExchangeObject.date_added, ExchangeObject.stix_id, ExchangeObject.version)
            done, offset = False, 0
            while not done and len(kept) <= limit:
                rows = s.execute(q.offset(offset).limit(SCAN_BATCH)).scalars().all()
                offset += len(rows)
                done = len(rows) < SCAN_BATCH
                for row in rows:
                    if policy.may_receive(_marking(row), requester, node):
                        kept.append(_record(row))
                    else:
                        denied += 1
            filt = tx.Filters(added_after=None, limit=limit, next=None, match_id=(), match_type=(), match_version=("all",), match_spec_version=filters.match_spec_version)
        else:
            for row in s.execute(q).scalars():
                if policy.may_receive(_marking(row), requester, node):
                    kept.append(_record(row))
                else:
                    denied += 1
            filt = filters
    if versions:
        filt = tx.Filters(added_after=filt.added_after, limit=limit, next=filt.next, match_id=filt.match_id, match_type=filt.match_type, match_version=("all",), match_spec_version=filt.match_spec_version)
    selected = tx.select(kept, filt)
    page = tx.page(selected, filt, max_limit=limit)
    with ctx.transaction() as s:
        ctx.audit(s, actor=actor, action=f"taxii.{what}", target=f"partner:{requester}",
                  detail={"returned": len(page.records), "withheld": denied, "added_after": iso(filters.added_after), "object": object_id, "more": page.more})
    return Served([dict(r.obj) for r in page.records], page.more, page.next, page.date_added_first, page.date_added_last, list(page.records))


# --- ingest: what arrives from a partner ----------------------------------------------------


@dataclass(slots=True)
class IngestSummary:
    partner: str
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    tombstoned: int = 0
    skipped: int = 0  # markings, extension definitions, org identities: known, not stored
    revoked: int = 0
    acks: int = 0
    sightings: int = 0
    proposals: int = 0
    warnings: int = 0
    originators: set[str] = field(default_factory=set)  # whose subjects changed: their lists to rebuild

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["originators"] = sorted(self.originators)
        return out


class IngestError(ExchangeError):
    """A bundle or page refused as a whole (nothing of it stored): `status` is the HTTP status a
    server would answer with (400 malformed, 413 too large, 403 forged)."""

    def __init__(self, message: str, *, status: int = 400, field: str = "", object_id: str = ""):
        super().__init__(message, field=field)
        self.status = status
        self.object_id = object_id


def _orgs_by_identity(ctx: Context, s: Session) -> dict[str, str]:
    out = {identity_id(node_org(ctx)): node_org(ctx)}
    for p in s.execute(select(ExchangePartner)).scalars():
        out[p.identity_id] = p.org
    return out


_NOT_STORED = ("marking-definition", "extension-definition")


def ingest(ctx: Context, partner: str, objects: Sequence[Mapping[str, Any]], *, actor: str = SYSTEM) -> IngestSummary:
    """Take in objects served by `partner`, all or nothing: every object is checked before any
    is stored (IngestError names the first one at fault)."""
    summary = IngestSummary(partner, received=len(objects))
    me = node_org(ctx)
    with ctx.transaction() as s:
        prow = s.get(ExchangePartner, partner)
        if prow is None or prow.removed_at is not None:
            raise UnknownPartner(f"no active partner {partner!r}", field="partner")
        orgs = _orgs_by_identity(ctx, s)
        parsed: list[tuple[dict[str, Any], str]] = []
        for raw in objects:
            try:
                obj = stix.parse_object(raw, max_bytes=MAX_OBJECT_BYTES)
            except stix.StixError as exc:
                raise IngestError(f"object {getattr(exc, 'object_id', '') or raw.get('id', '?')}: {exc}", status=400, field=getattr(exc, "field", ""), object_id=str(raw.get("id", ""))) from None
            if obj["type"] in _NOT_STORED:
                summary.skipped += 1
                continue
            creator = obj.get("created_by_ref")
            if obj["type"] == "identity" and obj.get("identity_class") == "organization" and creator is None:
                if obj["id"] != prow.identity_id and not prow.relay:
                    raise IngestError(f"object {obj['id']}: partner {partner} may not serve another organisation's identity", status=403, field="id", object_id=obj["id"])
                summary.skipped += 1
                continue
            # A relay (a national hub, a MISP/OpenCTI feed) serves what others made: objects of
            # organisations we know keep their originator; the rest are attributed to the relay.
            origin = orgs.get(str(creator)) if creator else None
            if origin == me:
                # Our own object served back to us (the originator may read it back): already
                # here, nothing to take in -- unless we never made it, which is a forgery.
                mine = s.execute(select(ExchangeObject.id).where(ExchangeObject.stix_id == str(obj["id"]), ExchangeObject.source.is_(None)).limit(1)).first()
                if mine is None:
                    raise IngestError(f"object {obj['id']}: claims to be made by this node", status=403, field="created_by_ref", object_id=obj["id"])
                summary.skipped += 1
                continue
            if creator != prow.identity_id and not prow.relay:
                raise IngestError(
                    f"object {obj['id']}: created_by_ref {creator!r} is not partner {partner} ({prow.identity_id}); a partner may not publish in another organisation's name",
                    status=403, field="created_by_ref", object_id=obj["id"],
                )
            parsed.append((obj, origin or partner))
        tombs = {t.stix_id for t in s.execute(select(Tombstone).where(Tombstone.stix_id.in_([o["id"] for o, _ in parsed]))).scalars()} if parsed else set()
        now = _date_added(ctx, s)
        for obj, origin in parsed:
            if obj["id"] in tombs and not obj.get("revoked"):
                summary.tombstoned += 1
                continue
            wire = stix.distribution_of(obj) or {}
            tlp = stix.tlp_of(obj) or "amber"
            try:
                received = policy.Marking(
                    originator=origin,
                    distribution=policy.Distribution(wire.get("level", "organisation")),
                    tlp=policy.TLP(tlp),
                    group=wire.get("sharing_group"),
                    recipients=frozenset({me}) if tlp == "red" else frozenset(),
                    hops=int(wire.get("hops", 0)),
                )
                marking = policy.on_receipt(received, via=partner)
            except ValueError as exc:
                raise IngestError(f"object {obj['id']}: bad distribution marking: {exc}", status=400, field="extensions", object_id=obj["id"]) from None
            row = _store(s, obj, marking, source=partner, now=now)
            now += timedelta(milliseconds=1)
            if row is None:
                summary.duplicates += 1
                continue
            summary.stored += 1
            kind = row.kind
            if obj.get("revoked"):
                summary.revoked += 1
                s.merge(Tombstone(stix_id=obj["id"], originator=origin, version=row.version, at=now))
            if kind == "subject":
                summary.originators.add(origin)
            elif kind == "warning":
                summary.warnings += 1
            elif kind == "sighting":
                summary.sightings += 1
            elif kind == "proposal":
                summary.proposals += 1
            elif kind == "ack":
                ext = obj["extensions"][stix.ACK_EXT]
                ref = row.refs
                if ref and s.execute(select(Acknowledgement.id).where(Acknowledgement.object_id == ref, Acknowledgement.kind == ext.get("kind", "warning"), Acknowledgement.org == origin)).first() is None:
                    s.add(Acknowledgement(object_id=ref, kind=ext.get("kind", "warning"), org=origin, note_id=obj["id"], at=now))
                    summary.acks += 1
        ctx.audit(s, actor=actor, action="exchange.ingest", target=f"partner:{partner}", detail=summary.as_dict())
    # A retraction we applied is acknowledged back to its originator.
    for obj, origin in parsed:
        if obj.get("revoked") and origin != me:
            _ack(ctx, obj["id"], origin, kind="retraction", actor=SYSTEM)
    return summary


def _ack(ctx: Context, object_id: str, originator: str, *, kind: str, actor: str) -> str | None:
    """Record our acknowledgement and publish it as a note to the originator alone."""
    me = node_org(ctx)
    with ctx.db.session() as s:
        if s.execute(select(Acknowledgement.id).where(Acknowledgement.object_id == object_id, Acknowledgement.kind == kind, Acknowledgement.org == me)).first():
            return None
    note = stix.ack_note(created_by=identity_id(me), object_ref=object_id, kind=kind, at=ctx.clock.now())
    marking = policy.Marking(originator=me, distribution=policy.Distribution.ALL, tlp=policy.TLP.AMBER_STRICT, group=None, recipients=frozenset({originator}), hops=0)
    note["object_marking_refs"] = [stix.TLP_MARKINGS["amber+strict"]["id"]]
    publish(ctx, [note], marking, actor=actor, action=f"exchange.ack.{kind}")
    with ctx.transaction() as s:
        s.add(Acknowledgement(object_id=object_id, kind=kind, org=me, note_id=note["id"], by=actor, at=ctx.clock.now()))
    return str(note["id"])


# --- partner lists ----------------------------------------------------------------------------


def partner_list_name(org: str) -> str:
    return f"{PARTNER_LIST_PREFIX}{org}"


def partner_list(ctx: Context, org: str) -> LoadedList:
    """The subjects `org` shares with us now (newest versions, retracted ones out) as a list."""
    name = partner_list_name(org)
    with ctx.db.session() as s:
        rows = s.execute(
            select(ExchangeObject).where(ExchangeObject.kind == "subject", ExchangeObject.originator == org, ExchangeObject.latest.is_(True), ExchangeObject.source.is_not(None))
            .order_by(ExchangeObject.stix_id)
        ).scalars().all()
        live = [(r.stix_id, r.version, dict(r.data)) for r in rows if not r.revoked]
    entities = [stix.stix_to_subject(data, list_name=name) for _sid, _v, data in live]
    digest = hashlib.sha256("\n".join(f"{sid} {v}" for sid, v, _ in live).encode()).hexdigest()
    counts: dict[str, int] = {}
    for e in entities:
        counts[e.schema] = counts.get(e.schema, 0) + 1
    info = ListInfo(name=name, format="stix", source=f"partner:{org}", title=f"Subjects shared by {org}", published=None,
                    loaded_at=ctx.clock.now().isoformat(timespec="seconds"), sha256=digest, counts=dict(sorted(counts.items())), warnings=0, skipped=0)
    return LoadedList(info, entities)


def exchange_info(ctx: Context, list_name: str, entity_id: str) -> dict[str, Any] | None:
    """For an entity of a partner list: who shared it, under which TLP and distribution."""
    if not list_name.startswith(PARTNER_LIST_PREFIX):
        return None
    with ctx.db.session() as s:
        data = s.execute(select(EntityRecord.data).where(EntityRecord.list_name == list_name, EntityRecord.entity_id == entity_id).limit(1)).scalar()
        stix_id = (data or {}).get("reference")
        row = _latest_row(s, stix_id) if stix_id else None
        if row is None:
            return {"originator": list_name[len(PARTNER_LIST_PREFIX):], "stix_id": stix_id}
        return {"originator": row.originator, "stix_id": row.stix_id, "tlp": row.tlp, "distribution": row.distribution, "sharing_group": row.sharing_group, "revoked": row.revoked}


# --- hit reports, warnings, acknowledgements -------------------------------------------------


def report_hit(ctx: Context, alert_id: int, *, actor: str, anonymised: bool = False) -> str | None:
    """After an analyst confirmed alert `alert_id`: if it is on a partner's subject, a sighting
    goes back to the originator alone (None when the alert is on another list)."""
    with ctx.db.session() as s:
        alert = s.get(Alert, alert_id)
        if alert is None or not alert.list_name.startswith(PARTNER_LIST_PREFIX):
            return None
        list_name, entity_id = alert.list_name, alert.entity_id
    info = exchange_info(ctx, list_name, entity_id) or {}
    stix_id, originator = info.get("stix_id"), info.get("originator")
    if not stix_id or not originator:
        return None
    me = node_org(ctx)
    sighting = stix.sighting(created_by=identity_id(me), sighting_of_ref=stix_id, observed_at=ctx.clock.now(), count=1,
                             where_sighted_refs=() if anonymised else (identity_id(me),), anonymised=anonymised,
                             markings=[stix.TLP_MARKINGS["amber+strict"]["id"]])
    marking = policy.Marking(originator=me, distribution=policy.Distribution.ALL, tlp=policy.TLP.AMBER_STRICT, group=None, recipients=frozenset({originator}), hops=0)
    publish(ctx, [sighting], marking, actor=actor, action="exchange.sighting")
    return str(sighting["id"])


def _row_dict(r: ExchangeObject) -> dict[str, Any]:
    return {"id": r.stix_id, "version": r.version, "type": r.type, "kind": r.kind, "originator": r.originator, "source": r.source, "tlp": r.tlp,
            "distribution": r.distribution, "sharing_group": r.sharing_group, "revoked": r.revoked, "date_added": iso(r.date_added), "object": r.data}


def list_objects(ctx: Context, *, kind: str | None = None, originator: str | None = None, about: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    with ctx.db.session() as s:
        q = select(ExchangeObject).where(ExchangeObject.latest.is_(True)).order_by(ExchangeObject.date_added.desc()).limit(limit)
        if kind:
            q = q.where(ExchangeObject.kind == kind)
        if originator:
            q = q.where(ExchangeObject.originator == originator)
        if about:
            q = q.where(ExchangeObject.refs == about)
        return [_row_dict(r) for r in s.execute(q).scalars()]


def _warning_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return dict((data.get("extensions") or {}).get(stix.WARNING_EXT, {}))


def recipients_of(ctx: Context, stix_id: str) -> list[str]:
    """The partners the egress filter lets read object `stix_id` (who should acknowledge it)."""
    node = node_policy(ctx)
    with ctx.db.session() as s:
        row = _latest_row(s, stix_id)
        if row is None:
            raise ExchangeError(f"no object {stix_id!r}", field="id")
        m = _marking(row)
    return sorted(org for org in node.partners if org != m.originator and policy.may_receive(m, org, node))


def warnings(ctx: Context, *, limit: int = 100) -> list[dict[str, Any]]:
    """Warnings received and made here, newest first, with acknowledgement state: for a received
    one whether we acknowledged it; for ours who has and who has not."""
    me = node_org(ctx)
    out = []
    for w in list_objects(ctx, kind="warning", limit=limit):
        fields = _warning_fields(w["object"])
        with ctx.db.session() as s:
            acks = {a.org: iso(a.at) for a in s.execute(select(Acknowledgement).where(Acknowledgement.object_id == w["id"], Acknowledgement.kind == "warning")).scalars()}
        entry = {**{k: v for k, v in w.items() if k != "object"}, "title": w["object"].get("name"), **fields, "acknowledged_by": acks}
        if w["originator"] == me:
            recipients = recipients_of(ctx, w["id"])
            entry["recipients"] = recipients
            entry["not_acknowledged"] = [o for o in recipients if o not in acks]
        else:
            entry["acknowledged"] = me in acks
        out.append(entry)
    return out


def ack_warning(ctx: Context, stix_id: str, *, actor: str) -> str | None:
    """Acknowledge a received warning: a note to its originator (None if acknowledged before)."""
    with ctx.db.session() as s:
        row = _latest_row(s, stix_id)
        if row is None or row.kind != "warning":
            raise ExchangeError(f"no warning {stix_id!r}", field="id")
        if row.originator == node_org(ctx):
            raise ExchangeError("a node does not acknowledge its own warning", field="id")
        originator = row.originator
    return _ack(ctx, stix_id, originator, kind="warning", actor=actor)


def escalate(ctx: Context, *, actor: str = SYSTEM) -> list[dict[str, Any]]:
    """Our warnings that need acknowledgement, past their deadline, not acknowledged by a
    recipient: each (warning, recipient) recorded once as an escalation and audited. Returns every
    standing escalation."""
    me, now = node_org(ctx), ctx.clock.now()
    for w in list_objects(ctx, kind="warning", originator=me, limit=10_000):
        fields = _warning_fields(w["object"])
        if w["revoked"] or not fields.get("ack_required") or not fields.get("ack_deadline"):
            continue
        deadline = _parse_time(str(fields["ack_deadline"]))
        if deadline > now:
            continue
        with ctx.transaction() as s:
            acked = {a.org for a in s.execute(select(Acknowledgement).where(Acknowledgement.object_id == w["id"], Acknowledgement.kind == "warning")).scalars()}
            known = {e.org for e in s.execute(select(Escalation).where(Escalation.object_id == w["id"])).scalars()}
        missing = [o for o in recipients_of(ctx, w["id"]) if o not in acked and o not in known]
        if missing:
            with ctx.transaction() as s:
                for org in missing:
                    s.add(Escalation(object_id=w["id"], org=org, deadline=deadline, at=now))
                ctx.audit(s, actor=actor, action="exchange.escalate", target=w["id"], detail={"not_acknowledged": missing, "deadline": iso(deadline)})
    with ctx.db.session() as s:
        rows = s.execute(select(Escalation).order_by(Escalation.id)).scalars().all()
        acked = {(a.object_id, a.org) for a in s.execute(select(Acknowledgement).where(Acknowledgement.kind == "warning")).scalars()}
        return [{"warning": e.object_id, "org": e.org, "deadline": iso(e.deadline), "escalated_at": iso(e.at), "acknowledged_late": (e.object_id, e.org) in acked} for e in rows]


def retraction_acks(ctx: Context, stix_id: str) -> dict[str, Any]:
    """For a retraction of ours: which recipients acknowledged it and which did not (yet)."""
    with ctx.db.session() as s:
        acks = {a.org: iso(a.at) for a in s.execute(select(Acknowledgement).where(Acknowledgement.object_id == stix_id, Acknowledgement.kind == "retraction")).scalars()}
    recipients = recipients_of(ctx, stix_id)
    return {"id": stix_id, "acknowledged_by": acks, "not_acknowledged": [o for o in recipients if o not in acks]}


def propose(ctx: Context, stix_id: str, changes: Mapping[str, Any], comment: str, *, actor: str) -> str:
    """A proposal to the originator of a pulled object (which stays read-only here)."""
    with ctx.db.session() as s:
        row = _latest_row(s, stix_id)
        if row is None:
            raise ExchangeError(f"no object {stix_id!r}", field="id")
        originator = row.originator
    if originator == node_org(ctx):
        raise ExchangeError("the originator edits its own object; proposals are for partners' objects", field="id")
    note = stix.proposal_note(created_by=identity_id(node_org(ctx)), object_ref=stix_id, changes=changes, comment=comment)
    marking = policy.Marking(originator=node_org(ctx), distribution=policy.Distribution.ALL, tlp=policy.TLP.AMBER_STRICT, group=None, recipients=frozenset({originator}), hops=0)
    note["object_marking_refs"] = [stix.TLP_MARKINGS["amber+strict"]["id"]]
    publish(ctx, [note], marking, actor=actor, action="exchange.propose")
    return str(note["id"])


def answer_proposal(ctx: Context, note_id: str, answer: str, *, actor: str, comment: str = "") -> str:
    """The originator's answer (accepted / rejected) to a partner's proposal about one of our
    objects, sent to the proposer alone. Accepting records the decision; the originator then
    publishes the change itself (only it edits its objects)."""
    if answer not in ("accepted", "rejected"):
        raise ExchangeError(f"answer {answer!r}: accepted or rejected", field="answer")
    me = node_org(ctx)
    with ctx.db.session() as s:
        row = _latest_row(s, note_id)
        if row is None or row.kind != "proposal" or row.source is None:
            raise ExchangeError(f"no proposal {note_id!r} received from a partner", field="id")
        if (row.data.get("extensions") or {}).get(stix.PROPOSAL_EXT, {}).get("answer"):
            raise ExchangeError(f"{note_id} is an answer, not a proposal", field="id")
        target = _latest_row(s, row.refs) if row.refs else None
        if target is None or target.originator != me or target.source is not None:
            raise NotOriginator(f"{note_id} proposes a change to {row.refs or '?'}, which this node did not make", field="id")
        if s.execute(select(ExchangeObject.id).where(ExchangeObject.kind == "proposal", ExchangeObject.refs == note_id, ExchangeObject.source.is_(None))).first():
            raise ExchangeError(f"proposal {note_id} is already answered", field="id")
        proposer = row.originator
    note = stix.proposal_note(created_by=identity_id(me), object_ref=note_id, changes={}, comment=comment or answer, answer=answer)
    note["object_marking_refs"] = [stix.TLP_MARKINGS["amber+strict"]["id"]]
    marking = policy.Marking(originator=me, distribution=policy.Distribution.ALL, tlp=policy.TLP.AMBER_STRICT, group=None, recipients=frozenset({proposer}), hops=0)
    publish(ctx, [note], marking, actor=actor, action=f"exchange.proposal.{answer}")
    return str(note["id"])


# --- pulling from a partner -------------------------------------------------------------------


def pull_credential(raw: str | None) -> tuple[str | None, str | None, str | None]:
    """(user, password, bearer token) from a stored credential ("user:secret", a token, "env:NAME")."""
    if not raw:
        return None, None, None
    if raw.startswith("env:"):
        raw = os.environ.get(raw[4:], "")
        if not raw:
            raise ExchangeError("the partner's pull credential names an environment variable that is not set", field="credential")
    if ":" in raw:
        user, _, password = raw.partition(":")
        return user, password, None
    return None, None, raw


def sync_target(ctx: Context, org: str) -> tuple[ExchangePartner, SyncState]:
    with ctx.db.session() as s:
        p = s.get(ExchangePartner, org)
        if p is None or p.removed_at is not None:
            raise UnknownPartner(f"no active partner {org!r}", field="partner")
        if not p.url:
            raise ExchangeError(f"partner {org} has no TAXII url to pull from", field="url")
        state = s.get(SyncState, org) or SyncState(partner=org, pulled=0)
        s.expunge(p)
        if state in s:
            s.expunge(state)
        return p, state


def save_cursor(ctx: Context, org: str, *, added_after: str | None, pulled: int, ok: bool, error: str | None = None) -> None:
    with ctx.transaction() as s:
        state = s.get(SyncState, org)
        if state is None:
            state = SyncState(partner=org, pulled=0)
            s.add(state)
        now = ctx.clock.now()
        state.last_run = now
        if added_after is not None:
            state.added_after = added_after
        state.pulled = (state.pulled or 0) + pulled
        if ok:
            state.last_ok, state.last_error = now, None
        else:
            state.last_error = (error or "")[:2000]


def pullable_partners(ctx: Context) -> list[str]:
    with ctx.db.session() as s:
        return list(s.execute(select(ExchangePartner.org).where(ExchangePartner.removed_at.is_(None), ExchangePartner.url.is_not(None)).order_by(ExchangePartner.org)).scalars())


def parse_wire(data: bytes) -> list[dict[str, Any]]:
    """The objects of a STIX bundle or TAXII envelope (or a MISP event), size-checked."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise IngestError(f"bundle of {len(data):,} bytes is larger than {MAX_BUNDLE_BYTES:,}", status=413)
    head = data.lstrip()[:200]
    if b'"Event"' in head:
        import orjson

        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise IngestError(f"malformed JSON: {exc}") from None
        from qalqan.exchange import misp

        return misp.misp_event_to_stix(event.get("Event", event), created_by=None)  # type: ignore[arg-type]
    try:
        return list(stix.parse_bundle(data, max_bytes=MAX_BUNDLE_BYTES, max_objects=MAX_BUNDLE_OBJECTS))
    except stix.StixError as exc:
        status = 413 if "large" in str(exc) or "objects" in str(exc) and "more than" in str(exc) else 400
        raise IngestError(str(exc), status=status) from None


def collection_info(*, can_write: bool = False) -> dict[str, Any]:
    """The collection resource; `can_write` true for a partner, who may add objects made by it."""
    return {"id": COLLECTION_ID, "title": COLLECTION_TITLE, "description": "What this node shares with you, filtered by its sharing policy",
            "can_read": True, "can_write": can_write, "media_types": [tx.STIX_MEDIA]}


# --- push: what a partner adds to our collection (TAXII add objects) -------------------------


def add_objects(ctx: Context, partner: str, objects: Sequence[Mapping[str, Any]], *, actor: str, purpose: str = "", input_hash: str = "") -> dict[str, Any]:
    """Objects partner `partner` POSTs to our collection: taken in exactly as a pulled page
    (`ingest`: all or nothing, the same forged-origin rules; through the composition's
    `Qalqan.ingest` where there is one, so shared subjects become its partner list and are
    screened), then recorded as a TAXII 2.1 status resource (§4.3.1), which is returned. A
    refused request (IngestError) is audited and re-raised; no status is kept for it."""
    requested = ctx.clock.now()
    purpose = purpose or f"TAXII add objects by partner {partner}"
    run = getattr(ctx, "ingest", None)
    try:
        summary: IngestSummary = run(partner, objects, actor=actor) if callable(run) else ingest(ctx, partner, objects, actor=actor)
    except ExchangeError as exc:
        with ctx.transaction() as s:
            ctx.audit(s, actor=actor, action="taxii.add_objects.refused", target=f"partner:{partner}", purpose=purpose, input_hash=input_hash,
                      detail={"received": len(objects), "status": getattr(exc, "status", 400), "object": getattr(exc, "object_id", ""), "error": str(exc)[:500]})
        raise
    status_id = str(uuid.uuid4())
    successes = [{"id": str(o.get("id", "")), "version": _version(o)} for o in objects]
    status = {
        "id": status_id, "status": "complete", "request_timestamp": tx.format_timestamp(requested.astimezone(UTC)),
        "total_count": len(objects), "success_count": len(successes), "successes": successes,
        "failure_count": 0, "failures": [], "pending_count": 0, "pendings": [],
    }
    with ctx.transaction() as s:
        s.add(ExchangeStatus(id=status_id, partner=partner, requested_at=requested, total=len(objects), success=len(successes), failure=0, data=status))
        ctx.audit(s, actor=actor, action="taxii.add_objects", target=f"partner:{partner}", purpose=purpose,
                  input_hash=input_hash, detail={"status": status_id, **summary.as_dict()})
    return status


def get_status(ctx: Context, partner: str, status_id: str, *, actor: str) -> dict[str, Any] | None:
    """The status resource of an add-objects request, for the partner that made it (None for
    anyone else, or no such request); the read is audited."""
    with ctx.transaction() as s:
        row = s.get(ExchangeStatus, status_id[:64])
        if row is None or row.partner != partner:
            return None
        ctx.audit(s, actor=actor, action="taxii.status", target=f"partner:{partner}", detail={"status": status_id})
        return dict(row.data)
