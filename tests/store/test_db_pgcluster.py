"""tests/support/pgcluster.sh: the throwaway PostgreSQL cluster `make test` runs the suite under."""

from __future__ import annotations

import glob
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "support" / "pgcluster.sh"
HAVE_SERVER = bool(glob.glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("initdb"))


@pytest.mark.skipif(not HAVE_SERVER, reason="no PostgreSQL server binaries (the script would install them)")
def test_cluster_starts_quietly_from_a_private_directory(tmp_path: Path) -> None:
    # A clone in a folder only its owner may enter (e.g. under /root): as root the cluster runs as
    # `nobody`, whose tools must not try to work in the caller's directory.
    private = tmp_path / "clone"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    done = subprocess.run(
        ["bash", str(SCRIPT), "run", "sh", "-c", 'pwd; test -n "$QALQAN_TEST_PG_URL"'],
        cwd=private, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "could not change directory" not in done.stderr and "Permission denied" not in done.stderr, done.stderr
    assert done.stdout.strip() == str(private)  # the command itself runs where it was started
    assert "PostgreSQL test cluster" in done.stderr
