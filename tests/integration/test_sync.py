"""`covgraph sync` against a real HTTP server on 127.0.0.1 serving GitHub-style archives."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from covgraph.cli import main
from covgraph.errors import SyncError
from covgraph.sync import SyncOptions, read_provenance, sync
from covgraph.sync_fetch import Timeouts
from covgraph.sync_sources import Source, load_sources
from loaders.provenance import source_info

REPO = Path(__file__).resolve().parents[2]
SOURCES = REPO / "rules" / "sources.yaml"
NEW_REF = "0123456789abcdef0123456789abcdef01234567"
COMMIT_TIME = 1_786_000_000  # what git archive stamps on every member: the commit time


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


# --- the server ------------------------------------------------------------------------------


@dataclass
class Route:
    body: bytes
    mode: str = "ok"  # ok | truncate | hang | cut-gzip


@dataclass
class Upstream:
    """What the server serves, and what it was asked for."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    base_url: str = ""

    def serve_sources(self, sources: list[Source], files: Mapping[str, Mapping[str, bytes]],
                      ref: str | None = None) -> None:  # fmt: skip
        for source in sources:
            url = source.upstream_url(ref)
            path = url.split("://", 1)[1].split("/", 1)[1]
            if source.kind == "tarball":
                repo_name = source.repository.split("/")[1]
                body = github_tarball(repo_name, ref or source.ref, files[source.name])
            else:
                body = files[source.name]["bundle"]
            self.routes["/" + path] = Route(body)

    def route_of(self, source: Source, ref: str | None = None) -> Route:
        path = source.upstream_url(ref).split("://", 1)[1].split("/", 1)[1]
        return self.routes["/" + path]

    @property
    def total(self) -> int:
        return sum(self.requests.values())


def _handler(upstream: Upstream) -> type[BaseHTTPRequestHandler]:
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
            if route.mode == "truncate":
                self.close_connection = True
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if route.mode == "truncate" else body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first (the timeout test): nothing to tell it

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[Upstream]:
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    state = Upstream()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def sources_file(tmp_path: Path) -> Path:
    """A copy of the repository's pins, so that moving a pin never edits the real file."""
    path = tmp_path / "sources.yaml"
    shutil.copyfile(SOURCES, path)
    return path


@pytest.fixture
def sources(sources_file: Path) -> list[Source]:
    return load_sources(sources_file)


@pytest.fixture
def tiny(upstream: Upstream, sources: list[Source]) -> Upstream:
    """The server with a tiny hand-made archive of every source at its pin."""
    files = {s.name: tiny_files(s) for s in sources}
    files["attack"] = {"bundle": small_bundle()}
    upstream.serve_sources(sources, files)
    return upstream


def options(
    tmp_path: Path, sources_file: Path, upstream: Upstream, **changes: object
) -> SyncOptions:
    values: dict[str, object] = {
        "cache": tmp_path / "cache",
        "sources_file": sources_file,
        "base_url": upstream.base_url,
        "timeouts": Timeouts(connect=2, read=2),
    }
    values.update(changes)
    return SyncOptions(**values)  # type: ignore[arg-type]


