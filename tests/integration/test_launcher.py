"""`covgraph neo4j start|status|stop` against real servers, each in its own home on free ports."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError

from graph.settings import NEO4J_VERSION, Neo4jSettings

pytestmark = [pytest.mark.neo4j, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]

# Variables that would point the CLI at another server or change auth; each test sets its own.
FOREIGN = ("NEO4J_URI", "NEO4J_USER", "NEO4J_USERNAME", "NEO4J_PASSWORD", "NEO4J_DATABASE")
OWN = ("COVGRAPH_NEO4J_HOME", "COVGRAPH_NEO4J_BOLT_PORT", "COVGRAPH_NEO4J_HTTP_PORT")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def processes_for(home: Path) -> list[int]:
    """Pids of live processes whose command line names this server home."""
    needle = f"--home-dir={home}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if needle in cmdline and alive(int(entry.name)):
            pids.append(int(entry.name))
    return pids


def alive(pid: int) -> bool:
    """True while pid runs (a zombie awaiting its reaper does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Server:
    """One server home with its ports, and the CLI run against it."""

    home: Path
    bolt_port: int
    http_port: int
    password: str | None = None

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in FOREIGN + OWN}
        env.pop("COVGRAPH_NEO4J_PASSWORD", None)
        env.update(
            COVGRAPH_NEO4J_HOME=str(self.home),
            COVGRAPH_NEO4J_BOLT_PORT=str(self.bolt_port),
            COVGRAPH_NEO4J_HTTP_PORT=str(self.http_port),
            # Small servers: several run at once on a shared machine.
            COVGRAPH_NEO4J_HEAP="384m",
            COVGRAPH_NEO4J_PAGECACHE="64m",
        )
        if self.password:
            env["COVGRAPH_NEO4J_PASSWORD"] = self.password
        env.update(extra)
        return env

    def cli(self, action: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "covgraph", "neo4j", action],
            env=self.env(**extra),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )

    def spawn_cli(self, action: str, cwd: Path, **extra: str) -> subprocess.Popen[str]:
        """The CLI started in the background from cwd (with REPO importable)."""
        env = self.env(**extra)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        return subprocess.Popen(
            [sys.executable, "-m", "covgraph", "neo4j", action],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def cleanup(self) -> None:
        """Stop through the CLI; kill by pid whatever of this home survived (a failed test).

        The home goes too: each holds ~0.5 GB of preallocated transaction logs.
        """
        self.cli("stop")
        for pid in processes_for(self.home):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.home / "data", ignore_errors=True)


def new_server(tmp_path_factory: pytest.TempPathFactory, password: str | None = None) -> Server:
    return Server(
        home=tmp_path_factory.mktemp("neo4j-home"),
        bolt_port=free_port(),
        http_port=free_port(),
        password=password,
    )


@pytest.fixture(scope="module", autouse=True)
def teardown_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM (a CI cancel or time limit) into KeyboardInterrupt while servers may run.

    Servers run in sessions of their own and outlive a killed pytest; an interrupt lets the
    fixtures' teardown stop them.
    """

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="module")
def launcher_ready() -> None:
    """Java 17+ and the server jars (or Maven to fetch them) must be present."""
    from covgraph.errors import ServerError
    from graph.launcher import find_java, is_installed
    from graph.settings import local_server_settings

    try:
        find_java()
        if not is_installed(local_server_settings()) and shutil.which("mvn") is None:
            raise ServerError("the Neo4j jars are not installed and mvn is not on PATH")
    except ServerError as exc:
        if os.environ.get("COVGRAPH_REQUIRE_NEO4J") == "1":
            pytest.fail(str(exc))
        pytest.skip(f"cannot run a local Neo4j here: {exc}")


@pytest.fixture(scope="module")
def server(launcher_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One running server shared by this module's tests; started by the first test."""
    server = new_server(tmp_path_factory)
    yield server
    server.cleanup()
    assert processes_for(server.home) == []


