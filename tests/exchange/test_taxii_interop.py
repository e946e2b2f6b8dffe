"""Interoperability with real TAXII 2.1 peers:

- `taxii2-client` (the OASIS client library) reads our server: discovery, API root,
  collections, objects paged with `next`, one object, its versions, the manifest; HTTP Basic
  and Bearer; 401, 403, 406 as the spec says;
- and writes to it: a partner adds its own objects (202 and a status resource, read back), a
  forged one is refused whole (403), a staff key 403, another media type 415;
- our pull reads medallion (the OASIS reference server, memory backend) loaded with the STIX 2.1
  examples in ../shared/data/messages/stix21/ through taxii2-client's add_objects, resumably.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import uvicorn
from sqlalchemy import select
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from qalqan.api import create_app
from qalqan.exchange import stix
from qalqan.service import exchange, users
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from qalqan.store.tables import AuditEntry




def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Bearer(requests.auth.AuthBase):
    def __init__(self, token: str):
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


@pytest.fixture()
def node(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = Database(f"sqlite:///{tmp_path / 'qalqan.db'}")
    db.migrate()
    service = Qalqan(db, audit_key=bytes(32), org="kz-ctc", org_name="Astana")
    users.create_user(service, "liaison", "liaison", actor="setup")
    partner = exchange.add_partner(service, "kg-border", "Bishkek", actor="setup")
    outsider = exchange.add_partner(service, "uz-fiu", "Tashkent", actor="setup")
    marking = exchange.make_marking(service, tlp="green", distribution="sharing-group", group="ab")
    exchange.set_group(service, "ab", ["kz-ctc", "kg-border"], actor="setup")
    ids = []
    for i in range(7):
        fields = exchange.warning_fields(title=f"warning {i}", description="", priority="routine", valid_until="2027-01-01T00:00:00Z", sectors=["water"], domain="cyber", ack_required=False, ack_deadline=None)
        ids.append(exchange.share_warning(service, marking, actor="liaison", indicators=[("ipv4", f"203.0.113.{i + 1}")], **fields))
    exchange.retract(service, ids[0], actor="liaison", reason="wrong")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(service, data_dir=tmp_path), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}/taxii2/", "service": service, "key": partner["key"], "outsider": outsider["key"], "ids": ids}
    server.should_exit = True
    thread.join(timeout=30)
    db.dispose()


def test_taxii2_client_reads_our_server(node: dict[str, Any]) -> None:
    server = Server(node["url"], user="partner-kg-border", password=node["key"])
    assert server.title.startswith("Qalqan node kz-ctc")
    root = server.default
    assert isinstance(root, ApiRoot)
    assert "application/taxii+json;version=2.1" in root.versions
    (collection,) = root.collections
    assert collection.can_read and collection.can_write
    # Paged with next: 7 warnings + 7 indicators; the retracted warning's newest version only.
    pages = list(as_pages(collection.get_objects, per_request=3))
    assert len(pages) >= 5
    got = [o for p in pages for o in p.get("objects", [])]
    assert len(got) == len({o["id"] for o in got}) == 14
    assert {o["id"] for o in got if o["type"] == "report"} == set(node["ids"])
    assert next(o for o in got if o["id"] == node["ids"][0])["revoked"] is True
    # Filters.
    reports = collection.get_objects(type="report")
    assert {o["type"] for o in reports["objects"]} == {"report"}
    one = collection.get_object(node["ids"][1])
    assert [o["id"] for o in one["objects"]] == [node["ids"][1]]
    versions = collection.object_versions(node["ids"][0])
    assert len(versions["versions"]) == 2
    everything = collection.get_objects(version="all")
    assert len(everything["objects"]) == 15
    manifest = collection.get_manifest()
    assert {m["id"] for m in manifest["objects"]} == {o["id"] for o in got}
    # Bearer works as Basic does.
    bearer = Collection(collection.url, auth=Bearer(node["key"]))
    assert len(bearer.get_objects(limit=100)["objects"]) == 14


def test_our_server_says_no_as_the_spec_says(node: dict[str, Any]) -> None:
    base = node["url"]
    col = f"{base}api/collections/{exchange.COLLECTION_ID}/"
    headers = {"Accept": "application/taxii+json;version=2.1"}
    assert httpx.get(base, headers=headers).status_code == 401
    assert httpx.get(base, headers=headers, auth=("partner-kg-border", "qk_wrong_" + "x" * 43)).status_code == 401
    # A key with another holder's name in Basic is refused.
    assert httpx.get(base, headers=headers, auth=("partner-uz-fiu", node["key"])).status_code == 401
    ok = httpx.get(col + "objects/", headers=headers, auth=("partner-kg-border", node["key"]))
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("application/taxii+json")
    assert ok.headers["X-TAXII-Date-Added-First"] <= ok.headers["X-TAXII-Date-Added-Last"]
    assert httpx.get(col + "objects/", headers={"Accept": "text/html"}, auth=("partner-kg-border", node["key"])).status_code == 406
    # Writing needs the TAXII media type (httpx's json= sends application/json).
    assert httpx.post(col + "objects/", headers=headers, auth=("partner-kg-border", node["key"]), json={"objects": []}).status_code == 415
    assert httpx.get(col + "objects/", params={"limit": "many"}, headers=headers, auth=("partner-kg-border", node["key"])).status_code == 400
    # The outsider (not in the sharing group) sees the collection but nothing in it.
    out = httpx.get(col + "objects/", headers=headers, auth=("partner-uz-fiu", node["outsider"]))
    assert out.status_code == 200 and "objects" not in out.json()
    # A staff key is not a TAXII credential.
    users.create_user(node["service"], "ana", "analyst", actor="setup")
    staff = users.create_key(node["service"], "ana", actor="setup")
    assert httpx.get(base, headers={**headers, "Authorization": f"Bearer {staff}"}).status_code == 403


def test_taxii2_client_writes_to_our_server(node: dict[str, Any]) -> None:
    service = node["service"]
    server = Server(node["url"], user="partner-kg-border", password=node["key"])
    root = server.default
    (collection,) = root.collections
    assert collection.can_write
    kg = exchange.identity_id("kg-border")
    ind = stix.indicator("domain", "c2.example.org", created_by=kg, valid_from=datetime(2026, 11, 1, tzinfo=UTC))
    status = collection.add_objects(stix.bundle([ind]))
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count, status.pending_count) == (1, 1, 0, 0)
    assert status.successes == [{"id": ind["id"], "version": ind["modified"]}]
    again = root.get_status(status.id)
    assert again.id == status.id and again.success_count == 1 and again.successes == status.successes
    status.refresh()  # the status URL taxii2-client derives from the collection's
    assert status.success_count == 1
    (held,) = [o for o in exchange.list_objects(service, originator="kg-border") if o["id"] == ind["id"]]
    assert held["source"] == "kg-border" and held["kind"] == "indicator"
    # A pushed subject is taken in as a pulled one: it becomes the partner's list (and is screened).
    entity = exchange.entity_from_ftm(service, {"schema": "Person", "properties": {"name": ["Abdulla Karimov"], "birthDate": ["1991-04-17"]}})
    subject = stix.subject_to_stix(entity, created_by=kg)
    assert collection.add_objects(stix.bundle([subject])).success_count == 1
    assert exchange.partner_list_name("kg-border") in service.live_versions()
    # The write is audited, with the partner and a purpose.
    with service.db.session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "taxii.add_objects").order_by(AuditEntry.seq)).scalars().first()
        assert entry.actor == "partner-kg-border" and entry.target == "partner:kg-border" and entry.purpose
    # Another partner does not see that status.
    other = ApiRoot(root.url, user="partner-uz-fiu", password=node["outsider"])
    with pytest.raises(requests.HTTPError) as nf:
        other.get_status(status.id)
    assert nf.value.response.status_code == 404

    base = node["url"]
    col = f"{base}api/collections/{exchange.COLLECTION_ID}/objects/"
    taxii = {"Accept": "application/taxii+json;version=2.1", "Content-Type": "application/taxii+json;version=2.1"}
    auth = ("partner-kg-border", node["key"])
    # A forged object (made "by" another organisation) refuses the request whole: nothing stored.
    forged = stix.indicator("domain", "forged.example.org", created_by=exchange.identity_id("uz-fiu"), valid_from=datetime(2026, 11, 1, tzinfo=UTC))
    honest = stix.indicator("domain", "honest.example.org", created_by=kg, valid_from=datetime(2026, 11, 1, tzinfo=UTC))
    with pytest.raises(requests.HTTPError) as refused:
        collection.add_objects({"objects": [honest, forged]})
    assert refused.value.response.status_code == 403
    assert refused.value.response.json()["http_status"] == "403"
    ids = {o["id"] for o in exchange.list_objects(service, limit=10_000)}
    assert forged["id"] not in ids and honest["id"] not in ids
    # Malformed, and another media type.
    assert httpx.post(col, headers=taxii, auth=auth, content=b"{not json").status_code == 400
    assert httpx.post(col, headers={**taxii, "Content-Type": "application/json"}, auth=auth, content=_json({"objects": [honest]})).status_code == 415
    assert httpx.post(col, headers={**taxii, "Content-Type": "application/taxii+json;version=2.0"}, auth=auth, content=_json({"objects": [honest]})).status_code == 415
    assert honest["id"] not in {o["id"] for o in exchange.list_objects(service, limit=10_000)}
    # A staff key may not write.
    users.create_user(service, "ana", "analyst", actor="setup")
    staff = users.create_key(service, "ana", actor="setup")
    assert httpx.post(col, headers={**taxii, "Authorization": f"Bearer {staff}"}, content=_json({"objects": [honest]})).status_code == 403
    assert honest["id"] not in {o["id"] for o in exchange.list_objects(service, limit=10_000)}


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


# --- medallion ---------------------------------------------------------------------------------


def _medallion(tmp: Path, port: int) -> dict[str, Any]:
    root = f"http://127.0.0.1:{port}/api1/"
    data = {
        "/discovery": {"title": "medallion", "description": "reference server", "default": root, "api_roots": [root]},
        "api1": {
            "information": {"title": "api1", "versions": ["application/taxii+json;version=2.1"], "max_content_length": 100_000_000},
            "status": [],
            "collections": [
                {"id": "91a7b528-80eb-42ed-a74d-c6fbd5a26116", "title": "hub", "can_read": True, "can_write": True,
                 "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": []}
            ],
        },
    }
    path = tmp / "medallion.json"
    path.write_text(json.dumps(data))
    return {"backend": {"module_class": "MemoryBackend", "module": "medallion.backends.memory_backend", "filename": str(path)},
            "users": {"hub": "hub-secret"}, "taxii": {"max_page_size": 50}}


@pytest.fixture()
def medallion_server(tmp_path: Path) -> Iterator[str]:
    from medallion import application_instance, register_blueprints, set_config
    from werkzeug.serving import make_server

    port = _free_port()
    config = _medallion(tmp_path, port)
    for prop in ("users", "taxii", "backend"):
        set_config(application_instance, prop, config)
    register_blueprints(application_instance) if "collections" not in application_instance.blueprints else None
    server = make_server("127.0.0.1", port, application_instance, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/taxii2/"
    server.shutdown()
    thread.join(timeout=30)


def _examples() -> list[dict[str, Any]]:
    folder = Path(os.environ.get("QALQAN_SHARED", Path(__file__).resolve().parents[3] / "shared" / "data")) / "messages" / "stix21"
    files = sorted(folder.glob("examples_*.json"))
    assert len(files) == 8, f"expected the 8 STIX 2.1 example files in {folder}"
    objects: dict[tuple[str, str], dict[str, Any]] = {}
    for f in files:
        doc = json.loads(f.read_text(encoding="utf-8"))
        for obj in doc.get("objects", [doc]) if doc.get("type") == "bundle" else [doc]:
            objects[(obj["id"], obj.get("modified", obj.get("created", "")))] = obj
    return list(objects.values())


def test_we_pull_from_medallion_resumably(medallion_server: str, tmp_path: Path) -> None:
    examples = _examples()
    assert len(examples) > 200
    hub = Collection(medallion_server.replace("/taxii2/", "/api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/"), user="hub", password="hub-secret")
    half = len(examples) // 2
    status = hub.add_objects({"type": "bundle", "id": "bundle--6a3e1b0e-1111-4c61-9c3b-3b7b9a6b1a01", "objects": examples[:half]})
    assert status.success_count == half, status.failures

    db = Database(f"sqlite:///{tmp_path / 'b.db'}")
    db.migrate()
    b = Qalqan(db, audit_key=bytes(32), org="kg-border")
    exchange.add_partner(b, "hub", "National TAXII hub", actor="setup", url=medallion_server, credential="hub:hub-secret", relay=True)
    first = b.sync(["hub"], page_size=40)
    assert first["hub"]["ok"] is True, first
    held = len(exchange.list_objects(b, limit=10_000))
    storable = [o for o in examples[:half] if o["type"] not in ("marking-definition", "extension-definition") and not (o["type"] == "identity" and "created_by_ref" not in o and o.get("identity_class") == "organization")]
    assert held == len({o["id"] for o in storable})
    # More arrives at the hub; the next pull reads only what is new, and nothing twice.
    status = hub.add_objects({"type": "bundle", "id": "bundle--6a3e1b0e-2222-4c61-9c3b-3b7b9a6b1a02", "objects": examples[half:]})
    assert status.success_count == len(examples) - half
    second = b.sync(["hub"], page_size=40)
    assert second["hub"]["ok"] is True
    stored_second = sum(p["stored"] for p in second["hub"]["pages_detail"])
    assert stored_second <= len(examples) - half
    again = b.sync(["hub"], page_size=40)
    assert sum(p["stored"] for p in again["hub"]["pages_detail"]) == 0
    all_storable = {o["id"] for o in examples if o["type"] not in ("marking-definition", "extension-definition") and not (o["type"] == "identity" and "created_by_ref" not in o and o.get("identity_class") == "organization")}
    assert {o["id"] for o in exchange.list_objects(b, limit=10_000)} == all_storable
    db.dispose()
    assert datetime.now(UTC)  # the pull used the server's clock only
