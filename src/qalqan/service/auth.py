"""Users, roles, API keys and authentication.

Roles and what they may do are one table, `PERMISSIONS` (permission -> roles); the HTTP API
declares one permission per route and a test walks the route table against it.

- analyst: screen, view lists, subjects and alerts, decide alerts;
- supervisor: as analyst, and reassign / reopen alerts, and manage the watched population;
- admin: everything an analyst or supervisor may, and lists, users and keys;
- auditor: the audit log only (read and verify). Admins do not read the audit log: the auditor
  reviews what admins do.

**Separation of duties.** A key made for someone else is its own audited act, `key.issue` (the
issuer and the holder), apart from `key.create` (a user's own key), and the issuer is kept on the
key (`api_keys.created_by`) and shown in every key list: an admin who mints a key for an analyst
and acts as them is visible as having done so. Keys for auditors are never made through the HTTP
API (`create_key(via_api=True)` refuses them, whatever the holder's role was when the user was
created): only the server's command line, run by whoever operates the host, can make one, so an
admin cannot act as the person who reviews admins.

**Reserved names.** The service writes audit entries under actors of its own: `system` (its own
work), `anonymous` (a request without a usable key), `key:<prefix>` (a key that did not
authenticate) and `cli:<login>` (the command line). No user may take such a name.

An API key is `qk_<prefix>_<secret>`, shown once. The prefix is stored in clear to find the row;
only the argon2id hash of the whole key is kept. argon2 is slow on purpose (tens of ms), so a
successful verification is cached in memory for `CACHE_TTL_SECONDS`, keyed by a SHA-256 of the
key (never the key itself); failures are never cached. The first successful use of a key in a
cache period is recorded as a "login" (a new session of use).

**Refused requests.** Every refused authentication (`login.failed`: no key, a malformed, unknown,
revoked or wrong key, a disabled user, or an attempt refused by the back-off) and every refused
authorisation (`access.denied`: the role lacks the permission) is audited with the actor (the
user, `key:<prefix>` or `anonymous`), the route (method and path), the client's address and the
reason, aggregated per (source, reason) to at most one entry a minute carrying a `count`; and
failures earn their source (client address; key prefix for failures that cost an argon2 hash) an
exponential back-off during which attempts are refused before any hash or database look-up. The
exact rules are in `service.throttle`. A key this process has verified before is not held back
by a back-off (it is the same key, by SHA-256, so no attacker can present it without holding
it): whoever floods a known prefix or shares an address with an attacker does not lock out the
key's holder.

All time is the context's clock: `now()` for what is stored, `monotonic()` for the cache, the
back-off and the aggregation periods.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from qalqan.service.context import SYSTEM, Context
from qalqan.service.throttle import Aggregator, Entry, Event, Throttle
from qalqan.store.tables import ApiKey, User

ANALYST, SUPERVISOR, ADMIN, AUDITOR = "analyst", "supervisor", "admin", "auditor"
ROLES = (ANALYST, SUPERVISOR, ADMIN, AUDITOR)

_STAFF = frozenset({ANALYST, SUPERVISOR, ADMIN})
_SUPERVISORS = frozenset({SUPERVISOR, ADMIN})
_ADMINS = frozenset({ADMIN})

#: Permission -> the roles that hold it. Every HTTP route names exactly one of these.
PERMISSIONS: Mapping[str, frozenset[str]] = {
    "screen": _STAFF,
    "lists:read": _STAFF,
    "lists:write": _ADMINS,
    "subjects:read": _STAFF,
    "subjects:write": _SUPERVISORS,  # the watched population is managed, not changed ad hoc
    "alerts:read": _STAFF,
    "alerts:decide": _STAFF,
    "alerts:supervise": _SUPERVISORS,  # reassign and reopen
    "jobs:read": _SUPERVISORS,  # the roles that can start jobs (subject and list imports)
    "users:admin": _ADMINS,
    "audit:read": frozenset({AUDITOR}),
    "docs:read": frozenset(ROLES),  # the API description: any user, but not the public
}

#: How long a verified key is trusted without hashing it again. It bounds both the argon2 cost
#: under load (one verification per key per minute) and how long a key revoked by another
#: process (the CLI) stays usable in a running server; a revocation through the API is
#: immediate in the serving process.
CACHE_TTL_SECONDS = 60.0
#: Bounds the cache's memory whatever the number of distinct keys in use.
CACHE_MAX_ENTRIES = 10_000
KEY_SCHEME = "qk"
#: 12 hex characters: 48 bits, so prefixes of randomly made keys do not collide in practice
#: (the column is unique; a collision is retried).
PREFIX_BYTES = 6
#: 32 random bytes: the secret's strength, independent of the (public) prefix.
SECRET_BYTES = 32
#: User names: letters, digits and . _ @ - (they appear in audit entries and URLs).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
BOOTSTRAP_ADMIN = "admin"
#: The actor of a request that carried no usable key.
ANONYMOUS = "anonymous"
#: Names the service's own actors use (compared without case): no user may take them.
RESERVED_NAMES = frozenset({SYSTEM, ANONYMOUS})
#: Beginnings of the service's own actors ("key:<prefix>", "cli:<login>").
RESERVED_PREFIXES = ("key:", "cli:")
#: The client of calls not made over HTTP (the command line, tests).
LOCAL_CLIENT = "local"
#: Longest route kept in an audit entry (a path is the client's to choose).
MAX_ROUTE_CHARS = 200
#: argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): a key's secret has 256
#: random bits, so the hash's cost guards nothing that brute force could reach anyway, while
#: memory per concurrent first verification (one per key per cache period) stays bounded:
#: argon2-cffi's default profile (64 MiB, 4 lanes) took 0.3 s and 64 MiB per check on 2 cores.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_PARALLELISM = 1
HASHER = PasswordHasher(time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM)

_KEY_PATTERN = re.compile(rf"^{KEY_SCHEME}_([0-9a-f]{{{2 * PREFIX_BYTES}}})_([A-Za-z0-9_-]{{20,200}})$")

# Why a request did not authenticate (the `reason` of its audit entry).
NO_KEY = "no key"
MALFORMED = "malformed key"
UNKNOWN = "unknown key"
WRONG_SECRET = "wrong secret"
REVOKED = "revoked key"
DISABLED = "disabled user"
THROTTLED = "throttled"
#: Failures that cost an argon2 verification: they are charged to the key prefix as well.
_HASHED_FAILURES = frozenset({WRONG_SECRET, REVOKED, DISABLED})


class AuthError(ValueError):
    """A user or key operation that cannot be done; the message says why, `field` names the
    input at fault."""

    def __init__(self, message: str, *, field: str = "name"):
        super().__init__(message)
        self.field = field


class NotFound(AuthError):
    """No such user."""


class Conflict(AuthError):
    """The user exists already."""


class Forbidden(AuthError):
    """Not to be done by this channel or actor (HTTP 403)."""


class Refused(Exception):
    """A request that does not authenticate: `reason` (one of the constants above) and, when the
    back-off refused it, `retry_after` seconds."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as."""

    user: str
    role: str
    key_prefix: str = ""

    def allows(self, permission: str) -> bool:
        return allowed(self.role, permission)


