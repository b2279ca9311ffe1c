"""A small hand-made graph whose every count is known, written through the real writer.

T1546.003 (WMI Event Subscription) has four current rules (sigma a and b, elastic e, splunk k)
and one deprecated rule (sigma old). Hand-checked figures are in the constants below. ATT&CK's
detection strategy DET0086 for it has a current analytic AN0236 reading sysmon:1 and
wmi-activity:5861 (no rule observes the latter) and a revoked one, AN0001.

`write_small_graph(driver, extras=True)` adds retired techniques and odd checks, for the tests
of revoked/deprecated techniques and sample values; the base graph's figures stay as they are
without them: a revoked sub-technique T1546.099 (replaced by T1546.003) and a deprecated one
T1546.098, each the only tag of a current Sigma rule (r, q), and a Sigma rule x under T1059.001
with an `exists` check, a field reference, one value under two operators, a case-sensitive
WMIC.exe, a positive svchost.exe (which rule e excludes) and two event selectors (event.code 1,
and host.os.type linux excluded).

T1047, T1546.003 and T1059.001 have descriptions (the rest none), for the full-text search:
WMI is in the first two, Invoke-Mimikatz in the third.
"""

from __future__ import annotations

from typing import Any

from graph.writer import GraphWriter
from loaders.attack_events import log_source_events
from loaders.events import windows_event
from loaders.predicates import make_predicate
from loaders.records import (
    Analytic,
    AttackCatalog,
    DataComponent,
    DetectionStrategy,
    Event,
    LogSourceRef,
    Predicate,
    Rule,
    RuleLoad,
    SourceInfo,
    Tactic,
    Technique,
)

#: Filler techniques in the execution tactic, each with one Splunk rule: enough for a page of 50.
FILLER = [f"T{1600 + i}" for i in range(55)]

WMIC = make_predicate("process.executable", "wildcard", "*\\WMIC.exe", vendor_field="Image")
WMIC_AGAIN = make_predicate("process.name", "eq", "wmic.exe", vendor_field="OriginalFileName")
CREATE = make_predicate("process.command_line", "wildcard", "*create*", vendor_field="CommandLine")
SYSTEM = make_predicate("user.id", "eq", "S-1-5-18", negated=True, vendor_field="User")
SUBSCRIPTION = make_predicate("process.args", "wildcard", "*subscription*")
SVCHOST = make_predicate("process.parent.name", "eq", "svchost.exe", negated=True)
SETHC = make_predicate("process.name", "eq", "sethc.exe", vendor_field="Image")
SCRIPT = make_predicate(
    "powershell.file.script_block_text", "wildcard", "*Register-WmiEvent*", vendor_field="x"
)
POWERSHELL = make_predicate("process.name", "eq", "powershell.exe")
KEYWORD = make_predicate(None, "match", "ActiveScriptEventConsumer")


#: The extras' checks (see the module docstring).
EXISTS = make_predicate("process.executable", "exists", "true")
FIELDREF = make_predicate("process.executable", "eq", "field:process.parent.executable")
SCORE_ABOVE = make_predicate("problemchild.prediction_probability", "gt", "0.98")
SCORE_AT_MOST = make_predicate("problemchild.prediction_probability", "lte", "0.98")
WMIC_CASED = make_predicate("process.name", "eq", "WMIC.exe", case_insensitive=False)
SVCHOST_LOOKED_FOR = make_predicate("process.parent.name", "eq", "svchost.exe")
PROCESS_EVENTS = make_predicate("event.code", "eq", "1")
NOT_LINUX = make_predicate("host.os.type", "eq", "linux", negated=True)


