"""The adapters over the real readers: the UN list of 2026-02-27 and the bundled demo list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from qalqan.api import create_app
from qalqan.cli import app, demo_list_path, resolve_serve_lists
from qalqan.service import users
from qalqan.service.core import Qalqan
from qalqan.sources.registry import read_list

from .conftest import UN_XML

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def un() -> Any:
    return read_list(str(UN_XML))


def served(folder: Path, spec: str, banner: str | None = None) -> TestClient:
    """A store holding `spec` as its live list, served with an analyst's key and a purpose."""
    service = Qalqan.open(f"sqlite:///{folder / 'qalqan.db'}", audit_key=bytes(32))
    service.import_list(spec, actor="test")
    users.create_user(service, "analyst", "analyst", actor="test")
    client = TestClient(create_app(service, banner=banner))
    client.headers.update({"Authorization": f"Bearer {users.create_key(service, 'analyst', actor='test')}"})
    client.params = {"purpose": "test"}  # type: ignore[assignment]
    return client


@pytest.fixture(scope="module")
def un_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with served(tmp_path_factory.mktemp("un"), f"un:{UN_XML}") as c:
        yield c


def a_listed_person(un: Any) -> Any:
    return next(e for e in un.entities if e.schema == "Person" and e.birth_dates)


def test_un_list_reads_whole(un: Any) -> None:
    assert un.info.name == "un" and un.info.published and un.info.published.startswith("2026-02-27")
    assert len(un.entities) > 900
    assert un.info.counts.get("Person", 0) > 500


def test_match_a_listed_person_over_http(un: Any, un_client: TestClient) -> None:
    person = a_listed_person(un)
    body = {"queries": {"q": {"schema": "Person", "properties": {"name": [person.caption], "birthDate": [person.birth_dates[0].iso()]}}}}
    r = un_client.post("/match/un", json=body)
    assert r.status_code == 200, r.text
    top = r.json()["responses"]["q"]["results"][0]
    assert top["id"] == person.id and top["match"] is True and top["referents"] == [person.reference]
    assert un_client.get(f"/entities/{person.id}").json()["caption"] == person.caption
    lists = un_client.get("/lists").json()["lists"]
    assert lists[0]["name"] == "un" and lists[0]["sha256"] and lists[0]["total"] == len(un.entities)


def test_cli_screen_against_the_un_file(tmp_path: Path, un: Any) -> None:
    person = a_listed_person(un)
    src = tmp_path / "in.csv"
    src.write_text(f"id,name\nhit,{person.caption}\nmiss,Qwzx Unlikelyname Foo\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["screen", str(src), "--list", str(UN_XML), "--no-progress"])
    assert r.exit_code == 0, r.output
    hit, miss = [orjson.loads(x) for x in r.stdout.splitlines()]
    assert hit["id"] == "hit" and hit["matches"][0]["entity_id"] == person.id
    assert hit["matches"][0]["reference"] == person.reference and hit["matches"][0]["list"] == "un"
    assert miss["matches"] == []


def test_serve_resolves_env_file_to_the_un_reader(tmp_path: Path) -> None:
    chosen = resolve_serve_lists(env={"QALQAN_UN_XML": str(UN_XML), "QALQAN_DATA": str(tmp_path)})
    assert chosen.origin == "env"
    [spec] = chosen.specs
    assert read_list(spec).info.format == "un"


def test_demo_list_serves(tmp_path: Path) -> None:
    demo = read_list(f"csv:{demo_list_path()}")
    assert demo.entities and not demo.report.errors
    with served(tmp_path, f"csv:{demo_list_path()}", banner="demo") as c:
        name = demo.entities[0].caption
        r = c.post(f"/match/{demo.info.name}", json={"queries": {"q": {"schema": "Person", "properties": {"name": [name]}}}})
        assert r.status_code == 200 and r.json()["responses"]["q"]["results"][0]["id"] == demo.entities[0].id