def running_pid(server: Server) -> int:
    pids = processes_for(server.home)
    assert len(pids) == 1, f"expected one server process for {server.home}, found {pids}"
    return pids[0]


# --- one shared server: start, status, queries, restart --------------------------------------


def test_start_waits_for_bolt_and_says_where(server: Server) -> None:
    result = server.cli("start")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("started: ")
    assert f"Neo4j {NEO4J_VERSION} is running" in result.stdout
    assert server.bolt_uri in result.stdout
    assert f"http://127.0.0.1:{server.http_port}/browser/" in result.stdout
    # Bolt answers by the time start returns: no retry needed.
    with GraphDatabase.driver(server.bolt_uri) as driver:
        records, _, _ = driver.execute_query("RETURN 1 AS one")
    assert records[0]["one"] == 1


def test_status_running_exits_0_with_version_and_place(server: Server) -> None:
    result = server.cli("status")
    assert result.returncode == 0, result.stderr
    assert NEO4J_VERSION in result.stdout
    assert f"pid {running_pid(server)}" in result.stdout
    assert str(server.home) in result.stdout
    assert server.bolt_uri in result.stdout


def test_second_start_starts_nothing(server: Server) -> None:
    pid = running_pid(server)
    result = server.cli("start")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("already running, nothing started")
    assert processes_for(server.home) == [pid]


def test_browser_and_discovery_advertise_the_configured_ports(server: Server) -> None:
    base = f"http://127.0.0.1:{server.http_port}"
    with urllib.request.urlopen(base + "/browser/", timeout=10) as response:
        assert response.status == 200
        assert b"<title>Neo4j Browser</title>" in response.read()
    with urllib.request.urlopen(base + "/", timeout=10) as response:
        discovery = response.read().decode()
    assert f"neo4j://127.0.0.1:{server.bolt_port}" in discovery
    assert '"neo4j_edition":"community"' in discovery


def test_routing_uri_reaches_this_server(server: Server) -> None:
    from graph.driver import connect
    from graph.health import check

    marker = uuid.uuid4().hex
    settings = Neo4jSettings(
        uri=f"neo4j://127.0.0.1:{server.bolt_port}",
        user=None,
        password=None,
        database=None,
        external=True,
    )
    with connect(settings) as driver:
        driver.execute_query("CREATE (:LauncherProbe {marker: $m})", m=marker)
        table, _, _ = driver.execute_query(
            "CALL dbms.routing.getRoutingTable({}) YIELD servers RETURN servers", routing_="r"
        )
        health = check(driver)
    addresses = {a for entry in table[0]["servers"] for a in entry["addresses"]}
    assert addresses == {f"127.0.0.1:{server.bolt_port}"}
    assert (health.version, health.edition) == (NEO4J_VERSION, "community")
    # The write landed here, not on a server that owns the default port.
    with GraphDatabase.driver(server.bolt_uri) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (p:LauncherProbe {marker: $m}) RETURN count(p) AS n", m=marker
        )
    assert records[0]["n"] == 1


