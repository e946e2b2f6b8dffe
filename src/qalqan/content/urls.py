"""URLs, hosts and IP addresses of terrorist-content indicators, canonicalised and matched.

`canonical_url` applies RFC 3986 §6.2.2 syntax-based normalisation plus a few scheme- and
content-based rules: scheme and host lower-cased, default ports (80 for http, 443 for https)
dropped, percent-encoding normalised (unreserved characters decoded, the hex of the rest
upper-cased, characters a URL may not carry, such as spaces and non-ASCII, encoded as UTF-8),
dot-segments removed (RFC 3986 §5.2.4), the host's trailing dot and leading ``www.`` removed,
an IDN host turned to punycode, tracking parameters (`TRACKING_PARAMS`, and every ``utm_*``)
removed, the fragment and any user-info dropped, an empty path made ``/``. A URL without a
scheme gets ``http``. The order of the remaining query parameters is kept (it can matter).

Matching (`UrlIndex`, and the single-indicator functions `match_url`, `match_prefix`,
`match_domain`, `match_ip`, `match_cidr`):

- ``url``: the canonical URLs are equal;
- ``url-prefix``: a ``url`` indicator whose value ends with ``/*`` (``http://x.org/a/b/*``)
  covers that path and everything under it on segment boundaries — ``/a/b`` and ``/a/b/c``
  with any query, never ``/a/bc``. A prefix carries no query. We chose the ``/*`` suffix over a
  separate type so a value alone says what it matches, in CSV files and STIX patterns alike;
- ``domain``: an indicator domain matches that host and its subdomains; a public suffix
  (``co.uk``) is refused as an indicator (it would match a whole country's sites);
- ``ip`` / ``cidr``: the URL's host is that address, or inside that network (IPv4 and IPv6).

For matching, ``http`` and ``https`` are one: the same content is served on both, so an
indicator for one matches the other (the canonical forms still keep the scheme).

Registrable domains come from `tldextract` with only its bundled public-suffix snapshot
(`suffix_list_urls=()`, no cache directory): this module never touches the network.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Generic, Literal, Protocol, TypeVar
from urllib.parse import quote, unquote, urlsplit

import tldextract

try:  # IDNA 2008 with UTS #46 mapping when the `idna` package is there, else Python's IDNA 2003.
    import idna as _idna
except ImportError:  # pragma: no cover - idna ships with httpx
    _idna = None  # type: ignore[assignment]

#: Query parameters that only track who shared a link or from where: removed. Also every
#: parameter whose name starts with ``utm_`` (Google Analytics campaign tags). Names compare
#: case-insensitively. ``si`` (YouTube and Spotify share id) could be meaningful on some other
#: site; we accept that: a share id never identifies the content.
TRACKING_PARAMS: frozenset[str] = frozenset({
    "fbclid",      # Facebook click id
    "gclid", "dclid", "gbraid", "wbraid", "gclsrc",  # Google Ads click ids
    "msclkid",     # Microsoft Ads
    "yclid",       # Yandex
    "twclid",      # X/Twitter
    "ttclid",      # TikTok
    "li_fat_id",   # LinkedIn
    "mc_eid", "mc_cid",  # Mailchimp
    "igshid", "igsh",  # Instagram share id
    "si",          # YouTube / Spotify share id
    "ref_src", "ref_url",  # X/Twitter embed referrer
    "_ga", "_gl",  # Google Analytics cross-domain linker
    "_hsenc", "_hsmi",  # HubSpot
    "mkt_tok",     # Marketo
    "oly_anon_id", "oly_enc_id",  # Omeda
    "vero_id", "wickedid", "rb_clickid", "s_cid",
})
TRACKING_PREFIXES: tuple[str, ...] = ("utm_",)

DEFAULT_PORTS: dict[str, int] = {"http": 80, "https": 443}

#: What a match was made by.
Rule = Literal["url", "url-prefix", "domain", "ip", "cidr"]

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_LONE_PCT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
#: Characters a path or query may carry as they are (RFC 3986 pchar, plus "/" and "?").
_SAFE = "/?:@!$&'()*+,;=-._~%"
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")

#: The one extractor: bundled snapshot only, no fetch, no cache directory.
EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


class UrlError(ValueError):
    """Text that is not a URL, host or address we can canonicalise; `field` names the part."""

    def __init__(self, message: str, *, field: str = "value"):
        super().__init__(message)
        self.field = field


# --- canonical forms ----------------------------------------------------------------------


def _normalise_percent(text: str) -> str:
    """Encode what may not stand bare, decode escaped unreserved characters, upper-case the rest."""
    text = quote(_LONE_PCT.sub("%25", text), safe=_SAFE)

    def fix(m: re.Match[str]) -> str:
        ch = chr(int(m.group(1), 16))
        return ch if ch in _UNRESERVED else "%" + m.group(1).upper()

    return _PCT.sub(fix, text)


def remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4: ``/a/./b/../c`` -> ``/a/c``."""
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    result = "/".join(out)
    return result if result.startswith("/") else "/" + result