def tree(root: Path) -> dict[str, str]:
    """Every file under root, relative path to sha256."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def cli(*args: str) -> int:
    return main(["sync", "--quiet", *args])


# --- the real corpus through the archive layout ----------------------------------------------


def corpus_files(corpus: Path, source: Source) -> dict[str, bytes]:
    """The shared corpus copy of a source, as repository-relative paths."""
    root = corpus / source.target
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.corpus
def test_sync_of_the_corpus_lands_the_corpus_layout(  # noqa: PLR0917  # fixtures
    corpus_dir: Path, upstream: Upstream, sources: list[Source], sources_file: Path,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    files = {s.name: corpus_files(corpus_dir, s) for s in sources if s.kind == "tarball"}
    for tarball in files.values():  # upstream has more than is configured: never unpacked
        tarball["tests/data/not_a_rule.yml"] = b"title: not configured\n"
    bundle = (corpus_dir / "attack" / "enterprise-attack.json").read_bytes()
    files["attack"] = {"bundle": bundle}
    upstream.serve_sources(sources, files)
    cache = tmp_path / "cache"

    code = cli(
        "--cache", str(cache), "--sources", str(sources_file), "--base-url", upstream.base_url
    )

    assert code == 0, capsys.readouterr().err
    for source in sources:
        if source.kind == "tarball":
            assert tree(cache / source.target) == tree(corpus_dir / source.target), source.name
            assert not (cache / source.target / "tests").exists()
    assert (cache / "attack" / "enterprise-attack.json").read_bytes() == bundle
    assert {p.name for p in cache.iterdir() if not p.name.startswith(".")} == {
        "sigma", "elastic", "splunk", "attack",
    }  # fmt: skip
    sigma = read_provenance(cache, "sigma")
    assert sigma is not None
    served = upstream.route_of(sources[0]).body
    assert sigma["sha256"] == hashlib.sha256(served).hexdigest()
    assert sigma["size"] == len(served)
    assert sigma["commit"] == "8eaafff1f2845a696050e05e72ba1140ee190698"
    assert sigma["file_count"] == len(tree(corpus_dir / "sigma"))
    info = source_info(cache, "sigma")
    assert info.repository == "SigmaHQ/sigma"
    assert info.ref == info.commit == "8eaafff1f2845a696050e05e72ba1140ee190698"
    assert info.root == str(cache / "sigma")
    assert info.fetched_at is not None
    assert info.commit_date == datetime.fromtimestamp(COMMIT_TIME, UTC).isoformat()
    out = capsys.readouterr().out
    assert f"covgraph load --corpus {cache.resolve()}" in out


# --- behaviour on small hand-made archives ---------------------------------------------------


def test_good_sync_writes_provenance_and_second_sync_downloads_nothing(
    tiny: Upstream, sources: list[Source], sources_file: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    cache = tmp_path / "cache"
    args = ("--cache", str(cache), "--sources", str(sources_file), "--base-url", tiny.base_url)

    assert cli(*args) == 0
    assert tiny.total == 4
    assert (cache / "sigma" / "rules" / "sub" / "rule_v1.yml").read_bytes() == b"title: v1\n"
    assert (cache / "sigma" / "LICENSE").exists()
    assert (cache / "elastic" / "NOTICE.txt").exists()
    assert not (cache / "sigma" / "tests").exists()
    assert not (cache / ".tmp").exists() or not any((cache / ".tmp").iterdir())
    attack = read_provenance(cache, "attack")
    assert attack is not None
    assert attack["version"] == "18.0"
    assert attack["commit"] == "421deacb77191b38bdd1bf63268954e93da91365"
    assert attack["url"].startswith(tiny.base_url + "/mitre/cti/")
    assert attack["upstream_url"].startswith("https://raw.githubusercontent.com/mitre/cti/")
    assert source_info(cache, "attack").version == "18.0"
    before = tree(cache)
    capsys.readouterr()

    assert cli(*args) == 0

    assert tiny.total == 4, "an up-to-date cache must not be downloaded again"
    assert tree(cache) == before
    out = capsys.readouterr().out
    assert out.count("up to date at") == 4


def test_truncated_download_fails_and_keeps_the_good_cache(
    tiny: Upstream, sources: list[Source], sources_file: Path, tmp_path: Path
) -> None:
    sigma = sources[0]
    sync(options(tmp_path, sources_file, tiny, only=("sigma",)))
    cache = tmp_path / "cache"
    before, provenance = tree(cache / "sigma"), read_provenance(cache, "sigma")
    pins = sources_file.read_text()
    tiny.serve_sources([sigma], {"sigma": tiny_files(sigma, "v2")}, ref=NEW_REF)
    tiny.route_of(sigma, NEW_REF).mode = "truncate"

    with pytest.raises(
        SyncError, match=r"truncated download: received \d+ of the \d+ bytes"
    ) as err:
        sync(options(tmp_path, sources_file, tiny, refs={"sigma": NEW_REF}))

    assert NEW_REF in str(err.value)  # the URL is named
    assert tree(cache / "sigma") == before
    assert read_provenance(cache, "sigma") == provenance
    assert sources_file.read_text() == pins


def test_cut_gzip_fails_as_corrupt_and_keeps_the_good_cache(
    tiny: Upstream, sources: list[Source], sources_file: Path, tmp_path: Path
) -> None:
    sigma = sources[0]
    sync(options(tmp_path, sources_file, tiny, only=("sigma",)))
    cache = tmp_path / "cache"
    before = tree(cache / "sigma")
    # Big enough that the cut falls inside the compressed members, not only the trailer.
    files = tiny_files(sigma, "v2")
    files["rules/big.yml"] = hashlib.sha512(b"x").hexdigest().encode() * 4000
    tiny.serve_sources([sigma], {"sigma": files}, ref=NEW_REF)
    tiny.route_of(sigma, NEW_REF).mode = "cut-gzip"

    with pytest.raises(SyncError, match="truncated or corrupt archive"):
        sync(options(tmp_path, sources_file, tiny, refs={"sigma": NEW_REF}))

    assert tree(cache / "sigma") == before
    assert read_provenance(cache, "sigma")["ref"] == sigma.ref  # type: ignore[index]
    assert [p.name for p in (cache / ".tmp").iterdir()] == []


def test_checksum_mismatch_names_both_sums(
    tiny: Upstream, sources_file: Path, tmp_path: Path
) -> None:
    wrong = "0" * 64
    text = sources_file.read_text()
    sources_file.write_text(text.replace("sha256: null", f'sha256: "{wrong}"', 1))
    served = hashlib.sha256(tiny.route_of(load_sources(sources_file)[0]).body).hexdigest()

    with pytest.raises(SyncError, match="checksum mismatch") as err:
        sync(options(tmp_path, sources_file, tiny, only=("sigma",)))

    assert wrong in str(err.value)
    assert served in str(err.value)
    assert not (tmp_path / "cache" / "sigma").exists()


def test_not_found_names_the_url(tiny: Upstream, sources_file: Path, tmp_path: Path) -> None:
    with pytest.raises(SyncError, match="HTTP 404") as err:
        sync(options(tmp_path, sources_file, tiny, refs={"elastic": NEW_REF}))

    assert f"{tiny.base_url}/elastic/detection-rules/archive/{NEW_REF}.tar.gz" in str(err.value)


def test_a_server_that_hangs_times_out_quickly(
    tiny: Upstream, sources: list[Source], sources_file: Path, tmp_path: Path
) -> None:
    tiny.route_of(sources[3]).mode = "hang"
    started = time.monotonic()

    with pytest.raises(SyncError, match=r"timed out after 1 s") as err:
        sync(options(tmp_path, sources_file, tiny, only=("attack",), timeouts=Timeouts(1, 1)))

    assert time.monotonic() - started < 2.5
    assert "/mitre/cti/" in str(err.value)


def test_a_closed_port_is_refused(sources_file: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    opts = SyncOptions(cache=tmp_path / "c", sources_file=sources_file, only=("attack",),
                       base_url=f"http://127.0.0.1:{port}")  # fmt: skip
    with pytest.raises(SyncError, match="connection refused"):
        sync(opts)


def test_ref_moves_the_pin_and_keeps_the_file_layout(
    tiny: Upstream, sources: list[Source], sources_file: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    sigma = sources[0]
    cache = tmp_path / "cache"
    args = ("--cache", str(cache), "--sources", str(sources_file), "--base-url", tiny.base_url)
    assert cli(*args, "--only", "sigma") == 0
    tiny.serve_sources([sigma], {"sigma": tiny_files(sigma, "v2")}, ref=NEW_REF)
    served = hashlib.sha256(tiny.route_of(sigma, NEW_REF).body).hexdigest()
    original = sources_file.read_text()

    assert cli(*args, "--ref", f"sigma={NEW_REF}") == 0

    moved = {s.name: s for s in load_sources(sources_file)}
    assert moved["sigma"].ref == NEW_REF
    assert moved["sigma"].sha256 == served
    assert moved["elastic"] == sources[1]  # the other pins stay
    changed = [
        (a, b)
        for a, b in zip(original.splitlines(), sources_file.read_text().splitlines(), strict=True)
        if a != b
    ]
    assert changed == [
        (f"    ref: {sigma.ref}", f"    ref: {NEW_REF}"),
        ("    sha256: null", f"    sha256: {served}"),
    ]
    assert (cache / "sigma" / "rules" / "sub" / "rule_v2.yml").exists()
    assert not (cache / "sigma" / "rules" / "sub" / "rule_v1.yml").exists()
    assert read_provenance(cache, "sigma")["ref"] == NEW_REF  # type: ignore[index]
    assert "pin moved to" in capsys.readouterr().out
    requests = tiny.total

    # The moved pin is now the pin: syncing again downloads nothing and checks the new sum.
    assert cli(*args, "--only", "sigma") == 0
    assert tiny.total == requests


def test_a_failed_source_does_not_stop_the_others(
    tiny: Upstream, sources: list[Source], sources_file: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    del tiny.routes["/" + sources[1].upstream_url().split("/", 3)[3]]
    cache = tmp_path / "cache"

    code = cli("--cache", str(cache), "--sources", str(sources_file), "--base-url", tiny.base_url)

    assert code == 1
    assert "elastic: failed at 14cf530f0d21" in capsys.readouterr().err
    assert {p.name for p in cache.iterdir() if not p.name.startswith(".")} == {
        "sigma", "splunk", "attack",
    }  # fmt: skip
