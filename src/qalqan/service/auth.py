"""Users, roles, API keys and authentication.

Roles and what they may do are one table, `PERMISSIONS` (permission -> roles); the HTTP API
declares one permission per route and a test walks the route table against it.

- analyst: screen, view lists, subjects and alerts, decide alerts;
- supervisor: as analyst, and reassign / reopen alerts, and manage the watched population;
- admin: everything an analyst or supervisor may, and lists, users and keys;
- auditor: the audit log only (read and verify). Admins do not read the audit log: the auditor
  reviews what admins do, and an admin creating an auditor key is itself an audited act.

An API key is `qk_<prefix>_<secret>`, shown once. The prefix is stored in clear to find the row;
only the argon2id hash of the whole key is kept. argon2 is slow on purpose (tens of ms), so a
successful verification is cached in memory for `CACHE_TTL_SECONDS`, keyed by a SHA-256 of the
key (never the key itself); failures are never cached. The first successful use of a key in a
cache period is recorded as a "login" (a new session of use); every failed attempt with a key is
recorded as "login.failed".
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from qalqan.store.tables import ApiKey, User

if TYPE_CHECKING:
    from qalqan.service.core import Qalqan

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
#: argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): a key's secret has 256
#: random bits, so the hash's cost guards nothing that brute force could reach anyway, while
#: memory per concurrent first verification (one per key per cache period) stays bounded:
#: argon2-cffi's default profile (64 MiB, 4 lanes) took 0.3 s and 64 MiB per check on 2 cores.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_PARALLELISM = 1
HASHER = PasswordHasher(time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM)

_KEY_PATTERN = re.compile(rf"^{KEY_SCHEME}_([0-9a-f]{{{2 * PREFIX_BYTES}}})_([A-Za-z0-9_-]{{20,200}})$")


class AuthError(ValueError):
    """A user or key operation that cannot be done; the message says why."""


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


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite returns naive datetimes; they were written in UTC
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


# -- the verification cache -----------------------------------------------------------------------


class _Cache:
    """Verified keys of one service: SHA-256 of the key -> (principal, expiry on the monotonic clock)."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[Principal, float]] = {}
        self.lock = threading.Lock()
        # One lock per key being verified, so 50 clients starting with the same key hash it once.
        self.pending: dict[str, threading.Lock] = {}

    def get(self, digest: str) -> Principal | None:
        with self.lock:
            hit = self.entries.get(digest)
            if hit is None:
                return None
            if hit[1] <= time.monotonic():
                del self.entries[digest]
                return None
            return hit[0]

    def put(self, digest: str, principal: Principal) -> None:
        with self.lock:
            if len(self.entries) >= CACHE_MAX_ENTRIES:
                now = time.monotonic()
                for k in [k for k, (_, exp) in self.entries.items() if exp <= now]:
                    del self.entries[k]
                while len(self.entries) >= CACHE_MAX_ENTRIES:  # still full: drop the oldest
                    del self.entries[next(iter(self.entries))]
            self.entries[digest] = (principal, time.monotonic() + CACHE_TTL_SECONDS)

    def drop(self, *, prefix: str | None = None, user: str | None = None) -> None:
        with self.lock:
            for k in [k for k, (p, _) in self.entries.items() if (prefix is not None and p.key_prefix == prefix) or (user is not None and p.user == user)]:
                del self.entries[k]

    def key_lock(self, digest: str) -> threading.Lock:
        with self.lock:
            return self.pending.setdefault(digest, threading.Lock())

    def release(self, digest: str) -> None:
        with self.lock:
            self.pending.pop(digest, None)


