"""source_info: from the sync provenance file, else the corpus MANIFEST.md, else nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from covgraph.errors import ParseError
from loaders.provenance import PROVENANCE_DIR, source_info
from loaders.records import SourceInfo

MANIFEST = """# Corpus snapshot

Some text | with a bar that is not a table.

| commit date | folder | commit | upstream repository |
|---|---|---|---|
| 2025-01-02 | `sigma/` | ABCDEF0123456789abcdef0123456789abcdef01 | SigmaHQ/sigma (folders rules) |
| 2025-03-04 | `attack/enterprise-attack.json` | 1111111 | mitre/cti (ATT&CK v17.1) |

| folder | note |
|---|---|
| `elastic/` | a second table without commits |
"""


def write_provenance(root: Path, name: str, data: object) -> Path:
    path = root / PROVENANCE_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


@pytest.mark.corpus
def test_shared_corpus_manifest(corpus_dir: Path) -> None:
    if (corpus_dir / PROVENANCE_DIR).exists():
        pytest.skip("this corpus was synced: its provenance files win over MANIFEST.md")
    sigma = source_info(corpus_dir, "sigma")
    assert sigma == SourceInfo(
        name="sigma",
        repository="SigmaHQ/sigma",
        ref="8eaafff1f2845a696050e05e72ba1140ee190698",
        commit="8eaafff1f2845a696050e05e72ba1140ee190698",
        root=str(corpus_dir / "sigma"),
        commit_date="2026-08-05",
    )
    attack = source_info(corpus_dir, "attack")
    assert attack.repository == "mitre/cti"
    assert attack.commit == "421deacb77191b38bdd1bf63268954e93da91365"
    assert attack.version == "18"
    assert attack.root == str(corpus_dir / "attack" / "enterprise-attack.json")
    assert source_info(corpus_dir, "elastic").repository == "elastic/detection-rules"
    splunk = source_info(corpus_dir, "splunk")
    assert splunk.repository == "splunk/security_content"
    assert splunk.commit_date == "2024-10-24"


def test_manifest_columns_are_found_by_their_headers(tmp_path: Path) -> None:
    (tmp_path / "MANIFEST.md").write_text(MANIFEST)

    sigma = source_info(tmp_path, "sigma")
    attack = source_info(tmp_path, "attack")

    assert sigma.repository == "SigmaHQ/sigma"
    assert sigma.commit == "abcdef0123456789abcdef0123456789abcdef01"
    assert sigma.commit_date == "2025-01-02"
    assert sigma.version is None
    assert attack.version == "17.1"
    assert attack.commit == "1111111"
    assert attack.root == str(tmp_path / "attack" / "enterprise-attack.json")


def test_a_row_without_commit_or_repository_leaves_them_empty(tmp_path: Path) -> None:
    (tmp_path / "MANIFEST.md").write_text(MANIFEST)

    elastic = source_info(tmp_path, "elastic")

    assert elastic == SourceInfo(name="elastic", root=str(tmp_path / "elastic"))


def test_provenance_file_wins_over_the_manifest(tmp_path: Path) -> None:
    (tmp_path / "MANIFEST.md").write_text(MANIFEST)
    write_provenance(
        tmp_path,
        "sigma",
        {
            "name": "sigma",
            "repository": "SigmaHQ/sigma",
            "ref": "r0.1",
            "commit": "2222222222222222222222222222222222222222",
            "commit_date": "2026-01-01T10:00:00+00:00",
            "fetched_at": "2026-02-02T00:00:00+00:00",
            "version": None,
            "target": "sigma",
            "sha256": "ab" * 32,
        },
    )

    info = source_info(tmp_path, "sigma")

    assert info == SourceInfo(
        name="sigma",
        repository="SigmaHQ/sigma",
        ref="r0.1",
        commit="2222222222222222222222222222222222222222",
        root=str(tmp_path / "sigma"),
        fetched_at="2026-02-02T00:00:00+00:00",
        commit_date="2026-01-01T10:00:00+00:00",
    )
    # Other sources still come from the manifest.
    assert source_info(tmp_path, "attack").version == "17.1"


def test_no_provenance_and_no_manifest_gives_name_and_root(tmp_path: Path) -> None:
    assert source_info(tmp_path, "splunk") == SourceInfo(
        name="splunk", root=str(tmp_path / "splunk")
    )
    assert source_info(tmp_path, "attack").root == str(
        tmp_path / "attack" / "enterprise-attack.json"
    )


def test_broken_provenance_names_file_and_line(tmp_path: Path) -> None:
    path = write_provenance(tmp_path, "elastic", '{\n  "ref": "x",\n  oops\n}')

    with pytest.raises(ParseError) as err:
        source_info(tmp_path, "elastic")

    assert str(err.value).startswith(f"{path}:3:")


def test_provenance_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    write_provenance(tmp_path, "sigma", ["sigma"])

    with pytest.raises(ParseError, match="not a JSON object"):
        source_info(tmp_path, "sigma")