def allowed(role: str, permission: str) -> bool:
    """Whether `role` holds `permission` (an unknown permission is a programming error)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return role in PERMISSIONS[permission]


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite returns naive datetimes; they were written in UTC
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


# -- what a service remembers about keys: the verification cache, the back-off, the counts -------


class _Cache:
    """Verified keys of one service: SHA-256 of the key -> (principal, expiry on the monotonic
    clock); and, longer, the SHA-256 of the key last verified for each prefix (`known`), which
    lets the key's holder past a back-off."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[Principal, float]] = {}
        self.known: OrderedDict[str, str] = OrderedDict()  # prefix -> digest
        self.lock = threading.Lock()
        # One lock per key being verified, so 50 clients starting with the same key hash it once.
        self.pending: dict[str, threading.Lock] = {}

    def get(self, digest: str, now: float) -> Principal | None:
        with self.lock:
            hit = self.entries.get(digest)
            if hit is None:
                return None
            if hit[1] <= now:
                del self.entries[digest]
                return None
            return hit[0]

    def put(self, digest: str, principal: Principal, now: float) -> None:
        with self.lock:
            if len(self.entries) >= CACHE_MAX_ENTRIES:
                for k in [k for k, (_, exp) in self.entries.items() if exp <= now]:
                    del self.entries[k]
                while len(self.entries) >= CACHE_MAX_ENTRIES:  # still full: drop the oldest
                    del self.entries[next(iter(self.entries))]
            self.entries[digest] = (principal, now + CACHE_TTL_SECONDS)
            self.known.pop(principal.key_prefix, None)
            while len(self.known) >= CACHE_MAX_ENTRIES:
                self.known.popitem(last=False)
            self.known[principal.key_prefix] = digest

    def is_known(self, prefix: str, digest: str) -> bool:
        with self.lock:
            return self.known.get(prefix) == digest

    def drop(self, *, prefix: str | None = None, user: str | None = None) -> None:
        with self.lock:
            for k in [k for k, (p, _) in self.entries.items() if (prefix is not None and p.key_prefix == prefix) or (user is not None and p.user == user)]:
                del self.entries[k]
            if prefix is not None:
                self.known.pop(prefix, None)

    def key_lock(self, digest: str) -> threading.Lock:
        with self.lock:
            return self.pending.setdefault(digest, threading.Lock())

    def release(self, digest: str) -> None:
        with self.lock:
            self.pending.pop(digest, None)


