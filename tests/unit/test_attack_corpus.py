"""The ATT&CK loader on the corpus bundle (ATT&CK v18): totals and hand-checked objects."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from loaders.attack import load_attack
from loaders.records import AttackCatalog

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def bundle_path(corpus_dir: Path) -> Path:
    path = corpus_dir / "attack" / "enterprise-attack.json"
    if not path.exists():
        pytest.skip(f"{path} is absent from the corpus")
    return path


@pytest.fixture(scope="module")
def raw_objects(bundle_path: Path) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = json.loads(bundle_path.read_bytes())["objects"]
    return objects


@pytest.fixture(scope="module")
def catalog(bundle_path: Path) -> AttackCatalog:
    return load_attack(bundle_path)


def test_counts_match_the_bundle(catalog: AttackCatalog, raw_objects: list[dict[str, Any]]) -> None:
    by_type = Counter(obj["type"] for obj in raw_objects)
    assert len(catalog.techniques) == by_type["attack-pattern"]
    assert len(catalog.tactics) == by_type["x-mitre-tactic"]
    assert len(catalog.data_sources) == by_type["x-mitre-data-source"]
    assert len(catalog.data_components) == by_type["x-mitre-data-component"]
    assert len(catalog.detection_strategies) == by_type["x-mitre-detection-strategy"]
    assert len(catalog.analytics) == by_type["x-mitre-analytic"]
    # The snapshot described in the corpus MANIFEST.md.
    assert (
        by_type["attack-pattern"],
        by_type["x-mitre-tactic"],
        by_type["x-mitre-data-source"],
        by_type["x-mitre-data-component"],
        by_type["x-mitre-detection-strategy"],
        by_type["x-mitre-analytic"],
    ) == (835, 14, 38, 109, 691, 1739)


def _misfiled_security_codes(raw_objects: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """(analytic, code) for every WinEventLog:Security code of a current analytic that is
    no Security event (the channel holds 512-861, 1100-1108 and 4608-6424)."""
    found = []
    for obj in raw_objects:
        if obj["type"] != "x-mitre-analytic" or obj.get("revoked"):
            continue
        if obj.get("x_mitre_deprecated"):
            continue
        for ref in obj.get("x_mitre_log_source_references", []):
            if ref["name"] != "WinEventLog:Security":
                continue
            for code in re.findall(r"\d+", ref["channel"]):
                number = int(code)
                if not (512 <= number <= 861 or 1100 <= number <= 1108 or 4608 <= number <= 6424):
                    found.append((obj["id"], number))
    return found


def test_no_errors_and_only_misfiled_events_warned(
    catalog: AttackCatalog, raw_objects: list[dict[str, Any]]
) -> None:
    # Read alone, without its provenance: this bundle, gathered from mitre/cti, carries no
    # x-mitre-collection, so it does not say which ATT&CK it is.
    kinds = Counter((p.kind, p.severity) for p in catalog.problems)
    misfiled = _misfiled_security_codes(raw_objects)
    # ATT&CK files some events of other channels under Security (PowerShell's 4104, the System
    # log's 7045): reported, and linked to no catalog event.
    assert len(misfiled) == 15
    assert kinds == {("no-version", "info"): 1, ("misfiled-event", "warning"): len(misfiled)}
    events = {e.id for e in catalog.events}
    assert not any(f"windows-security:{code}" in events for _, code in misfiled)


def test_analytics_read_the_events_rules_observe(catalog: AttackCatalog) -> None:
    events = {e.id: e for e in catalog.events}
    by_id = {a.id: a for a in catalog.analytics}
    # DET0086 (WMI Event Subscription) has one analytic, AN0236: WMI-Activity's events (not
    # Sysmon's WMI events 19-21, which the rules read), process creation and image loads.
    (strategy,) = [s for s in catalog.detection_strategies if "T1546.003" in s.techniques]
    assert strategy.analytics == ("AN0236",)
    assert [ls.events for ls in by_id["AN0236"].log_sources] == [
        ("wmi-activity:5857", "wmi-activity:5858", "wmi-activity:5860", "wmi-activity:5861"),
        ("sysmon:1",),
        ("sysmon:7",),
    ]
    assert events["sysmon:1"].name == "Sysmon EventID 1 - Process creation"
    for expected in ("aws-cloudtrail", "linux-auditd", "okta", "m365-audit", "kubernetes-audit"):
        assert expected in events, expected
    named = [ls for a in by_id.values() for ls in a.log_sources if ls.events]
    assert all(set(ls.events) <= set(events) for ls in named)
    # A log source with no event codes, or one the catalog has no log for, names nothing.
    unnamed = [ls for a in by_id.values() for ls in a.log_sources if not ls.events]
    assert any(ls.name == "macos:unifiedlog" for ls in unnamed)
    assert not any(ls.name == "WinEventLog:Sysmon" and "EventCode" in ls.channel for ls in unnamed)


def test_flags_match_the_bundle(catalog: AttackCatalog, raw_objects: list[dict[str, Any]]) -> None:
    patterns = [obj for obj in raw_objects if obj["type"] == "attack-pattern"]
    assert sum(t.revoked for t in catalog.techniques) == sum(
        obj.get("revoked") is True for obj in patterns
    )
    assert sum(t.deprecated for t in catalog.techniques) == sum(
        obj.get("x_mitre_deprecated") is True for obj in patterns
    )
    assert sum(t.is_subtechnique for t in catalog.techniques) == sum(
        obj["x_mitre_is_subtechnique"] for obj in patterns
    )
    # Every revoked technique names its replacement.
    assert all(t.revoked_by for t in catalog.techniques if t.revoked)
    assert all(s.deprecated for s in catalog.data_sources)  # v18 deprecates data sources


def test_wmi_event_subscription(catalog: AttackCatalog) -> None:
    techniques = {t.id: t for t in catalog.techniques}
    wmi = techniques["T1546.003"]
    assert wmi.name == "Windows Management Instrumentation Event Subscription"
    assert wmi.is_subtechnique
    assert wmi.parent_id == "T1546"
    assert wmi.parent_id in techniques
    tactics = {t.id: t.shortname for t in catalog.tactics}
    assert {tactics[tactic_id] for tactic_id in wmi.tactics} == {
        "persistence",
        "privilege-escalation",
    }
    assert wmi.tactics == ("TA0003", "TA0004")
    assert "Windows" in wmi.platforms
    assert wmi.url == "https://attack.mitre.org/techniques/T1546/003"
    strategies = [s for s in catalog.detection_strategies if "T1546.003" in s.techniques]
    assert strategies
    analytics = {a.id: a for a in catalog.analytics}
    used = [analytics[a] for s in strategies for a in s.analytics]
    assert used
    assert any("Windows" in a.platforms for a in used)


def test_tactics_in_matrix_order(catalog: AttackCatalog) -> None:
    assert [t.order for t in catalog.tactics] == list(range(1, 15))
    assert catalog.tactics[0].shortname == "reconnaissance"
    assert catalog.tactics[-1].shortname == "impact"
    assert {t.id for t in catalog.tactics} >= {"TA0003", "TA0004", "TA0005", "TA0040"}


def test_detection_chain_is_closed(catalog: AttackCatalog) -> None:
    """Every strategy detects a known technique, uses known analytics, which read known
    components; every current technique has a strategy."""
    techniques = {t.id for t in catalog.techniques}
    analytics = {a.id: a for a in catalog.analytics}
    components = {c.id for c in catalog.data_components}
    for strategy in catalog.detection_strategies:
        assert strategy.techniques, strategy.id
        assert set(strategy.techniques) <= techniques
        assert strategy.analytics, strategy.id
        assert set(strategy.analytics) <= set(analytics)
    used = {a for s in catalog.detection_strategies for a in s.analytics}
    assert used == set(analytics)
    for analytic in analytics.values():
        assert set(analytic.data_components) <= components
        assert all(
            ref.data_component_id in analytic.data_components for ref in analytic.log_sources
        )
    detected = {t for s in catalog.detection_strategies for t in s.techniques}
    current = {t.id for t in catalog.techniques if not (t.revoked or t.deprecated)}
    assert current <= detected


def test_data_component_log_sources(catalog: AttackCatalog) -> None:
    components = {c.id: c for c in catalog.data_components}
    credential_request = components["DC0084"]
    assert credential_request.name == "Active Directory Credential Request"
    assert ("WinEventLog:Security", "EventCode=4768") in {
        (ref.name, ref.channel) for ref in credential_request.log_sources
    }
