"""Metadata of one loaded list version."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ListInfo:
    name: str  # short key used in ids and URLs: "un", "ofac", "ca", "demo", a CSV file's stem
    format: str  # "un", "ofac", "canada", "ftm", "csv"
    source: str  # path or URL it was read from
    title: str = ""
    published: str | None = None  # the publisher's own date (UN dateGenerated), ISO 8601
    loaded_at: str | None = None  # when Qalqan read it, ISO 8601 UTC
    sha256: str | None = None  # of the source bytes
    counts: dict[str, int] = field(default_factory=dict)  # entities per schema
    warnings: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "format": self.format,
            "source": self.source,
            "title": self.title,
            "published": self.published,
            "loaded_at": self.loaded_at,
            "sha256": self.sha256,
            "counts": dict(self.counts),
            "total": sum(self.counts.values()),
            "warnings": self.warnings,
            "skipped": self.skipped,
        }
