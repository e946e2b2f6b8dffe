"""The store's tables (SQLAlchemy 2 declarative). Alembic migrations in `migrations/` create them;
a test checks the migrations and these classes agree on both SQLite and PostgreSQL.

Identity of a listed party across versions is `(list_name, key)`: the list's own permanent
reference where it has one (UN "QDi.299"), else the entity id. The UN re-issues records under new
DATAIDs (Haiti listings, 2025 → 2026) while the reference stays, so ids alone would show a
re-issue as one removal plus one addition.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Integer primary keys: BIGINT on PostgreSQL (a population of millions re-screened for years
#: outgrows 2^31 alert and audit rows), INTEGER on SQLite (only INTEGER PRIMARY KEY autoincrements).
BigId = BigInteger().with_variant(Integer(), "sqlite")

#: Bounded text columns: names and ids, hashes, short codes.
KEY = 200
HASH = 64
CODE = 32


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class ListSource(Base):
    """A list the store keeps ("un", "ofac", ...) and the pointer to its live version.

    The live pointer moves in the same transaction that writes a new version, so a failed or
    killed import leaves the previous version live.
    """

    __tablename__ = "lists"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    format: Mapped[str] = mapped_column(String(CODE))
    title: Mapped[str] = mapped_column(String(KEY), default="")
    url: Mapped[str | None] = mapped_column(String(1000))  # where `lists fetch` downloads it
    etag: Mapped[str | None] = mapped_column(String(KEY))  # of the last download, for If-None-Match
    last_modified: Mapped[str | None] = mapped_column(String(KEY))  # HTTP Last-Modified, for If-Modified-Since
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # last fetch attempt
    #: How the last fetch attempt ended ("imported", "unchanged", "not-modified", "failed") and,
    #: when it failed, why (shown on the dashboard).
    fetch_status: Mapped[str | None] = mapped_column(String(CODE))
    fetch_error: Mapped[str | None] = mapped_column(Text)
    current_version_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("list_versions.id", use_alter=True, name="fk_lists_current_version")
    )


class ListVersion(Base):
    """One import of a list: where it came from, when, its content hash and counts."""

    __tablename__ = "list_versions"
    __table_args__ = (UniqueConstraint("list_name", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    list_name: Mapped[str] = mapped_column(ForeignKey("lists.name"))
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per list
    source: Mapped[str] = mapped_column(String(1000))  # path or URL read
    format: Mapped[str] = mapped_column(String(CODE))
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # when Qalqan read it
    published: Mapped[str | None] = mapped_column(String(CODE))  # publisher's date (UN dateGenerated)
    sha256: Mapped[str] = mapped_column(String(HASH))  # of the source bytes
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)  # entities per schema
    total: Mapped[int] = mapped_column(Integer)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    imported_by: Mapped[str] = mapped_column(String(KEY))
    previous_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("list_versions.id"))
    #: {"added": {"Person": n, ...}, "removed": {...}, "amended": {...}} against `previous_id`
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: When the watched population was re-screened against this version (None: not yet — the
    #: import committed but the re-screen did not finish; `Qalqan.catch_up` runs it).
    rescreened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: "accepted" (went live), "pending" (held by `monitoring.guard`: it goes live only
    #: when an admin confirms it), "rejected" (an admin refused it, or a later import replaced it
    #: while it waited). Only a version that went live ever closes alerts.
    status: Mapped[str] = mapped_column(String(CODE), default="accepted", server_default="accepted")
    #: Why it was held: [{"rule": ..., "detail": ...}] (empty when it was not).
    held: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: Who confirmed, forced or rejected it, when, and why (None for an import that went live by itself).
    decided_by: Mapped[str | None] = mapped_column(String(KEY))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str | None] = mapped_column(Text)


class EntityRecord(Base):
    """One content of one listed party, stored once however many versions carry it."""

    __tablename__ = "entity_records"
    __table_args__ = (UniqueConstraint("list_name", "key", "hash"), Index("ix_entity_records_entity_id", "entity_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    list_name: Mapped[str] = mapped_column(ForeignKey("lists.name"))
    key: Mapped[str] = mapped_column(String(KEY))  # stable identity within the list (see module doc)
    hash: Mapped[str] = mapped_column(String(HASH))  # model.codec.entity_hash plus the entity id
    entity_id: Mapped[str] = mapped_column(String(KEY))
    schema: Mapped[str] = mapped_column(String(CODE))
    caption: Mapped[str] = mapped_column(String(1000))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # model.codec.entity_to_dict


class VersionEntity(Base):
    """Membership: which entity records make up a list version."""

    __tablename__ = "version_entities"
    __table_args__ = (Index("ix_version_entities_record", "record_id"),)

    version_id: Mapped[int] = mapped_column(BigId, ForeignKey("list_versions.id", ondelete="CASCADE"), primary_key=True)
    record_id: Mapped[int] = mapped_column(BigId, ForeignKey("entity_records.id"), primary_key=True)


class ListChange(Base):
    """One line of the stored diff between a version and the one before it."""

    __tablename__ = "list_changes"
    __table_args__ = (Index("ix_list_changes_version", "version_id", "change"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(BigId, ForeignKey("list_versions.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(KEY))
    change: Mapped[str] = mapped_column(String(CODE))  # "added" | "removed" | "amended"
    schema: Mapped[str] = mapped_column(String(CODE))
    caption: Mapped[str] = mapped_column(String(1000))
    old_record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("entity_records.id"))
    new_record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("entity_records.id"))
    #: amended: [{"field": "names", "old": [...], "new": [...]}, ...]
    fields: Mapped[list[Any]] = mapped_column(JSON, default=list)


class Subject(Base):
    """A watched person or organisation: the screening-input record plus the client's own id."""

    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    external_id: Mapped[str] = mapped_column(String(KEY), unique=True)  # the client's system id
    schema: Mapped[str] = mapped_column(String(CODE))
    caption: Mapped[str] = mapped_column(String(1000))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # screening-input columns (sources.queries)
    hash: Mapped[str] = mapped_column(String(HASH))  # content hash of `data`
    #: Space-separated name-token keys and document numbers, for the delta re-screen's prefilter.
    tokens: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(KEY))
    #: Set when removed: the row stays (alerts and audit refer to it) but its data is erased.
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    screened_version: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # list -> version id last screened


