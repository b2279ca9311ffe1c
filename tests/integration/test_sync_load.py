"""A synced cache loaded into Neo4j: the Source nodes carry the provenance the sync recorded.

The same two steps as `make run` without COVGRAPH_CORPUS (covgraph/run.py): `covgraph sync`
into the default cache, then `covgraph load` with no --corpus, which reads that cache. The
archives are built from a small part of the shared corpus: the whole ATT&CK bundle and a few
rules of each vendor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sync_server import Upstream

from covgraph.cli import main
from covgraph.sync import default_cache, read_provenance
from covgraph.sync_sources import Source

pytest_plugins = ["sync_fixtures"]
pytestmark = [pytest.mark.neo4j, pytest.mark.corpus]

#: Per source: the corpus files to serve, as (folder, how many of its files, sorted by name).
SUBSET: dict[str, list[tuple[str, int | None]]] = {
    "sigma": [("rules/windows/process_creation", 6)],
    "elastic": [("rules/windows", 5)],
    "splunk": [("detections/endpoint", 5), ("macros", None), ("data_sources", None)],
}
TOP_FILES = {"sigma": ["LICENSE"], "elastic": ["LICENSE.txt", "NOTICE.txt"], "splunk": ["LICENSE"]}


def subset(corpus: Path, source: Source) -> dict[str, bytes]:
    """A few files of one vendor's corpus folder, at their repository paths."""
    files: dict[str, bytes] = {}
    root = corpus / source.target
    for folder, count in SUBSET[source.name]:
        paths = sorted(p for p in (root / folder).iterdir() if p.is_file())[:count]
        assert paths, f"{root / folder} has no files"
        files.update({str(p.relative_to(root)): p.read_bytes() for p in paths})
    files.update({name: (root / name).read_bytes() for name in TOP_FILES[source.name]})
    return files


def test_the_synced_cache_loads_with_its_provenance(  # noqa: PLR0917  # fixtures
    clean_graph: Any, corpus_dir: Path, upstream: Upstream, sources: list[Source],
    sources_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    files = {s.name: subset(corpus_dir, s) for s in sources if s.kind == "tarball"}
    files["attack"] = {"bundle": (corpus_dir / sources[3].target).read_bytes()}
    upstream.serve_sources(sources, files)
    monkeypatch.delenv("COVGRAPH_CORPUS", raising=False)
    monkeypatch.setenv("COVGRAPH_CACHE", str(tmp_path / "home"))
    monkeypatch.setenv("COVGRAPH_SOURCES", str(sources_file))
    monkeypatch.setenv("COVGRAPH_SYNC_BASE_URL", upstream.base_url)
    cache = default_cache()

    assert main(["sync"]) == 0, capsys.readouterr().err
    assert upstream.total == 4
    assert main(["load"]) == 0, capsys.readouterr().out

    records, _, _ = clean_graph.execute_query(
        "MATCH (s:Source) OPTIONAL MATCH (r:Rule)-[:FROM]->(s)"
        " RETURN s {.*} AS source, count(r) AS rules"
    )
    nodes = {r["source"]["name"]: (r["source"], r["rules"]) for r in records}
    assert set(nodes) == {"attack", "sigma", "elastic", "splunk"}
    for source in sources:
        node, rules = nodes[source.name]
        recorded = read_provenance(cache, source.name)
        assert recorded is not None, source.name
        for key in ("repository", "ref", "commit", "commit_date", "version", "fetched_at"):
            assert node.get(key) == recorded[key], (source.name, key)
        assert node["ref"] == source.ref
        assert node["fetched_at"]
        assert node["root"] == str(cache / source.target)
        if source.kind == "tarball":
            served = [p for p in files[source.name] if p.endswith((".yml", ".toml"))]
            rule_files = [p for p in served if not p.startswith(("macros/", "data_sources/"))]
            assert rules == len(rule_files), source.name
    assert nodes["attack"][0]["technique_count"] > 600
