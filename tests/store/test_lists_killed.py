"""A list import killed (SIGKILL) while it writes leaves the previous version live and the store
consistent; the same import then succeeds. Runs `qalqan lists import` in a real subprocess."""

from __future__ import annotations

import csv
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from qalqan.service import audit, lists, live, records
from qalqan.service.core import Qalqan
from qalqan.store.db import Database
from qalqan.store.tables import AuditEntry, EntityRecord, ListChange, ListSource, ListVersion, VersionEntity

KEY = bytes(32)
#: Entities in the large list: several write chunks (service.records.WRITE_CHUNK), so seconds of
#: writing (the other chunks, membership, diff) remain after the first chunk is reported, while
#: reading the file stays quick.
BIG = 10 * records.WRITE_CHUNK
#: The CLI's progress line once entity rows are being written in the open transaction.
WRITING = re.compile(r"^writing entities ([\d,]+)/")
CLI = [sys.executable, "-c", "from qalqan.cli import main; main()"]


def write_list(path: Path, n: int, tag: str) -> None:
    """A synthetic list in the CSV template (docs/list-csv-template.md)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "schema", "name", "aliases", "birth_date", "nationality", "reference"])
        for i in range(n):
            out.writerow(
                [f"W{i:07d}", "Person" if i % 3 else "Organization", f"{tag} Person{i} Family{i % 977}", f"Alias{i};Other{i % 13}", f"{1950 + i % 50}-0{1 + i % 9}-1{i % 9}" if i % 3 else "", "Kazakhstan" if i % 2 else "", f"W.{i}"]
            )


def snapshot(db: Database) -> dict[str, Any]:
    with db.session() as s:
        out: dict[str, Any] = {"live": dict(s.execute(select(ListSource.name, ListSource.current_version_id)).all())}
        for table in (ListVersion, EntityRecord, VersionEntity, ListChange, AuditEntry):
            out[table.__tablename__] = s.execute(select(func.count()).select_from(table)).scalar_one()
    return out


def test_killed_import_leaves_the_previous_version_live(db: Database, tmp_path: Path) -> None:
    q = Qalqan(db, audit_key=KEY)
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    write_list(small, 50, "Old")
    write_list(big, BIG, "New")
    first = q.import_list(f"csv:{small}", actor="setup", name="watch")  # imported and re-screened
    before = snapshot(db)
    assert before["live"] == {"watch": first.version_id}

    env = {"QALQAN_DATABASE_URL": db.url, "QALQAN_DATA": str(tmp_path / "data"), "QALQAN_AUDIT_KEY": KEY.hex(), "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    cmd = [*CLI, "lists", "import", f"csv:{big}", "--name", "watch", "--actor", "killed"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        m = WRITING.match(line)
        if m and int(m.group(1).replace(",", "")) > 0:  # entity rows written, transaction open
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "".join(seen)

    after = snapshot(db)
    assert after == before  # no version, record, membership, change or audit row of the import
    assert live.live_versions(db) == {"watch": first.version_id}
    assert len(live.load_live(db)[0]) == 50
    report = audit.verify(db, KEY)
    assert report.ok and report.checked == before["audit_log"]

    # The same import, run again (the store part: the re-screen after it is the monitor's to test).
    again = lists.import_list(q, f"csv:{big}", actor="rerun", name="watch")
    assert again.created and again.number == 2 and live.live_versions(db) == {"watch": again.version_id}
    orgs = len(range(0, BIG, 3))  # every third row is an Organization
    assert again.counts == {"Organization": orgs, "Person": BIG - orgs}
    # The 50 old records share their references (W.0 ...) with new ones: amended, not removed.
    assert again.changes == {"added": {"Organization": orgs - 17, "Person": BIG - orgs - 33}, "removed": {}, "amended": {"Organization": 17, "Person": 33}}
    assert audit.verify(db, KEY).ok
