"""Downloading one archive to a file: timeouts, an overall deadline, size and checksum, progress."""

from __future__ import annotations

import hashlib
import http.client
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from covgraph import __version__
from covgraph.errors import SyncError

CHUNK = 1 << 16

#: Called with (bytes so far, total bytes or None) as the download goes.
ProgressHook = Callable[[int, int | None], None]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for the connection, for each read once connected, and for the whole file."""

    connect: float = 15.0
    read: float = 60.0
    #: The whole download, connection included: a server that trickles bytes, each read well
    #: within ``read``, still fails once this has passed.
    total: float = 1800.0


@dataclass(frozen=True, slots=True)
class Download:
    """What was fetched: where it went, its size, checksum and the URL it finally came from."""

    path: Path
    size: int
    sha256: str
    final_url: str


class _ConnectTimeout(OSError):
    """The TCP (or TLS, or proxy tunnel) connection was not made in time."""


class _Deadline(OSError):
    """The whole download took longer than the deadline."""


class _Clock:
    """The download's deadline, and the socket it is reading from (the last one connected)."""

    def __init__(self, timeouts: Timeouts) -> None:
        self.timeouts = timeouts
        self.deadline = time.monotonic() + timeouts.total
        self.sock: socket.socket | None = None

    def left(self) -> float:
        """Seconds left before the deadline; _Deadline once none are."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Deadline(f"not finished within the deadline of {self.timeouts.total:g} s")
        return left

    def wait(self, limit: float) -> float:
        """How long the next blocking step may wait: its own limit, cut to the deadline."""
        return min(limit, self.left())

    def before_read(self) -> None:
        """Cut the next read's wait to the deadline; _Deadline once it has passed."""
        wait = self.wait(self.timeouts.read)
        # urllib closes its socket object once the response is open; the file reading the body
        # keeps the descriptor until the body is read, and -1 says that it is gone.
        if self.sock is not None and self.sock.fileno() >= 0:
            self.sock.settimeout(wait)


def _opener(clock: _Clock) -> urllib.request.OpenerDirector:
    """An opener whose connections use the connect timeout, then the read timeout.

    urllib takes one timeout for both; a connection class that switches the socket's timeout
    once connected keeps urllib's redirects and proxy support while splitting the two. Both
    are cut to what is left before the deadline, and the socket is kept so that each read of
    the body can be cut too.
    """
    timeouts = clock.timeouts

    def connected(conn: http.client.HTTPConnection, connect: Callable[[], None]) -> None:
        conn.timeout = clock.wait(timeouts.connect)
        try:
            connect()
        except TimeoutError:
            clock.left()  # the deadline, when that is what cut the connection short
            raise _ConnectTimeout(f"connection not made after {timeouts.connect:g} s") from None
        if conn.sock is not None:
            conn.sock.settimeout(clock.wait(timeouts.read))
            clock.sock = conn.sock

    class HTTPConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            connected(self, super().connect)

    class HTTPSConnection(http.client.HTTPSConnection):
        def connect(self) -> None:
            connected(self, super().connect)

    class HTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(HTTPConnection, req)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(HTTPSConnection, req)

    return urllib.request.build_opener(HTTPHandler, HTTPSHandler)


def fetch(
    url: str,
    dest: Path,
    timeouts: Timeouts,
    progress: ProgressHook | None = None,
) -> Download:
    """Download ``url`` into ``dest``; SyncError naming the URL on any failure.

    The body must be as long as the Content-Length the server announced: http.client returns
    a short body without complaint when the connection closes early. The body is read with
    ``read1``, one receive at a time: ``read`` waits for a whole chunk, so a server sending a
    byte a second would never let the loop see the deadline.
    """
    request = urllib.request.Request(  # noqa: S310  # the scheme is checked just below
        url, headers={"User-Agent": f"covgraph/{__version__}", "Accept-Encoding": "identity"}
    )
    if request.type not in ("http", "https"):
        raise SyncError(f"{url}: only http and https URLs can be synced")
    digest = hashlib.sha256()
    size = 0
    expected: int | None = None
    clock = _Clock(timeouts)
    try:
        with _opener(clock).open(request, timeout=timeouts.connect) as response:
            final_url = response.geturl()
            expected = _content_length(response)
            if progress:
                progress(0, expected)
            with dest.open("wb") as out:
                while True:
                    clock.before_read()
                    chunk = response.read1(CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    if progress:
                        progress(size, expected)
    except urllib.error.HTTPError as exc:
        raise SyncError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise SyncError(f"{url}: {_describe(_cause(exc.reason, clock), timeouts)}") from None
    except http.client.IncompleteRead as exc:
        raise SyncError(
            f"{url}: truncated download: the connection closed after {size + len(exc.partial)}"
            " bytes in the middle of a chunk"
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        received = f"{size} of {expected}" if expected is not None else f"{size}"
        raise SyncError(
            f"{url}: {_describe(_cause(exc, clock), timeouts)} ({received} bytes received)"
        ) from None
    if expected is not None and size != expected:
        raise SyncError(
            f"{url}: truncated download: received {size} of the {expected} bytes announced"
        )
    return Download(path=dest, size=size, sha256=digest.hexdigest(), final_url=final_url)


def _content_length(response: Any) -> int | None:
    raw = response.headers.get("Content-Length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _cause(reason: object, clock: _Clock) -> object:
    """The deadline when a timeout fired because of it (the wait was cut to the deadline)."""
    if isinstance(reason, TimeoutError) and clock.deadline <= time.monotonic():
        return _Deadline(f"not finished within the deadline of {clock.timeouts.total:g} s")
    return reason


def _describe(reason: object, timeouts: Timeouts) -> str:
    """A short account of a network failure."""
    if isinstance(reason, _Deadline):
        return f"download {reason}"
    if isinstance(reason, _ConnectTimeout):
        return f"connect timed out after {timeouts.connect:g} s"
    if isinstance(reason, TimeoutError):
        return f"timed out after {timeouts.read:g} s without data"
    if isinstance(reason, socket.gaierror):
        return f"host not found ({reason.strerror})"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error ({reason.reason or reason})"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__
