"""PROVISIONAL: the public contract of the Screener. The engine behind it is being written
(index + features + calibrated scorer); this brute-force body only lets adapters be built
against the interface meanwhile. Signatures below are stable."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rapidfuzz import fuzz
from rigour.text import ascii_text

from qalqan.model import Entity, ListInfo, Match, Query, FeatureResult

DEFAULT_THRESHOLD = 0.7


class Screener:
    """Screens queries against one or more loaded lists. Thread-safe for reading; cheap to share."""

    def __init__(self, entities: Iterable[Entity], lists: Sequence[ListInfo] = (), threshold: float = DEFAULT_THRESHOLD):
        self.lists: list[ListInfo] = list(lists)
        self.threshold = threshold
        self._entities: dict[str, Entity] = {e.id: e for e in entities}

    @classmethod
    def from_lists(cls, specs: Sequence[str], threshold: float = DEFAULT_THRESHOLD) -> "Screener":
        """Load lists by spec ("PATH" or "FORMAT:PATH"); raises ListError if any is unusable."""
        from qalqan.sources.registry import read_list

        loaded = [read_list(s) for s in specs]
        return cls([e for l in loaded for e in l.entities], [l.info for l in loaded], threshold)

    def __len__(self) -> int:
        return len(self._entities)

    def get(self, entity_id: str) -> Entity | None:
        return self._entities.get(entity_id)

    def entities(self) -> Iterable[Entity]:
        return self._entities.values()

    def match(self, query: Query, *, limit: int = 5, threshold: float | None = None, lists: Sequence[str] | None = None) -> list[Match]:
        """Best candidates first, at most `limit`; `match` is set at `threshold` (default: calibrated)."""
        thr = self.threshold if threshold is None else threshold
        out = []
        q = [ascii_text(n).lower() for n in query.names]
        for e in self._entities.values():
            if lists and e.list not in lists:
                continue
            s = max(fuzz.token_sort_ratio(a, ascii_text(n.value).lower()) for a in q for n in e.names) / 100
            out.append(Match(e, s, s >= thr, (FeatureResult("name", s, 1.0, query.names[0], e.caption),)))
        out.sort(key=lambda m: -m.score)
        return out[:limit]
