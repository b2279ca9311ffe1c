"""A local Neo4j Community server, from Maven Central jars, run as a background process.

No Docker engine is needed: Maven resolves the server jars (see pom.xml beside this file) into a
cache outside the repository, and the server runs from them with a persistent home directory
(data, logs, the pid file) so that data survives a stop and a start.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from covgraph.errors import ServerError
from graph.settings import BROWSER_VERSION, LocalServerSettings

MAIN_CLASS = "org.neo4j.server.CommunityEntryPoint"
MIN_JAVA = 17

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
class ServerStatus:
    """What `status` reports."""

    running: bool
    pid: int | None
    version: str | None
    bolt_uri: str
    http_url: str
    home: Path

    def describe(self) -> str:
        if not self.running:
            return f"Neo4j is not running (home {self.home})"
        return (
            f"Neo4j {self.version or '?'} is running (pid {self.pid}): "
            f"bolt {self.bolt_uri}, http {self.http_url}, browser {self.http_url}/browser/, "
            f"home {self.home}"
        )


# --- installation -------------------------------------------------------------------------


def pom_path() -> Path:
    """The pom that lists the server's artifacts."""
    return Path(str(resources.files("graph.launcher").joinpath("pom.xml")))


def is_installed(settings: LocalServerSettings) -> bool:
    return (settings.lib_dir / ".complete").exists()


