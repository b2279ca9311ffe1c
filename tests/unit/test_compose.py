"""docker-compose.yml, Dockerfile and .dockerignore: read as data, since Docker may not run here."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import pytest
import yaml

from graph.settings import NEO4J_VERSION

REPO = Path(__file__).resolve().parents[2]
NEO4J_MIN_PASSWORD = 8  # Neo4j's dbms.security.auth_minimum_password_length default


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def interpolate(text: str, env: dict[str, str] | None = None) -> str:
    """Resolve ${NAME:-default} and ${NAME} as Compose does, from env (empty by default)."""
    env = env or {}

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(3) or ""
        return env.get(name) or default

    return re.sub(r"\$\{(\w+)(:-([^}]*))?\}", one, text)


def command_of(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return list(command) if isinstance(command, list) else shlex.split(command)


def test_three_services(services: dict[str, Any]) -> None:
    assert set(services) == {"neo4j", "load", "api"}


def test_neo4j_is_the_same_lts_line_as_the_local_server(services: dict[str, Any]) -> None:
    image = services["neo4j"]["image"]
    match = re.fullmatch(r"neo4j:(\d+\.\d+)(\.\d+)?-community", image)
    assert match, image
    assert NEO4J_VERSION.startswith(match.group(1) + ".")


def test_neo4j_ports_volume_and_healthcheck(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    neo4j = services["neo4j"]
    assert {"7474:7474", "7687:7687"} <= {str(p) for p in neo4j["ports"]}
    data_mounts = [v for v in neo4j["volumes"] if str(v).endswith(":/data")]
    assert len(data_mounts) == 1
    volume = data_mounts[0].split(":")[0]
    assert volume in compose["volumes"], "the /data volume must be a named volume"
    check = neo4j["healthcheck"]
    test = " ".join(check["test"]) if isinstance(check["test"], list) else check["test"]
    assert "7474" in test or "cypher-shell" in test
    assert check["test"][0] in {"CMD", "CMD-SHELL"}
    assert int(check["retries"]) >= 10


def test_auth_is_on_with_one_password_everywhere(services: dict[str, Any]) -> None:
    auth = services["neo4j"]["environment"]["NEO4J_AUTH"]
    assert auth != "none"
    user, _, password_template = auth.partition("/")
    assert user == "neo4j"
    assert "${NEO4J_PASSWORD" in password_template  # settable, not baked in
    default = interpolate(password_template)
    assert len(default) >= NEO4J_MIN_PASSWORD, "Neo4j refuses shorter passwords"
    chosen = {"NEO4J_PASSWORD": "chosen-by-user"}
    for name in ("load", "api"):
        env = services[name]["environment"]
        assert env["NEO4J_URI"] == "bolt://neo4j:7687"
        assert env["NEO4J_USER"] == user
        assert interpolate(env["NEO4J_PASSWORD"]) == default
        assert interpolate(env["NEO4J_PASSWORD"], chosen) == interpolate(password_template, chosen)


def test_load_is_one_shot_with_the_corpus_read_only(services: dict[str, Any]) -> None:
    load = services["load"]
    assert load["build"] == "."
    assert command_of(load) == ["covgraph", "load", "--corpus", "/corpus"]
    assert load["restart"] == "no"  # the string: a bare no would be YAML false
    mounts = [str(v) for v in load["volumes"]]
    assert "${COVGRAPH_CORPUS:-../shared/corpus}:/corpus:ro" in mounts
    assert load["depends_on"] == {"neo4j": {"condition": "service_healthy"}}


def test_api_serves_on_8000_after_the_load(services: dict[str, Any]) -> None:
    api = services["api"]
    assert api["build"] == "."
    assert api["image"] == services["load"]["image"]
    assert "8000:8000" in [str(p) for p in api["ports"]]
    assert command_of(api) == ["covgraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
    assert api["depends_on"] == {
        "neo4j": {"condition": "service_healthy"},
        "load": {"condition": "service_completed_successfully"},
    }


def test_start_order_is_neo4j_load_api(services: dict[str, Any]) -> None:
    graph = {name: set(s.get("depends_on", {})) for name, s in services.items()}
    assert list(TopologicalSorter(graph).static_order()) == ["neo4j", "load", "api"]


@pytest.mark.parametrize("service", ["load", "api"])
def test_service_command_is_a_valid_covgraph_command(
    services: dict[str, Any], service: str
) -> None:
    from covgraph.cli import build_parser

    argv = command_of(services[service])
    assert argv[0] == "covgraph"
    args = build_parser().parse_args(argv[1:])
    assert args.command == argv[1]
    if argv[1] == "serve":
        assert (args.host, args.port) == ("0.0.0.0", 8000)


def test_dockerfile_builds_a_non_root_covgraph_image() -> None:
    text = (REPO / "Dockerfile").read_text()
    instructions = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    assert instructions[0] == "FROM python:3.11-slim"
    assert any(re.match(r"RUN pip install \.(\s|$)", i) for i in instructions)
    users = [i.split()[1] for i in instructions if i.startswith("USER ")]
    assert users, "the image must switch to a non-root user"
    assert users[-1] not in {"root", "0"}
    assert f"useradd --system --create-home --home-dir /home/{users[-1]}" in text
    assert "EXPOSE 8000" in instructions
    last = next(i for i in reversed(instructions) if i.startswith(("CMD", "ENTRYPOINT")))
    assert last.startswith('CMD ["covgraph", "serve"')


def test_dockerignore_keeps_the_context_small() -> None:
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "tests", "**/__pycache__", ".mypy_cache"} <= ignored
    # What `pip install .` needs must stay in.
    for needed in ("pyproject.toml", "covgraph", "graph", "api", "loaders"):
        assert needed not in ignored


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    try:
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        pytest.skip("no docker client here")
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or ["no output"])[0]
        pytest.skip(f"`docker compose` is not available here: {reason}")
    result = subprocess.run(
        ["docker", "compose", "-f", str(REPO / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COVGRAPH_CORPUS": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
