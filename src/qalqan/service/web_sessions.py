"""Web interface logins: a user name and password (argon2id), a lockout after failed attempts,
and server-side sessions that time out.

**Passwords** are set by `service.users.set_password` (policy, hashing, audit); this module
only verifies them. An unknown user costs an argon2 verification like a known one (against a
dummy hash), and both are refused with the same message, so neither the timing nor the text
says whether a user exists.

**Lockout.** Every refused login is audited as `web.login.failed` (actor: the user when the
name is one, else `anonymous`; detail: the client and the reason). A wrong password counts
against the user; at `MAX_FAILURES` in a row the account is locked for `LOCKOUT` (audited as
`web.lockout`), and while it is locked even the right password is refused. A lock does not end
sessions already open (an attacker who types wrong passwords cannot log the holder out). Once
it has expired the count starts again; a successful login resets it.

**Sessions.** `login` returns a `WebSession` whose `token` (32 random bytes, URL-safe) goes into
the browser's cookie and is never stored: the store keeps its SHA-256. Each session has its own
CSRF token. A session ends on `logout`, after `idle_timeout()` without use (default
`IDLE_TIMEOUT`, `QALQAN_SESSION_IDLE_MINUTES`), `ABSOLUTE_TIMEOUT` after the login whatever the
use, and when its user's password changes or the user is disabled (`end_sessions`).

All time is the context's clock (`ctx.clock.now()`).
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, Result, select, update
from sqlalchemy.orm import Session

from qalqan.service.auth import HASHER
from qalqan.service.context import ANONYMOUS, SYSTEM, Context
from qalqan.store.tables import User
from qalqan.store.tables import WebSession as WebSessionRow

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
#: `last_seen_at` is written at most this often (not once per request).
TOUCH_INTERVAL = timedelta(seconds=10)
#: Environment variable overriding `IDLE_TIMEOUT` (whole minutes, at least 1).
IDLE_ENV = "QALQAN_SESSION_IDLE_MINUTES"
#: Longest purpose kept for a session.
MAX_PURPOSE_CHARS = 1000
#: Longest client (address) kept for a session; the column is String(100).
MAX_CLIENT_CHARS = 100

# Why a login was refused (`LoginRefused.reason`).
BAD_CREDENTIALS = "bad-credentials"
LOCKED = "locked"
INACTIVE = "inactive"
NO_PASSWORD = "no-password"

#: The one message for an unknown user, a wrong password and a user without a password.
REFUSED_MESSAGE = "wrong user name or password"


@dataclass(frozen=True)
class WebSession:
    """A live web session. `token` is "" except on the object `login` returns (the store only
    has its hash)."""

    token: str
    user: str
    role: str
    csrf: str
    purpose: str
    created_at: datetime
    last_seen_at: datetime


class LoginRefused(Exception):
    """A refused login: `reason` (BAD_CREDENTIALS, LOCKED, INACTIVE or NO_PASSWORD) and, when
    locked, `locked_until`. The message is the same for an unknown user, a wrong password and a
    user without a password."""

    def __init__(self, reason: str, locked_until: datetime | None = None):
        if reason == LOCKED:
            message = "too many failed logins: try again later"
        elif reason == INACTIVE:
            message = "this user is disabled"
        else:
            message = REFUSED_MESSAGE
        super().__init__(message)
        self.reason = reason
        self.locked_until = locked_until


def idle_timeout() -> timedelta:
    """How long a session lives without use: QALQAN_SESSION_IDLE_MINUTES, else `IDLE_TIMEOUT`."""
    raw = os.environ.get(IDLE_ENV, "").strip()
    if raw:
        try:
            minutes = int(raw)
        except ValueError:
            minutes = 0
        if minutes >= 1:
            return timedelta(minutes=minutes)
    return IDLE_TIMEOUT


def token_hash(token: str) -> str:
    """SHA-256 (hex) of a session token: what the store keeps."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; they were written in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@functools.cache
def _dummy_hash() -> str:
    return HASHER.hash(secrets.token_urlsafe(16))


