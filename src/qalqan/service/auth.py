"""Authentication: who an API key belongs to, with a cache, a back-off and audited refusals.

argon2 is slow on purpose (tens of ms), so a successful verification is cached in memory for
`CACHE_TTL_SECONDS`, keyed by a SHA-256 of the key (never the key itself); failures are never
cached. The first successful use of a key in a cache period is recorded as a "login" (a new
session of use). Users and keys are managed in `service.users`; roles and permissions are
`service.roles`.

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
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from qalqan.service.context import ANONYMOUS, Context
from qalqan.service.roles import Principal
from qalqan.service.throttle import Aggregator, Entry, Event, Throttle
from qalqan.store.tables import ApiKey, User

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


class Refused(Exception):
    """A request that does not authenticate: `reason` (one of the constants above) and, when the
    back-off refused it, `retry_after` seconds."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after



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


def forget_key(ctx: Context, prefix: str) -> None:
    """Stop trusting a key this process verified (it was revoked): the next use is checked again."""
    _state(ctx).cache.drop(prefix=prefix)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


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
