"""`qalqan content hash / import / check / list / share / retract` on a store of the test's own
(QALQAN_DATA), and the /content routes' answers to bad input (TestClient)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from qalqan.api import create_app
from qalqan.cli import app
from qalqan.service import users
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from tests.content.images import encoded, flat, textured


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QALQAN_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("QALQAN_DATABASE_URL", raising=False)
    return tmp_path


def test_hash_import_check_list_retract(env: Path) -> None:
    runner = CliRunner()
    img = textured(7)
    (env / "orig.png").write_bytes(encoded(img))
    (env / "flat.png").write_bytes(flat())
    r = runner.invoke(app, ["content", "hash", str(env / "orig.png"), str(env / "flat.png"), "--json"])
    assert r.exit_code == 0, r.output
    orig, flat_facts = json.loads(r.stdout)
    assert len(orig["sha256"]) == 64 and orig["pdq"][0]["quality"] >= 50
    assert flat_facts["pdq"] == [] and "quality" in flat_facts["unhashable"]
    r = runner.invoke(app, ["content", "hash", str(env / "orig.png")])
    assert orig["pdq"][0]["hash"] in r.output and "sha256" in r.output

    csv = env / "bank.csv"
    csv.write_text(f"value,type,category,tlp\n{orig['pdq'][0]['hash']},pdq,violent-propaganda,green\nbad.example.org,domain,recruitment,amber\n", encoding="utf-8")
    r = runner.invoke(app, ["content", "import", str(csv)])
    assert r.exit_code == 0 and "2 added" in r.output and "list bank" in r.output, r.output
    bad = env / "bad.csv"
    bad.write_text("value,type,category\nhttp://ok.example.org/,url,threat\nnothex,sha1,threat\n", encoding="utf-8")
    r = runner.invoke(app, ["content", "import", str(bad)])
    assert r.exit_code == 2 and "row 3" in r.output and "'value'" in r.output, r.output

    folder = env / "uploads"
    folder.mkdir()
    (folder / "copy.jpg").write_bytes(encoded(img, "JPEG", quality=60))
    (folder / "other.png").write_bytes(encoded(textured(8)))
    r = runner.invoke(app, ["content", "check", str(folder), "https://www.bad.example.org/x?utm_source=feed", "--json"])
    assert r.exit_code == 1, r.output  # something matched
    results = {Path(x["checked"]).name if "://" not in x["checked"] else "url": x for x in json.loads(r.stdout)}
    assert [m["rule"] for m in results["copy.jpg"]["matches"]] == ["pdq"]
    assert results["other.png"]["matches"] == []
    assert [m["rule"] for m in results["url"]["matches"]] == ["domain"]
    r = runner.invoke(app, ["content", "check", str(folder / "other.png")])
    assert r.exit_code == 0 and "0 of 1 matched" in r.output, r.output
    r = runner.invoke(app, ["content", "check", str(env / "missing.png")])
    assert r.exit_code == 2 and "not a URL" in r.output

    r = runner.invoke(app, ["content", "list", "--json"])
    items = json.loads(r.stdout)["items"]
    assert {i["type"] for i in items} == {"pdq", "domain"}
    domain = next(i["id"] for i in items if i["type"] == "domain")
    r = runner.invoke(app, ["content", "share", "--list", "bank", "--distribution", "community"])
    assert r.exit_code == 0 and "shared 2 indicator(s)" in r.output, r.output
    r = runner.invoke(app, ["content", "retract", domain, "--reason", "site taken down"])
    assert r.exit_code == 0 and "partners told" in r.output, r.output
    r = runner.invoke(app, ["content", "check", "https://bad.example.org/"])
    assert r.exit_code == 0, r.output


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    db = Database(f"sqlite:///{tmp_path / 'q.db'}")
    db.migrate()
    service = Qalqan(db, audit_key=bytes(32))
    keys = {}
    for role in ("analyst", "supervisor", "auditor"):
        users.create_user(service, role, role, actor="setup")
        keys[role] = users.create_key(service, role, actor="setup")
    c = TestClient(create_app(service, data_dir=tmp_path))
    c.keys = keys  # type: ignore[attr-defined]
    return c


def _h(client: TestClient, role: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.keys[role]}", **extra}  # type: ignore[attr-defined]


def test_api_answers_bad_input_clearly(client: TestClient) -> None:
    r = client.post("/content/indicators", content=b"value,type,category\nx,md5,threat\n", headers=_h(client, "supervisor"))
    assert r.status_code == 422 and r.json()["detail"][0]["row"] == 2 and r.json()["detail"][0]["loc"] == ["body", "value"]
    r = client.post("/content/indicators", content=b"", headers=_h(client, "supervisor"))
    assert r.status_code == 422
    r = client.post("/content/indicators", content=b"d41d8cd98f00b204e9800998ecf8427e,md5,threat\n", headers=_h(client, "supervisor"),
                    params={"format": "csv"})
    assert r.status_code == 422 and "header" in r.text
    r = client.post("/content/check", json={"url": "not a url at all"}, headers=_h(client, "analyst"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "url"]
    r = client.post("/content/check", json={"nothing": 1}, headers=_h(client, "analyst"))
    assert r.status_code == 422
    r = client.post("/content/check", content=b"", headers=_h(client, "analyst", **{"Content-Type": "image/png"}))
    assert r.status_code == 422
    r = client.post("/content/check", content=flat(), headers=_h(client, "analyst", **{"Content-Type": "image/png"}), params={"max_distance": 200})
    assert r.status_code == 422
    r = client.post("/content/check", content=flat(), headers=_h(client, "analyst", **{"Content-Type": "image/png"}), params={"keep": "true"})
    assert r.status_code == 200 and r.json()["kept"] is True and r.json()["input"]["unhashable"]
    sha = r.json()["input"]["sha256"]
    assert client.get(f"/content/samples/{sha}", headers=_h(client, "analyst")).status_code == 403
    r = client.get(f"/content/samples/{sha}", headers=_h(client, "supervisor"))
    assert r.status_code == 200 and r.content == flat()
    assert client.get("/content/indicators/content--nope", headers=_h(client, "analyst")).status_code == 404
    assert client.post("/content/check", json={"url": "https://x.example.org/"}, headers=_h(client, "auditor")).status_code == 403
    stats = client.get("/content/stats", headers=_h(client, "analyst")).json()
    assert stats["active"] == 0
