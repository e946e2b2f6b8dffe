"""Users and their API keys: create, list, issue, revoke, and the bootstrap admin.

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
only the argon2id hash of the whole key is kept (`auth.HASHER`).

**Web passwords** (`set_password`) are hashed the same way; setting one ends the user's open web
sessions (`service.web_sessions`) and clears a lockout. The password itself is never audited.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from qalqan.service.auth import HASHER, KEY_SCHEME, PREFIX_BYTES, SECRET_BYTES, forget_key
from qalqan.service.context import ANONYMOUS, SYSTEM, Context
from qalqan.service.roles import ADMIN, AUDITOR, ROLES, AuthError, Conflict, Forbidden, NotFound
from qalqan.service.web_sessions import end_user_sessions
from qalqan.store.tables import ApiKey, User

#: User names: letters, digits and . _ @ - (they appear in audit entries and URLs).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
BOOTSTRAP_ADMIN = "admin"
#: Names the service's own actors use (compared without case): no user may take them.
RESERVED_NAMES = frozenset({SYSTEM, ANONYMOUS})
#: Beginnings of the service's own actors ("key:<prefix>", "cli:<login>").
RESERVED_PREFIXES = ("key:", "cli:")
#: Shortest web password accepted.
MIN_PASSWORD_CHARS = 12
#: Longest web password accepted (argon2 takes any length; this bounds the work per request).
MAX_PASSWORD_CHARS = 1024


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite returns naive datetimes; they were written in UTC
        value = value.replace(tzinfo=UTC)
    return value.isoformat()




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
    forget_key(ctx, prefix)
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


def check_password(name: str, password: str) -> str:
    """`password` if user `name` may have it; AuthError (field "password") if not: fewer than
    `MIN_PASSWORD_CHARS` characters, one character repeated, or the user name itself."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise AuthError(f"the password must have at least {MIN_PASSWORD_CHARS} characters", field="password")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AuthError(f"the password must have at most {MAX_PASSWORD_CHARS} characters", field="password")
    if len(set(password)) == 1:
        raise AuthError("the password must not be one character repeated", field="password")
    if password.casefold() == name.casefold():
        raise AuthError("the password must not be the user name", field="password")
    return password


def set_password(ctx: Context, name: str, password: str, *, actor: str) -> None:
    """Set the web interface password of `name` (argon2id): clears a lockout and ends the user's
    open web sessions. NotFound for an unknown user; AuthError (field "password") for a password
    the policy refuses (`check_password`). Audited as `user.password`, without the password."""
    check_password(name, password)
    hashed = HASHER.hash(password)  # outside the transaction: it is the slow part
    with ctx.transaction() as s:
        row = s.execute(select(User).where(User.name == name)).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no such user {name!r}")
        row.password_hash = hashed
        row.password_set_at = ctx.clock.now()
        row.failed_logins = 0
        row.locked_until = None
        ended = end_user_sessions(ctx, s, row.id)
        ctx.audit(s, actor=actor, action="user.password", target=f"user:{name}", detail={"user": name, "sessions_ended": ended})


def ensure_admin_password(ctx: Context, *, actor: str = SYSTEM) -> str | None:
    """When the bootstrap admin `BOOTSTRAP_ADMIN` exists without a web password, give it a new
    random one and return it (to be shown once); otherwise None."""
    with ctx.db.session() as s:
        row = s.execute(select(User).where(User.name == BOOTSTRAP_ADMIN)).scalar_one_or_none()
        if row is None or row.password_hash is not None:
            return None
    password = secrets.token_urlsafe(12)  # 16 characters, 96 random bits
    set_password(ctx, BOOTSTRAP_ADMIN, password, actor=actor)
    return password
