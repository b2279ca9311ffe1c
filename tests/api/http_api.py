"""Helpers of the HTTP tests: `covgraph serve` on a free port, and GraphQL over httpx."""

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
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def running_api(env: Mapping[str, str] | None = None, workers: int = 1) -> Iterator[str]:
    """`covgraph serve` in a subprocess on a free port; yields its base URL, stops it after."""
    port = free_port()
    full_env = {**os.environ, **(env or {})}
    log = tempfile.NamedTemporaryFile(prefix="covgraph-api-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "covgraph", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning"],
        cwd=REPO,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            if process.poll() is not None:
                output = Path(log.name).read_text(errors="replace")
                pytest.fail(f"the API server exited with {process.returncode}:\n{output}")
            if time.monotonic() > deadline:
                pytest.fail("the API server did not listen within 60 s")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        Path(log.name).unlink(missing_ok=True)


def gql(
    url: str, query: str, variables: dict[str, Any] | None = None, timeout: float = 60
) -> tuple[int, dict[str, Any]]:
    """POST a GraphQL query; returns (HTTP status, decoded body)."""
    response = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=timeout
    )
    return response.status_code, response.json()


def data(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The data of a query that must succeed."""
    status, body = gql(url, query, variables)
    assert status == 200, body
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]
    return result
