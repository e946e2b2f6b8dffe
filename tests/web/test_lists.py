"""The lists pages: every list with its live version, one list's versions, one version, the diff
of a small list imported twice through the upload form (added, removed and amended, with the
changed field and the alert the added entity raised), fetch, held versions, the role checks and
the CSRF refusals."""

from __future__ import annotations

import re

from qalqan.service import subjects

from .conftest import wait_for_job as _wait, Web, csrf

HEADER = "id,schema,name,aliases,birth_date,nationality,gender,document_number,document_type,country,program,listed_on,reference\n"


def small_list(rows: dict[str, tuple[str, str]]) -> bytes:
    """A CSV list: reference -> (name, birth date)."""
    lines = [f"{ref},Person,{name},,{born},Jordan,male,,,,WEBTEST,2024-01-15,{ref}\n" for ref, (name, born) in rows.items()]
    return (HEADER + "".join(lines)).encode()


FIRST = {f"WT.{i:03d}": (name, f"19{60 + i}-01-0{1 + i % 9}") for i, name in enumerate(
    ["Zoltan Qerimbay", "Vukasin Ardabek", "Oyelaran Tusipbek", "Ximena Baurzhanova", "Quillon Maratuly", "Yevgenij Saparbek",
     "Wilhelmina Kuanyshkyzy", "Ugo Zhandosuly", "Tiberius Almasbek", "Svetozar Yerlanuly", "Rurik Dauletkyzy"], 1)}
AMENDED_KEY, REMOVED_KEY, ADDED_KEY = "WT.001", "WT.011", "WT.012"
SECOND = {k: v for k, v in FIRST.items() if k != REMOVED_KEY}
SECOND[AMENDED_KEY] = (FIRST[AMENDED_KEY][0], "1975-06-30")
SECOND[ADDED_KEY] = ("Bakhytzhan Webtestuly Qozhamzharov", "1977-07-07")


