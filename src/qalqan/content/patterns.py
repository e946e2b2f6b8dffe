"""Indicators as STIX 2.1 patterns, and back.

`pattern_for` writes exactly these forms (string literals escaped per the STIX patterning
grammar: a backslash as ``\\\\``, a quote as ``\\'``):

==========  ==============================================================
url         ``[url:value = 'http://example.com/a']``
url prefix  ``[url:value = 'http://x.org/a' OR url:value LIKE 'http://x.org/a/%']``
domain      ``[domain-name:value = 'example.com']``
ip          ``[ipv4-addr:value = '192.0.2.1']`` / ``[ipv6-addr:value = '2001:db8::1']``
cidr        ``[ipv4-addr:value = '192.0.2.0/24']`` (STIX allows a CIDR block as the value)
md5         ``[file:hashes.MD5 = '…']``
sha1        ``[file:hashes.'SHA-1' = '…']``
sha256      ``[file:hashes.'SHA-256' = '…']``
pdq         ``[file:hashes.'x_pdq' = '…']``
==========  ==============================================================

PDQ is not in STIX's hash-algorithm-ov. STIX 2.1 §2.7 (Hashes type) lets a producer use a custom
hash name, which SHOULD be prefixed ``x_``: hence ``x_pdq``; ``x-pdq`` is read too. A URL prefix
has no STIX operator of its own: the ``LIKE`` form says it (SQL ``LIKE``: a ``_`` in the prefix
also matches any one character, so a STIX consumer may match slightly more than we do).

`to_stix` / `from_stix` carry a whole indicator as a STIX ``indicator`` with our content
extension (``docs/stix/content.schema.json``: category, contributing organisation, source list,
PDQ quality); its TLP is the object's marking, its validity ``valid_from`` / ``valid_until``, a
retraction ``revoked``.

`indicator_from_pattern` reads these forms back (the hash name quoted or not, any case; also
``file:hashes.'MD5'`` as `qalqan.exchange.stix.indicator_pattern` writes it) and refuses any
other pattern with `PatternError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import stix2

from qalqan.content import urls
from qalqan.content.indicators import Indicator, IndicatorError, canonical_value
from qalqan.exchange import stix

#: Our hash types by their STIX hash names (upper-cased), and the name each is written with.
HASH_NAMES: dict[str, str] = {"md5": "MD5", "sha1": "'SHA-1'", "sha256": "'SHA-256'", "pdq": "'x_pdq'"}
_HASH_BY_NAME: dict[str, str] = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "X_PDQ": "pdq", "X-PDQ": "pdq"}

_LITERAL = r"'((?:[^'\\]|\\.)*)'"
_SIMPLE = re.compile(r"^\[\s*([a-z0-9-]+):(value|hashes\.(?:'[^']+'|[A-Za-z0-9_-]+))\s*=\s*" + _LITERAL + r"\s*\]$")
_PREFIX = re.compile(r"^\[\s*url:value\s*=\s*" + _LITERAL + r"\s+OR\s+url:value\s+LIKE\s+" + _LITERAL + r"\s*\]$")


class PatternError(ValueError):
    """A STIX pattern that is not one of the forms we write."""


def escape(value: str) -> str:
    """A STIX pattern string literal's content: backslashes and quotes escaped."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def unescape(literal: str) -> str:
    """The value of a string literal's content; only ``\\\\`` and ``\\'`` are escapes."""
    out: list[str] = []
    chars = iter(literal)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            if nxt not in ("\\", "'"):
                raise PatternError(f"invalid escape '\\{nxt}' in a string literal")
            out.append(nxt)
        else:
            out.append(ch)
    return "".join(out)


def _ip_object(value: str) -> str:
    return "ipv6-addr" if ":" in value else "ipv4-addr"


def pattern_for(indicator: Indicator) -> str:
    """The STIX 2.1 pattern of an indicator (see the module docstring)."""
    kind, value = indicator.type, indicator.value
    if kind == "url" and urls.is_prefix(value):
        base = value[:-2]
        return f"[url:value = '{escape(base)}' OR url:value LIKE '{escape(base)}/%']"
    if kind == "url":
        return f"[url:value = '{escape(value)}']"
    if kind == "domain":
        return f"[domain-name:value = '{escape(value)}']"
    if kind in ("ip", "cidr"):
        return f"[{_ip_object(value)}:value = '{value}']"
    return f"[file:hashes.{HASH_NAMES[kind]} = '{value}']"


def _checked(kind: str, value: str, pattern: str) -> tuple[str, str]:
    try:
        return kind, canonical_value(kind, value)
    except IndicatorError as exc:
        raise PatternError(f"{pattern!r}: {exc.reason}") from None


