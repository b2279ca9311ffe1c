"""The Sigma loader over the whole SigmaHQ snapshot: totals and hand-checked rules."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from corpus_expect import sigma_rule_uids, sigma_rules_per_technique

from loaders.records import Rule, RuleLoad
from loaders.sigma import SIGMA_FOLDERS, load_sigma

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def sigma_root(corpus_dir: Path) -> Path:
    root = corpus_dir / "sigma"
    if not root.is_dir():
        pytest.skip(f"no sigma folder in the corpus at {corpus_dir}")
    return root


@pytest.fixture(scope="module")
def load(sigma_root: Path) -> RuleLoad:
    return load_sigma(sigma_root)


@pytest.fixture(scope="module")
def by_path(load: RuleLoad) -> dict[str, Rule]:
    return {rule.path: rule for rule in load.rules}


def rule_files(root: Path) -> list[Path]:
    return sorted(p for folder in SIGMA_FOLDERS for p in (root / folder).rglob("*.yml"))


def test_every_file_is_read(load: RuleLoad, sigma_root: Path) -> None:
    files = rule_files(sigma_root)
    assert load.files_seen == len(files) > 4000
    paths_with_rules = {rule.path for rule in load.rules}
    skipped = {p.location.path for p in load.problems if p.kind == "skipped-file"}
    missing = {f.relative_to(sigma_root).as_posix() for f in files} - paths_with_rules - skipped
    assert missing == set()
    # every rule of the maintained folders loads whole
    assert not [p for p in load.problems if p.location.path.startswith("rules/")]
    with_files = {f.relative_to(sigma_root).parts[0] for f in files}
    assert {r.collection for r in load.rules} == with_files


def test_rules_per_technique_match_the_tags_in_the_files(load: RuleLoad, sigma_root: Path) -> None:
    expected = sigma_rules_per_technique(sigma_root)
    found: dict[str, set[str]] = defaultdict(set)
    for rule in load.rules:
        for technique in rule.techniques:
            found[technique].add(rule.uid)
    assert found == expected
    assert len(expected["T1059.001"]) > 50


def test_nearly_every_rule_with_a_detection_yields_predicates(load: RuleLoad) -> None:
    with_detection = [r for r in load.rules if r.query is not None]
    with_predicates = [r for r in with_detection if r.predicates]
    assert len(with_predicates) / len(with_detection) >= 0.97
    rules_folder = [r for r in with_detection if r.collection == "rules"]
    assert all(r.predicates and r.parse_status == "ok" for r in rules_folder)


def test_every_rule_observes_an_event_and_events_are_listed(load: RuleLoad) -> None:
    listed = {event.id for event in load.events}
    assert all(rule.events for rule in load.rules)
    assert {event for rule in load.rules for event in rule.events} == listed
    assert {"sysmon:1", "windows-security:4688", "powershell:4104", "wmi-activity:5861"} <= listed


def test_unsupported_pipe_rules_load_partially(load: RuleLoad) -> None:
    unsupported = [r for r in load.rules if r.collection == "unsupported"]
    assert unsupported
    partial = [r for r in unsupported if r.parse_status == "partial"]
    assert len(partial) > 30
    assert all(r.predicates for r in partial)


def test_wmi_persistence(by_path: dict[str, Rule]) -> None:
    rule = by_path["rules/windows/builtin/wmi/win_wmi_persistence.yml"]
    found = {(p.vendor_field, p.field, p.operator, p.value, p.negated) for p in rule.predicates}
    assert {
        ("Provider", "winlog.event_data.Provider", "eq", "scm event provider", True),
        (
            "Query",
            "winlog.event_data.Query",
            "wildcard",
            "select * from msft_scmeventlogevent",
            True,
        ),
        ("User", "user.name", "eq", "s-1-5-32-544", True),
        ("PossibleCause", "winlog.event_data.PossibleCause", "eq", "permanent", True),
        ("EventID", "event.code", "eq", "5861", False),
        ("EventID", "event.code", "eq", "5859", False),
        (None, "*", "match", "activescripteventconsumer", False),
        (None, "*", "match", "commandlineeventconsumer", False),
        (None, "*", "match", "commandlinetemplate", False),
    } == found
    assert rule.events == ("wmi-activity:5861", "wmi-activity:5859")
    assert rule.techniques == ("T1546.003",)


def test_wmic_event_consumer_creation(by_path: dict[str, Rule]) -> None:
    rule = by_path[
        "rules/windows/process_creation/proc_creation_win_wmic_eventconsumer_creation.yml"
    ]
    found = {(p.field, p.operator, p.value, p.negated) for p in rule.predicates}
    assert ("process.name", "eq", "wmic.exe", False) in found
    assert ("process.pe.original_file_name", "eq", "wmic.exe", False) in found
    command_line = {(op, v) for f, op, v, _ in found if f == "process.command_line"}
    assert command_line == {
        ("wildcard", "*activescripteventconsumer*"),
        ("wildcard", "* create *"),
    }
    assert set(rule.events) == {"sysmon:1", "windows-security:4688"}
    (image,) = [p for p in rule.predicates if p.vendor_field == "Image"]
    assert image.raw_value == "\\WMIC.exe"


def test_one_rule_per_id_in_the_files(load: RuleLoad, sigma_root: Path) -> None:
    expected = sigma_rule_uids(sigma_root)
    uids = [rule.uid for rule in load.rules]
    # the count the load report gives is the count of distinct ids, which the graph holds
    assert len(uids) == len(set(uids)) == len(expected)
    assert set(uids) == set(expected)
    # an id used in two files is reported with both; one file's documents are merged
    shared = {uid for uid, files in expected.items() if len(files) > 1}
    reported = {p.rule_uid for p in load.problems if p.kind == "duplicate-id"}
    assert reported == shared


def test_multi_document_rules_keep_every_branch(by_path: dict[str, Rule]) -> None:
    remote = by_path["unsupported/windows/win_remote_service.yml"]
    assert {"windows-security:4624", "windows-security:4697", "windows-system:7045"} <= set(
        remote.events
    )
    event_ids = {p.value for p in remote.predicates if p.vendor_field == "EventID"}
    assert event_ids == {"4624", "4697", "7045"}
    assert remote.techniques == ("T1543.003",)
    assert remote.query is not None
    assert "EventID: 7045" in remote.query
    assert "EventID: 4697" in remote.query
    reimaging = by_path["unsupported/windows/sysmon_process_reimaging.yml"]
    assert "sysmon:11" in reimaging.events
    assert ("event.code", "11") in {(p.field, p.value) for p in reimaging.predicates}


def test_image_loads_check_dll_fields(by_path: dict[str, Rule]) -> None:
    rule = by_path["rules/windows/image_load/image_load_side_load_dbghelp.yml"]
    found = {(p.field, p.operator, p.value, p.negated) for p in rule.predicates}
    assert ("dll.name", "eq", "dbghelp.dll", False) in found
    assert ("dll.path", "wildcard", "c:\\windows\\system32\\*", True) in found
    assert not {f for f, _, _, _ in found if f.startswith("file.")}
    assert rule.events == ("sysmon:7",)
