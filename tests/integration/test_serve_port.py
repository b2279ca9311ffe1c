"""A taken API port: `covgraph serve` and `make run` name the address and how to change it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another program listens on for the length of the test."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
        timeout=120,
    )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_on_a_taken_port_names_it_and_the_way_out(taken_port: int, workers: str) -> None:
    result = _run(
        ["-m", "covgraph", "serve", "--port", str(taken_port), "--workers", workers], env={}
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"cannot serve the API on 127.0.0.1:{taken_port}: the port is already in use" in (
        result.stderr
    )
    assert "--port N" in result.stderr
    assert "COVGRAPH_PORT" in result.stderr
    # Nothing claims the API is up, and uvicorn never got to print its raw errno.
    assert "starting" not in result.stdout
    assert "Errno" not in result.stdout + result.stderr


def test_make_run_checks_the_port_before_neo4j_and_the_load(
    taken_port: int, tmp_path: Path
) -> None:
    env = {
        # Were the port not checked first, these would be reached: a server to start (or a
        # URI to use) and a corpus to load.
        "NEO4J_URI": "bolt://127.0.0.1:9",
        "COVGRAPH_CORPUS": str(tmp_path / "corpus"),
        "COVGRAPH_CACHE": str(tmp_path / "cache"),
        "COVGRAPH_PORT": str(taken_port),
    }
    result = _run(["-m", "covgraph.run"], env)
    assert result.returncode == 1
    assert f"make run: cannot serve the API on 127.0.0.1:{taken_port}" in result.stderr
    assert "set COVGRAPH_PORT to a free port" in result.stderr
    assert "==>" not in result.stdout  # no step ran
    assert not (tmp_path / "cache").exists()


def test_make_run_refuses_a_port_that_is_no_number() -> None:
    result = _run(["-m", "covgraph.run"], {"COVGRAPH_PORT": "80OO"})
    assert result.returncode == 1
    assert "COVGRAPH_PORT='80OO' is not a port number" in result.stderr
