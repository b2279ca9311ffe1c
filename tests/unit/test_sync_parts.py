"""The pure parts of sync: the sources file, pins, URLs, refs, and archive checks."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from covgraph.cmd_sync import parse_refs
from covgraph.errors import ConfigError, SyncError
from covgraph.sync_archive import check_stix_bundle, unpack_tarball
from covgraph.sync_sources import check_ref, load_sources, rebase_url, set_pin
from loaders.provenance import DEFAULT_TARGETS, source_info

REPO = Path(__file__).resolve().parents[2]
SOURCES = REPO / "rules" / "sources.yaml"

GOOD = """\
# pins
sources:
  - name: sigma   # the Sigma rules
    repository: SigmaHQ/sigma
    kind: tarball
    url: https://github.com/{repo}/archive/{ref}.tar.gz
    ref: aaaa  # a comment that goes with the old pin
    sha256: null
    target: sigma
    folders: [rules]
  - name: attack
    repository: mitre/cti
    kind: file
    url: https://raw.githubusercontent.com/{repo}/{ref}/enterprise-attack/enterprise-attack.json
    ref: bbbb
    target: attack/enterprise-attack.json
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text)
    return path


def test_repository_sources_match_the_corpus_layout() -> None:
    sources = {s.name: s for s in load_sources(SOURCES)}

    assert set(sources) == {"sigma", "elastic", "splunk", "attack"}
    assert {name: s.target for name, s in sources.items()} == DEFAULT_TARGETS
    assert sources["elastic"].folders == ("rules", "rules_building_block")
    assert sources["splunk"].folders == ("detections", "data_sources", "stories", "macros")
    assert len(sources["sigma"].folders) == 8
    assert sources["sigma"].upstream_url() == (
        "https://github.com/SigmaHQ/sigma/archive/8eaafff1f2845a696050e05e72ba1140ee190698.tar.gz"
    )
    assert sources["attack"].upstream_url("v18.0") == (
        "https://raw.githubusercontent.com/mitre/cti/v18.0/enterprise-attack/enterprise-attack.json"
    )


@pytest.mark.corpus
def test_repository_pins_are_the_corpus_commits(corpus_dir: Path) -> None:
    for source in load_sources(SOURCES):
        info = source_info(corpus_dir, source.name)
        assert (source.repository, source.ref) == (info.repository, info.commit), source.name
        if source.kind == "tarball":
            on_disk = {p.name for p in (corpus_dir / source.target).iterdir()}
            assert on_disk == {*source.folders, *source.files}, source.name


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("kind: tarball", "kind: zip"), "kind must be one of tarball, file"),
        (("{ref}.tar.gz", "master.tar.gz"), "url must contain {ref}"),
        (("ref: aaaa", "ref: 12345678"), "'ref' reads as a number: write it in quotes"),
        (("sha256: null", "sha256: abc"), "sha256 must be 64 hex digits or null"),
        (("target: sigma", "target: ../sigma"), "target must be a relative path"),
        (("folders: [rules]", "folders: [rules/windows]"), "'folders' must be a list"),
        (("folders: [rules]", "files: [LICENSE]"), "a tarball source needs 'folders'"),
        (("name: attack", "name: sigma"), "duplicate source names: sigma"),
        (("ref: bbbb", "ref: 'a b'"), "not a valid git ref"),
    ],
)
def test_a_wrong_sources_file_says_what_and_where(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = write(tmp_path, GOOD.replace(*change))

    with pytest.raises(ConfigError) as err:
        load_sources(path)

    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


def test_set_pin_rewrites_ref_and_sum_and_nothing_else(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)

    set_pin(path, "sigma", "cccc", "ab" * 32)

    expected = GOOD.replace("ref: aaaa  # a comment that goes with the old pin", "ref: cccc")
    expected = expected.replace("sha256: null", f"sha256: {'ab' * 32}")
    assert path.read_text() == expected


def test_set_pin_adds_a_missing_sum_line_and_quotes_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)

    set_pin(path, "attack", "12345678", "0" * 64)

    sources = {s.name: s for s in load_sources(path)}
    assert sources["attack"].ref == "12345678"
    assert sources["attack"].sha256 == "0" * 64
    assert sources["sigma"].ref == "aaaa"
    assert '    ref: "12345678"\n    sha256: "' in path.read_text()


def test_set_pin_of_an_unknown_source_fails_and_leaves_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)

    with pytest.raises(ConfigError, match="no source named 'zeek'"):
        set_pin(path, "zeek", "cccc", None)

    assert path.read_text() == GOOD


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        (None, "https://github.com/o/r/archive/x.tar.gz"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/o/r/archive/x.tar.gz"),
        ("https://mirror.example/gh/", "https://mirror.example/gh/o/r/archive/x.tar.gz"),
    ],
)
def test_base_url_replaces_scheme_and_host(base: str | None, expected: str) -> None:
    assert rebase_url("https://github.com/o/r/archive/x.tar.gz", base) == expected


