"""Roles and what they may do: one table, `PERMISSIONS` (permission -> roles). The HTTP API
declares one permission per route and a test walks the route table against it; which alert
decisions each role may take is `monitoring.alerts.ROLE_ACTIONS`.

- analyst: screen, view lists, subjects and alerts, decide alerts;
- supervisor: as analyst, and reassign / reopen alerts, and manage the watched population;
- admin: everything an analyst or supervisor may, and lists, users and keys;
- auditor: the audit log only (read and verify). Admins do not read the audit log: the auditor
  reviews what admins do;
- liaison: the liaison officer who speaks for this node to partner agencies: publishes subjects,
  warnings and documents, retracts them, decides partners' proposals; reads what partners sent;
- partner: a partner agency's TAXII client: reads the TAXII collection (through the egress
  filter) and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ANALYST, SUPERVISOR, ADMIN, AUDITOR = "analyst", "supervisor", "admin", "auditor"
LIAISON, PARTNER = "liaison", "partner"
ROLES = (ANALYST, SUPERVISOR, ADMIN, AUDITOR, LIAISON, PARTNER)

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
    "jobs:read": _SUPERVISORS,  # the roles that can start jobs (subject and list imports)
    "users:admin": _ADMINS,
    "audit:read": frozenset({AUDITOR}),
    "docs:read": frozenset(ROLES) - {PARTNER},  # the API description: any user, but not the public
    # Exchange with partner agencies: analysts read and acknowledge, the liaison officer publishes,
    # the admin manages partners and sharing groups; a partner's client reads TAXII only.
    "exchange:read": _STAFF | {LIAISON},
    "exchange:ack": _STAFF | {LIAISON},
    "exchange:publish": frozenset({LIAISON}),
    "exchange:sync": frozenset({LIAISON, ADMIN}),
    "exchange:admin": _ADMINS,
    "taxii:read": frozenset({PARTNER}),
    # Travel: staff send messages in (a carriers' gateway runs as a staff user) and consult
    # passenger data with a purpose; supervisors import the lost-document list, place case
    # holds, run the retention rules and approve re-personalisation.
    "travel:ingest": _STAFF,
    "travel:read": _STAFF,
    "travel:admin": _SUPERVISORS,
    "travel:approve": _SUPERVISORS,
    # Content: staff check URLs and files and read the indicators; supervisors import and
    # retract them and read kept files; sharing them is the liaison officer's (exchange:publish).
    "content:check": _STAFF,
    "content:read": _STAFF | {LIAISON},
    "content:write": _SUPERVISORS,
}


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
