"""The HTTP API: yente's /match shapes, the other routes, and clear 4xx errors.

The app serves a `Qalqan` store into which the fixture lists (tests/adapters/conftest.py) are
imported as CSV files; the client sends an analyst's API key and a purpose on every request.
"""

from __future__ import annotations

import csv
import hashlib
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from qalqan.api import create_app, routes
from qalqan.model import Entity, Query
from qalqan.service import users
from qalqan.service.core import Qalqan
from qalqan.store.db import Database

from .conftest import make_entities

# Field names of yente's models (yente/data/common.py), read from its source.
YENTE_MATCH_RESPONSE = {"responses", "matcher", "limit"}
YENTE_ENTITY_MATCHES = {"status", "results", "total", "query"}
YENTE_ENTITY = {"id", "caption", "schema", "properties", "datasets", "referents", "target", "first_seen", "last_seen", "last_change"}
YENTE_SCORED = YENTE_ENTITY | {"score", "features", "match"}
YENTE_TOTAL = {"value", "relation"}
YENTE_EXAMPLE = {"id", "schema", "properties"}
YENTE_FEATURE_DOC = {"description", "coefficient", "url"}


CSV_COLUMNS = ("id", "schema", "name", "aliases", "birth_date", "nationality", "gender", "document_number", "document_type", "country", "listed_on", "reference")


