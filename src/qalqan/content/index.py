"""All the indicators a node holds, in one index: a URL, a file's hashes or an image's PDQ hash
checked against every one of them at once.

- URLs, domains, addresses and networks: `urls.UrlIndex` (dict look-ups, see its docstring);
- MD5, SHA-1, SHA-256: exact look-ups;
- PDQ: `pdqindex.PdqIndex` (multi-index hashing), within `max_distance` bits (default 31 of 256,
  the threshold PDQ's authors and Meta's Hasher-Matcher-Actioner use).

An indicator is indexed whatever its validity; whether it applies is decided at query time
(`Indicator.is_active` at the moment asked), so an indicator valid from tomorrow starts matching
tomorrow without a rebuild. A retracted indicator is never indexed.

Every answer is a `ContentMatch`: the indicator, the rule that matched (``url``, ``url-prefix``,
``domain``, ``ip``, ``cidr``, ``md5``, ``sha1``, ``sha256`` or ``pdq``), the value of the input
that matched and, for PDQ, the Hamming distance: structured data an analyst's screen or a
partner's report is built from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from qalqan.content import urls
from qalqan.content.indicators import Indicator
from qalqan.content.pdqindex import DEFAULT_MAX_DISTANCE, PdqIndex

#: Exact file-hash types, strongest first.
FILE_HASHES = ("sha256", "sha1", "md5")


@dataclass(frozen=True, slots=True)
class ContentMatch:
    """One indicator an input matched, and why."""

    indicator: Indicator
    #: url, url-prefix, domain, ip, cidr, md5, sha1, sha256 or pdq.
    rule: str
    #: The input's value that matched: its canonical URL, a file hash, or the PDQ hash (of a frame).
    matched: str
    #: For pdq: the Hamming distance in bits (0-256); None for exact rules.
    distance: int | None = None
    #: For pdq on a video or animated image: the frame whose hash matched.
    frame: int | None = None

    def as_dict(self) -> dict[str, Any]:
        ind = self.indicator
        out: dict[str, Any] = {
            "rule": self.rule, "matched": self.matched, "distance": self.distance,
            "indicator": {"id": ind.id, "type": ind.type, "value": ind.value, "category": ind.category, "source_org": ind.source_org,
                          "source_list": ind.source_list, "tlp": ind.tlp,
                          "valid_from": ind.valid_from.isoformat() if ind.valid_from else None,
                          "valid_until": ind.valid_until.isoformat() if ind.valid_until else None},
        }
        if self.frame is not None:
            out["frame"] = self.frame
        return out


class ContentIndex:
    """Indicators indexed for matching (see the module docstring)."""

    def __init__(self, indicators: Iterable[Indicator] = ()) -> None:
        self._urls: urls.UrlIndex[Indicator] = urls.UrlIndex()
        self._files: dict[tuple[str, str], list[Indicator]] = {}
        pdq: list[Indicator] = []
        self.size = 0
        for ind in indicators:
            if ind.retracted:
                continue
            self.size += 1
            if ind.type in urls.URL_TYPES:
                self._urls.add(ind)
            elif ind.type == "pdq":
                pdq.append(ind)
            else:
                self._files.setdefault((ind.type, ind.value), []).append(ind)
        self._pdq_indicators = pdq
        self._pdq = PdqIndex.build([i.value for i in pdq]) if pdq else None

    def __len__(self) -> int:
        return self.size

    @property
    def counts(self) -> dict[str, int]:
        """Indexed indicators by kind: urls (url/domain/ip/cidr), files, pdq."""
        return {"urls": len(self._urls), "files": sum(len(v) for v in self._files.values()), "pdq": len(self._pdq_indicators)}

    def match_url(self, url: str, *, at: datetime | None = None) -> list[ContentMatch]:
        """The active indicators a URL matches (`urls.UrlError` if it is not a URL)."""
        canonical = urls.canonical_url(url)
        return [ContentMatch(ind, rule, canonical) for ind, rule in self._urls.match(canonical) if ind.is_active(at)]

    def match_file(self, hashes: Mapping[str, str], *, at: datetime | None = None) -> list[ContentMatch]:
        """The active indicators a file's exact hashes (``{"md5": ..., "sha1": ..., "sha256": ...}``) match."""
        found: list[ContentMatch] = []
        seen: set[str] = set()
        for kind in FILE_HASHES:
            digest = (hashes.get(kind) or "").lower()
            for ind in self._files.get((kind, digest), ()):
                if ind.id not in seen and ind.is_active(at):
                    seen.add(ind.id)
                    found.append(ContentMatch(ind, kind, digest))
        return found

    def match_pdq(self, hashes: Sequence[str], *, max_distance: int = DEFAULT_MAX_DISTANCE, at: datetime | None = None) -> list[ContentMatch]:
        """The active PDQ indicators within `max_distance` bits of any of `hashes` (one per image,
        or per sampled frame: the frame number is its position). Each indicator once, at its
        nearest frame; nearest first."""
        if self._pdq is None or not hashes:
            return []
        best: dict[int, tuple[int, int, str]] = {}
        for frame, h in enumerate(hashes):
            for row, distance in self._pdq.query(h, max_distance):
                if row not in best or distance < best[row][0]:
                    best[row] = (distance, frame, h)
        out = []
        for row, (distance, frame, h) in sorted(best.items(), key=lambda kv: (kv[1][0], kv[0])):
            ind = self._pdq_indicators[row]
            if ind.is_active(at):
                out.append(ContentMatch(ind, "pdq", h, distance, frame if len(hashes) > 1 else None))
        return out


__all__ = ["FILE_HASHES", "ContentIndex", "ContentMatch"]
