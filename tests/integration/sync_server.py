"""An HTTP server on 127.0.0.1 serving GitHub-style archives, for the `covgraph sync` tests.

The fixtures that start it are in sync_fixtures.py (``pytest_plugins = ["sync_fixtures"]``).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from covgraph.cli import main
from covgraph.sync import SyncOptions
from covgraph.sync_fetch import Timeouts
from covgraph.sync_sources import Source

REPO = Path(__file__).resolve().parents[2]
SOURCES = REPO / "rules" / "sources.yaml"
NEW_REF = "0123456789abcdef0123456789abcdef01234567"
COMMIT_TIME = 1_786_000_000  # what git archive stamps on every member: the commit time
#: Seconds between two bytes of a "trickle" route: each read is quick, the whole never ends.
TRICKLE_EVERY = 0.2


# --- archives -------------------------------------------------------------------------------


def github_tarball(
    repo_name: str, ref: str, files: Mapping[str, bytes], commit: str | None = None
) -> bytes:
    """A gzip tar laid out as GitHub's archive of a ref: one top folder ``<name>-<ref>/``."""
    top = f"{repo_name}-{ref}"
    buffer = io.BytesIO()
    headers = {"comment": commit or ref}
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT,
                      pax_headers=headers, compresslevel=1) as tar:  # fmt: skip
        folders = {top}
        for path in sorted(files):
            parts = path.split("/")
            folders.update(f"{top}/" + "/".join(parts[:i]) for i in range(1, len(parts)))
        for folder in sorted(folders):
            info = tarfile.TarInfo(folder + "/")
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, COMMIT_TIME
            tar.addfile(info)
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size, info.mode, info.mtime = len(data), 0o644, COMMIT_TIME
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def small_bundle(version: str = "18.0") -> bytes:
    objects = [
        {"type": "x-mitre-collection", "id": "x-mitre-collection--1", "x_mitre_version": version},
        {
            "type": "attack-pattern",
            "id": "attack-pattern--1",
            "name": "Windows Management Instrumentation",
            "external_references": [{"source_name": "mitre-attack", "external_id": "T1047"}],
        },
    ]
    return json.dumps({"type": "bundle", "id": "bundle--1", "objects": objects}).encode()


def tiny_files(source: Source, marker: str = "v1") -> dict[str, bytes]:
    """One hand-written file per configured folder and file, plus a folder not configured."""
    files = {
        f"{folder}/sub/rule_{marker}.yml": f"title: {marker}\n".encode()
        for folder in source.folders
    }
    files.update(dict.fromkeys(source.files, b"licence text\n"))
    files["tests/not_wanted.yml"] = b"title: outside the configured folders\n"
    return files


def corpus_files(corpus: Path, source: Source) -> dict[str, bytes]:
    """The shared corpus copy of a source, as repository-relative paths."""
    root = corpus / source.target
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# --- the server ------------------------------------------------------------------------------


@dataclass
class Route:
    body: bytes
    mode: str = "ok"  # ok | truncate | hang | cut-gzip | trickle


@dataclass
class Upstream:
    """What the server serves, and what it was asked for."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    base_url: str = ""

    def serve_sources(self, sources: list[Source], files: Mapping[str, Mapping[str, bytes]],
                      ref: str | None = None) -> None:  # fmt: skip
        for source in sources:
            if source.kind == "tarball":
                repo_name = source.repository.split("/")[1]
                body = github_tarball(repo_name, ref or source.ref, files[source.name])
            else:
                body = files[source.name]["bundle"]
            self.routes[self.path_of(source, ref)] = Route(body)

    @staticmethod
    def path_of(source: Source, ref: str | None = None) -> str:
        return "/" + source.upstream_url(ref).split("://", 1)[1].split("/", 1)[1]

    def route_of(self, source: Source, ref: str | None = None) -> Route:
        return self.routes[self.path_of(source, ref)]

    @property
    def total(self) -> int:
        return sum(self.requests.values())


def handler(upstream: Upstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            upstream.requests[self.path] += 1
            route = upstream.routes.get(self.path)
            if route is None:
                self.send_error(404, "Not Found")
                return
            if route.mode == "hang":
                time.sleep(3)
            body = route.body
            if route.mode == "cut-gzip":
                body = body[: len(body) * 2 // 3]
            if route.mode in ("truncate", "trickle"):
                self.close_connection = True
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if route.mode == "trickle":
                    self._trickle(body)
                else:
                    self.wfile.write(body[: len(body) // 2] if route.mode == "truncate" else body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first (the timeout tests): nothing to tell it

        def _trickle(self, body: bytes) -> None:
            """A byte every TRICKLE_EVERY seconds, for at most 30 s (long after the test)."""
            for i in range(min(len(body), int(30 / TRICKLE_EVERY))):
                self.wfile.write(body[i : i + 1])
                time.sleep(TRICKLE_EVERY)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def options(
    tmp_path: Path, sources_file: Path, upstream: Upstream, **changes: object
) -> SyncOptions:
    values: dict[str, object] = {
        "cache": tmp_path / "cache",
        "sources_file": sources_file,
        "base_url": upstream.base_url,
        "timeouts": Timeouts(connect=2, read=2, total=30),
    }
    values.update(changes)
    return SyncOptions(**values)  # type: ignore[arg-type]


def tree(root: Path) -> dict[str, str]:
    """Every file under root (provenance and lock file included), relative path to sha256."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def cli(*args: str) -> int:
    return main(["sync", "--quiet", *args])