def _catalog(extras: bool = False) -> AttackCatalog:
    tactics = [
        Tactic(id="TA0002", name="Execution", shortname="execution", order=4),
        Tactic(id="TA0003", name="Persistence", shortname="persistence", order=5),
        Tactic(id="TA0004", name="Privilege Escalation", shortname="privilege-escalation", order=6),
    ]
    win = ("Windows",)
    techniques = [
        Technique(id="T1546", name="Event Triggered Execution", tactics=("TA0003", "TA0004"),
                  platforms=("Windows", "Linux")),
        Technique(id="T1546.003", name="Windows Management Instrumentation Event Subscription",
                  is_subtechnique=True, parent_id="T1546", tactics=("TA0003", "TA0004"),
                  platforms=win, url="https://attack.mitre.org/techniques/T1546/003",
                  description="Adversaries may establish persistence with WMI event "
                              "subscriptions, for example compiled with mofcomp.exe."),
        Technique(id="T1546.008", name="Accessibility Features", is_subtechnique=True,
                  parent_id="T1546", tactics=("TA0003", "TA0004"), platforms=win),
        Technique(id="T1047", name="Windows Management Instrumentation", tactics=("TA0002",),
                  platforms=win,
                  description="Adversaries may abuse Windows Management Instrumentation (WMI) "
                              "to execute malicious commands and payloads."),
        Technique(id="T1059", name="Command and Scripting Interpreter", tactics=("TA0002",),
                  platforms=("Windows", "Linux", "macOS")),
        Technique(id="T1059.001", name="PowerShell", is_subtechnique=True, parent_id="T1059",
                  tactics=("TA0002",), platforms=win,
                  description="Adversaries may abuse PowerShell commands and scripts, such as "
                              "Invoke-Mimikatz, for execution."),
        Technique(id="T1999", name="Old Technique", tactics=("TA0002",), revoked=True,
                  platforms=win, revoked_by="T1047"),
    ]  # fmt: skip
    if extras:
        techniques += [
            Technique(id="T1546.099", name="Retired Sub-technique", is_subtechnique=True,
                      parent_id="T1546", tactics=("TA0003",), platforms=win, revoked=True,
                      revoked_by="T1546.003"),
            Technique(id="T1546.098", name="Deprecated Sub-technique", is_subtechnique=True,
                      parent_id="T1546", tactics=("TA0003",), platforms=win, deprecated=True),
        ]  # fmt: skip
    techniques += [
        Technique(id=t, name=f"Filler {t}", tactics=("TA0002",), platforms=("Linux",))
        for t in FILLER
    ]
    analytics = [
        # Reads process creation (which rules b, e and k observe) and WMI-Activity 5861 (none).
        _analytic("AN0236", ("WinEventLog:Sysmon", "EventCode=1"),
                  ("WinEventLog:WMI", "EventCode=5861")),
        _analytic("AN0001", ("WinEventLog:Sysmon", "EventCode=19"), revoked=True),
    ]  # fmt: skip
    return AttackCatalog(
        source=SourceInfo(name="attack", repository="mitre/cti", commit="c0ffee", version="18"),
        tactics=tactics,
        techniques=techniques,
        data_components=[DataComponent(id="DC0032", name="Process Creation")],
        detection_strategies=[
            DetectionStrategy(
                id="DET0086",
                name="Detect WMI Event Subscription",
                techniques=W3,
                analytics=("AN0236", "AN0001"),
            ),
        ],
        analytics=analytics,
        events=[
            e
            for a in analytics
            if not a.revoked
            for ls in a.log_sources
            for e in log_source_events(ls.name, ls.channel)
        ],
    )


def _analytic(id: str, *sources: tuple[str, str], revoked: bool = False) -> Analytic:
    """An analytic reading these (name, channel) log sources, all of process creation."""
    refs = tuple(
        LogSourceRef(name, channel, "DC0032",
                     () if revoked else tuple(e.id for e in log_source_events(name, channel)))
        for name, channel in sources
    )  # fmt: skip
    return Analytic(id=id, name=f"Analytic {id[2:]}", platforms=("Windows",),
                    data_components=("DC0032",), log_sources=refs, revoked=revoked)  # fmt: skip