def _idna_label(label: str) -> str:
    if label.isascii():
        return label.lower()
    try:
        if _idna is not None:
            return _idna.encode(label, uts46=True).decode("ascii")
        return label.encode("idna").decode("ascii")  # pragma: no cover
    except (UnicodeError, ValueError) as exc:
        raise UrlError(f"{label!r} is not a valid internationalised domain label ({exc})", field="host") from None


def canonical_ip(text: str) -> str:
    """An IPv4 or IPv6 address in its compressed form (brackets and a zone index refused)."""
    try:
        return ipaddress.ip_address(text.strip().strip("[]")).compressed
    except ValueError:
        raise UrlError(f"{text!r} is not an IP address", field="value") from None


def canonical_cidr(text: str) -> str:
    """An IPv4 or IPv6 network, host bits cleared (``10.1.2.3/8`` -> ``10.0.0.0/8``); a bare
    address is a /32 or /128."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False).compressed
    except ValueError:
        raise UrlError(f"{text!r} is not an IP network (CIDR)", field="value") from None


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def canonical_host(text: str) -> str:
    """A host lower-cased, trailing dot and leading ``www.`` removed, IDN to punycode; an IP
    address in its compressed form (IPv6 without brackets)."""
    host = text.strip()
    if host.startswith("[") and host.endswith("]"):
        return canonical_ip(host)
    if is_ip(host):
        return canonical_ip(host)
    host = host.rstrip(".")
    if not host:
        raise UrlError("empty host", field="host")
    labels = [_idna_label(label) for label in host.replace("\u3002", ".").split(".")]
    for label in labels:
        if not _LABEL.match(label):
            raise UrlError(f"{text!r} is not a valid host name", field="host")
    if len(labels) > 2 and labels[0] == "www":
        labels = labels[1:]
    return ".".join(labels)


def _is_tracking(param: str) -> bool:
    name = unquote(param.split("=", 1)[0]).lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def _canonical_query(query: str) -> str:
    kept = [_normalise_percent(p) for p in query.split("&") if p and not _is_tracking(p)]
    return "&".join(kept)


def canonical_url(text: str) -> str:
    """The canonical form of a URL (see the module docstring); `UrlError` when it has no host."""
    raw = text.strip()
    if not raw:
        raise UrlError("empty URL")
    if raw.startswith("//"):
        raw = "http:" + raw
    elif not _SCHEME.match(raw):
        raw = "http://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise UrlError(f"{text!r} is not a URL ({exc})") from None
    scheme = parts.scheme.lower()
    netloc = parts.netloc.rpartition("@")[2]
    hostpart = netloc
    if netloc.startswith("["):
        hostpart = netloc[: netloc.index("]") + 1]
    elif ":" in netloc:
        hostpart = netloc.rpartition(":")[0]
    hostpart = unquote(hostpart)
    if not hostpart:
        raise UrlError(f"{text!r} has no host", field="host")
    host = canonical_host(hostpart)
    shown = f"[{host}]" if ":" in host else host
    if port is not None and DEFAULT_PORTS.get(scheme) != port:
        shown = f"{shown}:{port}"
    path = remove_dot_segments(_normalise_percent(parts.path)) if parts.path else "/"
    query = _canonical_query(parts.query)
    return f"{scheme}://{shown}{path}" + (f"?{query}" if query else "")


def canonical_prefix(text: str) -> str:
    """The canonical form of a URL prefix: ``canonical_url`` of the part before ``/*``, its
    trailing slash removed (the root stays ``/``), ``/*`` appended again. A prefix has no query."""
    body = text.strip()
    if not body.endswith("/*"):
        raise UrlError(f"{text!r} is not a URL prefix (ends with '/*')")
    url = canonical_url(body[:-2] or "/")
    if "?" in url:
        raise UrlError(f"{text!r}: a URL prefix carries no query")
    return url.rstrip("/") + "/*"


def is_prefix(value: str) -> bool:
    """Whether a ``url`` indicator value is a prefix (ends with ``/*``)."""
    return value.endswith("/*")


# --- domains --------------------------------------------------------------------------------


def registrable_domain(host: str) -> str | None:
    """The registrable domain (public suffix + one label) of a host, from the bundled
    public-suffix snapshot: ``a.b.example.co.uk`` -> ``example.co.uk``. None for an IP address,
    a public suffix itself, or a host under no known suffix (``localhost``)."""
    h = canonical_host(host)
    if is_ip(h):
        return None
    return EXTRACTOR(h).top_domain_under_public_suffix or None


def is_public_suffix(host: str) -> bool:
    """Whether a host is itself a public suffix (``co.uk``, ``kz``)."""
    parts = EXTRACTOR(canonical_host(host))
    return bool(parts.suffix) and not parts.domain


def canonical_domain(text: str) -> str:
    """A domain indicator's value: `canonical_host`, never an IP address nor a public suffix."""
    host = canonical_host(text)
    if is_ip(host):
        raise UrlError(f"{text!r} is an IP address, not a domain (type ip)")
    if is_public_suffix(host):
        raise UrlError(f"{text!r} is a public suffix: it would match every site under it")
    return host


def parent_domains(host: str) -> Iterator[str]:
    """The host and each parent domain, longest first, down to its registrable domain (or to
    the last label when it has none): ``a.b.example.co.uk`` -> itself, ``b.example.co.uk``,
    ``example.co.uk``."""
    floor = registrable_domain(host)
    labels = host.split(".")
    for i in range(len(labels)):
        domain = ".".join(labels[i:])
        yield domain
        if domain == floor:
            return


# --- single-indicator matching ----------------------------------------------------------------


def _key(canonical: str) -> str:
    """The matching key of a canonical URL: http and https are one."""
    scheme, _, rest = canonical.partition("://")
    return rest if scheme in DEFAULT_PORTS else canonical


def _split_key(key: str) -> tuple[str, str]:
    """(authority, path without query) of a matching key."""
    if "://" in key:
        scheme, _, rest = key.partition("://")
        authority, slash, path = rest.partition("/")
        return f"{scheme}://{authority}", slash + path.split("?", 1)[0]
    authority, slash, path = key.partition("/")
    return authority, slash + path.split("?", 1)[0]


def _host_of(canonical: str) -> str:
    authority = canonical.partition("://")[2].split("/", 1)[0]
    if authority.startswith("["):
        return authority[1: authority.index("]")]
    return authority.rpartition(":")[0] if ":" in authority else authority


def _path_prefixes(path: str) -> Iterator[str]:
    """``/a/b/c`` -> ``/a/b/c``, ``/a/b``, ``/a``, ``/`` (trailing slash ignored)."""
    p = path.rstrip("/")
    while p:
        yield p
        p = p.rpartition("/")[0]
    yield "/"


def match_url(indicator: str, url: str) -> bool:
    """Whether two URLs are the same once canonical (http and https alike)."""
    return _key(canonical_url(indicator)) == _key(canonical_url(url))


def match_prefix(prefix: str, url: str) -> bool:
    """Whether a URL is at or under a prefix (``http://x/a/b/*``), on segment boundaries."""
    auth_p, path_p = _split_key(_key(canonical_prefix(prefix))[:-2] or "/")
    auth_u, path_u = _split_key(_key(canonical_url(url)))
    return auth_p == auth_u and (path_p or "/") in set(_path_prefixes(path_u))


def match_domain(domain: str, url: str) -> bool:
    """Whether a URL's host is a domain or one of its subdomains."""
    d, host = canonical_domain(domain), _host_of(canonical_url(url))
    return host == d or host.endswith("." + d)


def match_ip(address: str, url: str) -> bool:
    """Whether a URL's host is this IP address."""
    host = _host_of(canonical_url(url))
    return is_ip(host) and canonical_ip(host) == canonical_ip(address)


def match_cidr(network: str, url: str) -> bool:
    """Whether a URL's host is an IP address inside this network."""
    host = _host_of(canonical_url(url))
    return is_ip(host) and ipaddress.ip_address(host) in ipaddress.ip_network(canonical_cidr(network))


# --- the index ------------------------------------------------------------------------------------


class HasTypeValue(Protocol):
    """What `UrlIndex` indexes: an `Indicator`, or anything with its type and canonical value."""

    @property
    def type(self) -> str: ...

    @property
    def value(self) -> str: ...


T = TypeVar("T", bound=HasTypeValue)

#: The indicator types `UrlIndex` takes.
URL_TYPES = frozenset({"url", "domain", "ip", "cidr"})


@dataclass
class UrlIndex(Generic[T]):
    """Many url/domain/ip/cidr indicators, matched against a URL by dict look-ups: the URL's
    key, each of its path prefixes, each of its parent domains, its address, and its network
    under each prefix length that the index holds."""

    _urls: dict[str, list[T]] = field(default_factory=dict)
    _prefixes: dict[tuple[str, str], list[T]] = field(default_factory=dict)
    _domains: dict[str, list[T]] = field(default_factory=dict)
    _ips: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, list[T]] = field(default_factory=dict)
    _cidrs: dict[tuple[int, int], dict[int, list[T]]] = field(default_factory=dict)
    _size: int = 0

    def __len__(self) -> int:
        return self._size

    def add(self, indicator: T) -> None:
        """Index one indicator (its value canonicalised again, so plain records work too)."""
        kind, value = indicator.type, indicator.value
        if kind == "url" and is_prefix(value):
            auth, path = _split_key(_key(canonical_prefix(value))[:-2])
            self._prefixes.setdefault((auth, path or "/"), []).append(indicator)
        elif kind == "url":
            self._urls.setdefault(_key(canonical_url(value)), []).append(indicator)
        elif kind == "domain":
            self._domains.setdefault(canonical_domain(value), []).append(indicator)
        elif kind == "ip":
            self._ips.setdefault(ipaddress.ip_address(canonical_ip(value)), []).append(indicator)
        elif kind == "cidr":
            net = ipaddress.ip_network(canonical_cidr(value))
            group = self._cidrs.setdefault((net.version, net.prefixlen), {})
            group.setdefault(int(net.network_address), []).append(indicator)
        else:
            raise ValueError(f"UrlIndex takes {', '.join(sorted(URL_TYPES))} indicators, not {kind!r}")
        self._size += 1

    def match(self, url: str) -> list[tuple[T, Rule]]:
        """The indicators a URL matches, with the rule of each: exact URL first, then prefixes
        and domains longest first, then the address and its networks longest first."""
        canonical = canonical_url(url)
        key = _key(canonical)
        found: list[tuple[T, Rule]] = [(i, "url") for i in self._urls.get(key, ())]
        auth, path = _split_key(key)
        for prefix in _path_prefixes(path):
            found += [(i, "url-prefix") for i in self._prefixes.get((auth, prefix), ())]
        host = _host_of(canonical)
        if is_ip(host):
            found += self.match_address(host)
        else:
            for domain in parent_domains(host):
                found += [(i, "domain") for i in self._domains.get(domain, ())]
        return found

    def match_address(self, address: str) -> list[tuple[T, Rule]]:
        """The ip and cidr indicators an IP address matches (longest network first)."""
        ip = ipaddress.ip_address(canonical_ip(address))
        found: list[tuple[T, Rule]] = [(i, "ip") for i in self._ips.get(ip, ())]
        bits = ip.max_prefixlen
        for version, plen in sorted(self._cidrs, key=lambda k: -k[1]):
            if version != ip.version:
                continue
            mask = ((1 << bits) - 1) ^ ((1 << (bits - plen)) - 1)
            found += [(i, "cidr") for i in self._cidrs[(version, plen)].get(int(ip) & mask, ())]
        return found