def _verify(hashed: str | None, password: str) -> bool:
    """Check `password` against `hashed`, spending one argon2 verification even without a hash."""
    try:
        HASHER.verify(hashed or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return hashed is not None


def _public(row: WebSessionRow, user: User, token: str = "") -> WebSession:
    return WebSession(
        token=token,
        user=user.name,
        role=user.role,
        csrf=row.csrf,
        purpose=row.purpose or "",
        created_at=_aware(row.created_at),  # type: ignore[arg-type]
        last_seen_at=_aware(row.last_seen_at),  # type: ignore[arg-type]
    )


def _target(row: WebSessionRow) -> str:
    return f"web-session:{row.id}"


def _refuse(ctx: Context, *, actor: str, target: str, client: str, reason: str, locked_until: datetime | None = None) -> LoginRefused:
    with ctx.transaction() as s:
        ctx.audit(s, actor=actor, action="web.login.failed", target=target, detail={"client": client, "reason": reason})
    return LoginRefused(reason, locked_until)


def login(ctx: Context, name: str, password: str, *, client: str) -> WebSession:
    """Log `name` in with `password` from `client` (its address): a new session, whose `token`
    is shown only here. LoginRefused (audited) for an unknown user, a wrong password, a user
    without a password, a disabled or a locked user."""
    client = (client or "")[:MAX_CLIENT_CHARS]
    with ctx.db.session() as s:
        user = s.execute(select(User).where(User.name == name)).scalar_one_or_none() if name else None
        if user is not None:
            s.expunge(user)
    ok = _verify(user.password_hash if user is not None else None, password or "")
    if user is None:
        # An unknown name "locks" like a real one (counted in memory only), so the lockout
        # message does not tell a guesser which names exist.
        until = _phantom_failure(name, ctx.clock.now())
        if until is not None:
            raise _refuse(ctx, actor=ANONYMOUS, target="", client=client, reason=LOCKED, locked_until=until)
        raise _refuse(ctx, actor=ANONYMOUS, target="", client=client, reason=BAD_CREDENTIALS)
    target = f"user:{user.name}"
    now = ctx.clock.now()
    locked_until = _aware(user.locked_until)
    if locked_until is not None and locked_until > now:
        raise _refuse(ctx, actor=user.name, target=target, client=client, reason=LOCKED, locked_until=locked_until)
    if not ok:
        reason = NO_PASSWORD if user.password_hash is None else BAD_CREDENTIALS
        if reason == NO_PASSWORD:  # nothing to guess: not counted towards a lockout
            raise _refuse(ctx, actor=user.name, target=target, client=client, reason=reason)
        raise _count_failure(ctx, user.id, user.name, client, now)
    if not user.active:  # told only to whoever knows the password
        raise _refuse(ctx, actor=user.name, target=target, client=client, reason=INACTIVE)
    with ctx.transaction() as s:
        current = s.get(User, user.id)
        if current is None or current.password_hash != user.password_hash:  # changed while we verified
            refused = BAD_CREDENTIALS
        elif not current.active:
            refused = INACTIVE
        elif (until := _aware(current.locked_until)) is not None and until > now:
            refused = LOCKED
        else:
            refused = ""
        if current is not None and not refused:
            current.failed_logins = 0
            current.locked_until = None
            token = secrets.token_urlsafe(32)
            row = WebSessionRow(
                token_hash=token_hash(token), user_id=current.id, csrf=secrets.token_urlsafe(32), purpose=None, client=client, created_at=now, last_seen_at=now
            )
            s.add(row)
            s.flush()
            ctx.audit(s, actor=current.name, action="web.login", target=_target(row), detail={"client": client, "role": current.role})
            return _public(row, current, token)
    raise _refuse(ctx, actor=user.name, target=target, client=client, reason=refused)


def _count_failure(ctx: Context, user_id: int, name: str, client: str, now: datetime) -> LoginRefused:
    """Count a wrong password against the user, locking it at MAX_FAILURES; audited."""
    with ctx.transaction() as s:
        row = s.get(User, user_id, with_for_update=True)
        if row is None:  # deleted meanwhile
            ctx.audit(s, actor=ANONYMOUS, action="web.login.failed", target="", detail={"client": client, "reason": BAD_CREDENTIALS})
            return LoginRefused(BAD_CREDENTIALS)
        until = _aware(row.locked_until)
        if until is not None and until <= now:  # an expired lock: the count starts again
            row.failed_logins = 0
            row.locked_until = None
        row.failed_logins = (row.failed_logins or 0) + 1
        target = f"user:{name}"
        ctx.audit(s, actor=name, action="web.login.failed", target=target, detail={"client": client, "reason": BAD_CREDENTIALS, "failures": row.failed_logins})
        if row.failed_logins >= MAX_FAILURES:
            row.locked_until = now + LOCKOUT
            ctx.audit(s, actor=name, action="web.lockout", target=target, detail={"client": client, "failures": row.failed_logins, "locked_until": row.locked_until.isoformat()})
            return LoginRefused(LOCKED, row.locked_until)  # the attempt that locks says so at once
    return LoginRefused(BAD_CREDENTIALS)


_phantoms: dict[str, tuple[int, datetime | None]] = {}
_phantoms_lock = threading.Lock()
#: Unknown names remembered at most (the oldest are forgotten first).
MAX_PHANTOMS = 10_000


def _phantom_failure(name: str, now: datetime) -> datetime | None:
    """Count a failure for an unknown `name`; the end of its (pretend) lock once it has failed
    MAX_FAILURES times, as a real user's would, else None."""
    key = (name or "").casefold()[:200]
    with _phantoms_lock:
        count, until = _phantoms.pop(key, (0, None))
        if until is not None and until <= now:
            count, until = 0, None
        if until is None:
            count += 1
            if count >= MAX_FAILURES:
                until = now + LOCKOUT
        _phantoms[key] = (count, until)
        while len(_phantoms) > MAX_PHANTOMS:
            _phantoms.pop(next(iter(_phantoms)))
        return until


def _rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE changed."""
    return int(cast("CursorResult[Any]", result).rowcount or 0)


def _find(s: Session, token: str) -> tuple[WebSessionRow, User] | None:
    if not token:
        return None
    found = s.execute(
        select(WebSessionRow, User).join(User, User.id == WebSessionRow.user_id).where(WebSessionRow.token_hash == token_hash(token))
    ).first()
    if found is None:
        return None
    row, user = found
    return row, user


def _expired(row: WebSessionRow, user: User, now: datetime) -> str:
    """Why a session that has not been ended is over ("" if it is live)."""
    if not user.active:
        return "inactive"
    if now - _aware(row.created_at) >= ABSOLUTE_TIMEOUT:  # type: ignore[operator]
        return "absolute"
    if now - _aware(row.last_seen_at) >= idle_timeout():  # type: ignore[operator]
        return "idle"
    return ""


def resume(ctx: Context, token: str) -> WebSession | None:
    """The live session of `token`, or None (no token, an unknown, ended or expired one: an
    expired session is ended here). Records the use (`last_seen_at`, at most every
    `TOUCH_INTERVAL`)."""
    now = ctx.clock.now()
    with ctx.db.session() as s:
        found = _find(s, token)
        if found is None or found[0].ended_at is not None:
            return None
        row, user = found
        why = _expired(row, user, now)
        session = _public(row, user)
        stale = now - session.last_seen_at >= TOUCH_INTERVAL
        row_id = row.id
    if why:
        with ctx.transaction() as s:
            ended = _rowcount(s.execute(update(WebSessionRow).where(WebSessionRow.id == row_id, WebSessionRow.ended_at.is_(None)).values(ended_at=now)))
            if ended:
                ctx.audit(s, actor=session.user, action="web.session.expired", target=f"web-session:{row_id}", detail={"reason": why})
        return None
    if stale:
        with ctx.transaction() as s:
            s.execute(update(WebSessionRow).where(WebSessionRow.id == row_id, WebSessionRow.ended_at.is_(None)).values(last_seen_at=now))
        session = WebSession(session.token, session.user, session.role, session.csrf, session.purpose, session.created_at, now)
    return session


def logout(ctx: Context, token: str) -> None:
    """End the session of `token` (nothing for an unknown or ended one); audited as `web.logout`."""
    now = ctx.clock.now()
    with ctx.transaction() as s:
        found = _find(s, token)
        if found is None or found[0].ended_at is not None:
            return
        row, user = found
        row.ended_at = now
        ctx.audit(s, actor=user.name, action="web.logout", target=_target(row), detail={"client": row.client})


def set_purpose(ctx: Context, token: str, purpose: str) -> None:
    """Record why this session's views are made (audited as `web.purpose`, with the purpose).
    ValueError for an empty or too long purpose; LookupError when the session is not live."""
    purpose = (purpose or "").strip()
    if not purpose:
        raise ValueError("a purpose is required")
    if len(purpose) > MAX_PURPOSE_CHARS:
        raise ValueError(f"purpose: at most {MAX_PURPOSE_CHARS} characters")
    if resume(ctx, token) is None:
        raise LookupError("no live web session")
    with ctx.transaction() as s:
        found = _find(s, token)
        if found is None or found[0].ended_at is not None:
            raise LookupError("no live web session")
        row, user = found
        row.purpose = purpose
        ctx.audit(s, actor=user.name, action="web.purpose", target=_target(row), purpose=purpose, detail={"client": row.client})


def end_user_sessions(ctx: Context, s: Session, user_id: int) -> int:
    """End every open session of the user `user_id` in `s`'s transaction (the caller audits);
    how many were open."""
    now = ctx.clock.now()
    return _rowcount(s.execute(update(WebSessionRow).where(WebSessionRow.user_id == user_id, WebSessionRow.ended_at.is_(None)).values(ended_at=now)))


def end_sessions(ctx: Context, user: str, *, actor: str = SYSTEM) -> int:
    """End all of `user`'s sessions (its password changed, it was disabled); how many were open
    (0 for an unknown user). Audited as `web.sessions.end` when there were any."""
    with ctx.transaction() as s:
        user_id = s.execute(select(User.id).where(User.name == user)).scalar_one_or_none()
        if user_id is None:
            return 0
        count = end_user_sessions(ctx, s, user_id)
        if count:
            ctx.audit(s, actor=actor, action="web.sessions.end", target=f"user:{user}", detail={"user": user, "sessions": count})
        return count
