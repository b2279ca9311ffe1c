"""docker-compose.yml, Dockerfile and .dockerignore: read as data, since Docker may not run here.

Integration tests: they read the repository's files and run a shell and the docker client.
"""

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


class MissingVariable(Exception):
    """A ${NAME:?message} whose variable is unset or empty; Compose refuses to run then."""


def interpolate(text: str, env: dict[str, str] | None = None) -> str:
    """Resolve ${NAME}, ${NAME:-default} and ${NAME:?error} as Compose does, and $$ to $."""
    env = env or {}

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, kind, word = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        if kind == ":?":
            raise MissingVariable(f"{name}: {word}")
        return word

    return re.sub(r"\$\$|\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, text)


def test_interpolate_follows_compose() -> None:
    env = {"SET": "value"}
    assert (
        interpolate("${SET}/${UNSET:-fallback}/${SET:?no}/$$(ls)", env)
        == "value/fallback/value/$(ls)"
    )
    with pytest.raises(MissingVariable, match="UNSET: say why"):
        interpolate("${UNSET:?say why}", env)


def command_of(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return list(command) if isinstance(command, list) else shlex.split(command)


def covgraph_commands(service: dict[str, Any]) -> list[list[str]]:
    """Every covgraph command line a service runs, also those inside its `sh -c` script."""
    argv = command_of(service)
    if argv[:2] != ["sh", "-c"]:
        return [argv]
    script = interpolate(argv[2])
    found = []
    for line in script.splitlines():
        words = shlex.split(line)
        if words[:1] == ["exec"]:
            words = words[1:]
        if words[:1] == ["covgraph"]:
            found.append(words)
    return found


def load_script_run(service: dict[str, Any], corpus: Path, tmp_path: Path) -> str:
    """Run the load service's script with /corpus at corpus and `covgraph` echoing its argv."""
    argv = command_of(service)
    script = interpolate(argv[2]).replace("/corpus", str(corpus))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "covgraph"
    fake.write_text('#!/bin/sh\necho "covgraph $*"\n')
    fake.chmod(0o755)
    result = subprocess.run(
        ["sh", "-c", script],
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


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
    # Published on the loopback interface only: not reachable from other machines.
    assert {str(p) for p in neo4j["ports"]} == {"127.0.0.1:7474:7474", "127.0.0.1:7687:7687"}
    data_mounts = [v for v in neo4j["volumes"] if str(v).endswith(":/data")]
    assert len(data_mounts) == 1
    volume = data_mounts[0].split(":")[0]
    assert volume in compose["volumes"], "the /data volume must be a named volume"
    check = neo4j["healthcheck"]
    test = " ".join(check["test"]) if isinstance(check["test"], list) else check["test"]
    assert "7474" in test or "cypher-shell" in test
    assert check["test"][0] in {"CMD", "CMD-SHELL"}
    assert int(check["retries"]) >= 10


def test_auth_is_on_with_one_required_password_everywhere(services: dict[str, Any]) -> None:
    auth = services["neo4j"]["environment"]["NEO4J_AUTH"]
    assert auth != "none"
    user, _, password_template = auth.partition("/")
    assert user == "neo4j"
    # No built-in password: Compose stops with the message when NEO4J_PASSWORD is unset.
    with pytest.raises(MissingVariable, match="NEO4J_PASSWORD: set NEO4J_PASSWORD"):
        interpolate(password_template)
    chosen = {"NEO4J_PASSWORD": "chosen-by-user"}
    assert interpolate(password_template, chosen) == "chosen-by-user"
    assert len("chosen-by-user") >= NEO4J_MIN_PASSWORD
    for name in ("load", "api"):
        env = services[name]["environment"]
        assert env["NEO4J_URI"] == "bolt://neo4j:7687"
        assert env["NEO4J_USER"] == user
        with pytest.raises(MissingVariable):
            interpolate(env["NEO4J_PASSWORD"])
        assert interpolate(env["NEO4J_PASSWORD"], chosen) == "chosen-by-user"


def test_load_is_one_shot_with_the_corpus_read_only(services: dict[str, Any]) -> None:
    load = services["load"]
    assert load["build"] == "."
    assert covgraph_commands(load) == [
        ["covgraph", "load", "--corpus", "/corpus"],
        ["covgraph", "sync"],
        ["covgraph", "load"],
    ]
    assert load["restart"] == "no"  # the string: a bare no would be YAML false
    mounts = [str(v) for v in load["volumes"]]
    assert "${COVGRAPH_CORPUS:-../shared/corpus}:/corpus:ro" in mounts
    assert load["depends_on"] == {"neo4j": {"condition": "service_healthy"}}


def test_load_syncs_only_when_no_corpus_is_mounted(
    services: dict[str, Any], tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    # Absent (as the container sees a missing mount) and empty (as Docker creates it): sync.
    for state in ("absent", "empty"):
        if state == "empty":
            corpus.mkdir()
        out = load_script_run(services["load"], corpus, tmp_path)
        assert out.splitlines() == [
            f"no corpus mounted at {corpus}: syncing the pinned sources",
            "covgraph sync",
            "covgraph load",
        ], state
    (corpus / "sigma").mkdir()
    out = load_script_run(services["load"], corpus, tmp_path)
    assert out.splitlines() == [f"covgraph load --corpus {corpus}"]


def test_synced_corpus_survives_in_a_volume_the_image_user_owns(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    mounts = [str(v) for v in services["load"]["volumes"]]
    assert "corpus-cache:/home/covgraph/.cache/covgraph" in mounts
    assert "corpus-cache" in compose["volumes"]
    # A named volume takes the owner of the image's folder it is mounted on.
    assert "RUN mkdir -p /home/covgraph/.cache/covgraph" in (REPO / "Dockerfile").read_text()


def test_api_serves_on_8000_after_the_load(services: dict[str, Any]) -> None:
    api = services["api"]
    assert api["build"] == "."
    assert api["image"] == services["load"]["image"]
    assert [str(p) for p in api["ports"]] == ["127.0.0.1:8000:8000"]
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

    for argv in covgraph_commands(services[service]):
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
    command = ["docker", "compose", "-f", str(REPO / "docker-compose.yml"), "config", "--quiet"]
    base = {k: v for k, v in os.environ.items() if k != "NEO4J_PASSWORD"}
    base["COVGRAPH_CORPUS"] = str(tmp_path)
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={**base, "NEO4J_PASSWORD": "x" * 8},
    )
    assert result.returncode == 0, result.stderr
    refused = subprocess.run(command, capture_output=True, text=True, check=False, env=base)
    assert refused.returncode != 0
    assert "set NEO4J_PASSWORD" in refused.stderr
