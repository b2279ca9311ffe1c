"""Start, stop and report the local Neo4j server of one home.

A start holds the home's lock from its status check to the server answering, records the pid
and what the server was started with (version, host, ports) in the home's run directory, and
`status` reports those: never the configured ports, which may have changed since.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from covgraph.errors import ServerError
from graph.launcher.install import find_java, install
from graph.launcher.process import (
    MAIN_CLASS,
    bolt_answers,
    forget,
    home_lock,
    is_our_server,
    log_sizes,
    log_tail,
    port_free,
    read_pid,
    terminate,
)
from graph.settings import LocalServerSettings

# What Neo4j's own bin/neo4j passes to the JVM (server.jvm.additional in its neo4j.conf).
JVM_OPTIONS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-Dlog4j2.disable.jmx=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
)


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What a running server was started with, as its start recorded it."""

    pid: int
    version: str | None
    host: str
    bolt_port: int
    http_port: int

    @property
    def ports(self) -> tuple[int, int]:
        """(Bolt port, HTTP port)."""
        return self.bolt_port, self.http_port

    @property
    def bolt_uri(self) -> str:
        """The Bolt address this server listens on."""
        return f"bolt://{self.host}:{self.bolt_port}"

    @property
    def http_url(self) -> str:
        """The HTTP address this server listens on."""
        return f"http://{self.host}:{self.http_port}"


def _write_run_info(settings: LocalServerSettings, info: RunInfo) -> None:
    fields = {
        "pid": info.pid,
        "version": info.version,
        "host": info.host,
        "bolt_port": info.bolt_port,
        "http_port": info.http_port,
    }
    settings.run_file.write_text(json.dumps(fields) + "\n")


