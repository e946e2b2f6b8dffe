"""The content pages: the indicators held (with the summary, TLP badges, list and state), the
check of a URL (the rule that matched) and of an uploaded image (PDQ distance; a flat image has
no PDQ hash; the file forgotten unless kept), the import (summary, or the error naming row and
field), the retraction (reason required), and the role, CSRF and escaping refusals."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from qalqan.content import hashes
from qalqan.service import content
from qalqan.store.tables import ContentSample
from tests.content.images import encoded, flat, textured

from .conftest import Web, csrf

SCRIPT = "<script>alert(1)</script>"
CSV = (b"value,type,category,tlp\n"
       b"https://propaganda.example.org/videos/*,url,violent-propaganda,green\n"
       b"recruit.example.net,domain,recruitment,red\n")
EMPTY_FILE = {"file": ("", b"", "application/octet-stream")}


def samples(web: Web) -> int:
    with web.service.db.session() as s:
        return int(s.execute(select(func.count()).select_from(ContentSample)).scalar() or 0)


def main(html: str) -> str:
    return html[html.index("<main"):html.index("</main>")]


@pytest.fixture(scope="module")
def cw(web: Web) -> dict[str, Any]:
    """A URL list, a hash bank holding the PDQ hash of a textured image, and a list whose name
    and one URL hold a script."""
    content.import_indicators(web.service, CSV, actor="supervisor", source_list="demo-propaganda", source_org="GIFCT")
    image = textured(11)
    pdq = hashes.image_pdq_hashes(encoded(image))[0].hash_hex
    content.import_indicators(web.service, f"{pdq},100,original.png\n".encode(), actor="supervisor", format="hashbank", source_list="bank",
                              category="livestream", tlp="amber")
    hostile = f"value,type,category\nhttps://hostile.example.com/{SCRIPT},url,other\n".encode()
    content.import_indicators(web.service, hostile, actor="supervisor", source_list=f"list {SCRIPT}")
    return {"image": image, "pdq": pdq}


def check(client: Any, *, url: str = "", file: tuple[str, bytes, str] | None = None, keep: bool = False) -> Any:
    data = {"csrf": csrf(client), "url": url}
    if keep:
        data["keep"] = "on"
    return client.post("/ui/content/check", data=data, files={"file": file} if file else EMPTY_FILE)


# --- the list ----------------------------------------------------------------------------------


def test_the_list_shows_the_indicators_with_summary_tlp_and_list(web: Web, cw: dict[str, Any]) -> None:
    r = web.client("analyst").get("/ui/content")
    assert r.status_code == 200
    html = main(r.text)
    assert "https://propaganda.example.org/videos/*" in html and "recruit.example.net" in html
    assert "TLP:GREEN" in html and "TLP:RED" in html and "TLP:AMBER" in html
    assert "demo-propaganda" in html and "GIFCT" in html and "Violent propaganda" in html
    assert re.search(r'<span class="stat-n">4</span>', html), "4 active indicators in the summary"
    assert "Our own, by type" in html and "None received." in html
    assert cw["pdq"] in html  # a long value: folded, the whole value still there
    # an analyst may check but neither import nor retract
    assert 'href="/ui/content/check"' in html
    assert "/ui/content/indicators" not in html and "/retract" not in html


def test_the_list_filters_by_type_and_list(web: Web, cw: dict[str, Any]) -> None:
    client = web.client("analyst")
    only_domains = main(client.get("/ui/content", params={"type": "domain"}).text)
    assert "recruit.example.net" in only_domains and "propaganda.example.org" not in only_domains
    bank = main(client.get("/ui/content", params={"list": "bank"}).text)
    assert cw["pdq"] in bank and "recruit.example.net" not in bank
    assert "No indicator matches these filters." in main(client.get("/ui/content", params={"origin": "xx-nobody"}).text)


def test_a_script_in_a_list_name_or_url_is_escaped(web: Web, cw: dict[str, Any]) -> None:
    for role in ("analyst", "supervisor"):
        html = web.client(role).get("/ui/content").text
        assert SCRIPT not in html
        assert "list &lt;script&gt;alert(1)&lt;/script&gt;" in html
    result = check(web.client("analyst"), url="https://hostile.example.com/<script>alert(1)</script>")
    assert result.status_code == 200 and SCRIPT not in result.text


def test_the_liaison_reads_but_does_not_check(web: Web, cw: dict[str, Any]) -> None:
    client = web.client("liaison")
    html = client.get("/ui/content").text
    assert "recruit.example.net" in html and 'href="/ui/content/check"' not in html
    assert client.get("/ui/content/check").status_code == 403
    assert web.client("auditor").get("/ui/content").status_code == 403


# --- checking ----------------------------------------------------------------------------------


def test_a_url_check_shows_the_match_and_its_rule(web: Web, cw: dict[str, Any]) -> None:
    client = web.client("analyst")
    assert 'name="keep"' in client.get("/ui/content/check").text
    r = check(client, url="HTTPS://Propaganda.Example.org/videos/clip-7")
    assert r.status_code == 200
    html = main(r.text)
    assert "https://propaganda.example.org/videos/clip-7" in html  # the canonical URL
    assert '<code dir="ltr" class="rule">url-prefix</code>' in html
    assert "1 indicator matched" in html and "TLP:GREEN" in html and "demo-propaganda" in html
    domain = main(check(client, url="https://www.recruit.example.net/join").text)
    assert '<code dir="ltr" class="rule">domain</code>' in domain and "TLP:RED" in domain


def test_a_url_that_matches_nothing_says_so(web: Web, cw: dict[str, Any]) -> None:
    html = main(check(web.client("analyst"), url="https://news.example.com/today").text)
    assert "No indicator matched." in html and "<table class=\"matches\"" not in html


def test_a_bad_url_is_refused_naming_the_field(web: Web, cw: dict[str, Any]) -> None:
    client = web.client("analyst")
    r = check(client, url="ftp://")
    assert r.status_code == 422
    assert 'id="e-check"' in r.text and "URL:" in r.text and 'aria-invalid="true"' in r.text
    nothing = check(client)
    assert nothing.status_code == 422 and "enter a URL, or choose a file" in nothing.text


def test_a_jpeg_copy_of_an_indexed_image_matches_by_pdq(web: Web, cw: dict[str, Any]) -> None:
    before = samples(web)
    copy = encoded(cw["image"], "JPEG", quality=60)
    r = check(web.client("analyst"), file=("copy.jpg", copy, "image/jpeg"))
    assert r.status_code == 200
    html = main(r.text)
    assert '<code dir="ltr" class="rule">pdq</code>' in html
    assert re.search(r"\d+ of 256 bits", html)
    assert "SHA-256" in html and "quality 100" in html and "Attack recording or livestream" in html
    assert "forgotten: only its hashes were used" in html
    assert samples(web) == before == 0  # keep unchecked: nothing stored


def test_a_flat_image_has_no_pdq_hash(web: Web, cw: dict[str, Any]) -> None:
    html = main(check(web.client("analyst"), file=("flat.png", flat(), "image/png")).text)
    assert "no PDQ hash:" in html and "No indicator matched." in html


def test_a_file_is_kept_only_when_asked(web: Web, cw: dict[str, Any]) -> None:
    client = web.client("analyst")
    data = encoded(textured(99), "PNG")
    check(client, file=("a.png", data, "image/png"))
    assert samples(web) == 0
    r = check(client, file=("a.png", data, "image/png"), keep=True)
    assert r.status_code == 200 and "kept on this server" in r.text
    assert samples(web) == 1
    with web.service.db.session() as s:
        s.query(ContentSample).delete()
        s.commit()


# --- importing and retracting ----------------------------------------------------------------


def test_a_supervisor_imports_a_file_and_sees_the_summary(web: Web, cw: dict[str, Any]) -> None:
    client = web.client("supervisor")
    assert 'action="/ui/content/indicators"' in client.get("/ui/content").text
    body = b"value,type,category\nhttps://imported.example.org/a,url,threat\n198.51.100.0/24,cidr,other\n"
    r = client.post("/ui/content/indicators", data={"csrf": csrf(client), "list": "imported", "tlp": "green", "source": "Partner CTC"},
                    files={"file": ("imported.csv", body, "text/csv")})
    assert r.status_code == 200
    html = main(r.text)
    assert "Indicators imported" in html and re.search(r"<dt>Added</dt><dd>2</dd>", html)
    assert "https://imported.example.org/a" in html and "198.51.100.0/24" in html and "Partner CTC" in html
    again = client.post("/ui/content/indicators", data={"csrf": csrf(client), "list": "imported", "tlp": "green", "source": "Partner CTC"},
                        files={"file": ("imported.csv", body, "text/csv")})
    assert re.search(r"<dt>Unchanged</dt><dd>2</dd>", again.text)


def test_an_import_error_names_row_and_field(web: Web, cw: dict[str, Any]) -> None:
    client = web.client("supervisor")
    body = b"value,type,category\nhttps://fine.example.org/,url,other\nhttps://x.example.org/,url,not-a-category\n"
    r = client.post("/ui/content/indicators", data={"csrf": csrf(client), "list": "broken"}, files={"file": ("broken.csv", body, "text/csv")})
    assert r.status_code == 422
    error = r.text[r.text.index('id="e-import"'):]
    error = error[:error.index("</div>")]
    assert "Row 3" in error and "field category" in error and "nothing was stored" in error
    assert "https://fine.example.org/" not in main(web.client("analyst").get("/ui/content", params={"list": "broken"}).text)
    bank = client.post("/ui/content/indicators", data={"csrf": csrf(client), "format": "hashbank"}, files={"file": ("bank.txt", b"f" * 64 + b"\n", "text/plain")})
    assert bank.status_code == 422 and "field category" in bank.text
    none = client.post("/ui/content/indicators", data={"csrf": csrf(client)}, files=EMPTY_FILE)
    assert none.status_code == 422 and "choose a non-empty indicator file" in none.text


def test_a_supervisor_retracts_with_a_reason(web: Web, cw: dict[str, Any]) -> None:
    client = web.client("supervisor")
    content.import_indicators(web.service, b"value,type,category\nretract-me.example.org,domain,other\n", actor="supervisor", source_list="to-retract")
    (item,) = content.list_indicators(web.service, source_list="to-retract")[1]
    url = f"/ui/content/{item['id']}/retract"
    assert url in client.get("/ui/content").text
    empty = client.post(url, data={"csrf": csrf(client), "reason": "  "})
    assert empty.status_code == 422 and "Reason: give the reason" in empty.text
    done = client.post(url, data={"csrf": csrf(client), "reason": "taken down by the platform"})
    assert done.status_code == 200 and "Indicator retracted" in done.text
    again = client.post(url, data={"csrf": csrf(client), "reason": "again"})
    assert again.status_code == 409 and "already retracted" in again.text
    listed = main(client.get("/ui/content", params={"list": "to-retract", "retracted": "1"}).text)
    assert "retract-me.example.org" in listed and "retracted" in listed and "taken down by the platform" in listed
    assert "retract-me.example.org" not in main(client.get("/ui/content", params={"list": "to-retract"}).text)
    assert client.post("/ui/content/content--nosuch/retract", data={"csrf": csrf(client), "reason": "x"}).status_code == 404


def test_an_analyst_may_not_import_or_retract(web: Web, cw: dict[str, Any]) -> None:
    client = web.client("analyst")
    token = csrf(client)
    r = client.post("/ui/content/indicators", data={"csrf": token, "list": "x"}, files={"file": ("x.csv", CSV, "text/csv")})
    assert r.status_code == 403
    (item, *_rest) = content.list_indicators(web.service, source_list="demo-propaganda")[1]
    assert client.post(f"/ui/content/{item['id']}/retract", data={"csrf": token, "reason": "no"}).status_code == 403
    assert content.get_indicator(web.service, item["id"])["retracted"] is False


def test_posts_without_the_csrf_token_are_refused(web: Web, cw: dict[str, Any]) -> None:
    supervisor = web.client("supervisor")
    (item, *_rest) = content.list_indicators(web.service, source_list="demo-propaganda")[1]
    assert supervisor.post("/ui/content/indicators", data={"list": "x"}, files={"file": ("x.csv", CSV, "text/csv")}).status_code == 403
    assert supervisor.post("/ui/content/indicators", data={"csrf": "wrong", "list": "x"}, files={"file": ("x.csv", CSV, "text/csv")}).status_code == 403
    assert supervisor.post(f"/ui/content/{item['id']}/retract", data={"reason": "no token"}).status_code == 403
    analyst = web.client("analyst")
    assert analyst.post("/ui/content/check", data={"url": "https://propaganda.example.org/videos/1"}, files=EMPTY_FILE).status_code == 403
    assert content.get_indicator(web.service, item["id"])["retracted"] is False
    assert content.list_indicators(web.service, source_list="x")[0] == 0


# --- a partner's indicator ---------------------------------------------------------------------


def test_a_partners_indicator_is_shown_as_shared_by_it_and_not_retractable_here(web: Web, cw: dict[str, Any]) -> None:
    from datetime import UTC, datetime

    from qalqan.content import patterns
    from qalqan.content.indicators import read_csv
    from qalqan.exchange import stix
    from qalqan.service import exchange

    exchange.add_partner(web.service, "kz-ctc", "KZ CTC", actor="admin")
    (ind,), _ = read_csv(b"value,type,category,tlp\nhttps://partner.example.org/clip,url,glorification,green\n", source_list="partner list")
    obj = patterns.to_stix(ind, created_by=exchange.identity_id("kz-ctc"), created=datetime.now(UTC), markings=[str(stix.TLP_MARKINGS["green"]["id"])])
    assert exchange.ingest(web.service, "kz-ctc", [obj]).stored == 1
    client = web.client("supervisor")
    html = main(client.get("/ui/content", params={"origin": "kz-ctc"}).text)
    assert "https://partner.example.org/clip" in html and "shared by" in html and "kz-ctc" in html
    assert "/retract" not in html  # only its originator retracts it
    assert "recruit.example.net" not in html
    assert "kz-ctc" in main(client.get("/ui/content").text).split("Shared by partners")[1].split("</section>")[0]
    ours = main(client.get("/ui/content", params={"origin": "local"}).text)
    assert "partner.example.org" not in ours and "recruit.example.net" in ours
    refused = client.post(f"/ui/content/{ind.id}/retract", data={"csrf": csrf(client), "reason": "not ours"})
    assert refused.status_code == 409 and "only its originator" in refused.text
    found = main(check(web.client("analyst"), url="https://partner.example.org/clip").text)
    assert '<code dir="ltr" class="rule">url</code>' in found and "shared by" in found and "kz-ctc" in found


# --- sharing (the liaison officer) ------------------------------------------------------------


def test_the_liaison_shares_a_list_and_others_may_not(web: Web, cw: dict[str, Any]) -> None:
    content.import_indicators(web.service, b"value,type,category,tlp\nhttps://share.example.org/x,url,threat,green\n", actor="supervisor", source_list="to-share")
    assert web.client("supervisor").post("/ui/content/share", data={"csrf": csrf(web.client("supervisor")), "list": "to-share"}).status_code == 403
    analyst = web.client("analyst")
    assert analyst.post("/ui/content/share", data={"csrf": csrf(analyst), "list": "to-share"}).status_code == 403
    liaison = web.client("liaison")
    assert liaison.post("/ui/content/share", data={"list": "to-share"}).status_code == 403  # no CSRF token
    assert 'action="/ui/content/share"' in liaison.get("/ui/content").text
    missing = liaison.post("/ui/content/share", data={"csrf": csrf(liaison), "list": "no-such-list"})
    assert missing.status_code == 404 and 'id="e-share"' in missing.text and "field source_list" in missing.text
    bad = liaison.post("/ui/content/share", data={"csrf": csrf(liaison), "list": "to-share", "distribution": "sharing-group"})
    assert bad.status_code == 422 and 'id="e-share"' in bad.text
    (item,) = content.list_indicators(web.service, source_list="to-share")[1]
    assert item["stix_id"] is None
    done = liaison.post("/ui/content/share", data={"csrf": csrf(liaison), "list": "to-share", "distribution": "connected"})
    assert done.status_code == 200 and "1 indicator of list to-share published to partners." in done.text
    assert content.list_indicators(web.service, source_list="to-share")[1][0]["stix_id"]
    listed = main(liaison.get("/ui/content", params={"list": "to-share"}).text)
    assert '<span class="status s-shared">shared</span>' in listed and "/retract" not in listed