class Alert(Base):
    """A possible match of a subject to a listed party, awaiting or carrying a human decision.

    A watched subject's alert names the subject; a traveller's (travel screening) names the
    traveller instead, with the time of their first departure (the queue's urgency) and, for a
    lost or stolen travel document, no entity record (the document list has none)."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("subject_id", "list_name", "entity_key", "generation"),
        Index("ix_alerts_status", "status", "id"),
        Index("ix_alerts_pair", "list_name", "entity_key"),
        # The queue's pages at 100k+ alerts (`service.alerts.list_alerts`): each sort, alone and
        # under a status filter, ties broken by id; and a user's own queue.
        Index("ix_alerts_created", "created_at", "id"),
        Index("ix_alerts_score", "score", "id"),
        Index("ix_alerts_status_created", "status", "created_at", "id"),
        Index("ix_alerts_status_score", "status", "score", "id"),
        Index("ix_alerts_status_updated", "status", "updated_at", "id"),
        Index("ix_alerts_assignee_status", "assignee", "status", "id"),
        Index("ix_alerts_status_departure", "status", "departure_at", "id"),
        Index("ix_alerts_traveller", "traveller_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("subjects.id"))  # None: a traveller's alert
    traveller_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("travellers.id"))
    #: A traveller's first scheduled departure (local time as the message gives it, stored naive-UTC).
    departure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    list_name: Mapped[str] = mapped_column(ForeignKey("lists.name"))
    entity_key: Mapped[str] = mapped_column(String(KEY))
    generation: Mapped[int] = mapped_column(Integer, default=1)  # 2, 3, ...: re-raised after data changed
    entity_id: Mapped[str] = mapped_column(String(KEY))
    entity_caption: Mapped[str] = mapped_column(String(1000))
    record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("entity_records.id"))  # entity content matched (None: a lost document)
    version_id: Mapped[int] = mapped_column(BigId, ForeignKey("list_versions.id"))  # version that produced it
    subject_hash: Mapped[str] = mapped_column(String(HASH))  # subject content matched
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[list[Any]] = mapped_column(JSON)  # Match.as_dict()["explanation"]
    status: Mapped[str] = mapped_column(String(CODE))  # monitoring.alerts.AlertStatus
    trigger: Mapped[str] = mapped_column(String(CODE))  # "new-subject" | "list-added" | "list-amended" | "data-changed" | ...
    #: What changed since the previous alert on the same pair (for generation > 1).
    changes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    assignee: Mapped[str | None] = mapped_column(String(KEY))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Decision(Base):
    """A step in an alert's life, by a named user with a reason."""

    __tablename__ = "alert_decisions"
    __table_args__ = (Index("ix_alert_decisions_alert", "alert_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(BigId, ForeignKey("alerts.id"))
    actor: Mapped[str] = mapped_column(String(KEY))
    action: Mapped[str] = mapped_column(String(CODE))
    from_status: Mapped[str] = mapped_column(String(CODE))
    to_status: Mapped[str] = mapped_column(String(CODE))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The audit entry that records this decision (its detail carries a digest of every decision
    #: bound to it), so `audit verify` finds a decision row edited, inserted or deleted behind the
    #: log's back. NULL only for rows written before the binding existed; verify reports them.
    audit_seq: Mapped[int | None] = mapped_column(BigInteger, index=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(KEY), unique=True)
    role: Mapped[str] = mapped_column(String(CODE))  # analyst | supervisor | admin | auditor
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: argon2id of the web interface password (None: no password, the user cannot log in on the web).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Failed web logins since the last success; at `service.web_sessions.MAX_FAILURES` the
    #: account is locked until `locked_until`.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A web interface login. Only the SHA-256 (hex) of the session token is kept, never the
    token; `ended_at` is set on logout, expiry, a password change or a disabled user."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(HASH), unique=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    csrf: Mapped[str] = mapped_column(String(HASH))
    #: Why this session's views are made (recorded on the audit entries of what it reads).
    purpose: Mapped[str | None] = mapped_column(Text)
    client: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """An API key: the secret is shown once; only its argon2 hash is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    prefix: Mapped[str] = mapped_column(String(CODE), unique=True)  # public part, to find the row
    hash: Mapped[str] = mapped_column(String(KEY))  # argon2id of the whole key
    label: Mapped[str] = mapped_column(String(KEY), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Who made it: the holder (their own key), an admin, "cli:<login>" or "system". A key made
    #: for someone else is audited as "key.issue". None: made before issuers were recorded.
    created_by: Mapped[str | None] = mapped_column(String(KEY))


class AuditEntry(Base):
    """Append-only audit log. Each row carries the hash of the one before (a hash chain), so an
    edited, inserted or deleted row is found by `qalqan audit verify`.

    `at` and `detail` are stored as text exactly as hashed: a JSON column could re-order keys
    (PostgreSQL jsonb does) and a timestamp column could change precision.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_actor", "actor", "seq"), Index("ix_audit_log_target", "target", "seq"))

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)  # 1, 2, ... no gaps
    at: Mapped[str] = mapped_column(String(CODE))  # ISO 8601 UTC, microseconds
    actor: Mapped[str] = mapped_column(String(KEY))
    action: Mapped[str] = mapped_column(String(64))  # e.g. "screen", "alert.view", "alert.decide", "list.import", "login"
    target: Mapped[str] = mapped_column(String(KEY), default="")  # e.g. "alert:12", "list:un"
    purpose: Mapped[str] = mapped_column(String(1000), default="")
    input_hash: Mapped[str] = mapped_column(String(HASH), default="")  # SHA-256 of a screening request's body
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(HASH))
    hash: Mapped[str] = mapped_column(String(HASH))


class AuditHead(Base):
    """The chain head: the last audit entry's seq and hash, MAC'd. One row (id 1). Appenders lock
    it (SELECT ... FOR UPDATE) so entries are numbered and chained one at a time."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigId)
    hash: Mapped[str] = mapped_column(String(HASH))
    mac: Mapped[str] = mapped_column(String(HASH))


class Job(Base):
    """A background job (bulk subject import, list import) and its progress."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(CODE), primary_key=True)  # random, unguessable
    kind: Mapped[str] = mapped_column(String(CODE))
    status: Mapped[str] = mapped_column(String(CODE))  # queued | running | done | failed | interrupted
    total: Mapped[int | None] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(KEY))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- Exchange with partner agencies (service/exchange.py; docs/exchange.md) ---------------------