def upload(web: Web, client, name: str, body: bytes, filename: str = "webtest.csv") -> str:  # type: ignore[no-untyped-def]
    r = client.post("/ui/lists/import", data={"csrf": csrf(client), "name": name, "format": "csv"}, files={"file": (filename, body, "text/csv")},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200, r.text[:500]
    found = re.search(rf'href="/ui/lists/{name}/jobs/([0-9a-f]+)"', r.text)
    assert found, r.text
    return _wait(web, client, f"/ui/lists/{name}/jobs/{found.group(1)}")


def test_the_lists_page_shows_the_live_version(web: Web) -> None:
    r = web.client("analyst").get("/ui/lists")
    assert r.status_code == 200, r.text[:300]
    assert 'href="/ui/lists/demo"' in r.text and 'href="/ui/lists/demo/versions/1"' in r.text
    assert ">40<" in r.text  # the demo list's entities
    assert "Import a list file" not in r.text and "Fetch now" not in r.text  # an analyst only reads


def test_one_list_and_one_version(web: Web) -> None:
    client = web.client("analyst")
    r = client.get("/ui/lists/demo")
    assert r.status_code == 200 and "s-live" in r.text and "first version" in r.text
    r = client.get("/ui/lists/demo/versions/1")
    assert r.status_code == 200
    assert "SHA-256" in r.text and re.search(r"[0-9a-f]{64}", r.text) and "Person 30" in r.text
    assert client.get("/ui/lists/demo/versions/99").status_code == 404
    assert client.get("/ui/lists/nolist").status_code == 404


def test_a_diff_of_a_small_list_imported_twice(web: Web) -> None:
    admin = web.client("admin")
    html = upload(web, admin, "webtest", small_list(FIRST))
    assert "Version 1 is live." in html, html
    # a watched subject the second version's new entity will match
    subjects.add_subjects(web.service, [{"id": "WT-SUBJ", "schema": "Person", "name": SECOND[ADDED_KEY][0], "birth_date": "1977-07-07"}], actor="test")
    html = upload(web, admin, "webtest", small_list(SECOND))
    assert "Version 2 is live." in html, html
    client = web.client("analyst")
    r = client.get("/ui/lists/webtest/diff")  # default: the live version against the one before it
    assert r.status_code == 200, r.text[:300]
    page = r.text
    assert "version 1 → version 2" in page
    for kind, key in (("added", ADDED_KEY), ("removed", REMOVED_KEY), ("amended", AMENDED_KEY)):
        row = re.search(rf'<tr>\s*<td><span class="chg chg-{kind}">.*?{re.escape(key)}.*?</tr>', page, re.S)
        assert row, f"no {kind} line for {key}"
    amended = re.search(rf'chg-amended.*?{re.escape(AMENDED_KEY)}.*?</tr>', page, re.S).group(0)  # type: ignore[union-attr]
    assert "1961-01-02" in amended and "1975-06-30" in amended, amended
    assert 'class="old"' in amended and 'class="new"' in amended
    added = re.search(rf'chg-added.*?{re.escape(ADDED_KEY)}.*?</tr>', page, re.S).group(0)  # type: ignore[union-attr]
    assert "WT-SUBJ" in added and re.search(r'href="/ui/alerts/\d+"', added), "the alert the added entity raised is not shown"
    # filtered to one kind
    r = client.get("/ui/lists/webtest/diff", params={"version": 2, "change": "removed"})
    assert REMOVED_KEY in r.text and ADDED_KEY not in r.text.split("<tbody>", 1)[1]
    # the versions table and the live version
    r = client.get("/ui/lists/webtest")
    assert 'href="/ui/lists/webtest/diff?version=2"' in r.text and "1 added" in r.text and "1 removed" in r.text and "1 amended" in r.text
    assert 'href="/ui/lists/webtest/versions/2"' in client.get("/ui/lists").text


def test_a_held_version_is_listed_as_pending(web: Web) -> None:
    admin = web.client("admin")
    upload(web, admin, "heldtest", small_list(dict(list(FIRST.items())[:3])))
    html = upload(web, admin, "heldtest", small_list(dict(list(FIRST.items())[:1])))  # removes 2 of 3
    assert "held by the import guard" in html and "removes-too-many" in html
    r = web.client("analyst").get("/ui/lists")
    pending = r.text.split('id="h-pending"', 1)[1].split("</section>", 1)[0]
    assert 'href="/ui/lists/heldtest/versions/2"' in pending and "removes-too-many" in pending


def test_import_errors_are_shown(web: Web) -> None:
    admin = web.client("admin")
    r = admin.post("/ui/lists/import", data={"csrf": csrf(admin), "name": "", "format": ""}, files={"file": ("x.csv", b"a,b\n", "text/csv")})
    assert r.status_code == 422 and "List name" in r.text and 'role="alert"' in r.text
    r = admin.post("/ui/lists/import", data={"csrf": csrf(admin), "name": "ok", "format": "nope"}, files={"file": ("x.csv", b"a,b\n", "text/csv")})
    assert r.status_code == 422 and "Format" in r.text
    r = admin.post("/ui/lists/import", data={"csrf": csrf(admin), "name": "ok"})
    assert r.status_code == 422 and "choose a file" in r.text
    # a file the reader refuses: the job fails with the reader's message
    html = upload(web, admin, "broken", b"not,a,list\n1,2,3\n", "broken.csv")
    assert "Failed" in html and 'role="alert"' in html


def test_fetch_runs_as_a_job(web: Web) -> None:
    admin = web.client("admin")
    r = admin.post("/ui/lists/demo/fetch", data={"csrf": csrf(admin)})
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/lists/demo/jobs/")
    html = _wait(web, admin, r.headers["location"])
    assert "Fetch" in html and ("Failed" in html or "Finished" in html)
    assert "no URL known" in html  # the demo list has no URL: the service's message is shown


def test_an_analyst_may_not_import_or_fetch(web: Web) -> None:
    client = web.client("analyst")
    token = csrf(client)
    assert client.post("/ui/lists/demo/fetch", data={"csrf": token}).status_code == 403
    r = client.post("/ui/lists/import", data={"csrf": token, "name": "x"}, files={"file": ("x.csv", small_list(FIRST), "text/csv")})
    assert r.status_code == 403
    assert client.get("/ui/lists/demo/jobs/" + "0" * 32).status_code == 403
    assert web.client("auditor").get("/ui/lists").status_code == 403


def test_posts_without_the_csrf_token_are_refused(web: Web) -> None:
    admin = web.client("admin")
    assert admin.post("/ui/lists/demo/fetch").status_code == 403
    assert admin.post("/ui/lists/demo/fetch", data={"csrf": "forged"}).status_code == 403
    r = admin.post("/ui/lists/import", data={"name": "nocsrf"}, files={"file": ("x.csv", small_list(FIRST), "text/csv")})
    assert r.status_code == 403
    assert 'href="/ui/lists/nocsrf"' not in admin.get("/ui/lists").text


def test_a_script_in_an_entity_name_is_escaped_in_the_diff(web: Web) -> None:
    admin = web.client("admin")
    upload(web, admin, "xsslist", small_list({"XS.001": ("Karim <script>alert(1)</script> Payload", "1970-01-01")}))
    html = web.client("analyst").get("/ui/lists/xsslist/diff").text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_a_diff_between_any_two_versions(web: Web) -> None:
    """Version 1 against version 3 (skipping 2): computed from the two versions' members, it
    agrees with what happened in between: the entity removed in 2 stays removed, the one amended
    in 3 shows its changed date against version 1's."""
    admin = web.client("admin")
    first = dict(FIRST)  # eleven: removing one stays under the import guard's share
    upload(web, admin, "anytwo", small_list(first))
    second = {k: v for k, v in first.items() if k != "WT.006"}
    upload(web, admin, "anytwo", small_list(second))
    third = dict(second)
    third["WT.002"] = (second["WT.002"][0], "1980-02-02")
    third["WT.099"] = ("Narikbek Anytwouly", "1981-03-03")
    assert "Version 3 is live." in upload(web, admin, "anytwo", small_list(third))
    from qalqan.service import versions

    found = versions.compare_versions(web.service.db, "anytwo", 1, 3)
    assert [(line["change"], line["key"]) for line in found["lines"]] == [("added", "WT.099"), ("removed", "WT.006"), ("amended", "WT.002")]
    [amended] = [line for line in found["lines"] if line["change"] == "amended"]
    assert any(f["field"] == "birth_dates" or "1980-02-02" in str(f["new"]) for f in amended["fields"]), amended
    assert found["totals"] == {"added": 1, "removed": 1, "amended": 1}
    # the same through the page
    page = web.client("analyst").get("/ui/lists/anytwo/diff", params={"version": 3, "against": 1}).text
    assert "version 1 → version 3" in page
    for kind, key in (("added", "WT.099"), ("removed", "WT.006"), ("amended", "WT.002")):
        assert re.search(rf'chg-{kind}.*?{re.escape(key)}', page, re.S), (kind, key)
    # and version 3 against its predecessor has no removal
    stored = web.client("analyst").get("/ui/lists/anytwo/diff", params={"version": 3}).text
    assert "version 2 → version 3" in stored and "WT.006" not in stored.split("<tbody>", 1)[-1]