class _State:
    """What one service remembers between requests (in memory, bounded)."""

    def __init__(self) -> None:
        self.cache = _Cache()
        self.throttle = Throttle()
        self.failures = Aggregator()


_states: weakref.WeakKeyDictionary[Any, _State] = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()


def _state(ctx: Context) -> _State:
    with _states_lock:
        state = _states.get(ctx)
        if state is None:
            state = _states[ctx] = _State()
        return state


def clear_cache(ctx: Context) -> None:
    """Forget every verified key (the next request of each is verified and logged in again).
    The back-off and the failure counts are kept."""
    _state(ctx).cache = _Cache()


def flush_failures(ctx: Context) -> int:
    """Write every failure count not yet in the audit log (at shutdown); the entries written."""
    entries = _state(ctx).failures.drain()
    _write(ctx, entries)
    return len(entries)


def reset_throttle(ctx: Context) -> None:
    """Lift every back-off and forget the failures behind them (an operator who has dealt with
    the cause; tests that refuse many requests on purpose). Counts not yet written are written."""
    flush_failures(ctx)
    _state(ctx).throttle = Throttle()


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


# -- users and keys -----------------------------------------------------------------------------


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}", field="role")
    return role


def check_name(name: str) -> str:
    """`name` if a user may have it; AuthError (field "name") if not."""
    if not NAME_PATTERN.match(name or ""):
        raise AuthError(f"invalid user name {name!r}: 1-100 letters, digits or . _ @ -, starting with a letter or digit")
    folded = name.casefold()
    if folded in RESERVED_NAMES or folded.startswith(RESERVED_PREFIXES):
        raise AuthError(f"user name {name!r} is reserved: the service records its own actions under it")
    return name


