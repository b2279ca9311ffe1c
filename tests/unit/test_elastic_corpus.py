"""The whole Elastic corpus: every rule loads, techniques match the files, coverage holds."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from corpus_expect import elastic_rules_per_technique

from loaders.elastic import DEFAULT_FOLDERS, coverage, load_elastic
from loaders.records import Rule, RuleLoad

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def elastic_root(corpus_dir: Path) -> Path:
    root = corpus_dir / "elastic"
    if not root.is_dir():
        pytest.skip(f"no elastic folder in the corpus at {corpus_dir}")
    return root


@pytest.fixture(scope="module")
def load(elastic_root: Path) -> RuleLoad:
    return load_elastic(elastic_root)


def by_path(load: RuleLoad, path: str) -> Rule:
    (rule,) = [r for r in load.rules if r.path == path]
    return rule


def test_every_rule_file_loads(load: RuleLoad, elastic_root: Path) -> None:
    files = [p for folder in DEFAULT_FOLDERS for p in (elastic_root / folder).rglob("*.toml")]
    assert load.files_seen == len(files) > 2000
    assert len(load.rules) == len(files)
    assert [p for p in load.problems if p.kind == "skipped-file"] == []
    assert len({r.uid for r in load.rules}) == len(load.rules)


def test_rules_per_technique_match_the_files(load: RuleLoad, elastic_root: Path) -> None:
    expected = elastic_rules_per_technique(elastic_root)
    loaded: dict[str, set[str]] = defaultdict(set)
    for rule in load.rules:
        for technique_id in rule.techniques:
            loaded[technique_id].add(rule.uid)
    assert loaded == expected
    assert len(loaded["T1047"]) > 10


def test_coverage_per_language(load: RuleLoad) -> None:
    figures = coverage(load)
    for language in ("eql", "kuery", "esql"):
        with_query, with_predicates = figures[language]
        assert with_query > 200
        assert with_predicates / with_query >= 0.97, (language, figures[language])


def test_every_rule_without_predicates_is_a_problem(load: RuleLoad) -> None:
    reported = {p.rule_uid for p in load.problems if p.kind in ("no-predicates", "parse-error")}
    empty = {r.uid for r in load.rules if r.query is not None and not r.predicates}
    assert empty <= reported


def test_machine_learning_rules_keep_their_techniques(load: RuleLoad) -> None:
    ml = [r for r in load.rules if r.rule_type == "machine_learning"]
    assert len(ml) > 50
    assert all(r.parse_status == "no_query" and r.query is None for r in ml)
    assert sum(1 for r in ml if r.techniques) > len(ml) // 2


def test_mofcomp_exclusions(load: RuleLoad) -> None:
    rule = by_path(load, "rules/windows/execution_mofcomp.toml")
    checks = {(p.key, p.negated) for p in rule.predicates}
    assert ("process.name|eq|mofcomp.exe", False) in checks
    # ``user.id : "S-1-5-18"`` is case-insensitive (``:``), so its value is lower-cased.
    assert ("user.id|eq|s-1-5-18", True) in checks
    assert ("process.args|wildcard|?:\\program files\\microsoft sql server\\*.mof", True) in checks
    excluded_args = [p for p in rule.predicates if p.field == "process.args" and p.negated]
    assert len(excluded_args) == 13
    # logs-crowdstrike.fdr* among its indices: CrowdStrike's process starts, as Splunk reads them.
    assert set(rule.events) == {"sysmon:1", "windows-security:4688", "crowdstrike-processrollup2"}
    assert rule.techniques == ("T1047", "T1546", "T1546.003")


def test_process_name_colon_wmic(load: RuleLoad) -> None:
    rule = by_path(
        load,
        "rules/windows/persistence_via_windows_management_instrumentation_event_subscription.toml",
    )
    assert ("process.name|eq|wmic.exe", False) in {(p.key, p.negated) for p in rule.predicates}


def test_events_of_rules_are_in_the_catalog(load: RuleLoad) -> None:
    catalog = {e.id for e in load.events}
    used = {e for r in load.rules for e in r.events}
    assert used == catalog
    assert {"sysmon:1", "windows-security:4688", "aws-cloudtrail", "linux-process-creation"} <= used


def test_rules_naming_only_an_action_observe_its_security_event(load: RuleLoad) -> None:
    task = by_path(load, "rules/windows/persistence_scheduled_task_creation_winlog.toml")
    assert set(task.events) == {"windows-security:4698"}
    service = by_path(load, "rules/windows/lateral_movement_remote_service_installed_winlog.toml")
    assert set(service.events) == {"windows-security:4624", "windows-security:4697"}
    cleared = by_path(load, "rules/windows/defense_evasion_clearing_windows_security_logs.toml")
    assert set(cleared.events) == {"windows-security:1102", "windows-system:104"}


def test_firewall_actions_name_their_security_events_not_sysmon(load: RuleLoad) -> None:
    rule = by_path(load, "rules/windows/defense_evasion_windows_filtering_platform.toml")
    assert set(rule.events) == {"windows-security:5152", "windows-security:5157"}


def test_defend_process_index_gives_process_creation(load: RuleLoad) -> None:
    # ES|QL ``from logs-endpoint.events.process-*`` with ``event.type == "start"`` only.
    rule = by_path(load, "rules/linux/defense_evasion_base64_decoding_activity.toml")
    assert set(rule.events) == {"linux-process-creation"}


def test_mssql_event_stays_on_the_application_channel(load: RuleLoad) -> None:
    # Index logs-system.application-* beside generic Windows indices; Sigma's MSSQL rules use
    # windows-application:33205 too.
    rule = by_path(load, "rules/windows/initial_access_mssql_potential_sql_injection.toml")
    assert set(rule.events) == {"windows-application:33205"}


def test_regex_tilde_keeps_case_insensitivity(load: RuleLoad) -> None:
    rule = by_path(load, "rules/linux/defense_evasion_file_deletion_via_shred.toml")
    found = {(p.field, p.operator, p.value) for p in rule.predicates}
    assert ("process.args", "regex_match", "(?i)-[^-]*[uz][^-]*") in found