def indicator_from_pattern(pattern: str) -> tuple[str, str]:
    """(type, canonical value) of a pattern of the forms `pattern_for` writes."""
    text = pattern.strip()
    prefix = _PREFIX.match(text)
    if prefix:
        base, like = unescape(prefix.group(1)), unescape(prefix.group(2))
        if like != base + "/%":
            raise PatternError(f"{pattern!r}: the LIKE value is not the URL followed by '/%'")
        return _checked("url", base + "/*", pattern)
    m = _SIMPLE.match(text)
    if not m:
        raise PatternError(f"{pattern!r} is not a pattern we read (one comparison of url, domain-name, "
                           "ipv4-addr, ipv6-addr value or file hash with '=')")
    obj, path, value = m.group(1), m.group(2), unescape(m.group(3))
    if path == "value":
        if obj == "url":
            if urls.is_prefix(value):
                raise PatternError(f"{pattern!r}: a url value ending in '/*' is not a prefix in STIX (use LIKE)")
            return _checked("url", value, pattern)
        if obj == "domain-name":
            return _checked("domain", value, pattern)
        if obj in ("ipv4-addr", "ipv6-addr"):
            kind = "cidr" if "/" in value else "ip"
            found = _checked(kind, value, pattern)
            if _ip_object(found[1]) != obj:
                raise PatternError(f"{pattern!r}: {value!r} is not an {obj} value")
            return found
        raise PatternError(f"{pattern!r}: object type {obj!r} is not one we read")
    if obj != "file":
        raise PatternError(f"{pattern!r}: hashes are read from file objects only")
    name = path.removeprefix("hashes.").strip("'").upper()
    if name not in _HASH_BY_NAME:
        raise PatternError(f"{pattern!r}: hash {name!r} is not one we read ({', '.join(sorted(_HASH_BY_NAME))})")
    return _checked(_HASH_BY_NAME[name], value, pattern)


# --- indicators as STIX 2.1 objects -----------------------------------------------------------

def stix_id(indicator: Indicator) -> str:
    """The STIX id of an indicator: ``indicator--`` and the uuid of its own id (stable: the same
    value from the same organisation is the same object, so a re-share is a new version)."""
    return "indicator--" + indicator.id.split("--", 1)[-1]


def _ts(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def to_stix(indicator: Indicator, *, created_by: str, created: datetime, markings: Sequence[str] = ()) -> dict[str, Any]:
    """An indicator as a STIX 2.1 ``indicator`` (built and checked by `stix2`) with our content
    extension (category, contributing organisation, source list, PDQ quality). ``valid_from`` is
    the indicator's own or `created`."""
    fields: dict[str, Any] = {"extension_type": "property-extension", "category": indicator.category}
    if indicator.source_org:
        fields["source"] = indicator.source_org
    if indicator.source_list:
        fields["source_list"] = indicator.source_list
    quality = dict(indicator.metadata).get("quality")
    if indicator.type == "pdq" and quality is not None and quality.isdigit():
        fields["quality"] = int(quality)
    sid = stix_id(indicator)
    when = _ts(created)
    kwargs: dict[str, Any] = {
        "id": sid, "created_by_ref": created_by, "created": when, "modified": when,
        "name": f"{indicator.type} {indicator.value}"[:250], "indicator_types": ["malicious-activity"],
        "pattern": pattern_for(indicator), "pattern_type": "stix", "valid_from": _ts(indicator.valid_from or created),
        "extensions": {stix.CONTENT_EXT: fields}, "revoked": indicator.retracted,
    }
    if indicator.valid_until:
        kwargs["valid_until"] = _ts(indicator.valid_until)
    if markings:
        kwargs["object_marking_refs"] = list(markings)
    return stix.build_object(stix2.Indicator, sid, **kwargs)


def is_content(obj: Mapping[str, Any]) -> bool:
    """Whether a STIX object is a content indicator (an indicator with our content extension)."""
    return obj.get("type") == "indicator" and stix.CONTENT_EXT in (obj.get("extensions") or {})


def from_stix(obj: Mapping[str, Any], *, source_org: str = "", tlp: str | None = None) -> Indicator:
    """The indicator a STIX content indicator carries (`PatternError` when its pattern is not one
    we read). `source_org` is used when the extension names no contributing organisation (the
    originator); `tlp` defaults to the object's TLP marking, else amber."""
    if obj.get("type") != "indicator":
        raise PatternError(f"{obj.get('id')}: a {obj.get('type')!r}, not an indicator")
    ext = (obj.get("extensions") or {}).get(stix.CONTENT_EXT) or {}
    kind, value = indicator_from_pattern(str(obj.get("pattern", "")))
    meta = (("quality", str(ext["quality"])),) if isinstance(ext.get("quality"), int) else ()
    label = tlp or stix.tlp_of(obj) or "amber"

    def when(name: str) -> datetime | None:
        raw = obj.get(name)
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else None

    try:
        return Indicator(id="content--" + str(obj["id"]).split("--", 1)[-1], type=kind, value=value, category=str(ext.get("category") or "other"),
                         source_org=str(ext.get("source") or source_org), source_list=str(ext.get("source_list") or ""), tlp=label,
                         valid_from=when("valid_from"), valid_until=when("valid_until"), retracted=bool(obj.get("revoked")), metadata=meta)
    except IndicatorError as exc:
        raise PatternError(f"{obj.get('id')}: {exc}") from None
