"""The server process seen from outside: its pid file, its lock, its ports, its logs, its end."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from covgraph.errors import ServerError
from graph.settings import LocalServerSettings

MAIN_CLASS = "org.neo4j.server.CommunityEntryPoint"
LOG_NAMES = ("console.log", "neo4j.log")


# --- the pid file and the lock ------------------------------------------------------------


def read_pid(settings: LocalServerSettings) -> int | None:
    """The pid the home's pid file holds, or None."""
    try:
        return int(settings.pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def forget(settings: LocalServerSettings, pid: int) -> None:
    """Remove the pid and run files, but only while they still name pid.

    Another start may have written its own pid meanwhile; deleting that would leave a server
    nothing can see or stop.
    """
    if read_pid(settings) == pid:
        settings.pid_file.unlink(missing_ok=True)
        settings.run_file.unlink(missing_ok=True)


@contextlib.contextmanager
def home_lock(settings: LocalServerSettings, timeout: float) -> Iterator[None]:
    """Hold the home's start lock: one start or stop at a time acts on a home.

    An fcntl lock is released by the kernel when its holder dies, so a killed start never
    leaves a stale lock behind.
    """
    settings.lock_file.parent.mkdir(parents=True, exist_ok=True)
    with settings.lock_file.open("a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "?"
                    raise ServerError(
                        f"another `covgraph neo4j start` or `stop` (pid {holder}) still holds "
                        f"{settings.lock_file} after {timeout:.0f}s"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --- the process --------------------------------------------------------------------------


def is_our_server(pid: int, settings: LocalServerSettings) -> bool:
    """True when pid is alive and is the Neo4j server covgraph started for this home."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    home_arg = f"--home-dir={settings.home}".encode()
    return MAIN_CLASS.encode() in cmdline and home_arg in cmdline and alive(pid)


def alive(pid: int) -> bool:
    """True while pid runs; a zombie does not count, and our own child is reaped."""
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


def terminate(pid: int, grace: float) -> None:
    """SIGTERM, then SIGKILL after grace seconds; returns once pid is gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while alive(pid):
        time.sleep(0.1)


# --- ports --------------------------------------------------------------------------------


def port_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def bolt_answers(host: str, port: int) -> bool:
    """True when something speaking Bolt accepts a handshake on host:port."""
    handshake = b"\x60\x60\xb0\x17" + b"\x00\x00\x04\x04" + b"\x00" * 12
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(handshake)
            reply = sock.recv(4)
    except OSError:
        return False
    return len(reply) == 4 and reply != b"\x00\x00\x00\x00"


# --- logs ---------------------------------------------------------------------------------


def log_sizes(settings: LocalServerSettings) -> dict[str, int]:
    """How long each server log is now, so that a failure shows only this start's lines."""
    sizes = {}
    for name in LOG_NAMES:
        path = settings.home / "logs" / name
        sizes[name] = path.stat().st_size if path.exists() else 0
    return sizes


def log_tail(settings: LocalServerSettings, since: dict[str, int], lines: int = 40) -> str:
    """The lines each server log gained since the sizes in since."""
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
