"""`covgraph serve` in a subprocess on a free port, for the HTTP and the browser tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serve_api(
    env: Mapping[str, str] | None = None, workers: int = 1, log_path: Path | None = None
) -> Iterator[str]:
    """The API on a free port; yields its base URL once `/` answers, stops it after.

    Its output goes to `log_path` (kept), else to a temporary file removed afterwards.
    """
    port = free_port()
    if log_path is None:
        handle, name = tempfile.mkstemp(prefix="covgraph-api-", suffix=".log")
        os.close(handle)
        log, keep = Path(name), False
    else:
        log, keep = log_path, True
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "covgraph", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers), "--log-level", "warning"],
            cwd=REPO,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                output = log.read_text(errors="replace")
                pytest.fail(f"the API server exited with {process.returncode}:\n{output}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the API did not answer within 60 s:\n{log.read_text(errors='replace')}"
                )
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if not keep:
            log.unlink(missing_ok=True)
