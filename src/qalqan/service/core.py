"""`Qalqan`: the composition of the use cases — the one place that wires them together, and that
nothing in `service/` imports. The HTTP API and the command line drive the system through it.

It is a `Context` (store, audit key, clock, live screener), so every use-case function takes it
as its first argument; on top it wires the one cross-cutting rule: a list version that goes live
is re-screened against the watched population at once (after an import, a confirmation of a held
version, a fetch, or a start-up that finds a re-screen left unfinished).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qalqan.service import alerts, exchange, fetch, lists, rescreen, taxii_client
from qalqan.service.context import SYSTEM, Context
from qalqan.service.fetch import FETCH_TIMEOUT, FetchResult, ListScheduler, OnResult
from qalqan.service.lists import ImportResult
from qalqan.service.rescreen import RescreenSummary
from qalqan.store.db import open_database


class Qalqan(Context):
    @classmethod
    def open(cls, url: str | None = None, **kwargs: Any) -> Qalqan:
        """The store at `url` (default: QALQAN_DATABASE_URL or the SQLite file), migrated."""
        return cls(open_database(url), **kwargs)

    def import_list(self, spec: str, *, actor: str, name: str | None = None, **kwargs: Any) -> ImportResult:
        """Import a list file as a new version (atomically); if it went live, re-screen the
        watched population against what it added and amended, and close alerts on what it
        removed. A version held by the guard is stored as pending and re-screens nothing.
        Returns `lists.ImportResult`, with `rescreen` set to the re-screen's summary."""
        self.catch_up(actor=actor)  # a re-screen left unfinished runs while its version is live
        result = lists.import_list(self, spec, actor=actor, name=name, **kwargs)
        if result.live and result.version_id is not None:
            result.rescreen = rescreen.on_new_version(self, result.version_id, actor=actor)
        return result

    def confirm_version(self, name: str, number: int, *, actor: str, reason: str) -> ImportResult:
        """An admin confirms a held version: it goes live and the population is re-screened."""
        self.catch_up(actor=actor)
        result = lists.confirm_version(self, name, number, actor=actor, reason=reason)
        if result.version_id is not None:
            result.rescreen = rescreen.on_new_version(self, result.version_id, actor=actor)
        return result

    def catch_up(self, *, actor: str = SYSTEM) -> list[RescreenSummary]:
        """Re-screen against every live version whose re-screen never finished (see
        `rescreen.unfinished`)."""
        return [rescreen.on_new_version(self, version_id, actor=actor) for version_id in rescreen.unfinished(self)]

    def fetch_list(self, name: str, url: str | None = None, *, actor: str, **kwargs: Any) -> FetchResult:
        """Download list `name` and, if it changed, import it (and re-screen)."""
        return fetch.fetch_list(self, name, url, importer=self.import_list, actor=actor, **kwargs)

    # --- exchange with partner agencies ------------------------------------------------------

    def decide(self, alert_id: int, *, actor: str, action: str, reason: str, assignee: str | None = None, role: str | None = None, anonymised: bool = False) -> dict[str, Any]:
        """An analyst's decision on an alert; a confirmed hit on a partner's subject sends a
        sighting to that partner alone (never before a person confirmed it, and with four eyes
        never before the confirmation is final: a supervisor's confirm or approval)."""
        result = alerts.decide(self, alert_id, actor=actor, action=action, reason=reason, assignee=assignee, role=role)
        if action in ("confirm", "approve") and result.get("status") == "confirmed":
            sighting = exchange.report_hit(self, alert_id, actor=actor, anonymised=anonymised)
            if sighting is not None:
                result["sighting"] = sighting
        return result

    def import_partner_list(self, org: str, *, actor: str = SYSTEM) -> ImportResult | None:
        """Make what `org` shares now the new version of its partner list and re-screen the
        watched population against the change (a retracted subject leaves the list, and the
        alerts on it close as "retracted by originator"). None when `org` never shared any."""
        loaded = exchange.partner_list(self, org)
        if not loaded.entities and exchange.partner_list_name(org) not in self.live_versions():
            return None
        self.catch_up(actor=actor)
        result = lists.import_loaded(self, loaded, actor=actor, guarded=False)
        if result.live and result.version_id is not None:
            result.rescreen = rescreen.on_new_version(self, result.version_id, actor=actor)
        return result

    def ingest(self, partner: str, objects: Sequence[Mapping[str, Any]], *, actor: str = SYSTEM) -> exchange.IngestSummary:
        """Take in objects from `partner` and bring the partner lists they touch up to date."""
        summary = exchange.ingest(self, partner, objects, actor=actor)
        for org in sorted(summary.originators):
            self.import_partner_list(org, actor=actor)
        return summary

    def sync(self, partners: Sequence[str] | None = None, *, actor: str = SYSTEM, page_size: int = taxii_client.PAGE_SIZE, transport: Any = None,
             timeout: float = taxii_client.TIMEOUT) -> dict[str, Any]:
        """Pull from every partner with a TAXII url (or those named), resuming where the last pull
        stopped; a partner that fails is recorded and the others still pulled. Then escalate our
        warnings whose acknowledgement deadline passed."""
        out: dict[str, Any] = {}
        for org in partners or exchange.pullable_partners(self):
            partner, state = exchange.sync_target(self, org)
            user, password, token = exchange.pull_credential(partner.credential)
            changed: set[str] = set()

            def on_page(objs: Sequence[dict[str, Any]], cursor: str | None, org: str = org, changed: set[str] = changed) -> dict[str, Any]:
                summary = exchange.ingest(self, org, objs, actor=actor)
                changed.update(summary.originators)
                exchange.save_cursor(self, org, added_after=cursor, pulled=summary.stored, ok=True)
                return summary.as_dict()

            try:
                result = taxii_client.pull(partner.url or "", collection=partner.collection, added_after=state.added_after, on_page=on_page,
                                           user=user, password=password, token=token, page_size=page_size, transport=transport, timeout=timeout)
                out[org] = {"ok": True, "pages": result.pages, "objects": result.objects, "cursor": result.cursor, "pages_detail": result.summaries}
            except (taxii_client.PullError, exchange.ExchangeError) as exc:
                exchange.save_cursor(self, org, added_after=None, pulled=0, ok=False, error=str(exc))
                out[org] = {"ok": False, "error": str(exc), "status": getattr(exc, "status", None)}
            for origin in sorted(changed):
                self.import_partner_list(origin, actor=actor)
        out["_escalations"] = len(exchange.escalate(self, actor=actor))
        return out

    def scheduler(
        self,
        names: Sequence[str] | Mapping[str, str | None],
        every_seconds: float,
        on_result: OnResult | None = None,
        *,
        actor: str = SYSTEM,
        timeout: float = FETCH_TIMEOUT,
        start_after: float = 0.0,
    ) -> ListScheduler:
        """A (not yet started) thread fetching `names` every `every_seconds`."""
        return ListScheduler(lambda name, url: self.fetch_list(name, url, actor=actor, timeout=timeout), names, every_seconds, on_result, start_after=start_after)
