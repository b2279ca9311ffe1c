"""`covgraph sync` against a real HTTP server on 127.0.0.1 serving GitHub-style archives.

The failures (a cut download, a wrong checksum, a 404, a hung or trickling server) are in
test_sync_failures.py; a synced cache loaded into Neo4j in test_sync_load.py.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from sync_server import (
    COMMIT_TIME,
    NEW_REF,
    Upstream,
    cli,
    corpus_files,
    options,
    tiny_files,
    tree,
)

from covgraph.cmd_sync import progress_bars
from covgraph.sync import read_provenance, sync
from covgraph.sync_sources import Source, load_sources
from loaders.provenance import source_info

pytest_plugins = ["sync_fixtures"]


# --- the real corpus through the archive layout ----------------------------------------------


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
    for source in sources:  # trust on first use: each checksum is recorded, none was checked
        recorded = read_provenance(cache, source.name)
        assert recorded is not None
        assert recorded["sha256"] == hashlib.sha256(tiny.route_of(source).body).hexdigest()
        assert recorded["sha256_checked_against"] is None
    before = tree(cache)
    capsys.readouterr()

    assert cli(*args) == 0

    assert tiny.total == 4, "an up-to-date cache must not be downloaded again"
    assert tree(cache) == before
    out = capsys.readouterr().out
    assert out.count("up to date at") == 4


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
    provenance = read_provenance(cache, "sigma")
    assert provenance is not None
    assert (provenance["ref"], provenance["sha256"]) == (NEW_REF, served)
    assert f"pin moved to {NEW_REF} (sha256 {served})" in capsys.readouterr().out
    requests = tiny.total

    # The moved pin is now the pin: syncing again downloads nothing...
    assert cli(*args, "--only", "sigma") == 0
    assert tiny.total == requests
    # ...and a forced download is checked against the pinned sum.
    assert cli(*args, "--only", "sigma", "--force") == 0
    assert tiny.total == requests + 1
    assert read_provenance(cache, "sigma")["sha256_checked_against"] == "pin"  # type: ignore[index]


def test_a_second_download_of_a_ref_is_checked_against_the_first(
    good_cache: Path, tiny: Upstream, sources: list[Source], sources_file: Path, tmp_path: Path
) -> None:
    first = read_provenance(good_cache, "splunk")
    assert first is not None

    [result] = sync(options(tmp_path, sources_file, tiny, only=("splunk",), force=True))

    assert result.action == "synced"
    again = read_provenance(good_cache, "splunk")
    assert again is not None
    assert again["sha256"] == first["sha256"]
    assert again["sha256_checked_against"] == "first use"
    assert load_sources(sources_file)[2].sha256 is None  # the sources file is not touched


def test_ref_at_the_current_pin_writes_the_recorded_checksum_without_downloading(
    good_cache: Path, tiny: Upstream, sources: list[Source], sources_file: Path, tmp_path: Path
) -> None:
    elastic = sources[1]
    requests = tiny.total

    [result] = sync(options(tmp_path, sources_file, tiny, refs={"elastic": elastic.ref}))

    assert (result.action, result.pin_moved) == ("up-to-date", True)
    assert tiny.total == requests
    recorded = read_provenance(good_cache, "elastic")["sha256"]  # type: ignore[index]
    assert recorded == hashlib.sha256(tiny.route_of(elastic).body).hexdigest()
    assert {s.name: s.sha256 for s in load_sources(sources_file)} == {
        "sigma": None, "elastic": recorded, "splunk": None, "attack": None,
    }  # fmt: skip


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


# --- progress --------------------------------------------------------------------------------


def _incompressible(size: int) -> bytes:
    """Bytes gzip cannot shrink, so that the archive spans several reads."""
    blocks = (hashlib.sha512(str(i).encode()).digest() for i in range(size // 64 + 1))
    return b"".join(blocks)[:size]


def test_progress_reports_every_byte_of_each_archive(
    tiny: Upstream, sources: list[Source], sources_file: Path, tmp_path: Path
) -> None:
    files = tiny_files(sources[0])
    files["rules/big.bin"] = _incompressible(400_000)
    tiny.serve_sources([sources[0]], {"sigma": files})
    calls: dict[str, list[tuple[int, int | None]]] = {}

    def factory(name: str, url: str) -> Callable[[int, int | None], None]:
        assert url == tiny.base_url + tiny.path_of(next(s for s in sources if s.name == name))
        return lambda done, total: calls.setdefault(name, []).append((done, total))

    sync(options(tmp_path, sources_file, tiny), factory)

    assert set(calls) == {"sigma", "elastic", "splunk", "attack"}
    for source in sources:
        size = len(tiny.route_of(source).body)
        reported = calls[source.name]
        assert reported[0] == (0, size), source.name
        assert reported[-1] == (size, size), source.name
        done = [d for d, _ in reported]
        assert done == sorted(done), source.name
        assert read_provenance(tmp_path / "cache", source.name)["size"] == size  # type: ignore[index]
    assert len(calls["sigma"]) > 3  # 400 kB come in several reads, each reported


def test_the_progress_bars_show_each_download_complete(
    tiny: Upstream, sources: list[Source], sources_file: Path, tmp_path: Path
) -> None:
    files = tiny_files(sources[0])
    files["rules/big.bin"] = _incompressible(400_000)
    tiny.serve_sources([sources[0]], {"sigma": files})
    output = io.StringIO()
    console = Console(file=output, width=120, force_terminal=False, color_system=None)

    with progress_bars(False, console) as factory:
        sync(options(tmp_path, sources_file, tiny), factory)

    lines = {line.split()[0]: line for line in output.getvalue().splitlines() if line.strip()}
    assert set(lines) == {"sigma", "elastic", "splunk", "attack"}
    size = len(tiny.route_of(sources[0]).body) / 1000
    assert f"{size:.1f}/{size:.1f} kB" in lines["sigma"]
    for source in sources[1:]:
        size = len(tiny.route_of(source).body)
        assert f"{size}/{size} bytes" in lines[source.name], lines[source.name]
