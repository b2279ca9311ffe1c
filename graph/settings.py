"""Settings read from the environment when asked, never at import."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from covgraph.errors import ConfigError

NEO4J_VERSION = "5.26.30"
BROWSER_VERSION = "5.24.0"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


@dataclass(frozen=True, slots=True)
class LocalServerSettings:
    """Where and how the local development Neo4j runs."""

    version: str
    cache_dir: Path
    home: Path
    bolt_host: str
    bolt_port: int
    http_port: int
    heap: str
    pagecache: str
    password: str | None
    start_timeout: float

    @property
    def lib_dir(self) -> Path:
        """Where the server jars of this version are cached."""
        return self.cache_dir / f"neo4j-{self.version}" / "lib"

    @property
    def pid_file(self) -> Path:
        """The pid of the server started for this home."""
        return self.home / "run" / "covgraph-neo4j.pid"

    @property
    def run_file(self) -> Path:
        """What the running server was started with: pid, version, host and ports (JSON)."""
        return self.home / "run" / "covgraph-neo4j.json"

    @property
    def lock_file(self) -> Path:
        """Held by a start or a stop, so that two of them never act on one home at once."""
        return self.home / "run" / "start.lock"

    @property
    def bolt_uri(self) -> str:
        """The configured Bolt address."""
        return f"bolt://{self.bolt_host}:{self.bolt_port}"

    @property
    def http_url(self) -> str:
        """The configured HTTP address."""
        return f"http://{self.bolt_host}:{self.http_port}"


def cache_root(env: Mapping[str, str] | None = None) -> Path:
    """Where covgraph caches downloads: $COVGRAPH_CACHE, else ~/.cache/covgraph (absolute)."""
    env = os.environ if env is None else env
    root = Path(env.get("COVGRAPH_CACHE") or Path.home() / ".cache" / "covgraph")
    return root.expanduser().resolve()


def local_server_settings(env: Mapping[str, str] | None = None) -> LocalServerSettings:
    """Local server settings from COVGRAPH_* variables, with the documented defaults.

    Paths are made absolute here, against the current directory: the launcher runs the server
    with its home as working directory, where a relative --home-dir would name another place.
    """
    env = os.environ if env is None else env
    home = Path(
        env.get("COVGRAPH_NEO4J_HOME") or Path.home() / ".local" / "share" / "covgraph" / "neo4j"
    )
    return LocalServerSettings(
        version=env.get("COVGRAPH_NEO4J_VERSION") or NEO4J_VERSION,
        cache_dir=cache_root(env),
        home=home.expanduser().resolve(),
        bolt_host=env.get("COVGRAPH_NEO4J_HOST") or "127.0.0.1",
        bolt_port=_int(env, "COVGRAPH_NEO4J_BOLT_PORT", 7687),
        http_port=_int(env, "COVGRAPH_NEO4J_HTTP_PORT", 7474),
        heap=env.get("COVGRAPH_NEO4J_HEAP") or "1g",
        pagecache=env.get("COVGRAPH_NEO4J_PAGECACHE") or "512m",
        password=env.get("COVGRAPH_NEO4J_PASSWORD") or None,
        start_timeout=float(_int(env, "COVGRAPH_NEO4J_START_TIMEOUT", 120)),
    )


@dataclass(frozen=True, slots=True)
class Neo4jSettings:
    """How to reach the graph database."""

    uri: str
    user: str | None
    password: str | None
    database: str | None
    external: bool  # True when NEO4J_URI names a server covgraph does not manage

    @property
    def auth(self) -> tuple[str, str] | None:
        """The driver's auth tuple; None when no password is set."""
        if self.password is None:
            return None
        return (self.user or "neo4j", self.password)


def neo4j_settings(env: Mapping[str, str] | None = None) -> Neo4jSettings:
    """Connection settings: NEO4J_URI and friends when set, else the local server."""
    env = os.environ if env is None else env
    uri = env.get("NEO4J_URI")
    if uri:
        return Neo4jSettings(
            uri=uri,
            user=env.get("NEO4J_USER") or env.get("NEO4J_USERNAME") or "neo4j",
            password=env.get("NEO4J_PASSWORD") or None,
            database=env.get("NEO4J_DATABASE") or None,
            external=True,
        )
    local = local_server_settings(env)
    return Neo4jSettings(
        uri=local.bolt_uri,
        user="neo4j",
        password=local.password,
        database=env.get("NEO4J_DATABASE") or None,
        external=False,
    )