def test_parse_refs() -> None:
    assert parse_refs(["sigma=abc", "elastic = v1.2 "], []) == {"sigma": "abc", "elastic": "v1.2"}
    assert parse_refs(["abc"], ["sigma"]) == {"sigma": "abc"}
    with pytest.raises(ConfigError, match="write NAME=REF, or name one source"):
        parse_refs(["abc"], [])
    with pytest.raises(ConfigError, match="write NAME=REF"):
        parse_refs(["sigma="], [])


@pytest.mark.parametrize("ref", ["a b", "../etc", "main..dev", "-x", "x;y", ""])
def test_check_ref_refuses_what_is_not_a_ref(ref: str) -> None:
    with pytest.raises(ConfigError, match="not a valid git ref"):
        check_ref(ref)


# --- archives --------------------------------------------------------------------------------


def tarball(tmp_path: Path, members: list[tarfile.TarInfo], data: bytes = b"x\n") -> Path:
    path = tmp_path / "a.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for member in members:
            tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return path


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, 2 if kind == tarfile.REGTYPE else 0
    return info


def test_unsafe_and_link_members_are_skipped_not_unpacked(tmp_path: Path) -> None:
    archive = tarball(
        tmp_path,
        [
            entry("top/rules/a.yml"),
            entry("top/rules/../../evil.yml"),
            entry("top/rules/link.yml", tarfile.SYMTYPE, "/etc/passwd"),
        ],
    )
    dest = tmp_path / "out"

    unpacked = unpack_tarball(archive, dest, ["rules"], [], "u")

    assert unpacked.files == 1
    assert (dest / "rules" / "a.yml").read_bytes() == b"x\n"
    assert not (tmp_path / "evil.yml").exists()
    assert not (dest / "rules" / "link.yml").exists()
    assert len(unpacked.skipped) == 2
    assert unpacked.missing == ()
    assert unpacked.commit is None


def test_members_outside_one_top_folder_are_refused(tmp_path: Path) -> None:
    archive = tarball(tmp_path, [entry("top/rules/a.yml"), entry("other/rules/b.yml")])

    with pytest.raises(SyncError, match=r"not a GitHub archive: 'other/rules/b\.yml'"):
        unpack_tarball(archive, tmp_path / "out", ["rules"], [], "u")


def test_an_archive_with_none_of_the_folders_is_refused(tmp_path: Path) -> None:
    archive = tarball(tmp_path, [entry("top/src/a.py")])

    with pytest.raises(SyncError, match=r"none of the configured folders \(rules, docs\)"):
        unpack_tarball(archive, tmp_path / "out", ["rules", "docs"], ["LICENSE"], "u")


def test_a_missing_folder_is_noted(tmp_path: Path) -> None:
    archive = tarball(tmp_path, [entry("top/rules/a.yml")])

    unpacked = unpack_tarball(archive, tmp_path / "out", ["rules", "gone"], ["LICENSE"], "u")

    assert unpacked.missing == ("gone", "LICENSE")


def test_a_file_that_is_not_gzip_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "a.tar.gz"
    path.write_bytes(b"<html>rate limited</html>")

    with pytest.raises(SyncError, match=r"^u: truncated or corrupt archive"):
        unpack_tarball(path, tmp_path / "out", ["rules"], [], "u")


def test_stix_bundle_checks(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    bundle = {"type": "bundle", "objects": [{"type": "attack-pattern"}]}
    path.write_text(json.dumps(bundle))
    assert check_stix_bundle(path, "u") is None

    path.write_text(json.dumps(bundle)[:-5])
    with pytest.raises(SyncError, match=r"^u: not valid JSON \(truncated\?\)"):
        check_stix_bundle(path, "u")

    path.write_text(json.dumps({"type": "indicator"}))
    with pytest.raises(SyncError, match="not a STIX bundle"):
        check_stix_bundle(path, "u")

    path.write_text(json.dumps({"type": "bundle", "objects": []}))
    with pytest.raises(SyncError, match="has no objects"):
        check_stix_bundle(path, "u")


def test_timeouts_and_the_deadline_come_from_flags_then_environment() -> None:
    from covgraph.cli import build_parser
    from covgraph.cmd_sync import _timeouts
    from covgraph.sync_fetch import Timeouts

    def timeouts(argv: list[str], env: dict[str, str]) -> Timeouts:
        return _timeouts(build_parser().parse_args(["sync", *argv]), env)

    assert timeouts([], {}) == Timeouts(connect=15, read=60, total=1800)
    env = {"COVGRAPH_SYNC_DEADLINE": "120", "COVGRAPH_SYNC_READ_TIMEOUT": "5"}
    assert timeouts([], env) == Timeouts(connect=15, read=5, total=120)
    assert timeouts(["--deadline", "7.5"], env).total == 7.5
    with pytest.raises(ConfigError, match="COVGRAPH_SYNC_DEADLINE must be a number"):
        timeouts([], {"COVGRAPH_SYNC_DEADLINE": "soon"})
    with pytest.raises(ConfigError, match="COVGRAPH_SYNC_DEADLINE must be more than 0"):
        timeouts(["--deadline", "0"], {})