def write_csv_list(path: Path, entities: list[Entity]) -> Path:
    """The fixture entities in the CSV list template (what a national list would send)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(CSV_COLUMNS)
        for e in entities:
            out.writerow([
                e.source_id, e.schema, e.names[0].value, ";".join(n.value for n in e.names[1:]),
                ";".join(d.iso() for d in e.birth_dates), ";".join(e.nationalities), e.gender or "",
                ";".join(d.number for d in e.documents), e.documents[0].type if e.documents else "",
                ";".join(e.countries), e.listed_on or "", e.reference or "",
            ])
    return path


def fixture_service(folder: Path) -> tuple[Qalqan, dict[str, Path]]:
    """A store holding the fixture lists "tl" and "ol" as live versions."""
    db = Database(f"sqlite:///{folder / 'qalqan.db'}")
    db.migrate()
    service = Qalqan(db, audit_key=bytes(32))
    files = {}
    for name in ("tl", "ol"):
        files[name] = write_csv_list(folder / f"{name}.csv", [e for e in make_entities() if e.list == name])
        service.import_list(f"csv:{files[name]}", actor="test")
    return service, files


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Qalqan, dict[str, Path], str]]:
    service, files = fixture_service(tmp_path_factory.mktemp("api-store"))
    users.create_user(service, "analyst", "analyst", actor="test")
    key = users.create_key(service, "analyst", actor="test")
    yield service, files, key
    service.db.dispose()


def keyed_client(service: Qalqan, key: str, **kwargs: Any) -> TestClient:
    return TestClient(create_app(service, **kwargs), headers={"Authorization": f"Bearer {key}", "X-Purpose": "API tests"})


@pytest.fixture(scope="module")
def client(store: tuple[Qalqan, dict[str, Path], str]) -> Iterator[TestClient]:
    service, _files, key = store
    with keyed_client(service, key) as c:
        yield c


def person(name: str | list[str], **props: Any) -> dict[str, Any]:
    return {"schema": "Person", "properties": {"name": name if isinstance(name, list) else [name], **props}}


def post(client: TestClient, body: dict[str, Any], dataset: str = "default", **params: Any) -> Any:
    return client.post(f"/match/{dataset}", json=body, params=params)


def test_yente_response_shape(client: TestClient) -> None:
    body = {"queries": {"q1": person("Borislav Quennerstedt", birthDate=["1971-05-02"], nationality=["kz"], gender=["male"], passportNumber=["N1234567"])}}
    r = post(client, body)
    assert r.status_code == 200, r.text
    data = r.json()
    assert set(data) >= YENTE_MATCH_RESPONSE and data["limit"] == 5
    for doc in data["matcher"].values():
        assert set(doc) == YENTE_FEATURE_DOC and isinstance(doc["coefficient"], float)
    resp = data["responses"]["q1"]
    assert set(resp) == YENTE_ENTITY_MATCHES | {"warnings"} and resp["status"] == 200 and resp["warnings"] == []
    assert set(resp["total"]) == YENTE_TOTAL and resp["total"] == {"value": len(resp["results"]), "relation": "eq"}
    assert set(resp["query"]) == YENTE_EXAMPLE and resp["query"]["schema"] == "Person"
    top = resp["results"][0]
    assert set(top) == YENTE_SCORED | {"explanation"}
    assert top["id"] == "tl-1" and top["caption"] == "Borislav Quennerstedt" and top["schema"] == "Person"
    assert top["datasets"] == ["tl"] and top["referents"] == ["TLi.001"] and top["target"] is True
    assert top["properties"]["name"] == ["Borislav Quennerstedt"]
    assert top["properties"]["passportNumber"] == ["N1234567"]
    assert top["match"] is True and 0.0 <= top["score"] <= 1.0
    assert all(isinstance(v, float) for v in top["features"].values())
    assert "name" in top["features"]
    names = {f["feature"] for f in top["explanation"]}
    assert set(top["features"]) <= names
    name_feature = next(f for f in top["explanation"] if f["feature"] == "name")
    assert name_feature["candidate_value"] and set(name_feature) >= {"score", "weight", "query_value", "candidate_value"}
    # The HTTP explanation is the engine's own (alignment included), nothing dropped on the way.
    screener = client.app.state.service.screener  # type: ignore[attr-defined]
    engine = screener.match(Query(("Borislav Quennerstedt",)), limit=1)[0]
    assert {f["feature"] for f in top["explanation"]} == {f.feature for f in engine.explanation}
    engine_name = next(f for f in engine.explanation if f.feature == "name").as_dict()
    assert {k: v for k, v in name_feature.items() if v is not None} == {k: v for k, v in engine_name.items() if v is not None}
    assert r.headers["x-batch-size"] == "1"


def test_match_is_a_threadpool_route() -> None:
    assert not inspect.iscoroutinefunction(routes.match)


def test_several_queries_keyed_like_the_request(client: TestClient) -> None:
    body = {"queries": {"a": person("Ottoline Vasquez Marrow"), "b": {"schema": "Company", "properties": {"name": "Zephyrine Maritime Holdings"}}, "c": person("Nobody Atall Unlisted")}}
    data = post(client, body).json()
    assert data["responses"]["a"]["results"][0]["id"] == "tl-2"
    assert data["responses"]["b"]["results"][0]["id"] == "tl-3"  # Company folds onto Organization; a bare string value is accepted
    assert data["responses"]["c"]["results"] == [] and data["responses"]["c"]["total"]["value"] == 0


def test_dataset_selects_lists(client: TestClient) -> None:
    body = {"queries": {"q": person(["Borislav Quennerstedt", "Gunnvald Treadwick"])}}
    ids = lambda r: {x["id"] for x in r.json()["responses"]["q"]["results"]}
    assert ids(post(client, body, "default")) >= {"tl-1", "ol-1"}
    assert ids(post(client, body, "sanctions")) >= {"tl-1", "ol-1"}
    assert ids(post(client, body, "ol")) == {"ol-1"}
    assert ids(post(client, body, "default", include_dataset="tl")) == {"tl-1"}
    assert ids(post(client, body, "default", exclude_dataset="tl")) == {"ol-1"}


def test_unknown_dataset_is_404(client: TestClient) -> None:
    r = post(client, {"queries": {"q": person("A B")}}, "nope")
    assert r.status_code == 404 and "nope" in r.json()["detail"] and "tl" in r.json()["detail"]


def test_threshold_limit_cutoff(client: TestClient) -> None:
    body = {"queries": {"q": person("Borislav Quennerstedt")}}
    r = post(client, body, threshold=1.0)
    assert r.json()["responses"]["q"]["results"][0]["match"] is (r.json()["responses"]["q"]["results"][0]["score"] >= 1.0)
    high = post(client, body, threshold=0.99, cutoff=0.99).json()["responses"]["q"]["results"]
    assert all(x["score"] >= 0.99 for x in high)
    many = {"queries": {"q": person(["Borislav Quennerstedt", "Gunnvald Treadwick", "Ottoline Vasquez-Marrow"])}}
    assert len(post(client, many, limit=1).json()["responses"]["q"]["results"]) == 1
    assert post(client, many, limit=501).status_code == 422


def test_algorithm_and_weights_accepted_with_a_note(client: TestClient) -> None:
    r = post(client, {"queries": {"q": person("Borislav Quennerstedt")}, "weights": {"name_literal": 0.8}}, algorithm="logic-v2")
    assert r.status_code == 200
    notes = " ".join(r.json()["notes"])
    assert "logic-v2" in notes and "weights" in notes
    assert post(client, {"queries": {"q": person("A B")}}, algorithm="best").json()["notes"] == []


def loc_of(r: Any) -> list[Any]:
    assert r.status_code == 422, r.text
    return r.json()["detail"][0]["loc"]


def test_bad_queries_name_the_field(client: TestClient) -> None:
    assert loc_of(post(client, {"queries": {"q": person([""])}})) == ["body", "queries", "q", "properties", "name"]
    assert loc_of(post(client, {"queries": {"q": {"schema": "Person", "properties": {}}}})) == ["body", "queries", "q", "properties", "name"]
    assert loc_of(post(client, {"queries": {"q": {"schema": "Spaceship", "properties": {"name": ["A"]}}}})) == ["body", "queries", "q", "schema"]
    # An impossible date or an unknown country is no longer refused: the query is screened
    # without it, with a warning (tests/adapters/test_bad_fields.py).
    assert loc_of(post(client, {"queries": {"q": person("A B", favouriteColour=["red"])}})) == ["body", "queries", "q", "properties", "favouriteColour"]
    assert loc_of(post(client, {"queries": {"q": person("x" * 1001)}}))[:5] == ["body", "queries", "q", "properties", "name"]
    # pydantic's own validation: missing schema
    assert "schema" in loc_of(post(client, {"queries": {"q": {"properties": {"name": ["A"]}}}}))
    assert loc_of(post(client, {"queries": {}})) == ["body", "queries"]


def test_too_many_queries(client: TestClient) -> None:
    body = {"queries": {f"q{i}": person("A B") for i in range(routes.MAX_QUERIES + 1)}}
    r = post(client, body)
    assert loc_of(r) == ["body", "queries"] and str(routes.MAX_QUERIES) in r.json()["detail"][0]["msg"]


def test_oversize_body(store: tuple[Qalqan, dict[str, Path], str]) -> None:
    with keyed_client(store[0], store[2], max_body_bytes=1000) as small:
        body = {"queries": {"q": person("A " * 600)}}
        assert small.post("/match/default", json=body).status_code == 413

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            yield b'{"queries": {"q": {"schema": "Person", "properties": {"name": ["'
            for _ in range(20):
                yield b"A" * 100
            yield b'"]}}}}'

        r = small.post("/match/default", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413 and "too large" in r.json()["detail"]


def test_get_entity(client: TestClient) -> None:
    r = client.get("/entities/tl-1")
    assert r.status_code == 200
    data = r.json()
    assert set(data) == YENTE_ENTITY
    assert data["properties"]["birthDate"] == ["1971-05-02"] and data["properties"]["nationality"] == ["kz"]
    tl = next(x for x in client.get("/lists").json()["lists"] if x["name"] == "tl")
    # A CSV list has no publication date: last_seen is when the store read the version.
    assert data["last_seen"][:19] == tl["loaded_at"][:19] and data["first_seen"].startswith("2011-03-04")
    missing = client.get("/entities/tl-999")
    assert missing.status_code == 404 and "tl-999" in missing.json()["detail"]


def test_lists_and_health(client: TestClient, store: tuple[Qalqan, dict[str, Path], str]) -> None:
    lists = client.get("/lists").json()["lists"]
    tl = next(x for x in lists if x["name"] == "tl")
    assert tl["published"] is None and tl["counts"] == {"Organization": 1, "Person": 2} and tl["total"] == 3
    assert tl["sha256"] == hashlib.sha256(store[1]["tl"].read_bytes()).hexdigest() and tl["loaded_at"] and tl["format"] == "csv"
    health = client.get("/healthz").json()
    assert health == {"status": "ok", "entities": 4, "lists": ["ol", "tl"]}


def test_openapi_documents_the_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/match/{dataset}", "/entities/{entity_id}", "/lists", "/healthz"} <= set(spec["paths"])
    params = {p["name"] for p in spec["paths"]["/match/{dataset}"]["post"]["parameters"]}
    assert {"dataset", "limit", "threshold", "cutoff", "algorithm", "include_dataset", "exclude_dataset"} <= params
    assert client.get("/docs").status_code == 404  # interactive pages only with --public-docs


def test_banner_is_repeated_in_every_answer(store: tuple[Qalqan, dict[str, Path], str]) -> None:
    with keyed_client(store[0], store[2], banner="DEMO LIST OF FICTIONAL NAMES — NOT FOR SCREENING") as c:
        r = post(c, {"queries": {"q": person("Borislav Quennerstedt")}})
        assert "DEMO LIST OF FICTIONAL NAMES — NOT FOR SCREENING" in r.json()["notes"]
        assert "DEMO LIST" in c.get("/openapi.json").json()["info"]["description"]
