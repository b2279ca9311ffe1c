"""Expectations computed straight from the corpus files, independently of the loaders.

Tests compare what the graph (or the API) says with these, so a loader bug cannot make its own
expectation. Each function reads the files with plain yaml / tomllib and nothing of covgraph.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from pathlib import Path

import yaml

_SIGMA_TECHNIQUE = re.compile(r"^attack\.(t\d{4}(?:\.\d{3})?)$", re.IGNORECASE)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _NoDates(_LOADER):  # type: ignore[misc,valid-type]
    """YAML loader that keeps dates as text (some rules carry invalid dates)."""


_NoDates.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in _LOADER.yaml_implicit_resolvers.items()
}


def sigma_rules_per_technique(sigma_root: Path) -> dict[str, set[str]]:
    """Technique id -> uids of the Sigma rules whose tags name it (multi-document aware)."""
    expected: dict[str, set[str]] = defaultdict(set)
    for path in sorted(sigma_root.rglob("*.yml")):
        shared: set[str] = set()
        try:
            documents = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_NoDates))
        except yaml.YAMLError:
            continue
        for document in documents:
            if not isinstance(document, dict):
                continue
            tags = {
                m.group(1).upper()
                for tag in document.get("tags") or []
                if (m := _SIGMA_TECHNIQUE.match(str(tag)))
            }
            if document.get("action") == "global":
                shared = tags
                if document.get("id"):
                    for technique in tags:
                        expected[technique].add(f"sigma:{document['id']}")
                continue
            if document.get("id"):
                for technique in tags | shared:
                    expected[technique].add(f"sigma:{document['id']}")
    return expected


def sigma_rule_uids(sigma_root: Path) -> dict[str, set[str]]:
    """Uid -> the files its documents are in: one Rule each, however many documents share it."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in sorted(sigma_root.rglob("*.yml")):
        try:
            documents = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_NoDates))
        except yaml.YAMLError:
            continue
        for document in documents:
            if isinstance(document, dict) and document.get("id"):
                found[f"sigma:{document['id']}"].add(path.relative_to(sigma_root).as_posix())
    return found


def elastic_rules_per_technique(elastic_root: Path) -> dict[str, set[str]]:
    """Technique id -> uids of the Elastic rules whose [[rule.threat]] names it."""
    expected: dict[str, set[str]] = defaultdict(set)
    for folder in ("rules", "rules_building_block"):
        for path in sorted((elastic_root / folder).rglob("*.toml")):
            rule = tomllib.loads(path.read_text(encoding="utf-8"))["rule"]
            for threat in rule.get("threat", []):
                for technique in threat.get("technique", []):
                    ids = [technique["id"], *(s["id"] for s in technique.get("subtechnique", []))]
                    for technique_id in ids:
                        expected[technique_id].add(f"elastic:{rule['rule_id']}")
    return expected


def splunk_rules_per_technique(splunk_root: Path) -> dict[str, set[str]]:
    """Technique id -> uids of the Splunk detections whose tags.mitre_attack_id names it."""
    expected: dict[str, set[str]] = defaultdict(set)
    for path in sorted((splunk_root / "detections").rglob("*.yml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_NoDates)
        if not isinstance(data, dict) or not data.get("id"):
            continue
        for technique in (data.get("tags") or {}).get("mitre_attack_id") or []:
            expected[str(technique).strip()].add(f"splunk:{data['id']}")
    return expected


def rules_per_technique(corpus: Path) -> dict[str, dict[str, set[str]]]:
    """Vendor -> technique id -> rule uids, for the three rule catalogs of a corpus."""
    return {
        "sigma": sigma_rules_per_technique(corpus / "sigma"),
        "elastic": elastic_rules_per_technique(corpus / "elastic"),
        "splunk": splunk_rules_per_technique(corpus / "splunk"),
    }


def deprecated_uids(corpus: Path) -> set[str]:
    """Uids of rules the files mark deprecated (folder or status), per each vendor's convention."""
    found: set[str] = set()
    for path in sorted((corpus / "sigma").rglob("*.yml")):
        in_folder = path.relative_to(corpus / "sigma").parts[0] == "deprecated"
        for document in yaml.load_all(path.read_text(encoding="utf-8"), Loader=_NoDates):
            if (
                isinstance(document, dict)
                and document.get("id")
                and (in_folder or document.get("status") == "deprecated")
            ):
                found.add(f"sigma:{document['id']}")
    for folder in ("rules", "rules_building_block"):
        for path in sorted((corpus / "elastic" / folder).rglob("*.toml")):
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            if "_deprecated" in path.parts or data.get("metadata", {}).get("maturity") == (
                "deprecated"
            ):
                found.add(f"elastic:{data['rule']['rule_id']}")
    for path in sorted((corpus / "splunk" / "detections").rglob("*.yml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_NoDates)
        if (
            isinstance(data, dict)
            and data.get("id")
            and ("deprecated" in path.parts or data.get("status") == "deprecated")
        ):
            found.add(f"splunk:{data['id']}")
    return found