@pytest.mark.parametrize("which", ["BOLT", "HTTP"])
def test_taken_port_is_named(
    server: Server, which: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = new_server(tmp_path_factory)
    taken = server.bolt_port if which == "BOLT" else server.http_port
    result = other.cli("start", **{f"COVGRAPH_NEO4J_{which}_PORT": str(taken)})
    assert result.returncode == 1
    assert f"port 127.0.0.1:{taken} is already in use" in result.stderr
    assert f"COVGRAPH_NEO4J_{which}_PORT" in result.stderr
    assert processes_for(other.home) == []


def test_external_uri_to_this_server(server: Server) -> None:
    uri = f"neo4j://127.0.0.1:{server.bolt_port}"
    started = server.cli("start", NEO4J_URI=uri)
    assert started.returncode == 0, started.stderr
    assert f"using the server at {uri}; nothing to start" in started.stdout
    status = server.cli("status", NEO4J_URI=uri)
    assert status.returncode == 0, status.stderr
    assert f"Neo4j {NEO4J_VERSION} (community) answers at {uri}" in status.stdout
    stopped = server.cli("stop", NEO4J_URI=uri)
    assert stopped.returncode == 0
    assert "not managed by covgraph" in stopped.stdout
    assert len(processes_for(server.home)) == 1  # stop with NEO4J_URI touched nothing


def test_stop_and_start_keep_the_data(server: Server) -> None:
    marker = uuid.uuid4().hex
    with GraphDatabase.driver(server.bolt_uri) as driver:
        driver.execute_query("CREATE (:LauncherProbe {marker: $m})", m=marker)
    old_pid = running_pid(server)

    stopped = server.cli("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert f"stopped Neo4j (pid {old_pid}" in stopped.stdout
    assert not alive(old_pid)
    assert processes_for(server.home) == []
    assert not (server.home / "run" / "covgraph-neo4j.pid").exists()
    assert not (server.home / "run" / "covgraph-neo4j.json").exists()

    status = server.cli("status")
    assert status.returncode == 3
    assert f"not running (home {server.home})" in status.stdout
    again = server.cli("stop")
    assert again.returncode == 0
    assert "was not running" in again.stdout

    restarted = server.cli("start")
    assert restarted.returncode == 0, restarted.stderr
    assert running_pid(server) != old_pid
    with GraphDatabase.driver(server.bolt_uri) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (p:LauncherProbe {marker: $m}) RETURN count(p) AS n", m=marker
        )
    assert records[0]["n"] == 1


class ImposterHttp:
    """An HTTP server that claims, on its port, to be another Neo4j version."""

    VERSION = "0.0.1-imposter"

    def __init__(self) -> None:
        version = self.VERSION

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps({"neo4j_version": version}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_status_reports_the_servers_own_ports_and_version(server: Server) -> None:
    # The settings now name other ports, and something else answers on the configured HTTP
    # port: status must still describe the running server as its start recorded it.
    imposter = ImposterHttp()
    try:
        other_bolt = free_port()
        result = server.cli(
            "status",
            COVGRAPH_NEO4J_BOLT_PORT=str(other_bolt),
            COVGRAPH_NEO4J_HTTP_PORT=str(imposter.port),
        )
    finally:
        imposter.close()
    assert result.returncode == 0, result.stderr
    assert f"Neo4j {NEO4J_VERSION} is running (pid {running_pid(server)})" in result.stdout
    assert f"bolt {server.bolt_uri}, http http://127.0.0.1:{server.http_port}," in result.stdout
    assert ImposterHttp.VERSION not in result.stdout
    assert (
        f"the configured ports differ (bolt bolt://127.0.0.1:{other_bolt}, "
        f"http http://127.0.0.1:{imposter.port})"
    ) in result.stdout
    recorded = json.loads((server.home / "run" / "covgraph-neo4j.json").read_text())
    assert recorded == {
        "pid": running_pid(server),
        "version": NEO4J_VERSION,
        "host": "127.0.0.1",
        "bolt_port": server.bolt_port,
        "http_port": server.http_port,
    }
    # With the configured ports, no mismatch is reported.
    assert "differ" not in server.cli("status").stdout


def test_start_with_other_ports_names_where_it_runs_and_fails(server: Server) -> None:
    pid = running_pid(server)
    other_bolt, other_http = free_port(), free_port()
    result = server.cli(
        "start",
        COVGRAPH_NEO4J_BOLT_PORT=str(other_bolt),
        COVGRAPH_NEO4J_HTTP_PORT=str(other_http),
    )
    # Commands after it would connect to the configured port and find nothing: not a success.
    assert result.returncode == 1
    assert result.stdout.startswith("already running, nothing started: ")
    assert f"bolt {server.bolt_uri}," in result.stdout
    assert f"the configured ports differ (bolt bolt://127.0.0.1:{other_bolt}," in result.stdout
    assert processes_for(server.home) == [pid]
    assert port_is_free(other_bolt)
    assert port_is_free(other_http)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_tests_refuse_to_wipe_a_foreign_database(server: Server, tmp_path: Path) -> None:
    # The fixtures of tests/conftest.py, run by pytest against this server as a NEO4J_URI.
    probe = tmp_path / "test_wipe_probe.py"
    probe.write_text("def test_wipes(clean_graph):\n    pass\n")

    def run_probe(**extra: str) -> subprocess.CompletedProcess[str]:
        env = server.env(NEO4J_URI=server.bolt_uri, **extra)
        for name in ("COVGRAPH_TEST_ALLOW_WIPE", "COVGRAPH_TEST_REUSE_GRAPH", "PYTEST_ADDOPTS"):
            if name not in extra:
                env.pop(name, None)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest"]
        command += ["-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(tmp_path)]
        return subprocess.run(
            [*command, str(probe)],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def nodes() -> int:
        with GraphDatabase.driver(server.bolt_uri) as driver:
            records, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS n")
        return int(records[0]["n"])

    with GraphDatabase.driver(server.bolt_uri) as driver:
        driver.execute_query("CREATE (:LauncherProbe {marker: 'keep me'})")
    before = nodes()
    refused = run_probe()
    assert refused.returncode == 1, refused.stdout
    assert (
        f"refusing to wipe database (default) of NEO4J_URI {server.bolt_uri}: it holds "
        f"{before} nodes"
    ) in refused.stdout
    assert "COVGRAPH_TEST_ALLOW_WIPE=1" in refused.stdout
    assert nodes() == before

    allowed = run_probe(COVGRAPH_TEST_ALLOW_WIPE="1")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert nodes() == 0
    # An empty database holds nothing to lose: no opt-in needed.
    empty = run_probe()
    assert empty.returncode == 0, empty.stdout + empty.stderr


# --- servers of their own: auth, failures ---------------------------------------------------


def test_two_starts_at_once_run_one_server(
    launcher_ready: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # A relative COVGRAPH_NEO4J_HOME, from the directory that holds it: both starts must agree
    # on one absolute home, and the server must run in it with its own configuration.
    parent = tmp_path_factory.mktemp("relative")
    fresh = Server(home=parent / "rel-home", bolt_port=free_port(), http_port=free_port())
    try:
        both = [fresh.spawn_cli("start", parent, COVGRAPH_NEO4J_HOME="rel-home") for _ in "ab"]
        outputs = [process.communicate(timeout=240) for process in both]
        for process, (_, err) in zip(both, outputs, strict=True):
            assert process.returncode == 0, err
        firsts = sorted(out.split(":")[0] for out, _ in outputs)
        assert firsts == ["already running, nothing started", "started"], outputs
        pid = running_pid(fresh)
        assert all(f"(pid {pid})" in out for out, _ in outputs)
        assert (fresh.home / "conf" / "neo4j.conf").exists()
        assert not (fresh.home / "rel-home").exists()
        with GraphDatabase.driver(fresh.bolt_uri) as driver:
            records, _, _ = driver.execute_query("RETURN 1 AS one")
        assert records[0]["one"] == 1

        stopped = fresh.cli("stop")
        assert stopped.returncode == 0, stopped.stderr
        assert f"stopped Neo4j (pid {pid}" in stopped.stdout
        assert processes_for(fresh.home) == []
        assert not (fresh.home / "run" / "covgraph-neo4j.pid").exists()
    finally:
        fresh.cleanup()


def test_password_turns_auth_on(server: Server, tmp_path_factory: pytest.TempPathFactory) -> None:
    from graph.driver import connect
    from graph.settings import neo4j_settings

    secured = new_server(tmp_path_factory, password="covgraph-test-pw")
    try:
        result = secured.cli("start")
        assert result.returncode == 0, result.stderr
        for auth in (None, ("neo4j", "not-the-password")):
            with (
                GraphDatabase.driver(secured.bolt_uri, auth=auth) as driver,
                pytest.raises(AuthError),
            ):
                driver.execute_query("RETURN 1")
        # The settings the rest of covgraph uses pick the password up from the same variable.
        with connect(neo4j_settings(secured.env())) as driver:
            records, _, _ = driver.execute_query("RETURN 1 AS one")
        assert records[0]["one"] == 1

        secured_pid = running_pid(secured)
        assert secured.cli("stop").returncode == 0
        assert not alive(secured_pid)
        assert processes_for(secured.home) == []
        # Stopping one server left the other alone.
        assert len(processes_for(server.home)) == 1

        # The store keeps its password: another one is a failed start that leaves nothing.
        refused = secured.cli("start", COVGRAPH_NEO4J_PASSWORD="another-password")
        assert refused.returncode == 1
        assert "has another password for user neo4j" in refused.stderr
        assert processes_for(secured.home) == []
    finally:
        secured.cleanup()


def test_status_of_a_home_never_started_exits_3(tmp_path: Path) -> None:
    never = Server(home=tmp_path / "never", bolt_port=free_port(), http_port=free_port())
    result = never.cli("status")
    assert result.returncode == 3
    assert result.stdout.strip() == f"Neo4j is not running (home {never.home})"


def test_failed_start_prints_the_log_tail(
    launcher_ready: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    broken = new_server(tmp_path_factory)
    result = broken.cli("start", COVGRAPH_NEO4J_HEAP="lots")
    assert result.returncode == 1
    assert "Neo4j exited with code 1 while starting" in result.stderr
    assert f"{broken.home}/logs/console.log" in result.stderr
    assert "Invalid initial heap size: -Xmslots" in result.stderr
    assert processes_for(broken.home) == []


def test_start_timeout_stops_the_server_and_prints_the_log_tail(
    launcher_ready: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    slow = new_server(tmp_path_factory)
    try:
        result = slow.cli("start", COVGRAPH_NEO4J_START_TIMEOUT="1")
        assert result.returncode == 1
        assert f"did not answer on Bolt {slow.bolt_uri} within 1s" in result.stderr
        # console.log or neo4j.log, depending on how far the JVM got before it was stopped; on a
        # loaded machine a JVM stopped that early may have written nothing yet, which is said.
        assert re.search(
            rf"--- {re.escape(str(slow.home))}/logs/\w+\.log \(last \d+ lines\)", result.stderr
        ) or result.stderr.rstrip().endswith("(the server wrote nothing to its logs)")
        assert processes_for(slow.home) == []
        assert not (slow.home / "run" / "covgraph-neo4j.pid").exists()
    finally:
        slow.cleanup()


@pytest.mark.parametrize("scheme", ["bolt", "neo4j"])
def test_unreachable_uri_is_named(scheme: str, tmp_path: Path) -> None:
    nobody = Server(home=tmp_path / "unused", bolt_port=free_port(), http_port=free_port())
    uri = f"{scheme}://127.0.0.1:{free_port()}"
    started = nobody.cli("start", NEO4J_URI=uri)
    assert started.returncode == 1
    assert f"cannot reach Neo4j at NEO4J_URI {uri}" in started.stderr
    status = nobody.cli("status", NEO4J_URI=uri)
    assert status.returncode == 3
    assert f"cannot reach Neo4j at NEO4J_URI {uri}" in status.stderr
    assert not nobody.home.exists()  # nothing was started or written


def test_non_bolt_uri_is_refused_with_its_name(tmp_path: Path) -> None:
    nobody = Server(home=tmp_path / "unused", bolt_port=free_port(), http_port=free_port())
    for action in ("start", "status"):
        result = nobody.cli(action, NEO4J_URI="http://127.0.0.1:7474")
        assert result.returncode == 1
        assert "NEO4J_URI 'http://127.0.0.1:7474' is not a Neo4j URI" in result.stderr
        assert "Traceback" not in result.stderr