class ExchangePartner(Base):
    """A partner organisation: who it is on the wire (its STIX identity), how it reads from us
    (the local user of role "partner" whose API key its TAXII client sends), and where we pull
    from it (its TAXII API root and collection, with the credential we send)."""

    __tablename__ = "exchange_partners"

    org: Mapped[str] = mapped_column(String(64), primary_key=True)  # short code, e.g. "kg-border"
    name: Mapped[str] = mapped_column(String(KEY))
    identity_id: Mapped[str] = mapped_column(String(KEY), unique=True)  # its STIX identity ("identity--...")
    user: Mapped[str | None] = mapped_column(String(KEY))  # local user (role partner) it authenticates as
    url: Mapped[str | None] = mapped_column(String(1000))  # its TAXII 2.1 API root, pulled by `sync`
    collection: Mapped[str | None] = mapped_column(String(KEY))  # collection id there (None: the first readable)
    #: What we send when we pull: "user:secret" (HTTP Basic), a bearer token, or "env:NAME" (read
    #: from the environment at sync time, so the secret need not sit in the database).
    credential: Mapped[str | None] = mapped_column(Text)
    community: Mapped[bool] = mapped_column(Boolean, default=False)  # a member of this node's community
    connected: Mapped[bool] = mapped_column(Boolean, default=True)  # a connected partner node
    relay: Mapped[bool] = mapped_column(Boolean, default=False)  # may serve objects made by other organisations
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    added_by: Mapped[str] = mapped_column(String(KEY))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SharingGroupRow(Base):
    """A named set of member organisations (members need not see each other: the member list
    never goes on the wire)."""

    __tablename__ = "exchange_groups"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    members: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(KEY))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExchangeObject(Base):
    """One version of one STIX object this node holds: made here (source NULL) or pulled from a
    partner; with the policy the egress filter reads (never sent: members and recipients)."""

    __tablename__ = "exchange_objects"
    __table_args__ = (
        UniqueConstraint("stix_id", "version"),
        Index("ix_exchange_objects_added", "date_added", "id"),
        Index("ix_exchange_objects_type", "type", "originator"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    stix_id: Mapped[str] = mapped_column(String(KEY))
    version: Mapped[str] = mapped_column(String(CODE))  # `modified` (or `created`), as written
    type: Mapped[str] = mapped_column(String(CODE))
    kind: Mapped[str] = mapped_column(String(CODE), default="")  # subject | group | warning | document | indicator | sighting | ack | proposal | other
    originator: Mapped[str] = mapped_column(String(64))  # org code of created_by_ref
    source: Mapped[str | None] = mapped_column(String(64))  # partner it was pulled from (NULL: made here)
    distribution: Mapped[str] = mapped_column(String(CODE))
    sharing_group: Mapped[str | None] = mapped_column(String(64))
    tlp: Mapped[str] = mapped_column(String(CODE))
    recipients: Mapped[list[Any]] = mapped_column(JSON, default=list)
    hops: Mapped[int] = mapped_column(Integer, default=0)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The newest version of its object on this node (TAXII's default `match[version]=last`).
    latest: Mapped[bool] = mapped_column(Boolean, default=True)
    refs: Mapped[str] = mapped_column(String(KEY), default="")  # object_ref / sighting_of_ref it is about
    date_added: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class Tombstone(Base):
    """A retracted object: an older copy of it is never imported again."""

    __tablename__ = "exchange_tombstones"

    stix_id: Mapped[str] = mapped_column(String(KEY), primary_key=True)
    originator: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(CODE))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SyncState(Base):
    """Where the pull from a partner stands: the last X-TAXII-Date-Added-Last seen (resumes there)."""

    __tablename__ = "exchange_sync"

    partner: Mapped[str] = mapped_column(String(64), primary_key=True)
    added_after: Mapped[str | None] = mapped_column(String(CODE))
    last_run: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_ok: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    pulled: Mapped[int] = mapped_column(Integer, default=0)


class Acknowledgement(Base):
    """A partner's (or our own) acknowledgement of a warning or of a retraction."""

    __tablename__ = "exchange_acks"
    __table_args__ = (UniqueConstraint("object_id", "kind", "org"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    object_id: Mapped[str] = mapped_column(String(KEY))  # the warning or retracted object
    kind: Mapped[str] = mapped_column(String(CODE))  # "warning" | "retraction"
    org: Mapped[str] = mapped_column(String(64))
    note_id: Mapped[str | None] = mapped_column(String(KEY))
    by: Mapped[str | None] = mapped_column(String(KEY))  # local user, for our own acks
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Escalation(Base):
    """A warning a recipient did not acknowledge by its deadline (recorded once, audited)."""

    __tablename__ = "exchange_escalations"
    __table_args__ = (UniqueConstraint("object_id", "org"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    object_id: Mapped[str] = mapped_column(String(KEY))
    org: Mapped[str] = mapped_column(String(64))
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExchangeStatus(Base):
    """The TAXII 2.1 status resource of one add-objects request a partner made (§4.3): what it
    pushed and how it went; read back only by that partner at /taxii2/api/status/{id}/."""

    __tablename__ = "exchange_status"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # a UUID
    partner: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    total: Mapped[int] = mapped_column(Integer, default=0)
    success: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # the status resource as served


class TravelMessage(Base):
    """One API (PAXLST) or PNR (PNRGOV) interchange as received, or quarantined.

    `raw` is the message as the carrier sent it (its SHA-256 in `sha256`) until the
    depersonalisation date; then it is sealed (`sealed`: encrypted with the deployment's travel
    key, readable only through an approved re-personalisation) and `raw` is emptied. The flights
    (`messages`: per message its kind, version, reference and legs) carry no personal data."""

    __tablename__ = "travel_messages"
    __table_args__ = (Index("ix_travel_messages_received", "received_at", "id"), Index("ix_travel_messages_sha256", "sha256"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(HASH))
    size: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str | None] = mapped_column(String(CODE))  # "PAXLST" | "PNRGOV" (None: unreadable)
    status: Mapped[str] = mapped_column(String(CODE))  # "stored" | "quarantined"
    error: Mapped[str | None] = mapped_column(Text)  # why it was quarantined
    error_segment: Mapped[str | None] = mapped_column(String(CODE))
    error_position: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(1000))  # "api", "cli:<file>", "inbox:<file>"
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_by: Mapped[str] = mapped_column(String(KEY))
    messages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    travellers: Mapped[int] = mapped_column(Integer, default=0)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    first_departure: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    depersonalised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: A case that holds the message past its deletion date (None: none), and who placed it.
    hold: Mapped[str | None] = mapped_column(String(KEY))
    hold_by: Mapped[str | None] = mapped_column(String(KEY))


class Traveller(Base):
    """One passenger or crew member of a stored message, as screened.

    The personal fields are masked in place at depersonalisation (their clear values go into
    `sealed`, encrypted); `doc_keys` (keyed hashes of the document numbers) and the non-personal
    fields stay, so statistics and document look-ups keep working on masked records."""

    __tablename__ = "travellers"
    __table_args__ = (Index("ix_travellers_message", "message_id", "part", "position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("travel_messages.id"))
    part: Mapped[int] = mapped_column(Integer, default=0)  # which message of the interchange
    position: Mapped[int] = mapped_column(Integer)  # 1-based, in its message
    role: Mapped[str] = mapped_column(String(CODE))  # passenger | crew | infant
    surname: Mapped[str] = mapped_column(String(1000))
    given_names: Mapped[str] = mapped_column(String(1000), default="")
    birth_date: Mapped[str | None] = mapped_column(String(CODE))
    gender: Mapped[str | None] = mapped_column(String(CODE))
    nationality: Mapped[str | None] = mapped_column(String(CODE))
    residence_country: Mapped[str | None] = mapped_column(String(CODE))
    documents: Mapped[list[Any]] = mapped_column(JSON, default=list)
    booking_reference: Mapped[str | None] = mapped_column(String(CODE))
    legs: Mapped[list[Any]] = mapped_column(JSON, default=list)  # indexes into the message's legs
    address: Mapped[str | None] = mapped_column(Text)
    contacts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    frequent_flyer: Mapped[str | None] = mapped_column(String(KEY))
    payment: Mapped[str | None] = mapped_column(Text)
    remarks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    tickets: Mapped[list[Any]] = mapped_column(JSON, default=list)
    doc_keys: Mapped[str] = mapped_column(Text, default="")
    first_departure: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    masked: Mapped[bool] = mapped_column(Boolean, default=False)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)


class LostDocument(Base):
    """A lost or stolen travel document, as one import of the document list (`version_id`, of
    the list "travel-documents") has it; `key` is the normalised number looked up."""

    __tablename__ = "lost_documents"
    __table_args__ = (Index("ix_lost_documents_key", "version_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(BigId, ForeignKey("list_versions.id"))
    key: Mapped[str] = mapped_column(String(KEY))
    number: Mapped[str] = mapped_column(String(KEY))
    country: Mapped[str | None] = mapped_column(String(CODE))
    type: Mapped[str | None] = mapped_column(String(KEY))
    reported: Mapped[str | None] = mapped_column(String(CODE))


class Repersonalisation(Base):
    """A request to see a depersonalised traveller's data in clear: by a named official with a
    reason, approved (or refused) by a supervisor other than the requester. Approved, the
    requester may read the sealed data until `expires_at`."""

    __tablename__ = "travel_repersonalisations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    traveller_id: Mapped[int] = mapped_column(BigId, ForeignKey("travellers.id"))
    requested_by: Mapped[str] = mapped_column(String(KEY))
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(CODE))  # pending | approved | refused
    decided_by: Mapped[str | None] = mapped_column(String(KEY))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ContentIndicatorRow(Base):
    """A terrorist-content indicator this node holds of its own (imported from a CSV file, a hash
    bank or a STIX bundle; see `qalqan.content.indicators`). Indicators received from partners
    stay where the exchange keeps them (`exchange_objects`, kind indicator), so a partner's
    retraction takes them out by itself. `stix_id` is set once the indicator is shared."""

    __tablename__ = "content_indicators"
    __table_args__ = (Index("ix_content_indicators_value", "type", "value"), Index("ix_content_indicators_list", "source_list"),
                      Index("ix_content_indicators_updated", "updated_at"))

    id: Mapped[str] = mapped_column(String(KEY), primary_key=True)  # content--<uuid>
    type: Mapped[str] = mapped_column(String(CODE))
    value: Mapped[str] = mapped_column(String(2048))
    category: Mapped[str] = mapped_column(String(CODE))
    source_org: Mapped[str] = mapped_column(String(KEY), default="")
    source_list: Mapped[str] = mapped_column(String(KEY), default="")
    tlp: Mapped[str] = mapped_column(String(CODE))
    valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(KEY))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retracted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retracted_by: Mapped[str | None] = mapped_column(String(KEY))
    retract_reason: Mapped[str | None] = mapped_column(Text)
    stix_id: Mapped[str | None] = mapped_column(String(KEY))


class ContentSample(Base):
    """A checked file kept because the analyst asked (by default an uploaded file is hashed and
    forgotten): its bytes, by SHA-256."""

    __tablename__ = "content_samples"

    sha256: Mapped[str] = mapped_column(String(HASH), primary_key=True)
    filename: Mapped[str] = mapped_column(String(1000), default="")
    media_type: Mapped[str] = mapped_column(String(KEY), default="")
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    kept_by: Mapped[str] = mapped_column(String(KEY))
    kept_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
