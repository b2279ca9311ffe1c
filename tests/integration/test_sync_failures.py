"""A failed `covgraph sync` keeps the good cache: each failure starts from a first sync that worked.

Every test syncs all four sources from the server on 127.0.0.1 (the ``good_cache`` fixture),
breaks one download, and checks that every file of the cache (the sources, their provenance,
the lock file) and the sources file are byte for byte what they were.
"""

from __future__ import annotations

import hashlib
import socket
import time
from pathlib import Path

import pytest
from sync_server import NEW_REF, TRICKLE_EVERY, Upstream, cli, options, tiny_files, tree

from covgraph.errors import SyncError
from covgraph.sync import read_provenance, sync
from covgraph.sync_fetch import Timeouts
from covgraph.sync_sources import Source

pytest_plugins = ["sync_fixtures"]


class Snapshot:
    """The cache and the sources file as they were, to compare with after a failure."""

    def __init__(self, cache: Path, sources_file: Path) -> None:
        self.cache, self.sources_file = cache, sources_file
        self.files = tree(cache)
        self.pins = sources_file.read_bytes()

    def assert_unchanged(self) -> None:
        assert tree(self.cache) == self.files
        assert self.sources_file.read_bytes() == self.pins
        assert list((self.cache / ".tmp").iterdir()) == [], "staging left behind"


@pytest.fixture
def before(good_cache: Path, sources_file: Path) -> Snapshot:
    snapshot = Snapshot(good_cache, sources_file)
    assert {path.split("/")[0] for path in snapshot.files} == {
        "sigma", "elastic", "splunk", "attack", ".provenance", ".sync.lock",
    }  # fmt: skip
    assert len([p for p in snapshot.files if p.startswith(".provenance/")]) == 4
    return snapshot


def test_truncated_download(
    before: Snapshot, tiny: Upstream, sources: list[Source], sources_file: Path, tmp_path: Path
) -> None:
    sigma = sources[0]
    tiny.serve_sources([sigma], {"sigma": tiny_files(sigma, "v2")}, ref=NEW_REF)
    tiny.route_of(sigma, NEW_REF).mode = "truncate"

    with pytest.raises(SyncError, match=r"truncated download: received \d+ of the \d+ bytes"):
        sync(options(tmp_path, sources_file, tiny, refs={"sigma": NEW_REF}))

    before.assert_unchanged()


def test_cut_gzip(
    before: Snapshot, tiny: Upstream, sources: list[Source], sources_file: Path, tmp_path: Path
) -> None:
    sigma = sources[0]
    # Big enough that the cut falls inside the compressed members, not only the trailer; the
    # server announces the cut length, so only the gzip check can see it.
    files = tiny_files(sigma, "v2")
    files["rules/big.yml"] = hashlib.sha512(b"x").hexdigest().encode() * 4000
    tiny.serve_sources([sigma], {"sigma": files}, ref=NEW_REF)
    tiny.route_of(sigma, NEW_REF).mode = "cut-gzip"

    with pytest.raises(SyncError, match="truncated or corrupt archive"):
        sync(options(tmp_path, sources_file, tiny, refs={"sigma": NEW_REF}))

    before.assert_unchanged()


def test_checksum_mismatch_with_the_pin(
    tiny: Upstream, sources: list[Source], sources_file: Path, tmp_path: Path
) -> None:
    sigma = sources[0]
    pinned = hashlib.sha256(tiny.route_of(sigma).body).hexdigest()
    text = sources_file.read_text()
    sources_file.write_text(text.replace("sha256: null", f"sha256: {pinned}", 1))
    [first] = sync(options(tmp_path, sources_file, tiny, only=("sigma",)))
    assert first.provenance is not None
    assert first.provenance["sha256_checked_against"] == "pin"
    before = Snapshot(tmp_path / "cache", sources_file)
    # The same ref rebuilt upstream with other bytes.
    tiny.serve_sources([sigma], {"sigma": tiny_files(sigma, "rebuilt")})
    served = hashlib.sha256(tiny.route_of(sigma).body).hexdigest()

    with pytest.raises(SyncError, match="checksum mismatch") as err:
        sync(options(tmp_path, sources_file, tiny, only=("sigma",), force=True))

    assert f"expected sha256 {pinned} (the pin), got {served}" in str(err.value)
    before.assert_unchanged()


