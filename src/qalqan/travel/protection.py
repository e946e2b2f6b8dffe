"""The passenger-data rules, as pure functions: which UN regimes impose a travel ban, when a
traveller's data is depersonalised and deleted, what masking leaves of a record and of an
alert's explanation.

Defaults are the EU PNR Directive's (2016/681): depersonalise after 6 months (art. 12(2)),
delete after 5 years (art. 12(4)), unless a case holds the data. A deployment sets its own
periods with `QALQAN_TRAVEL_DEPERSONALISE_MONTHS` and `QALQAN_TRAVEL_DELETE_MONTHS`.
"""

from __future__ import annotations

import calendar
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

#: The UN Security Council regimes (`UN_LIST_TYPE` of the Consolidated List) whose measures
#: include a travel ban on the individuals listed under them: ISIL (Da'esh) and Al-Qaida
#: (res. 1267/1989/2253), Taliban (1988), Central African Republic (2127), DPRK (1718), DR Congo
#: (1533), Guinea-Bissau (2048, travel ban only), Haiti (2653), Iran (2231), Libya (1970), Somalia
#: / Al-Shabaab (751/2713), South Sudan (2206), Sudan (1591), Yemen (2140). Not Iraq (1518):
#: its measure is an asset freeze only. `QALQAN_TRAVEL_BAN_REGIMES` (comma-separated) overrides.
TRAVEL_BAN_REGIMES = frozenset({"Al-Qaida", "Taliban", "CAR", "DPRK", "DRC", "GB", "Haiti", "Iran", "Libya", "Somalia", "SouthSudan", "Sudan", "Yemen"})

#: What a masked value reads as, everywhere (API, exports, database).
MASK = "***"

#: The traveller columns that are personal data under art. 12(2): names; address and contact
#: details; payment information; frequent-flyer information; general remarks; and all API data
#: (birth date, gender, nationality, residence, travel documents). Role, legs, booking reference
#: and ticket numbers are not among them and stay for statistics and case work.
PERSONAL_FIELDS = ("surname", "given_names", "birth_date", "gender", "nationality", "residence_country", "documents", "address", "contacts",
                   "frequent_flyer", "payment", "remarks")


def travel_ban_regimes(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    value = (os.environ if environ is None else environ).get("QALQAN_TRAVEL_BAN_REGIMES", "").strip()
    return frozenset(v.strip() for v in value.split(",") if v.strip()) if value else TRAVEL_BAN_REGIMES


def travel_ban_applies(list_format: str | None, programs: Iterable[str], regimes: frozenset[str] = TRAVEL_BAN_REGIMES) -> bool:
    """Whether a UN listing carries the travel ban: its regime is one that imposes it."""
    return list_format == "un" and any(p in regimes for p in programs)


def screened_for_travel(list_format: str | None, programs: Iterable[str], regimes: frozenset[str] = TRAVEL_BAN_REGIMES) -> bool:
    """Whether a listed entity is screened against travellers: every national and partner list
    entry, and the UN entries under a regime with a travel ban (an asset-freeze-only UN listing
    is the banks' business, not the border's)."""
    return list_format != "un" or travel_ban_applies(list_format, programs, regimes)


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus calendar months (the 31st becomes the month's last day)."""
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    depersonalise_months: int = 6
    delete_months: int = 60
    #: How long an approved re-personalisation lets its requester read the data.
    repersonalise_hours: int = 24

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RetentionPolicy:
        env = os.environ if environ is None else environ

        def months(name: str, default: int) -> int:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            if not raw.isdigit() or int(raw) < 1:
                raise ValueError(f"{name} must be a whole number of months (at least 1), not {raw!r}")
            return int(raw)

        out = cls(months("QALQAN_TRAVEL_DEPERSONALISE_MONTHS", 6), months("QALQAN_TRAVEL_DELETE_MONTHS", 60))
        if out.delete_months < out.depersonalise_months:
            raise ValueError("QALQAN_TRAVEL_DELETE_MONTHS must not be shorter than QALQAN_TRAVEL_DEPERSONALISE_MONTHS")
        return out

    def depersonalise_before(self, now: datetime) -> datetime:
        """Messages received before this moment are depersonalised."""
        return add_months(now, -self.depersonalise_months)

    def delete_before(self, now: datetime) -> datetime:
        return add_months(now, -self.delete_months)

    def repersonalisation_expires(self, approved_at: datetime) -> datetime:
        return approved_at + timedelta(hours=self.repersonalise_hours)


def _mask_value(value: Any) -> Any:
    if value is None or value == "":
        return value
    if isinstance(value, list):
        return [MASK for _ in value]
    return MASK


def mask_record(record: Mapping[str, Any], fields: Iterable[str] = PERSONAL_FIELDS) -> tuple[dict[str, Any], dict[str, Any]]:
    """(masked values for `fields`, their clear values): an empty value stays empty (nothing is
    invented), a list keeps its length (so counts still read), every other value is MASK."""
    clear = {f: record.get(f) for f in fields}
    return {f: _mask_value(v) for f, v in clear.items()}, clear


#: Keys of an explanation (`Match.as_dict()["explanation"]`) and of its alignment steps that
#: hold what the query (the traveller) said.
_QUERY_KEYS = ("query_value", "detail")
_ALIGNMENT_QUERY_KEYS = ("query", "query_latin", "query_key")


def mask_explanation(explanation: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """An alert's explanation with the traveller's side masked: every feature keeps its name,
    score, weight and contribution and the listed side, so the reason for the alert still
    reads; the traveller's values (and free-text details, which may quote them) do not."""
    out = []
    for feature in explanation:
        f = dict(feature)
        for key in _QUERY_KEYS:
            if f.get(key) not in (None, ""):
                f[key] = MASK
        if isinstance(f.get("alignment"), list):
            f["alignment"] = [{k: (MASK if k in _ALIGNMENT_QUERY_KEYS and v not in (None, "") else v) for k, v in step.items()} for step in f["alignment"]]
        out.append(f)
    return out