def _read_run_info(settings: LocalServerSettings, pid: int) -> RunInfo | None:
    """The run file when it describes pid; None when absent, unreadable or another pid's."""
    try:
        fields = json.loads(settings.run_file.read_text())
        info = RunInfo(
            pid=int(fields["pid"]),
            version=fields["version"],
            host=str(fields["host"]),
            bolt_port=int(fields["bolt_port"]),
            http_port=int(fields["http_port"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if info.pid == pid else None


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """What `status` reports: where the server runs, and where the settings say it should."""

    running: bool
    pid: int | None
    version: str | None
    bolt_uri: str
    http_url: str
    home: Path
    configured_bolt_uri: str
    configured_http_url: str
    recorded: bool = True  # False for a server whose start recorded no ports (an older covgraph)

    @property
    def ports_differ(self) -> bool:
        """True when the server runs on other addresses than the configured ones."""
        return self.running and (
            self.bolt_uri != self.configured_bolt_uri or self.http_url != self.configured_http_url
        )

    def describe(self) -> str:
        """One line for the CLI: running or not, where, which version, and any port mismatch."""
        if not self.running:
            return f"Neo4j is not running (home {self.home})"
        text = (
            f"Neo4j {self.version or '?'} is running (pid {self.pid}): "
            f"bolt {self.bolt_uri}, http {self.http_url}, browser {self.http_url}/browser/, "
            f"home {self.home}"
        )
        if not self.recorded:
            text += " (ports as configured: the start that ran it recorded none)"
        if self.ports_differ:
            text += (
                f"; the configured ports differ (bolt {self.configured_bolt_uri}, http "
                f"{self.configured_http_url}): stop it and start again to move it there, or set "
                "COVGRAPH_NEO4J_BOLT_PORT and COVGRAPH_NEO4J_HTTP_PORT to this server's ports"
            )
        return text


def _write_config(settings: LocalServerSettings) -> Path:
    conf_dir = settings.home / "conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    host = settings.bolt_host
    lines = [
        "# Written by covgraph neo4j start on every start; edit the COVGRAPH_NEO4J_* variables.",
        f"dbms.security.auth_enabled={'true' if settings.password else 'false'}",
        f"server.default_listen_address={host}",
        f"server.default_advertised_address={host}",
        f"server.bolt.listen_address={host}:{settings.bolt_port}",
        f"server.http.listen_address={host}:{settings.http_port}",
        # Without the ports, the routing table and the discovery document advertise the default
        # 7687/7474, and a neo4j:// driver would send its queries to whatever server owns those.
        f"server.bolt.advertised_address={host}:{settings.bolt_port}",
        f"server.http.advertised_address={host}:{settings.http_port}",
        "server.https.enabled=false",
        f"server.directories.data={settings.home / 'data'}",
        f"server.directories.logs={settings.home / 'logs'}",
        f"server.directories.run={settings.home / 'run'}",
        f"server.directories.import={settings.home / 'import'}",
        f"server.directories.plugins={settings.home / 'plugins'}",
        f"server.memory.heap.initial_size={settings.heap}",
        f"server.memory.heap.max_size={settings.heap}",
        f"server.memory.pagecache.size={settings.pagecache}",
        "dbms.usage_report.enabled=false",
        # Netty waits a 5 s quiet period twice while Bolt shuts down; a development server has
        # nothing to drain, and Neo4j's own test harness sets it to 0 as well.
        "internal.dbms.bolt.netty_server_shutdown_quiet_period=0",
    ]
    path = conf_dir / "neo4j.conf"
    path.write_text("\n".join(lines) + "\n")
    return conf_dir


def _set_initial_password(settings: LocalServerSettings) -> None:
    """Make COVGRAPH_NEO4J_PASSWORD the password of user neo4j; raises ServerError if it cannot.

    A fresh auth-enabled store has neo4j/neo4j with a forced change; a store started before
    with the same password needs nothing. Any other outcome would leave a server that refuses
    the configured password, so it is reported instead of ignored.
    """
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError, Neo4jError

    password = settings.password
    if password is None:
        return
    with GraphDatabase.driver(settings.bolt_uri, auth=("neo4j", password)) as driver:
        try:
            driver.execute_query("RETURN 1")
        except AuthError:
            pass  # not set yet: change it from the initial one below
        except Neo4jError as exc:
            if exc.code != "Neo.ClientError.Security.CredentialsExpired":
                raise ServerError(f"Neo4j refused a first query: {exc.message}") from None
        else:
            return
    with GraphDatabase.driver(settings.bolt_uri, auth=("neo4j", "neo4j")) as driver:
        try:
            driver.execute_query(
                "ALTER CURRENT USER SET PASSWORD FROM 'neo4j' TO $password",
                password=password,
                database_="system",
            )
        except AuthError:
            raise ServerError(
                f"the store in {settings.home / 'data'} has another password for user neo4j, set "
                "on an earlier start: set COVGRAPH_NEO4J_PASSWORD to that one, or unset it to run "
                f"without auth (removing {settings.home / 'data' / 'dbms'} resets the users)"
            ) from None
        except Neo4jError as exc:
            raise ServerError(f"Neo4j refused COVGRAPH_NEO4J_PASSWORD: {exc.message}") from None


# --- commands -----------------------------------------------------------------------------


def status(settings: LocalServerSettings) -> ServerStatus:
    """Whether the covgraph-managed server of this home runs, where, and which version."""
    pid = read_pid(settings)
    running = pid is not None and is_our_server(pid, settings)
    info = _read_run_info(settings, pid) if running and pid is not None else None
    bolt_uri, http_url, version = settings.bolt_uri, settings.http_url, None
    if info is not None:
        bolt_uri, http_url = info.bolt_uri, info.http_url
        # Asked of this server's own HTTP port while its start has not recorded it yet.
        version = info.version or _server_version(info.http_url)
    return ServerStatus(
        running=running,
        pid=pid if running else None,
        version=version,
        bolt_uri=bolt_uri,
        http_url=http_url,
        home=settings.home,
        configured_bolt_uri=settings.bolt_uri,
        configured_http_url=settings.http_url,
        recorded=info is not None or not running,
    )


def _server_version(http_url: str) -> str | None:
    """The version the discovery document at http_url names; None when nothing answers."""
    try:
        with urllib.request.urlopen(http_url + "/", timeout=2) as response:  # noqa: S310
            version = json.load(response).get("neo4j_version")
    except (OSError, ValueError):
        return None
    return str(version) if version else None


def _lock_timeout(settings: LocalServerSettings) -> float:
    # A start holds the lock while Maven fetches the jars (first run) and the server comes up.
    return settings.start_timeout + 600.0


def start(settings: LocalServerSettings, *, echo: bool = True) -> tuple[bool, ServerStatus]:
    """Start the server in the background and wait until Bolt and HTTP answer.

    Returns (started, status); started is False when it was already running. Concurrent starts
    of one home queue on its lock: the first starts the server, the others find it running.
    """
    with home_lock(settings, _lock_timeout(settings)):
        current = status(settings)
        if current.running:
            return False, current
        return True, _spawn(settings)


def _spawn(settings: LocalServerSettings) -> ServerStatus:
    """Start the server (the caller holds the home lock) and wait for it; returns its status."""
    for port, what in ((settings.bolt_port, "Bolt"), (settings.http_port, "HTTP")):
        if not port_free(settings.bolt_host, port):
            raise ServerError(
                f"cannot start Neo4j: {what} port {settings.bolt_host}:{port} is already in use "
                f"by another process (set COVGRAPH_NEO4J_{what.upper()}_PORT to use another)"
            )
    lib = install(settings)
    java = find_java()
    for sub in ("data", "logs", "run", "import", "plugins"):
        (settings.home / sub).mkdir(parents=True, exist_ok=True)
    conf_dir = _write_config(settings)
    command = [
        java,
        f"-Xms{settings.heap}",
        f"-Xmx{settings.heap}",
        *JVM_OPTIONS,
        "-cp",
        f"{lib}/*",
        MAIN_CLASS,
        f"--home-dir={settings.home}",
        f"--config-dir={conf_dir}",
    ]
    sizes = log_sizes(settings)
    console = (settings.home / "logs" / "console.log").open("ab")
    with console:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the CLI and is not hit by its Ctrl-C
            cwd=settings.home,
        )
    pid = process.pid
    settings.pid_file.write_text(f"{pid}\n")
    info = RunInfo(pid, None, settings.bolt_host, settings.bolt_port, settings.http_port)
    _write_run_info(settings, info)
    deadline = time.monotonic() + settings.start_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            forget(settings, pid)
            raise ServerError(
                f"Neo4j exited with code {process.returncode} while starting\n"
                + log_tail(settings, since=sizes)
            )
        # Bolt comes up a moment before HTTP; wait for both so that Browser works on return.
        # The ports were free before the spawn and our process holds them now: the version
        # its discovery document names is this server's.
        version = (
            _server_version(info.http_url) if bolt_answers(info.host, info.bolt_port) else None
        )
        if version is not None:
            try:
                _set_initial_password(settings)
            except ServerError:
                # A server that refuses the configured password is a failed start: leave none.
                terminate(pid, grace=30)
                forget(settings, pid)
                raise
            _write_run_info(settings, RunInfo(pid, version, info.host, *info.ports))
            return status(settings)
        time.sleep(0.5)
    terminate(pid, grace=10)
    forget(settings, pid)
    raise ServerError(
        f"Neo4j did not answer on Bolt {settings.bolt_uri} within "
        f"{settings.start_timeout:.0f}s\n" + log_tail(settings, since=sizes)
    )


def stop(settings: LocalServerSettings, *, grace: float = 60.0) -> bool:
    """Stop the server this home's pid file names, and only it; False if it was not running."""
    if not settings.pid_file.exists():
        return False  # nothing to stop, and no reason to create the home for a lock
    with home_lock(settings, _lock_timeout(settings)):
        pid = read_pid(settings)
        if pid is None:
            return False
        if not is_our_server(pid, settings):
            forget(settings, pid)  # a stale file left by a server that died
            return False
        terminate(pid, grace)
        forget(settings, pid)
        return True