def install(settings: LocalServerSettings, *, quiet: bool = True) -> Path:
    """Resolve the server jars with Maven into the cache, once; returns the lib directory."""
    if is_installed(settings):
        return settings.lib_dir
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServerError("Maven (mvn) is not on PATH; it is needed once to fetch the Neo4j jars")
    settings.lib_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="lib-", dir=settings.lib_dir.parent))
    command = [
        mvn,
        "-B",
        *(["-q"] if quiet else []),
        "-f",
        str(pom_path()),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        f"-Dneo4j.version={settings.version}",
        f"-Dneo4j.browser.version={BROWSER_VERSION}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
        raise ServerError(f"mvn could not resolve Neo4j {settings.version}:\n{tail}")
    (staging / ".complete").write_text(settings.version + "\n")
    # Rename into place so that a killed install never leaves a half-filled lib directory.
    shutil.rmtree(settings.lib_dir, ignore_errors=True)
    staging.rename(settings.lib_dir)
    return settings.lib_dir


# --- java ---------------------------------------------------------------------------------


def _java_version(java: str) -> int | None:
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    for raw in result.stderr.split():
        token = raw.strip('"')
        if token[:1].isdigit():
            major = token.split(".")[0]
            return int(major) if major.isdigit() else None
    return None


def find_java() -> str:
    """The java binary: JAVA_HOME's when set, else the one on PATH; must be 17 or newer."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise ServerError("no java found: install a JDK 17+ or set JAVA_HOME")
    version = _java_version(java)
    if version is None or version < MIN_JAVA:
        raise ServerError(f"{java} is Java {version}; Neo4j 5.26 needs Java {MIN_JAVA} or newer")
    return java


# --- process helpers ----------------------------------------------------------------------


def _read_pid(settings: LocalServerSettings) -> int | None:
    try:
        return int(settings.pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _is_our_server(pid: int, settings: LocalServerSettings) -> bool:
    """True when pid is alive and is the Neo4j server covgraph started for this home."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    home_arg = f"--home-dir={settings.home}".encode()
    return MAIN_CLASS.encode() in cmdline and home_arg in cmdline and _alive(pid)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _bolt_answers(host: str, port: int) -> bool:
    """True when something speaking Bolt accepts a handshake on host:port."""
    handshake = b"\x60\x60\xb0\x17" + b"\x00\x00\x04\x04" + b"\x00" * 12
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(handshake)
            reply = sock.recv(4)
    except OSError:
        return False
    return len(reply) == 4 and reply != b"\x00\x00\x00\x00"


def _http_answers(settings: LocalServerSettings) -> bool:
    """True when the HTTP connector accepts a connection."""
    try:
        with socket.create_connection((settings.bolt_host, settings.http_port), timeout=2):
            return True
    except OSError:
        return False


LOG_NAMES = ("console.log", "neo4j.log")


def _log_sizes(settings: LocalServerSettings) -> dict[str, int]:
    """How long each server log is now, so that a failure shows only this start's lines."""
    sizes = {}
    for name in LOG_NAMES:
        path = settings.home / "logs" / name
        sizes[name] = path.stat().st_size if path.exists() else 0
    return sizes


def _log_tail(settings: LocalServerSettings, since: dict[str, int], lines: int = 40) -> str:
    chunks = []
    for name in LOG_NAMES:
        path = settings.home / "logs" / name
        if not path.exists():
            continue
        with path.open("rb") as handle:
            handle.seek(since.get(name, 0))
            text = handle.read().decode(errors="replace").splitlines()[-lines:]
        if text:
            chunks.append(f"--- {path} (last {len(text)} lines)\n" + "\n".join(text))
    return "\n".join(chunks) or "(the server wrote nothing to its logs)"


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
    """Whether the covgraph-managed server runs, where, and which version."""
    pid = _read_pid(settings)
    running = pid is not None and _is_our_server(pid, settings)
    version = None
    if running:
        version = _server_version(settings)
    return ServerStatus(
        running=running,
        pid=pid if running else None,
        version=version,
        bolt_uri=settings.bolt_uri,
        http_url=settings.http_url,
        home=settings.home,
    )


def _server_version(settings: LocalServerSettings) -> str | None:
    try:
        with urllib.request.urlopen(settings.http_url + "/", timeout=2) as response:  # noqa: S310
            return str(json.load(response).get("neo4j_version"))
    except (OSError, ValueError):
        marker = settings.home / "run" / "covgraph-neo4j.version"
        return marker.read_text().strip() if marker.exists() else None


def start(settings: LocalServerSettings, *, echo: bool = True) -> tuple[bool, ServerStatus]:
    """Start the server in the background and wait until Bolt and HTTP answer.

    Returns (started, status); started is False when it was already running.
    """
    current = status(settings)
    if current.running:
        return False, current
    for port, what in ((settings.bolt_port, "Bolt"), (settings.http_port, "HTTP")):
        if not _port_free(settings.bolt_host, port):
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
    log_sizes = _log_sizes(settings)
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
    settings.pid_file.write_text(f"{process.pid}\n")
    (settings.home / "run" / "covgraph-neo4j.version").write_text(settings.version + "\n")
    deadline = time.monotonic() + settings.start_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            settings.pid_file.unlink(missing_ok=True)
            raise ServerError(
                f"Neo4j exited with code {process.returncode} while starting\n"
                + _log_tail(settings, since=log_sizes)
            )
        # Bolt comes up a moment before HTTP; wait for both so that Browser works on return.
        if _bolt_answers(settings.bolt_host, settings.bolt_port) and _http_answers(settings):
            try:
                _set_initial_password(settings)
            except ServerError:
                # A server that refuses the configured password is a failed start: leave none.
                _terminate(process.pid, grace=30)
                settings.pid_file.unlink(missing_ok=True)
                raise
            return True, status(settings)
        time.sleep(0.5)
    _terminate(process.pid, grace=10)
    settings.pid_file.unlink(missing_ok=True)
    raise ServerError(
        f"Neo4j did not answer on Bolt {settings.bolt_uri} within "
        f"{settings.start_timeout:.0f}s\n" + _log_tail(settings, since=log_sizes)
    )


def _terminate(pid: int, grace: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while _alive(pid):
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        # Reap it if it is our child (the test suite starts servers in-process).
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def stop(settings: LocalServerSettings, *, grace: float = 60.0) -> bool:
    """Stop the server this home's pid file names, and only it; False if it was not running."""
    pid = _read_pid(settings)
    if pid is None or not _is_our_server(pid, settings):
        settings.pid_file.unlink(missing_ok=True)
        return False
    _terminate(pid, grace)
    settings.pid_file.unlink(missing_ok=True)
    return True
