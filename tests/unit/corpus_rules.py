"""Reading single corpus rule files of each vendor into their checks, for hand-checked tests."""

from __future__ import annotations

from pathlib import Path

from loaders.elastic import rule_from_toml
from loaders.records import Rule
from loaders.sigma import read_sigma_file
from loaders.splunk import SplunkContext, read_detection

#: (field, operator, value, negated) of one predicate.
Check = tuple[str, str, str, bool]


def checks(rule: Rule) -> set[Check]:
    """What a rule checks, as (field, operator, value, negated)."""
    return {(p.field, p.operator, p.value, p.negated) for p in rule.predicates}


def elastic(corpus_dir: Path, path: str) -> set[Check]:
    """The checks of one Elastic rule file (``path`` relative to the elastic root)."""
    text = (corpus_dir / "elastic" / path).read_text(encoding="utf-8")
    rule = rule_from_toml(text, path).rule
    assert rule is not None
    return checks(rule)


def splunk(corpus_dir: Path, context: SplunkContext, path: str) -> set[Check]:
    """The checks of one Splunk detection file, its macros and data sources from ``context``."""
    root = corpus_dir / "splunk"
    return checks(read_detection(root / path, root, context).rule)


def sigma(corpus_dir: Path, path: str) -> set[Check]:
    """The checks of a Sigma file holding one rule."""
    root = corpus_dir / "sigma"
    (rule,) = read_sigma_file(root / path, root).rules
    return checks(rule)