def _rule(vendor: Any, native: str, techniques: tuple[str, ...], events: tuple[str, ...],
          *predicates: Predicate, deprecated: bool = False, **extra: Any) -> Rule:  # fmt: skip
    folder = {"sigma": "rules/windows", "elastic": "rules/windows", "splunk": "detections"}[vendor]
    return Rule(
        uid=f"{vendor}:{native}",
        vendor=vendor,
        native_id=native,
        title=f"{vendor} rule {native}",
        path=f"{folder}/{native}.{'toml' if vendor == 'elastic' else 'yml'}",
        collection=folder.split("/")[0],
        level="high",
        status="deprecated" if deprecated else "stable",
        deprecated=deprecated,
        techniques=techniques,
        events=events,
        predicates=predicates,
        extra=extra,
    )


SYSMON_1, SYSMON_19, SYSMON_20, SYSMON_21 = (windows_event("sysmon", n) for n in (1, 19, 20, 21))
SECURITY_4688 = windows_event("windows-security", 4688)
POWERSHELL_4104 = windows_event("powershell", 4104)
AUDITD = Event(id="linux-auditd", name="Linux auditd", platform="linux")

W3 = ("T1546.003",)


def _sigma(extras: bool = False) -> RuleLoad:
    rules = [
        _rule("sigma", "a", W3, (SYSMON_19.id, SYSMON_20.id), WMIC, CREATE, SYSTEM, KEYWORD,
              logsource_product="windows"),
        _rule("sigma", "b", W3, (SYSMON_1.id,), WMIC, WMIC_AGAIN),
        _rule("sigma", "old", W3, (SYSMON_21.id,), WMIC, deprecated=True),
        _rule("sigma", "w", ("T1047",), (SECURITY_4688.id,), WMIC),
        _rule("sigma", "s", ("T1546.008",), (SYSMON_1.id,), SETHC),
    ]  # fmt: skip
    if extras:
        rules += [
            _rule("sigma", "r", ("T1546.099",), (SYSMON_1.id,), WMIC),
            _rule("sigma", "q", ("T1546.098",), (SYSMON_19.id,), WMIC),
            _rule("sigma", "x", ("T1059.001",), (SYSMON_1.id,), EXISTS, FIELDREF, SCORE_ABOVE,
                  SCORE_AT_MOST, WMIC_CASED, SVCHOST_LOOKED_FOR, PROCESS_EVENTS, NOT_LINUX),
        ]  # fmt: skip
    return RuleLoad(
        source=SourceInfo(name="sigma", repository="SigmaHQ/sigma", commit="abc123"),
        vendor="sigma",
        rules=rules,
        events=[SYSMON_1, SYSMON_19, SYSMON_20, SYSMON_21, SECURITY_4688],
    )


def _elastic() -> RuleLoad:
    rules = [
        _rule("elastic", "e", ("T1546.003", "T1047"), (SYSMON_1.id, SECURITY_4688.id),
              WMIC_AGAIN, SUBSCRIPTION, SVCHOST, risk_score=47),
    ]  # fmt: skip
    return RuleLoad(
        source=SourceInfo(name="elastic", repository="elastic/detection-rules", commit="def456"),
        vendor="elastic",
        rules=rules,
        events=[SYSMON_1, SECURITY_4688],
    )


def _splunk() -> RuleLoad:
    rules = [
        _rule("splunk", "k", W3, (SYSMON_1.id,), WMIC_AGAIN, CREATE),
        _rule("splunk", "p", ("T1059.001",), (POWERSHELL_4104.id,), SCRIPT, POWERSHELL),
    ]
    rules += [
        _rule("splunk", f"f{t}", (t,), (AUDITD.id,),
              make_predicate("process.name", "eq", f"tool{t.lower()}"))
        for t in FILLER
    ]  # fmt: skip
    return RuleLoad(
        source=SourceInfo(name="splunk", repository=None, commit=None),
        vendor="splunk",
        rules=rules,
        events=[SYSMON_1, POWERSHELL_4104, AUDITD],
    )


def write_small_graph(driver: Any, *, extras: bool = False) -> None:
    """Write ATT&CK and the three rule sources of the small graph (with the extras if asked)."""
    writer = GraphWriter(driver)
    writer.write_attack(_catalog(extras))
    for load in (_sigma(extras), _elastic(), _splunk()):
        writer.write_rules(load)
