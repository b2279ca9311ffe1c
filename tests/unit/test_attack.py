"""The ATT&CK loader on small hand-written STIX bundles and on bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from covgraph.errors import ParseError
from loaders.attack import catalog_from_objects, load_attack
from loaders.records import AttackCatalog, LogSourceRef, SourceInfo

Obj = dict[str, Any]


def stix(stix_type: str, uuid: str, attack_id: str | None, name: str, **props: Any) -> Obj:
    """A STIX object with an ATT&CK external reference (none when ``attack_id`` is None)."""
    references = [{"source_name": "capec", "external_id": "CAPEC-1"}]
    if attack_id is not None:
        references.insert(
            0,
            {
                "source_name": "mitre-attack",
                "external_id": attack_id,
                "url": f"https://attack.mitre.org/x/{attack_id}",
            },
        )
    return {
        "type": stix_type,
        "id": f"{stix_type}--{uuid}",
        "name": name,
        "external_references": references,
        **props,
    }


def relationship(uuid: str, kind: str, source: Obj, target: Obj, **props: Any) -> Obj:
    return {
        "type": "relationship",
        "id": f"relationship--{uuid}",
        "relationship_type": kind,
        "source_ref": source["id"],
        "target_ref": target["id"],
        **props,
    }


def phases(*names: str) -> list[Obj]:
    return [{"kill_chain_name": "mitre-attack", "phase_name": name} for name in names]


PERSISTENCE = stix("x-mitre-tactic", "t1", "TA0003", "Persistence", x_mitre_shortname="persistence")
PRIVESC = stix(
    "x-mitre-tactic",
    "t2",
    "TA0004",
    "Privilege Escalation",
    x_mitre_shortname="privilege-escalation",
)
EXECUTION = stix("x-mitre-tactic", "t3", "TA0002", "Execution", x_mitre_shortname="execution")
MATRIX = {
    "type": "x-mitre-matrix",
    "id": "x-mitre-matrix--m1",
    "name": "Enterprise ATT&CK",
    # Matrix order differs from the order the tactics appear in the bundle.
    "tactic_refs": [EXECUTION["id"], PERSISTENCE["id"], PRIVESC["id"]],
}
EVENT_TRIGGERED = stix(
    "attack-pattern",
    "p1",
    "T1546",
    "Event Triggered Execution",
    description="Adversaries may establish persistence.",
    x_mitre_platforms=["Windows", "Linux"],
    kill_chain_phases=phases("privilege-escalation", "persistence"),
    x_mitre_is_subtechnique=False,
    x_mitre_detection="",
)
WMI = stix(
    "attack-pattern",
    "p2",
    "T1546.003",
    "Windows Management Instrumentation Event Subscription",
    x_mitre_platforms=["Windows"],
    kill_chain_phases=phases("privilege-escalation", "persistence"),
    x_mitre_is_subtechnique=True,
    x_mitre_detection="Monitor WMI event subscription entries.",
    x_mitre_data_sources=["WMI: WMI Creation", "Process: Process Creation"],
)
OLD = stix(
    "attack-pattern",
    "p3",
    "T1084",
    "Windows Management Instrumentation Event Subscription",
    revoked=True,
    kill_chain_phases=phases("persistence"),
)
GONE = stix(
    "attack-pattern",
    "p4",
    "T1051",
    "Shared Webroot",
    x_mitre_deprecated=True,
    kill_chain_phases=phases("execution"),
)
WMI_SOURCE = stix(
    "x-mitre-data-source",
    "s1",
    "DS0005",
    "WMI",
    x_mitre_deprecated=True,
    x_mitre_platforms=["Windows"],
    x_mitre_collection_layers=["Host"],
)
WMI_CREATION = stix(
    "x-mitre-data-component",
    "c1",
    "DC0008",
    "WMI Creation",
    x_mitre_data_source_ref=WMI_SOURCE["id"],
    x_mitre_log_sources=[
        {"name": "WinEventLog:Microsoft-Windows-WMI-Activity/Operational", "channel": "5861"},
        {"name": "sysmon", "channel": "EventCode=19"},
        {"name": "sysmon", "channel": "EventCode=19"},  # repeats are read once
    ],
)
PROCESS_CREATION = stix(
    "x-mitre-data-component",
    "c2",
    "DC0032",
    "Process Creation",
    x_mitre_data_source_ref="",  # as in ATT&CK v18
    revoked=False,
    x_mitre_log_sources=[{"name": "WinEventLog:Security", "channel": "EventCode=4688"}],
)
ANALYTIC = stix(
    "x-mitre-analytic",
    "a1",
    "AN0236",
    "Analytic 0236",
    x_mitre_platforms=["Windows"],
    x_mitre_log_source_references=[
        {
            "x_mitre_data_component_ref": WMI_CREATION["id"],
            "name": "sysmon",
            "channel": "EventCode=19",
        },
        {
            "x_mitre_data_component_ref": PROCESS_CREATION["id"],
            "name": "WinEventLog:Security",
            "channel": "EventCode=4688",
        },
    ],
)
OLD_ANALYTIC = stix("x-mitre-analytic", "a2", "AN0001", "Analytic 0001", revoked=True)
STRATEGY = stix(
    "x-mitre-detection-strategy",
    "d1",
    "DET0086",
    "Detect WMI Event Subscription",
    x_mitre_analytic_refs=[ANALYTIC["id"], OLD_ANALYTIC["id"]],
)
COLLECTION = {
    "type": "x-mitre-collection",
    "id": "x-mitre-collection--k1",
    "x_mitre_version": "18.0",
}


def good_objects() -> list[Obj]:
    return [
        COLLECTION,
        PERSISTENCE,
        PRIVESC,
        EXECUTION,
        MATRIX,
        EVENT_TRIGGERED,
        WMI,
        OLD,
        GONE,
        WMI_SOURCE,
        WMI_CREATION,
        PROCESS_CREATION,
        ANALYTIC,
        OLD_ANALYTIC,
        STRATEGY,
        {"type": "intrusion-set", "id": "intrusion-set--i1", "name": "APT0"},
        relationship("r1", "subtechnique-of", WMI, EVENT_TRIGGERED),
        relationship("r2", "detects", STRATEGY, WMI),
        relationship("r3", "detects", WMI_CREATION, EVENT_TRIGGERED),
        relationship("r4", "revoked-by", OLD, WMI),
        relationship("r5", "uses", {"id": "intrusion-set--i1"}, WMI),
        # Withdrawn relationships are not read.
        relationship("r6", "detects", STRATEGY, EVENT_TRIGGERED, revoked=True),
        relationship("r7", "detects", PROCESS_CREATION, WMI, x_mitre_deprecated=True),
    ]


def read(objects: list[Any], source: SourceInfo | None = None) -> AttackCatalog:
    return catalog_from_objects(objects, "bundle.json", source)


@pytest.fixture(scope="module")
def catalog() -> AttackCatalog:
    return read(good_objects())


def test_clean_bundle_has_no_problems(catalog: AttackCatalog) -> None:
    assert [str(problem) for problem in catalog.problems] == []


def test_tactics_follow_matrix_order(catalog: AttackCatalog) -> None:
    assert [(t.id, t.shortname, t.order) for t in catalog.tactics] == [
        ("TA0002", "execution", 1),
        ("TA0003", "persistence", 2),
        ("TA0004", "privilege-escalation", 3),
    ]
    assert catalog.tactics[1].url == "https://attack.mitre.org/x/TA0003"
    assert catalog.tactics[1].stix_id == "x-mitre-tactic--t1"


def test_subtechnique(catalog: AttackCatalog) -> None:
    wmi = {t.id: t for t in catalog.techniques}["T1546.003"]
    assert wmi.is_subtechnique
    assert wmi.parent_id == "T1546"
    assert wmi.tactics == ("TA0003", "TA0004")  # matrix order, not the bundle's
    assert wmi.platforms == ("Windows",)
    assert wmi.detection == "Monitor WMI event subscription entries."
    assert wmi.data_sources == ("WMI: WMI Creation", "Process: Process Creation")
    assert wmi.url == "https://attack.mitre.org/x/T1546.003"
    assert not wmi.revoked
    assert not wmi.deprecated


def test_parent_technique(catalog: AttackCatalog) -> None:
    parent = {t.id: t for t in catalog.techniques}["T1546"]
    assert not parent.is_subtechnique
    assert parent.parent_id is None
    assert parent.description == "Adversaries may establish persistence."
    assert parent.detection is None  # an empty x_mitre_detection is absent
    assert parent.platforms == ("Windows", "Linux")


def test_revoked_and_deprecated_are_kept_and_flagged(catalog: AttackCatalog) -> None:
    techniques = {t.id: t for t in catalog.techniques}
    assert techniques["T1084"].revoked
    assert techniques["T1084"].revoked_by == "T1546.003"
    assert not techniques["T1084"].deprecated
    assert techniques["T1051"].deprecated
    assert not techniques["T1051"].revoked
    sources = {s.id: s for s in catalog.data_sources}
    assert sources["DS0005"].deprecated
    assert sources["DS0005"].collection_layers == ("Host",)
    analytics = {a.id: a for a in catalog.analytics}
    assert analytics["AN0001"].revoked


def test_records_are_sorted_by_id(catalog: AttackCatalog) -> None:
    assert [t.id for t in catalog.techniques] == ["T1051", "T1084", "T1546", "T1546.003"]
    assert [c.id for c in catalog.data_components] == ["DC0008", "DC0032"]


def test_data_components(catalog: AttackCatalog) -> None:
    components = {c.id: c for c in catalog.data_components}
    wmi = components["DC0008"]
    assert wmi.data_source_id == "DS0005"
    assert wmi.log_sources == (
        LogSourceRef("WinEventLog:Microsoft-Windows-WMI-Activity/Operational", "5861"),
        LogSourceRef("sysmon", "EventCode=19"),
    )
    assert wmi.detects == ("T1546",)  # the pre-v18 component -> technique relationship
    process = components["DC0032"]
    assert process.data_source_id is None
    assert process.detects == ()  # its only detects relationship is deprecated


def test_detection_strategy_and_analytic(catalog: AttackCatalog) -> None:
    (strategy,) = catalog.detection_strategies
    assert strategy.id == "DET0086"
    assert strategy.techniques == ("T1546.003",)  # the revoked relationship is ignored
    assert strategy.analytics == ("AN0236", "AN0001")
    analytic = {a.id: a for a in catalog.analytics}["AN0236"]
    assert analytic.platforms == ("Windows",)
    assert analytic.data_components == ("DC0008", "DC0032")
    assert analytic.log_sources == (
        LogSourceRef("sysmon", "EventCode=19", "DC0008"),
        LogSourceRef(
            "WinEventLog:Security", "EventCode=4688", "DC0032", ("windows-security:4688",)
        ),
    )
    # "sysmon" is no log source name ATT&CK uses for Sysmon (WinEventLog:Sysmon): no event.
    assert [e.id for e in catalog.events] == ["windows-security:4688"]


def test_version_comes_from_the_collection(catalog: AttackCatalog) -> None:
    assert catalog.source == SourceInfo(name="attack", version="18.0", root="bundle.json")


def test_given_source_is_kept_and_its_missing_version_filled() -> None:
    given = SourceInfo(name="attack", repository="mitre/cti", commit="abc")
    catalog = read(good_objects(), given)
    assert catalog.source == SourceInfo(
        name="attack", repository="mitre/cti", commit="abc", version="18.0"
    )
    pinned = SourceInfo(name="attack", version="17.1")
    assert read(good_objects(), pinned).source == pinned  # with a warning (below)


def test_missing_version_is_reported_as_info() -> None:
    catalog = read([o for o in good_objects() if o is not COLLECTION])
    assert catalog.source.version is None
    assert [(p.kind, p.severity) for p in catalog.problems] == [("no-version", "info")]
    # A provenance without a version leaves it unknown too.
    given = read([o for o in good_objects() if o is not COLLECTION], SourceInfo(name="attack"))
    assert [(p.kind, p.severity) for p in given.problems] == [("no-version", "info")]


def test_a_version_from_the_provenance_is_no_unknown_version() -> None:
    # mitre/cti's bundles have no x-mitre-collection: the MANIFEST.md or sync record names it,
    # and that version is the Source node's, which the API shows.
    given = SourceInfo(name="attack", repository="mitre/cti", version="18")
    catalog = read([o for o in good_objects() if o is not COLLECTION], given)
    assert catalog.source == given
    assert catalog.problems == []


def test_bundle_and_provenance_disagreeing_is_a_warning() -> None:
    catalog = read(good_objects(), SourceInfo(name="attack", version="17.1"))
    assert catalog.source.version == "17.1"
    (problem,) = catalog.problems
    assert (problem.kind, problem.severity) == ("version-mismatch", "warning")
    assert "ATT&CK 18.0, its provenance 17.1" in problem.reason


def test_object_without_attack_id_is_a_problem_not_a_crash() -> None:
    nameless = stix("attack-pattern", "p9", None, "No Id", kill_chain_phases=phases("execution"))
    catalog = read([*good_objects(), nameless])
    (problem,) = catalog.problems
    assert problem.kind == "missing-attack-id"
    assert problem.severity == "error"
    assert "attack-pattern--p9" in problem.reason
    assert str(problem).startswith("bundle.json: ")
    assert len(catalog.techniques) == 4  # the others still load


def test_malformed_objects_are_problems() -> None:
    odd = [
        "not an object",
        {"type": "attack-pattern"},  # no id
        {**stix("attack-pattern", "p8", "T1059", "Command"), "x_mitre_platforms": "Windows"},
        {**stix("x-mitre-tactic", "t8", "TA0005", "Defense Evasion"), "external_references": 7},
    ]
    catalog = read([*good_objects(), *odd])
    kinds = sorted(p.kind for p in catalog.problems)
    assert kinds == ["malformed-object", "malformed-object", "missing-attack-id"]
    command = {t.id: t for t in catalog.techniques}["T1059"]
    assert command.platforms == ()  # a string where a list belongs is read as nothing
    assert command.tactics == ()


def test_inconsistencies_are_warnings() -> None:
    stray = stix(
        "attack-pattern",
        "p7",
        "T1547.001",
        "Registry Run Keys",
        x_mitre_is_subtechnique=False,
        kill_chain_phases=[*phases("persistence", "boot-time"), {"kill_chain_name": "other"}],
    )
    orphan = stix("attack-pattern", "p6", "T1053.005", "Scheduled Task")
    objects = [
        *good_objects(),
        stray,
        orphan,
        relationship("r8", "subtechnique-of", stray, EVENT_TRIGGERED),
        relationship("r9", "detects", STRATEGY, {"id": "attack-pattern--missing"}),
        stix("x-mitre-detection-strategy", "d2", "DET0001", "x", x_mitre_analytic_refs=["x--y"]),
        stix("x-mitre-tactic", "t1b", "TA0003", "Persistence again", x_mitre_shortname="p"),
    ]
    catalog = read(objects)
    found = sorted((p.kind, p.severity, p.reason.split()[0].rstrip(":")) for p in catalog.problems)
    assert found == sorted(
        [
            ("subtechnique-mismatch", "warning", stray["id"]),  # x_mitre_is_subtechnique false
            ("subtechnique-mismatch", "warning", stray["id"]),  # its relationship says T1546
            ("unknown-tactic", "warning", stray["id"]),  # boot-time
            ("subtechnique-mismatch", "info", orphan["id"]),  # no subtechnique-of relationship
            ("dangling-reference", "warning", "relationship--r9"),
            ("dangling-reference", "warning", "x-mitre-detection-strategy--d2"),
            ("duplicate-attack-id", "warning", "x-mitre-tactic--t1b"),
        ]
    )
    dangling = [p.reason for p in catalog.problems if p.kind == "dangling-reference"]
    assert "'attack-pattern--missing'" in dangling[0]
    assert "'x--y'" in dangling[1]
    stray_record = {t.id: t for t in catalog.techniques}["T1547.001"]
    assert stray_record.parent_id == "T1547"  # the id wins over the relationship
    assert stray_record.tactics == ("TA0003",)


def write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "enterprise-attack.json"
    path.write_bytes(content)
    return path


def test_load_attack_reads_a_file(tmp_path: Path) -> None:
    bundle = {"type": "bundle", "id": "bundle--b1", "objects": good_objects()}
    path = write(tmp_path, json.dumps(bundle, indent=1).encode())
    catalog = load_attack(path)
    assert catalog.source.root == str(path)
    assert len(catalog.techniques) == 4
    assert catalog.problems == []


def test_not_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, b'{\n  "type": "bundle",\n  "objects": [,]\n}\n')
    with pytest.raises(ParseError) as caught:
        load_attack(path)
    assert caught.value.location is not None
    assert (caught.value.location.line, caught.value.location.column) == (3, 15)
    assert str(caught.value).startswith(f"{path}:3:15: not JSON")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[]", "not a STIX bundle"),
        (b'{"type": "collection", "objects": []}', "not a STIX bundle"),
        (b'{"type": "bundle", "objects": {}}', '"objects" is missing or not a list'),
        (b'{"type": "bundle"}', '"objects" is missing or not a list'),
        (b'{"type": "bundle", "objects": ["\xff"]}', "not UTF-8"),
        (b"", "not JSON"),
    ],
)
def test_bad_input_names_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ParseError, match=message) as caught:
        load_attack(path)
    assert str(caught.value).startswith(str(path))


def test_missing_file_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="cannot read the file") as caught:
        load_attack(tmp_path / "absent.json")
    assert str(caught.value).startswith(str(tmp_path / "absent.json"))


def test_withdrawn_tactic_does_not_take_a_current_shortname() -> None:
    old = stix("x-mitre-tactic", "t0", "TA9999", "Old Persistence", x_mitre_shortname="persistence")
    old["revoked"] = True
    catalog = read([COLLECTION, old, *good_objects()[1:]])
    assert catalog.problems == []
    wmi = {t.id: t for t in catalog.techniques}["T1546.003"]
    assert wmi.tactics == ("TA0003", "TA0004")
    # The old tactic is in no matrix: it is kept, flagged, and sorts last.
    assert [(t.id, t.order, t.revoked) for t in catalog.tactics][-1] == ("TA9999", 0, True)
    assert not any(t.revoked or t.deprecated for t in catalog.tactics[:-1])