_caches: weakref.WeakKeyDictionary[Any, _Cache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache(q: Qalqan) -> _Cache:
    with _caches_lock:
        cache = _caches.get(q)
        if cache is None:
            cache = _caches[q] = _Cache()
        return cache


def clear_cache(q: Qalqan) -> None:
    """Forget every verified key (the next request of each is verified and logged in again)."""
    with _caches_lock:
        _caches.pop(q, None)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


# -- users and keys -----------------------------------------------------------------------------


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    return role


def _user_dict(user: User, keys: list[ApiKey] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": user.name, "role": user.role, "active": user.active, "created_at": _iso(user.created_at)}
    if keys is not None:
        out["keys"] = [_key_dict(k) for k in keys]
    return out


def _key_dict(key: ApiKey) -> dict[str, Any]:
    return {
        "prefix": key.prefix,
        "label": key.label,
        "created_at": _iso(key.created_at),
        "last_used_at": _iso(key.last_used_at),
        "revoked_at": _iso(key.revoked_at),
    }


def create_user(q: Qalqan, name: str, role: str, *, actor: str) -> dict[str, Any]:
    """Add a user with `role`; raises AuthError for a bad name or role or an existing user."""
    if not NAME_PATTERN.match(name or ""):
        raise AuthError(f"invalid user name {name!r}: 1-100 letters, digits or . _ @ -, starting with a letter or digit")
    _check_role(role)
    try:
        with q.transaction() as s:
            if s.execute(select(User.id).where(User.name == name)).first() is not None:
                raise AuthError(f"user {name!r} already exists")
            user = User(name=name, role=role, active=True, created_at=_now())
            s.add(user)
            s.flush()
            q.audit(s, actor=actor, action="user.create", target=f"user:{name}", detail={"role": role})
            return _user_dict(user, [])
    except IntegrityError:  # created by someone else between our check and insert
        raise AuthError(f"user {name!r} already exists") from None


def list_users(q: Qalqan, *, offset: int = 0, limit: int = 100) -> tuple[list[dict[str, Any]], int]:
    """(users in name order with their keys' public parts, total number of users)."""
    with q.db.session() as s:
        total = s.execute(select(func.count()).select_from(User)).scalar_one()
        users = s.execute(select(User).order_by(User.name).offset(offset).limit(limit)).scalars().all()
        ids = [u.id for u in users]
        keys: dict[int, list[ApiKey]] = {i: [] for i in ids}
        if ids:
            for k in s.execute(select(ApiKey).where(ApiKey.user_id.in_(ids)).order_by(ApiKey.id)).scalars():
                keys[k.user_id].append(k)
        return [_user_dict(u, keys[u.id]) for u in users], int(total)


def create_key(q: Qalqan, user: str, *, actor: str, label: str = "") -> str:
    """Make an API key for `user` and return it: the only time it is ever shown."""
    if len(label) > 200:
        raise AuthError("label: at most 200 characters")
    for _attempt in range(3):  # a prefix collision (48 random bits) is retried, not reported
        prefix = secrets.token_hex(PREFIX_BYTES)
        key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
        hashed = HASHER.hash(key)  # outside the transaction: it is the slow part
        try:
            with q.transaction() as s:
                row = s.execute(select(User).where(User.name == user)).scalar_one_or_none()
                if row is None:
                    raise AuthError(f"no such user {user!r}")
                if not row.active:
                    raise AuthError(f"user {user!r} is disabled")
                s.add(ApiKey(user_id=row.id, prefix=prefix, hash=hashed, label=label, created_at=_now()))
                s.flush()
                q.audit(s, actor=actor, action="key.create", target=f"key:{prefix}", detail={"user": user, "label": label})
            return key
        except IntegrityError:
            continue
    raise AuthError("could not allocate a unique key prefix")  # pragma: no cover - 2^-48 thrice


def revoke_key(q: Qalqan, prefix: str, *, actor: str) -> bool:
    """Revoke the key with `prefix`; False if there is no such key or it was already revoked.
    The serving process forgets it at once; another process within `CACHE_TTL_SECONDS`."""
    with q.transaction() as s:
        row = s.execute(select(ApiKey).where(ApiKey.prefix == prefix)).scalar_one_or_none()
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = _now()
        owner = s.get(User, row.user_id)
        q.audit(s, actor=actor, action="key.revoke", target=f"key:{prefix}", detail={"user": owner.name if owner else ""})
    _cache(q).drop(prefix=prefix)
    return True


def ensure_admin(q: Qalqan, *, actor: str = "system") -> str | None:
    """When the store has no user at all, create the admin user `BOOTSTRAP_ADMIN` and a key for
    it, and return that key (to be printed once); otherwise None."""
    with q.db.session() as s:
        if s.execute(select(User.id).limit(1)).first() is not None:
            return None
    try:
        create_user(q, BOOTSTRAP_ADMIN, ADMIN, actor=actor)
    except AuthError:  # another process bootstrapped first
        return None
    return create_key(q, BOOTSTRAP_ADMIN, actor=actor, label="bootstrap")


# -- authentication -------------------------------------------------------------------------------


def parse_key(key: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    m = _KEY_PATTERN.match(key)
    return m.group(1) if m else None


def _failed(q: Qalqan, prefix: str | None, reason: str) -> None:
    with q.transaction() as s:
        q.audit(s, actor=f"key:{prefix}" if prefix else "anonymous", action="login.failed", target=f"key:{prefix}" if prefix else "", detail={"reason": reason})


def authenticate(q: Qalqan, key: str) -> Principal | None:
    """The principal `key` belongs to, or None (a malformed, unknown, revoked or wrong key, or a
    disabled user); failures are recorded, never cached."""
    if not key:
        return None
    digest = _digest(key)
    cache = _cache(q)
    hit = cache.get(digest)
    if hit is not None:
        return hit
    prefix = parse_key(key)
    if prefix is None:
        _failed(q, None, "malformed key")
        return None
    lock = cache.key_lock(digest)
    with lock:
        hit = cache.get(digest)  # verified by a concurrent request while we waited
        if hit is not None:
            return hit
        try:
            principal = _verify(q, key, prefix)
            if principal is not None:  # cached before the lock goes, so no one verifies it twice
                cache.put(digest, principal)
        finally:
            cache.release(digest)
        return principal


def _verify(q: Qalqan, key: str, prefix: str) -> Principal | None:
    with q.db.session() as s:
        found = s.execute(select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.prefix == prefix)).first()
    if found is None:
        _failed(q, prefix, "unknown key")
        return None
    row, user = found
    try:
        HASHER.verify(row.hash, key)
    except (VerificationError, InvalidHashError):
        _failed(q, prefix, "wrong secret")
        return None
    # Checked after the hash, so only the key's holder learns a key is revoked.
    if row.revoked_at is not None:
        _failed(q, prefix, "revoked key")
        return None
    if not user.active:
        _failed(q, prefix, "disabled user")
        return None
    with q.transaction() as s:
        current = s.get(ApiKey, row.id)
        if current is None or current.revoked_at is not None:  # revoked while we verified
            _failed_in(q, s, prefix, "revoked key")
            return None
        current.last_used_at = _now()
        q.audit(s, actor=user.name, action="login", target=f"key:{prefix}", detail={"role": user.role, "label": row.label})
    return Principal(user.name, user.role, prefix)


def _failed_in(q: Qalqan, s: Any, prefix: str, reason: str) -> None:
    q.audit(s, actor=f"key:{prefix}", action="login.failed", target=f"key:{prefix}", detail={"reason": reason})
