"""URL canonicalisation (a table), registrable domains from the bundled snapshot with the
network cut off, and matching by URL, prefix, domain, IP and CIDR."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import pytest

from qalqan.content import urls
from qalqan.content.urls import UrlError, UrlIndex, canonical_url, registrable_domain

CANONICAL = [
    # case
    ("HTTP://Example.COM/Path", "http://example.com/Path"),
    ("HtTpS://EXAMPLE.org/", "https://example.org/"),
    # ports
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://example.com:443/a", "http://example.com:443/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    # percent-encoding
    ("http://example.com/%7euser", "http://example.com/~user"),
    ("http://example.com/%41%62c", "http://example.com/Abc"),
    ("http://example.com/a%2fb", "http://example.com/a%2Fb"),
    ("http://example.com/caf%c3%a9", "http://example.com/caf%C3%A9"),
    ("http://example.com/café", "http://example.com/caf%C3%A9"),
    ("http://example.com/a b", "http://example.com/a%20b"),
    ("http://example.com/100%", "http://example.com/100%25"),
    ("http://example.com/?q=%7e%2a", "http://example.com/?q=~%2A"),
    # dot segments
    ("http://example.com/a/./b/../c", "http://example.com/a/c"),
    ("http://example.com/../../a", "http://example.com/a"),
    ("http://example.com/a/b/..", "http://example.com/a/"),
    ("http://example.com/a/%2E%2E/b", "http://example.com/b"),
    # trailing dot, www.
    ("http://example.com./a", "http://example.com/a"),
    ("http://www.example.com/a", "http://example.com/a"),
    ("http://WWW.Example.co.uk./", "http://example.co.uk/"),
    ("http://www.com/", "http://www.com/"),
    ("http://wwwexample.com/", "http://wwwexample.com/"),
    # tracking parameters removed, others kept in order
    ("http://example.com/v?utm_source=tw&utm_medium=x&id=7", "http://example.com/v?id=7"),
    ("http://example.com/v?b=2&fbclid=abc&a=1", "http://example.com/v?b=2&a=1"),
    ("http://example.com/v?gclid=1&mc_eid=2&igshid=3&si=4&ref_src=5", "http://example.com/v"),
    ("http://example.com/v?UTM_Campaign=x&page=2", "http://example.com/v?page=2"),
    ("https://youtube.com/watch?v=abc&si=XYZ", "https://youtube.com/watch?v=abc"),
    ("http://example.com/v?reference=1&sid=2", "http://example.com/v?reference=1&sid=2"),
    ("http://example.com/v?", "http://example.com/v"),
    # IDN hosts to punycode: Russian, Arabic, Kazakh
    ("https://пример.рф/", "https://xn--e1afmkfd.xn--p1ai/"),
    ("https://ПРИМЕР.РФ/путь", "https://xn--e1afmkfd.xn--p1ai/%D0%BF%D1%83%D1%82%D1%8C"),
    ("http://مثال.إختبار/", "http://xn--mgbh0fb.xn--kgbechtv/"),
    ("http://мысал.қаз/", "http://xn--80awbu3c.xn--80ao21a/"),
    # fragments, user-info, empty path
    ("http://example.com/a#section", "http://example.com/a"),
    ("http://example.com#x", "http://example.com/"),
    ("http://user:pw@example.com/a", "http://example.com/a"),
    ("http://example.com", "http://example.com/"),
    # no scheme
    ("example.com/a", "http://example.com/a"),
    ("www.Example.com", "http://example.com/"),
    ("//example.com/a", "http://example.com/a"),
    # IP hosts
    ("http://192.0.2.1:80/", "http://192.0.2.1/"),
    ("http://[2001:DB8:0:0::1]:443/x", "http://[2001:db8::1]:443/x"),
    ("https://[2001:db8::1]:443/x", "https://[2001:db8::1]/x"),
    ("  http://example.com/a  ", "http://example.com/a"),
]


@pytest.mark.parametrize(("raw", "expected"), CANONICAL)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


@pytest.mark.parametrize("raw", [row[0] for row in CANONICAL])
def test_canonical_url_is_idempotent(raw: str) -> None:
    once = canonical_url(raw)
    assert canonical_url(once) == once


@pytest.mark.parametrize("bad", ["", "   ", "http://", "http://exa mple.com/", "http://example.com:99999/", "http://-bad-.com/"])
def test_not_urls_refused(bad: str) -> None:
    with pytest.raises(UrlError):
        canonical_url(bad)


def test_tracking_params_documented() -> None:
    assert {"fbclid", "gclid", "mc_eid", "igshid", "si", "ref_src"} <= urls.TRACKING_PARAMS
    assert isinstance(urls.TRACKING_PARAMS, frozenset)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_extractor_never_fetches() -> None:
    assert tuple(urls.EXTRACTOR.suffix_list_urls) == ()


@pytest.mark.parametrize(("host", "expected"), [
    ("a.b.example.co.uk", "example.co.uk"),
    ("example.co.uk", "example.co.uk"),
    ("news.bbc.co.uk.", "bbc.co.uk"),
    ("www.Пример.рф", "xn--e1afmkfd.xn--p1ai"),
    ("x.gov.kz", "x.gov.kz"),
    ("co.uk", None),
    ("localhost", None),
    ("192.0.2.1", None),
])
def test_registrable_domain_from_bundled_snapshot(no_network: None, host: str, expected: str | None) -> None:
    assert registrable_domain(host) == expected


@dataclass(frozen=True)
class Ind:
    type: str
    value: str


def index(*items: Ind) -> UrlIndex[Ind]:
    idx: UrlIndex[Ind] = UrlIndex()
    for item in items:
        idx.add(item)
    return idx


def rules(idx: UrlIndex[Ind], url: str) -> list[tuple[str, str]]:
    return [(i.value, rule) for i, rule in idx.match(url)]


def test_exact_url_match_after_canonicalisation() -> None:
    idx = index(Ind("url", "https://www.example.com/v?id=7&utm_source=x"))
    assert rules(idx, "HTTP://example.com:80/v?id=7#top") == [("https://www.example.com/v?id=7&utm_source=x", "url")]
    assert rules(idx, "http://example.com/v?id=8") == []
    assert urls.match_url("http://example.com/a/./b", "https://EXAMPLE.com/a/b")


def test_prefix_matches_on_segment_boundaries() -> None:
    idx = index(Ind("url", "http://example.com/a/b/*"))
    assert rules(idx, "http://example.com/a/b") == [("http://example.com/a/b/*", "url-prefix")]
    assert rules(idx, "https://example.com/a/b/c?x=1")
    assert rules(idx, "http://example.com/a/b/")
    assert rules(idx, "http://example.com/a/bc") == []
    assert rules(idx, "http://example.com/a") == []
    assert rules(idx, "http://other.com/a/b/c") == []
    assert urls.match_prefix("http://example.com/a/b/*", "http://example.com/a/b/c/d")
    assert not urls.match_prefix("http://example.com/a/b/*", "http://example.com/a/bc")


def test_root_prefix_covers_the_host_only() -> None:
    idx = index(Ind("url", "http://example.com/*"))
    assert rules(idx, "http://example.com/anything/at/all")
    assert rules(idx, "http://sub.example.com/") == []


def test_prefix_with_query_refused() -> None:
    with pytest.raises(UrlError):
        urls.canonical_prefix("http://example.com/a?x=1/*")


def test_domain_matches_itself_and_subdomains(no_network: None) -> None:
    idx = index(Ind("domain", "example.co.uk"))
    assert rules(idx, "http://example.co.uk/") == [("example.co.uk", "domain")]
    assert rules(idx, "https://a.b.example.co.uk/x") == [("example.co.uk", "domain")]
    assert rules(idx, "http://badexample.co.uk/") == []
    assert rules(idx, "http://other.co.uk/") == []
    assert urls.match_domain("example.co.uk", "http://deep.sub.example.co.uk/")


def test_idn_domain_matches_unicode_url() -> None:
    idx = index(Ind("domain", "пример.рф"))
    assert rules(idx, "https://новости.пример.рф/статья")


def test_public_suffix_refused_as_domain() -> None:
    for suffix in ("co.uk", "kz", "com"):
        with pytest.raises(UrlError):
            urls.canonical_domain(suffix)


def test_longer_matches_come_first() -> None:
    idx = index(Ind("domain", "example.com"), Ind("domain", "a.example.com"),
                Ind("url", "http://a.example.com/x/*"), Ind("url", "http://a.example.com/x/y"))
    assert [r for _, r in rules(idx, "http://a.example.com/x/y")] == ["url", "url-prefix", "domain", "domain"]
    assert [v for v, r in rules(idx, "http://a.example.com/x/y") if r == "domain"] == ["a.example.com", "example.com"]


def test_ip_and_cidr_v4() -> None:
    idx = index(Ind("ip", "192.0.2.10"), Ind("cidr", "192.0.2.0/24"), Ind("cidr", "192.0.0.0/16"), Ind("cidr", "10.0.0.0/8"))
    assert rules(idx, "http://192.0.2.10/x") == [("192.0.2.10", "ip"), ("192.0.2.0/24", "cidr"), ("192.0.0.0/16", "cidr")]
    assert rules(idx, "http://192.0.3.1/") == [("192.0.0.0/16", "cidr")]
    assert rules(idx, "http://11.0.0.1/") == []
    assert urls.match_cidr("10.0.0.0/8", "http://10.200.1.1/")
    assert urls.match_ip("192.0.2.10", "http://192.0.2.10:8080/")


def test_ip_and_cidr_v6() -> None:
    idx = index(Ind("ip", "2001:DB8::1"), Ind("cidr", "2001:db8::/32"), Ind("cidr", "10.0.0.0/8"))
    assert rules(idx, "http://[2001:db8:0::1]/") == [("2001:DB8::1", "ip"), ("2001:db8::/32", "cidr")]
    assert rules(idx, "http://[2001:db9::1]/") == []
    assert [r for _, r in idx.match_address("2001:db8:ffff::2")] == ["cidr"]


def test_hash_indicators_refused_by_url_index() -> None:
    with pytest.raises(ValueError):
        index(Ind("md5", "0" * 32))


def test_len_counts_indicators() -> None:
    assert len(index(Ind("ip", "192.0.2.1"), Ind("domain", "example.com"))) == 2
