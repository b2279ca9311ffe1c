"""Dry runs that need no Neo4j: `covgraph load` refusing misuse, and the corpus's ATT&CK read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SIGMA_RULE = """\
title: Rule
id: 00000000-0000-4000-8000-000000000001
tags: [attack.t1047]
logsource: {product: windows, category: process_creation}
detection:
    selection:
        Image|endswith: '\\wmic.exe'
    condition: selection
"""


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A corpus of one Sigma rule."""
    path = tmp_path / "sigma" / "rules" / "r.yml"
    path.parent.mkdir(parents=True)
    path.write_text(SIGMA_RULE)
    return tmp_path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "covgraph", "load", "--dry-run", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200", "COVGRAPH_LOAD_WORKERS": "0"},
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "bogus"], "--only 'bogus': bogus is no source"),
        (["--only", "sigma,bogus"], "bogus is no source"),
        (["--only", ""], "it names no source"),
        (["--only", "sigma", "--elastic", "{root}/elastic"], "leaves out --elastic"),
        (["--problems", "-1"], "-1 is below 0"),
        (["--report", "{root}/no/such/dir/r.json"], "no folder"),
    ],
)
def test_cli_misuse_is_refused_before_the_load(corpus: Path, args: list[str], message: str) -> None:
    done = cli("--corpus", str(corpus), *(a.format(root=corpus) for a in args))
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert "sigma" not in done.stdout  # nothing was loaded


def test_only_is_case_insensitive(corpus: Path) -> None:
    done = cli("--corpus", str(corpus), "--only", "Sigma")
    assert done.returncode == 0, done.stderr
    assert "│ sigma " in done.stdout
    assert "│ elastic " not in done.stdout


@pytest.mark.corpus
def test_a_load_of_the_corpus_knows_it_is_attack_18(corpus_dir: Path) -> None:
    """The load reads the version where the Source node (and so catalog.attackVersion) does."""
    from covgraph.pipeline import plan_from_corpus, run

    report = run(plan_from_corpus(corpus_dir, {"attack"}), None)  # a dry run, as `load` does
    (attack,) = report.sources
    assert attack.source is not None
    assert attack.source.version == "18"  # MANIFEST.md: "mitre/cti (enterprise-attack, ATT&CK v18)"
    # Only the events ATT&CK files under the wrong channel (tests/unit/test_attack_corpus.py).
    assert {p.kind for p in attack.problems} == {"misfiled-event"}
