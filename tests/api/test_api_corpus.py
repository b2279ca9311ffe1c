"""The API over HTTP against the whole corpus: the T1546.003 page, checked against the files."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from http_api import data, running_api

pytestmark = [pytest.mark.neo4j, pytest.mark.corpus]

TECHNIQUE = "T1546.003"
PERSISTENCE_RULE = "rules/windows/builtin/wmi/win_wmi_persistence.yml"

PAGE = """
query Page($id: String!) {
  technique(id: $id) {
    id name
    coverage {
      ruleCount eventCount events { id }
      byVendor { vendor ruleCount rules { uid sourcePath sourceUrl } }
    }
    authoringGuide {
      distinctFieldCount distinctIndicatorCount
      fields(first: 100) { field { name } ruleCount operators { operator count } }
      indicators(first: 20) { field { name } operator value ruleCount corpusReach }
      exclusions(first: 200) { field { name } operator value ruleCount corpusReach }
    }
  }
}
"""


@pytest.fixture(scope="module")
def corpus_api(corpus_graph: object) -> Iterator[str]:
    """An API server with its caches on, over the loaded corpus."""
    with running_api() as url:
        yield url


def _yaml_files(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(root.rglob("*.yml")):
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        if isinstance(loaded, dict):
            yield path, loaded


def _sigma_files(corpus: Path) -> set[str]:
    root = corpus / "sigma"
    found = set()
    for path, rule in _yaml_files(root):
        relative = path.relative_to(root).as_posix()
        tags = {str(t).lower() for t in rule.get("tags") or ()}
        deprecated = relative.startswith("deprecated/") or rule.get("status") == "deprecated"
        if f"attack.{TECHNIQUE.lower()}" in tags and not deprecated:
            found.add(relative)
    return found


def _elastic_files(corpus: Path) -> set[str]:
    root = corpus / "elastic"
    found = set()
    for path in sorted(root.rglob("*.toml")):
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        if (document.get("metadata") or {}).get("maturity") == "deprecated":
            continue
        ids = set()
        for threat in (document.get("rule") or {}).get("threat") or ():
            for technique in threat.get("technique") or ():
                ids.add(technique.get("id"))
                ids.update(s.get("id") for s in technique.get("subtechnique") or ())
        if TECHNIQUE in ids:
            found.add(path.relative_to(root).as_posix())
    return found


def _splunk_files(corpus: Path) -> set[str]:
    root = corpus / "splunk"
    found = set()
    for path, rule in _yaml_files(root / "detections"):
        relative = path.relative_to(root).as_posix()
        ids = set((rule.get("tags") or {}).get("mitre_attack_id") or ())
        deprecated = "/deprecated/" in f"/{relative}" or rule.get("status") == "deprecated"
        if TECHNIQUE in ids and not deprecated:
            found.add(relative)
    return found


def test_t1546_003_page_rules_per_vendor_are_the_files(corpus_api: str, corpus_dir: Path) -> None:
    page = data(corpus_api, PAGE, {"id": TECHNIQUE})["technique"]
    by_vendor = {
        v["vendor"]: {r["sourcePath"] for r in v["rules"]} for v in page["coverage"]["byVendor"]
    }
    assert by_vendor["SIGMA"] == _sigma_files(corpus_dir)
    assert by_vendor["ELASTIC"] == _elastic_files(corpus_dir)
    assert by_vendor["SPLUNK"] == _splunk_files(corpus_dir)
    counts = {v["vendor"]: v["ruleCount"] for v in page["coverage"]["byVendor"]}
    assert counts == {vendor: len(paths) for vendor, paths in by_vendor.items()}
    assert page["coverage"]["ruleCount"] == sum(counts.values())
    sigma = next(v for v in page["coverage"]["byVendor"] if v["vendor"] == "SIGMA")
    persistence = next(r for r in sigma["rules"] if r["sourcePath"] == PERSISTENCE_RULE)
    assert persistence["sourceUrl"].startswith("https://github.com/SigmaHQ/sigma/blob/8eaafff1f")
    assert persistence["sourceUrl"].endswith(PERSISTENCE_RULE)


def test_t1546_003_page_events(corpus_api: str) -> None:
    coverage = data(corpus_api, PAGE, {"id": TECHNIQUE})["technique"]["coverage"]
    events = {e["id"] for e in coverage["events"]}
    assert {
        "sysmon:19",
        "sysmon:20",
        "sysmon:21",
        "sysmon:1",
        "windows-security:4688",
        "powershell:4104",
        "wmi-activity:5861",
    } <= events
    assert coverage["eventCount"] == len(events)


def test_t1546_003_authoring_guide(corpus_api: str) -> None:
    guide = data(corpus_api, PAGE, {"id": TECHNIQUE})["technique"]["authoringGuide"]
    assert guide["distinctFieldCount"] == len(guide["fields"])
    indicators = {(i["field"]["name"], i["operator"], i["value"]): i for i in guide["indicators"]}
    wmic = indicators[("process.name", "eq", "wmic.exe")]
    assert wmic["corpusReach"] > wmic["ruleCount"] >= 1
    ranked = [i["ruleCount"] for i in guide["indicators"]]
    assert ranked == sorted(ranked, reverse=True)
    # win_wmi_persistence.yml excludes the SCM event provider's permanent subscription.
    exclusions = {(e["field"]["name"], e["operator"], e["value"]) for e in guide["exclusions"]}
    assert {
        ("user.name", "eq", "s-1-5-32-544"),
        ("winlog.event_data.PossibleCause", "eq", "permanent"),
        ("winlog.event_data.Provider", "eq", "scm event provider"),
        ("winlog.event_data.Query", "wildcard", "select * from msft_scmeventlogevent"),
    } <= exclusions


def test_the_persistence_rule_shows_its_exclusions(corpus_api: str) -> None:
    query = """{ rules(search: "WMI Persistence", vendor: SIGMA, first: 50) {
        nodes { sourcePath predicates { field { name } operator value negated } } } }"""
    nodes = data(corpus_api, query)["rules"]["nodes"]
    rule = next(n for n in nodes if n["sourcePath"] == PERSISTENCE_RULE)
    negated = {(p["field"]["name"], p["value"]) for p in rule["predicates"] if p["negated"]}
    assert negated == {
        ("user.name", "s-1-5-32-544"),
        ("winlog.event_data.PossibleCause", "permanent"),
        ("winlog.event_data.Provider", "scm event provider"),
        ("winlog.event_data.Query", "select * from msft_scmeventlogevent"),
    }
    keywords = {p["value"] for p in rule["predicates"] if p["field"] is None}
    assert keywords == {
        "activescripteventconsumer",
        "commandlineeventconsumer",
        "commandlinetemplate",
    }


def test_overlap_similarity_matrix_and_layer_on_the_corpus(corpus_api: str) -> None:
    query = """{
      similarTechniques(id: "T1546.003", first: 5) { technique { id } jaccard sharedIndicators }
      indicatorOverlap(techniqueIds: ["T1546.003", "T1047"], first: 5) {
        field { name } value corpusReach ruleCountByTechnique { technique { id } ruleCount } }
      coverageMatrix(platform: "Windows") { tactic { id } techniqueCount coveredCount }
      detectableWith(eventIds: ["wmi-activity:5861"]) { id }
      navigatorLayer(vendors: [SIGMA])
      catalog { ruleCount techniqueCount coveredTechniqueCount sources { name commit } }
    }"""
    result = data(corpus_api, query)
    similar = result["similarTechniques"]
    assert similar
    assert all(0 < s["jaccard"] <= 1 for s in similar)
    assert [s["jaccard"] for s in similar] == sorted((s["jaccard"] for s in similar), reverse=True)
    overlap = result["indicatorOverlap"]
    assert overlap
    for row in overlap:
        counts = [c["ruleCount"] for c in row["ruleCountByTechnique"]]
        assert all(n >= 1 for n in counts)
        assert row["corpusReach"] >= max(counts)
    assert len(result["coverageMatrix"]) == 14
    assert "T1546.003" in {t["id"] for t in result["detectableWith"]}
    layer = result["navigatorLayer"]
    assert layer["versions"]["layer"] == "4.5"
    assert all(t["comment"].startswith("sigma: ") for t in layer["techniques"])
    catalog = result["catalog"]
    assert {s["name"] for s in catalog["sources"]} == {"attack", "sigma", "elastic", "splunk"}
    assert 0 < catalog["coveredTechniqueCount"] <= catalog["techniqueCount"]
