"""`qalqan serve` as `make run` starts it, in a real process, where the UN server cannot be
reached: what it prints, and when (issue 7)."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "sources" / "fixtures" / "un_small.xml"  # dateGenerated 2030-01-02
#: A guard against a hung server, not a measurement: start-up takes a few seconds.
WAIT = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return True
    except OSError:
        return False


def test_serve_offline_says_so_once_and_is_ready_only_when_listening(tmp_path: Path) -> None:
    port, closed = free_port(), free_port()
    data = tmp_path / "data"
    env = {
        **os.environ, "QALQAN_DATA": str(data), "QALQAN_UN_FALLBACK": str(FIXTURE), "QALQAN_UN_XML": "",
        "QALQAN_DATABASE_URL": "", "QALQAN_AUDIT_KEY": "", "COLUMNS": "200", "PYTHONUNBUFFERED": "1",
    }
    cmd = [sys.executable, "-m", "qalqan.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--fetch-every", "1h",
           "--un-url", f"http://127.0.0.1:{closed}/consolidated.xml"]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8")
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    listening_at_ready = None
    try:
        while True:
            line = lines.get(timeout=WAIT)
            assert line is not None, "serve ended early:\n" + "\n".join(seen)
            seen.append(line)
            if "─ ready ─" in line:
                listening_at_ready = accepts(port)  # at once: the box must not come before the socket
            if line.startswith("curl -s"):
                break
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=WAIT)
        while (rest := lines.get(timeout=WAIT)) is not None:
            seen.append(rest)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = "\n".join(seen)

    assert listening_at_ready is True, output
    offline = [line for line in seen if line.startswith("offline") or "could not fetch" in line or "fetch of un failed" in line]
    assert offline == [f"offline: using the UN list of 2030-01-02 from {FIXTURE} (127.0.0.1:{closed}: Connection refused)"], output
    assert "QALQAN_UN_FALLBACK" not in output

    key_file = data / "admin-bootstrap.key"
    assert f"Admin API key written to {key_file} (readable by you only): read it, store it, delete the file" in output
    assert (key_file.stat().st_mode & 0o777) == 0o600
    key = key_file.read_text().strip()
    assert key.startswith("qk_") and key not in output and "qk_" not in output