def test_checksum_mismatch_with_the_first_download_of_the_ref(
    before: Snapshot, tiny: Upstream, sources: list[Source], sources_file: Path, tmp_path: Path
) -> None:
    splunk = sources[2]
    assert splunk.sha256 is None  # no pin: the first sync's checksum is the reference
    first = read_provenance(before.cache, "splunk")
    assert first is not None
    tiny.serve_sources([splunk], {"splunk": tiny_files(splunk, "changed")})
    served = hashlib.sha256(tiny.route_of(splunk).body).hexdigest()
    assert served != first["sha256"]

    with pytest.raises(SyncError, match="checksum mismatch") as err:
        sync(options(tmp_path, sources_file, tiny, only=("splunk",), force=True))

    assert (
        f"expected sha256 {first['sha256']} (recorded when this ref was first fetched at"
        f" {first['fetched_at']}), got {served}"
    ) in str(err.value)
    assert splunk.upstream_url().split("://")[1].split("/", 1)[1] in str(err.value)
    before.assert_unchanged()


def test_not_found(before: Snapshot, tiny: Upstream, sources_file: Path, tmp_path: Path) -> None:
    with pytest.raises(SyncError, match="HTTP 404") as err:
        sync(options(tmp_path, sources_file, tiny, refs={"elastic": NEW_REF}))

    assert f"{tiny.base_url}/elastic/detection-rules/archive/{NEW_REF}.tar.gz" in str(err.value)
    before.assert_unchanged()


def test_a_server_that_hangs_times_out_quickly(
    before: Snapshot, tiny: Upstream, sources: list[Source], sources_file: Path, tmp_path: Path
) -> None:
    tiny.route_of(sources[3]).mode = "hang"
    started = time.monotonic()

    with pytest.raises(SyncError, match=r"timed out after 1 s") as err:
        sync(options(tmp_path, sources_file, tiny, only=("attack",), force=True,
                     timeouts=Timeouts(connect=1, read=1)))  # fmt: skip

    assert time.monotonic() - started < 2.5
    assert "/mitre/cti/" in str(err.value)
    before.assert_unchanged()


def test_a_closed_port_is_refused(before: Snapshot, sources_file: Path, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = f"http://127.0.0.1:{port}"

    with pytest.raises(SyncError, match="connection refused") as err:
        sync(options(tmp_path, sources_file, Upstream(base_url=closed), force=True))

    assert closed in str(err.value)
    before.assert_unchanged()


def test_a_server_that_trickles_fails_at_the_deadline(  # noqa: PLR0917  # fixtures
    before: Snapshot, tiny: Upstream, sources: list[Source], sources_file: Path,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    attack = sources[3]
    tiny.route_of(attack).mode = "trickle"  # one byte every 0.2 s: each read is quick
    size = len(tiny.route_of(attack).body)
    capsys.readouterr()
    started = time.monotonic()

    code = cli(
        "--cache", str(before.cache), "--sources", str(sources_file), "--base-url",
        tiny.base_url, "--only", "attack", "--force", "--read-timeout", "2", "--deadline", "1.5",
    )  # fmt: skip

    elapsed = time.monotonic() - started
    assert code == 1
    err = capsys.readouterr().err
    url = tiny.base_url + tiny.path_of(attack)
    assert f"attack: failed at {attack.ref[:12]}: {url}: download not finished within the" in err
    assert "deadline of 1.5 s" in err
    received = int(err.split("(")[-1].split(" of ")[0])
    assert 1 <= received <= 1.5 / TRICKLE_EVERY + 1
    assert f" of {size} bytes received)" in err
    assert 1.5 <= elapsed < 3.5, elapsed  # the read timeout alone (2 s) would never fire
    before.assert_unchanged()
