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

`indicator_from_pattern` reads these forms back (the hash name quoted or not, any case; also
``file:hashes.'MD5'`` as `qalqan.exchange.stix.indicator_pattern` writes it) and refuses any
other pattern with `PatternError`.
"""

from __future__ import annotations

import re

from qalqan.content import urls
from qalqan.content.indicators import Indicator, IndicatorError, canonical_value

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