def _user_dict(user: User, keys: list[ApiKey] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": user.name, "role": user.role, "active": user.active, "created_at": _iso(user.created_at)}
    if keys is not None:
        out["keys"] = [_key_dict(k) for k in keys]
    return out


def _key_dict(key: ApiKey, user: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {} if user is None else {"user": user}
    out |= {
        "prefix": key.prefix,
        "label": key.label,
        "created_at": _iso(key.created_at),
        "created_by": key.created_by,  # None: made before issuers were recorded
        "last_used_at": _iso(key.last_used_at),
        "revoked_at": _iso(key.revoked_at),
    }
    return out


def create_user(ctx: Context, name: str, role: str, *, actor: str) -> dict[str, Any]:
    """Add a user with `role`; raises AuthError for a bad or reserved name or a bad role, and
    Conflict for an existing user."""
    check_name(name)
    _check_role(role)
    try:
        with ctx.transaction() as s:
            if s.execute(select(User.id).where(User.name == name)).first() is not None:
                raise Conflict(f"user {name!r} already exists")
            user = User(name=name, role=role, active=True, created_at=ctx.clock.now())
            s.add(user)
            s.flush()
            ctx.audit(s, actor=actor, action="user.create", target=f"user:{name}", detail={"role": role})
            return _user_dict(user, [])
    except IntegrityError:  # created by someone else between our check and insert
        raise Conflict(f"user {name!r} already exists") from None


def list_users(ctx: Context, *, offset: int = 0, limit: int = 100) -> tuple[list[dict[str, Any]], int]:
    """(users in name order with their keys' public parts and issuers, total number of users)."""
    with ctx.db.session() as s:
        total = s.execute(select(func.count()).select_from(User)).scalar_one()
        users = s.execute(select(User).order_by(User.name).offset(offset).limit(limit)).scalars().all()
        ids = [u.id for u in users]
        keys: dict[int, list[ApiKey]] = {i: [] for i in ids}
        if ids:
            for k in s.execute(select(ApiKey).where(ApiKey.user_id.in_(ids)).order_by(ApiKey.id)).scalars():
                keys[k.user_id].append(k)
        return [_user_dict(u, keys[u.id]) for u in users], int(total)


def list_keys(ctx: Context, user: str | None = None) -> list[dict[str, Any]]:
    """Every key (of `user`, when given) with its holder and issuer, oldest first; NotFound for
    an unknown user."""
    with ctx.db.session() as s:
        stmt = select(ApiKey, User.name).join(User, User.id == ApiKey.user_id).order_by(ApiKey.id)
        if user is not None:
            if s.execute(select(User.id).where(User.name == user)).first() is None:
                raise NotFound(f"no such user {user!r}")
            stmt = stmt.where(User.name == user)
        return [_key_dict(k, name) for k, name in s.execute(stmt)]


def create_key(ctx: Context, user: str, *, actor: str, label: str = "", via_api: bool = False) -> str:
    """Make an API key for `user` and return it: the only time it is ever shown.

    Audited as `key.create` when `actor` makes their own key, else as `key.issue` naming the
    issuer and the holder; the issuer is kept on the key. `via_api`: the request came through
    the HTTP API, which may not make a key for an auditor (Forbidden).
    """
    if len(label) > 200:
        raise AuthError("label: at most 200 characters", field="label")
    for _attempt in range(3):  # a prefix collision (48 random bits) is retried, not reported
        prefix = secrets.token_hex(PREFIX_BYTES)
        key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
        hashed = HASHER.hash(key)  # outside the transaction: it is the slow part
        try:
            with ctx.transaction() as s:
                row = s.execute(select(User).where(User.name == user)).scalar_one_or_none()
                if row is None:
                    raise NotFound(f"no such user {user!r}")
                if not row.active:
                    raise AuthError(f"user {user!r} is disabled")
                if via_api and row.role == AUDITOR:  # checked with the row the key is written for
                    raise Forbidden(
                        f"user {user!r} is an auditor: keys for auditors are not made through the API, only on the server's command line "
                        f"(qalqan keys create {user}), so no admin can act as the person who reviews admins"
                    )
                s.add(ApiKey(user_id=row.id, prefix=prefix, hash=hashed, label=label, created_at=ctx.clock.now(), created_by=actor))
                s.flush()
                if actor == user:
                    ctx.audit(s, actor=actor, action="key.create", target=f"key:{prefix}", detail={"user": user, "label": label})
                else:
                    detail = {"user": user, "issuer": actor, "holder": user, "role": row.role, "label": label}
                    ctx.audit(s, actor=actor, action="key.issue", target=f"key:{prefix}", detail=detail)
            return key
        except IntegrityError:
            continue
    raise AuthError("could not allocate a unique key prefix")  # pragma: no cover - 2^-48 thrice


def revoke_key(ctx: Context, prefix: str, *, actor: str) -> bool:
    """Revoke the key with `prefix`; False if there is no such key or it was already revoked.
    The serving process forgets it at once; another process within `CACHE_TTL_SECONDS`."""
    with ctx.transaction() as s:
        row = s.execute(select(ApiKey).where(ApiKey.prefix == prefix)).scalar_one_or_none()
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = ctx.clock.now()
        owner = s.get(User, row.user_id)
        ctx.audit(s, actor=actor, action="key.revoke", target=f"key:{prefix}", detail={"user": owner.name if owner else ""})
    _state(ctx).cache.drop(prefix=prefix)
    return True


def ensure_admin(ctx: Context, *, actor: str = SYSTEM) -> str | None:
    """When the store has no user at all, create the admin user `BOOTSTRAP_ADMIN` and a key for
    it, and return that key (to be shown once); otherwise None."""
    with ctx.db.session() as s:
        if s.execute(select(User.id).limit(1)).first() is not None:
            return None
    try:
        create_user(ctx, BOOTSTRAP_ADMIN, ADMIN, actor=actor)
    except Conflict:  # another process bootstrapped first
        return None
    return create_key(ctx, BOOTSTRAP_ADMIN, actor=actor, label="bootstrap")


# -- authentication -------------------------------------------------------------------------------


def parse_key(key: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    m = _KEY_PATTERN.match(key)
    return m.group(1) if m else None


@dataclass(frozen=True, slots=True)
class _Attempt:
    """One authentication attempt: what the back-off and the audit entries need of it."""

    key: str
    digest: str
    prefix: str | None
    client: str
    route: str

    @property
    def client_source(self) -> str:
        return f"client:{self.client}"

    @property
    def sources(self) -> list[str]:
        return [self.client_source] + ([f"key:{self.prefix}"] if self.prefix else [])

    def event(self, reason: str, ctx: Context, *, actor: str | None = None, **detail: Any) -> Event:
        who = f"key:{self.prefix}" if self.prefix else ANONYMOUS
        return Event(
            actor=actor or who,
            action="login.failed",
            target=f"key:{self.prefix}" if self.prefix else "",
            detail={"reason": reason, "route": self.route, "client": self.client, "last_at": ctx.clock.now().isoformat(), **detail},
        )


def check_key(ctx: Context, key: str, *, client: str = LOCAL_CLIENT, route: str = "") -> Principal:
    """The principal `key` belongs to; Refused if it does not authenticate (no key, a malformed,
    unknown, revoked or wrong key, a disabled user) or its source is backing off. `client` is the
    caller's address, `route` what it asked for ("GET /alerts"); both go into the audit entry."""
    state = _state(ctx)
    now = ctx.clock.monotonic()
    _write(ctx, state.failures.due(now))  # counts of periods that are over
    digest = _digest(key) if key else ""
    if key:
        hit = state.cache.get(digest, now)
        if hit is not None:
            return hit
    attempt = _Attempt(key, digest, parse_key(key) if key else None, client, route[:MAX_ROUTE_CHARS])
    _hold_back(ctx, state, attempt, now)
    if not key:
        _fail(ctx, state, attempt, NO_KEY)
    if attempt.prefix is None:
        _fail(ctx, state, attempt, MALFORMED)
    lock = state.cache.key_lock(digest)
    with lock:
        now = ctx.clock.monotonic()
        hit = state.cache.get(digest, now)  # verified by a concurrent request while we waited
        if hit is not None:
            return hit
        _hold_back(ctx, state, attempt, now)  # or blocked by concurrent failures while we waited
        try:
            principal, reason, holder = _verify(ctx, key, attempt.prefix)
            if principal is not None:  # cached before the lock goes, so no one verifies it twice
                state.cache.put(digest, principal, ctx.clock.monotonic())
                return principal
            # Counted before the lock goes, so requests waiting with the same key see the back-off.
            _fail(ctx, state, attempt, reason, actor=holder)
        finally:
            state.cache.release(digest)


def authenticate(ctx: Context, key: str, *, client: str = LOCAL_CLIENT, route: str = "") -> Principal | None:
    """`check_key`, with None for a key that does not authenticate (for any reason)."""
    try:
        return check_key(ctx, key, client=client, route=route)
    except Refused:
        return None


def record_denied(ctx: Context, principal: Principal, reason: str, *, client: str = LOCAL_CLIENT, route: str = "", permission: str = "") -> None:
    """Audit a refused authorisation (`access.denied`: an authenticated user may not do what it
    asked), aggregated as failed logins are (per user and reason, at most one entry a minute)."""
    route = route[:MAX_ROUTE_CHARS]
    detail: dict[str, Any] = {"reason": reason, "route": route, "client": client, "role": principal.role, "last_at": ctx.clock.now().isoformat()}
    if permission:
        detail["permission"] = permission
    if principal.key_prefix:
        detail["key"] = principal.key_prefix
    event = Event(actor=principal.user, action="access.denied", target=route, detail=detail)
    _write(ctx, _state(ctx).failures.add((f"user:{principal.user}", reason), event, ctx.clock.monotonic()))


def _hold_back(ctx: Context, state: _State, attempt: _Attempt, now: float) -> None:
    """Refuse the attempt (before any hash or look-up) while one of its sources backs off,
    unless it presents the very key last verified for its prefix."""
    if attempt.prefix is not None and state.cache.is_known(attempt.prefix, attempt.digest):
        return
    blocked = state.throttle.blocked(attempt.sources, now)
    if blocked is None:
        return
    source, seconds = blocked
    event = attempt.event(THROTTLED, ctx, blocked_by=source)
    _write(ctx, state.failures.add((source, THROTTLED), event, now))
    raise Refused(THROTTLED, retry_after=seconds)


def _fail(ctx: Context, state: _State, attempt: _Attempt, reason: str, *, actor: str | None = None) -> NoReturn:
    """Count a failure against its sources, audit it (aggregated) and raise Refused."""
    now = ctx.clock.monotonic()
    hashed = reason in _HASHED_FAILURES
    state.throttle.failed(attempt.sources if hashed else [attempt.client_source], now)
    if attempt.prefix is not None and state.cache.is_known(attempt.prefix, attempt.digest):
        state.cache.drop(prefix=attempt.prefix)  # the known key no longer works: no more passes
    _write(ctx, state.failures.add((attempt.client_source, reason), attempt.event(reason, ctx, actor=actor), now))
    raise Refused(reason)


def _write(ctx: Context, entries: list[Entry]) -> None:
    if not entries:
        return
    with ctx.transaction() as s:
        for e in entries:
            ctx.audit(s, actor=e.event.actor, action=e.event.action, target=e.event.target, detail=e.detail())


def _verify(ctx: Context, key: str, prefix: str) -> tuple[Principal | None, str, str | None]:
    """(the principal, "", its user) or (None, the reason it failed, the holder's name when the
    secret was right)."""
    with ctx.db.session() as s:
        found = s.execute(select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.prefix == prefix)).first()
    if found is None:
        return None, UNKNOWN, None
    row, user = found
    try:
        HASHER.verify(row.hash, key)
    except (VerificationError, InvalidHashError):
        return None, WRONG_SECRET, None
    # Checked after the hash, so only the key's holder learns a key is revoked.
    if row.revoked_at is not None:
        return None, REVOKED, user.name
    if not user.active:
        return None, DISABLED, user.name
    with ctx.transaction() as s:
        current = s.get(ApiKey, row.id)
        if current is None or current.revoked_at is not None:  # revoked while we verified
            return None, REVOKED, user.name
        current.last_used_at = ctx.clock.now()
        ctx.audit(s, actor=user.name, action="login", target=f"key:{prefix}", detail={"role": user.role, "label": row.label})
    return Principal(user.name, user.role, prefix), "", user.name
