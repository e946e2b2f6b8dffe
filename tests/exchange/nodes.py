"""Qalqan nodes as real HTTP servers on loopback (separate stores and ports) that know each
other as partners and pull over TAXII 2.1: the harness of the multi-node exchange tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from qalqan.api import create_app
from qalqan.service import users
from qalqan.service.clock import FixedClock
from qalqan.service.core import Qalqan
from qalqan.store.db import Database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Node:
    org: str
    service: Qalqan
    port: int
    server: uvicorn.Server
    thread: threading.Thread
    keys: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def http(self, role: str, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[role]}", **kw.pop("headers", {})}
        return httpx.request(method, self.url + path, headers=headers, timeout=60, **kw)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    def start(self) -> None:
        config = uvicorn.Config(create_app(self.service, data_dir=Path(self.service.db.engine.url.database).parent), host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, f"node {self.org} did not start"
            time.sleep(0.05)


def make_node(tmp: Path, org: str, name: str, clock: FixedClock) -> Node:
    folder = tmp / org
    folder.mkdir()
    db = Database(f"sqlite:///{folder / 'qalqan.db'}")
    db.migrate()
    service = Qalqan(db, audit_key=bytes(32), clock=clock, org=org, org_name=name)
    keys = {}
    for role in ("admin", "liaison", "analyst", "supervisor"):
        users.create_user(service, f"{role}-{org}", role, actor="setup")
        keys[role] = users.create_key(service, f"{role}-{org}", actor="setup")
    node = Node(org, service, free_port(), None, None, keys)  # type: ignore[arg-type]
    node.start()
    return node


def sync(node: Node) -> dict[str, Any]:
    r = node.http("liaison", "POST", "/exchange/sync")
    assert r.status_code == 200, r.text
    return r.json()


def objects(node: Node, kind: str) -> list[dict[str, Any]]:
    r = node.http("analyst", "GET", "/exchange/objects", params={"kind": kind})
    assert r.status_code == 200, r.text
    return r.json()


def connect(tmp: Path, clock: FixedClock, orgs: Iterable[tuple[str, str]]) -> dict[str, Node]:
    """Started nodes, each registering every other as a partner (their TAXII keys exchanged out
    of band) with the URL to pull from."""
    made = {org: make_node(tmp, org, name, clock) for org, name in orgs}
    issued: dict[tuple[str, str], str] = {}
    for me, node in made.items():
        for other in made:
            if other != me:
                r = node.http("admin", "POST", "/exchange/partners", json={"org": other, "name": other, "url": None})
                assert r.status_code == 200, r.text
                issued[(me, other)] = r.json()["key"]
    for me, node in made.items():
        for other, peer in made.items():
            if other != me:
                # `me` pulls from `other` with the key `other` issued to `me`.
                cred = f"partner-{me}:{issued[(other, me)]}"
                r = node.http("admin", "POST", "/exchange/partners", json={"org": other, "name": other, "url": f"{peer.url}/taxii2/", "credential": cred})
                assert r.status_code == 200, r.text
    return made


def stop_all(made: dict[str, Node]) -> None:
    for node in made.values():
        node.stop()
        node.service.db.dispose()
