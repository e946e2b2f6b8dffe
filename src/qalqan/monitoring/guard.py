"""Which list imports may go live on their own, and which are held for an admin to confirm.

A well-formed file is not necessarily a good list: a one-record UN file, yesterday's file
re-imported over today's, a CSV imported under the UN list's name. Each would close every alert
on the entries it "removes". Such a version is stored with its diff but held as pending; it goes
live only when an admin confirms it. Pure: the service supplies the facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

#: Share of the live version's entities a new version may remove and still go live unconfirmed.
DEFAULT_MAX_REMOVED_SHARE = 0.10

#: Rule names, as stored on a held version and shown to the admin.
REMOVES_TOO_MANY, OLDER_THAN_LIVE, FORMAT_CHANGED = "removes-too-many", "older-than-live", "format-changed"


@dataclass(frozen=True, slots=True)
class Hold:
    rule: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Facts:
    """What the guard looks at: the live version (`live_*`) and the import (`new_*`)."""

    live_total: int
    removed: int
    live_published: str | None
    new_published: str | None
    live_format: str
    new_format: str


def publication_date(text: str | None) -> date | None:
    """The date of a publisher's stamp ("2026-02-27", "2026-02-27T10:00:00"), None if it has none."""
    if not text or len(text) < 10:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def holds(facts: Facts, max_removed_share: float = DEFAULT_MAX_REMOVED_SHARE) -> list[Hold]:
    """Why this import must wait for an admin (empty: it may go live). A first version is never
    held: there is nothing live to lose."""
    out: list[Hold] = []
    if facts.live_total > 0 and facts.removed > max_removed_share * facts.live_total:
        share = facts.removed / facts.live_total
        out.append(Hold(REMOVES_TOO_MANY, f"removes {facts.removed:,} of {facts.live_total:,} live entities ({share:.0%}; more than {max_removed_share:.0%} needs confirmation)"))
    old, new = publication_date(facts.live_published), publication_date(facts.new_published)
    if old is not None and new is not None and new < old:
        out.append(Hold(OLDER_THAN_LIVE, f"published {new.isoformat()}, before the live version's {old.isoformat()}"))
    if facts.new_format != facts.live_format:
        out.append(Hold(FORMAT_CHANGED, f"format {facts.new_format!r}, the live version's is {facts.live_format!r}"))
    return out
