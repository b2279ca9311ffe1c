"""Settings from the environment: defaults, overrides, bad values, local versus external server."""

from __future__ import annotations

from pathlib import Path

import pytest

from covgraph.errors import ConfigError
from graph.driver import make_driver
from graph.settings import (
    NEO4J_VERSION,
    Neo4jSettings,
    local_server_settings,
    neo4j_settings,
)


def test_local_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    local = local_server_settings({})
    assert local.version == NEO4J_VERSION
    assert local.home == tmp_path / ".local" / "share" / "covgraph" / "neo4j"
    assert local.lib_dir == tmp_path / ".cache" / "covgraph" / f"neo4j-{NEO4J_VERSION}" / "lib"
    assert local.pid_file == local.home / "run" / "covgraph-neo4j.pid"
    assert (local.bolt_host, local.bolt_port, local.http_port) == ("127.0.0.1", 7687, 7474)
    assert local.bolt_uri == "bolt://127.0.0.1:7687"
    assert local.http_url == "http://127.0.0.1:7474"
    assert (local.heap, local.pagecache, local.start_timeout) == ("1g", "512m", 120.0)
    assert local.password is None  # auth off by default


def test_local_overrides() -> None:
    local = local_server_settings(
        {
            "COVGRAPH_CACHE": "/c",
            "COVGRAPH_NEO4J_HOME": "/h",
            "COVGRAPH_NEO4J_VERSION": "5.26.1",
            "COVGRAPH_NEO4J_HOST": "127.0.0.2",
            "COVGRAPH_NEO4J_BOLT_PORT": "7787",
            "COVGRAPH_NEO4J_HTTP_PORT": "7574",
            "COVGRAPH_NEO4J_HEAP": "256m",
            "COVGRAPH_NEO4J_PAGECACHE": "64m",
            "COVGRAPH_NEO4J_PASSWORD": "local-secret",
            "COVGRAPH_NEO4J_START_TIMEOUT": "30",
        }
    )
    assert local.home == Path("/h")
    assert local.lib_dir == Path("/c/neo4j-5.26.1/lib")
    assert local.bolt_uri == "bolt://127.0.0.2:7787"
    assert local.http_url == "http://127.0.0.2:7574"
    assert (local.heap, local.pagecache, local.password) == ("256m", "64m", "local-secret")
    assert local.start_timeout == 30.0


def test_empty_values_mean_default() -> None:
    local = local_server_settings({"COVGRAPH_NEO4J_BOLT_PORT": "", "COVGRAPH_NEO4J_PASSWORD": ""})
    assert local.bolt_port == 7687
    assert local.password is None


@pytest.mark.parametrize(
    "name", ["COVGRAPH_NEO4J_BOLT_PORT", "COVGRAPH_NEO4J_HTTP_PORT", "COVGRAPH_NEO4J_START_TIMEOUT"]
)
def test_bad_integer_names_the_variable(name: str) -> None:
    with pytest.raises(ConfigError, match=f"{name} must be an integer, got 'seven'"):
        local_server_settings({name: "seven"})


def test_no_uri_means_the_local_server() -> None:
    settings = neo4j_settings({"COVGRAPH_NEO4J_BOLT_PORT": "7787"})
    assert settings.uri == "bolt://127.0.0.1:7787"
    assert settings.external is False
    assert settings.auth is None
    secured = neo4j_settings({"COVGRAPH_NEO4J_PASSWORD": "local-secret"})
    assert secured.auth == ("neo4j", "local-secret")


def test_uri_means_an_external_server() -> None:
    settings = neo4j_settings(
        {
            "NEO4J_URI": "neo4j://db.example:7687",
            "NEO4J_USERNAME": "reader",
            "NEO4J_PASSWORD": "remote-secret",
            "NEO4J_DATABASE": "coverage",
            # The local server's variables do not apply to an external one.
            "COVGRAPH_NEO4J_PASSWORD": "local-secret",
        }
    )
    assert settings.external is True
    assert settings.uri == "neo4j://db.example:7687"
    assert settings.auth == ("reader", "remote-secret")
    assert settings.database == "coverage"


def test_neo4j_user_wins_over_username_and_no_password_means_no_auth() -> None:
    settings = neo4j_settings(
        {"NEO4J_URI": "bolt://x:1", "NEO4J_USER": "a", "NEO4J_USERNAME": "b", "NEO4J_PASSWORD": "p"}
    )
    assert settings.auth == ("a", "p")
    assert neo4j_settings({"NEO4J_URI": "bolt://x:1", "NEO4J_USER": "a"}).auth is None


def _external(uri: str) -> Neo4jSettings:
    return Neo4jSettings(uri=uri, user=None, password=None, database=None, external=True)


@pytest.mark.parametrize(
    "uri", ["bolt://h:7687", "neo4j://h:7687", "neo4j+s://h", "bolt+ssc://h:1", "NEO4J://h"]
)
def test_bolt_and_routing_uris_make_a_driver_without_contacting_it(uri: str) -> None:
    driver = make_driver(_external(uri))
    driver.close()


@pytest.mark.parametrize("uri", ["http://h:7474", "https://h", "h:7687", "bolt:/h", "redis://h"])
def test_other_uris_are_refused_by_name(uri: str) -> None:
    with pytest.raises(ConfigError, match=f"NEO4J_URI '{uri}' is not a Neo4j URI"):
        make_driver(_external(uri))


def test_relative_paths_become_absolute_against_the_current_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The launcher runs the server with its home as working directory, where a relative
    # --home-dir would name HOME/HOME; settings hand out absolute paths only.
    monkeypatch.chdir(tmp_path)
    local = local_server_settings(
        {"COVGRAPH_NEO4J_HOME": "rel/home", "COVGRAPH_CACHE": "./cache/../jars"}
    )
    assert local.home == tmp_path / "rel" / "home"
    assert local.cache_dir == tmp_path / "jars"
    assert local.pid_file.is_absolute()
    assert local.run_file == tmp_path / "rel" / "home" / "run" / "covgraph-neo4j.json"
