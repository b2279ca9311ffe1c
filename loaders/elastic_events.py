"""The catalog events an Elastic rule observes, on the ids the Sigma loader gives log sources.

Three sources of evidence, read from the positive (non-negated) predicates of the query and from
the rule's index patterns and OS tags:

* Windows event codes (``event.code``) with their channel, taken from ``winlog.channel``,
  ``event.provider``, the data set, or the index patterns; the code itself decides between the
  channels a generic Windows index may hold. Rules that name no code but an ``event.action`` of
  Elastic's Windows Security pipeline (``scheduled-task-created``) get the codes that action
  stands for (`loaders.elastic_actions`).
* Data sets (``event.dataset``, ``data_stream.dataset``, ``logs-<dataset>-*`` indices) of log
  sources without event ids: ``aws.cloudtrail`` -> ``aws-cloudtrail``, on the id of Sigma's log
  source for the same log (``google_workspace.admin`` -> ``gcp-google-workspace-admin``,
  ``zeek.connection`` -> ``zeek-conn``); a web server's access log or a DNS log observes Sigma's
  generic category too (`loaders.events.with_categories`).
* ECS categories of endpoint data (Elastic Defend and the EDRs it shares rules with):
  ``process`` + ``start`` is Sigma's ``process_creation``, which is ``sysmon:1`` and
  ``windows-security:4688`` on Windows and ``linux-process-creation`` on Linux, as pySigma's
  Sysmon and Windows audit pipelines map it. Elastic Defend's per-kind indices
  (``logs-endpoint.events.process-*``) give the category when the query does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import cast

from sigma.pipelines.sysmon.sysmon import sysmon_generic_logsource_eventid_mapping
from sigma.pipelines.windows.windows import generic_logsource_to_windows_audit_event_mapping

from loaders.elastic_actions import action_categories, action_events
from loaders.events import (
    CLASSIC_POWERSHELL_EVENTS,
    channel_key,
    logsource_event,
    windows_event,
    with_categories,
)
from loaders.records import Event, Predicate

_DATASET_FIELDS = frozenset({"event.dataset", "data_stream.dataset"})
_OS_FIELDS = frozenset({"host.os.type", "host.os.family", "host.os.platform"})
_PROVIDER_FIELDS = frozenset({"event.provider", "winlog.provider_name"})
_OS_TAGS = {"os: windows": "windows", "os: linux": "linux", "os: macos": "macos"}
_OS_NAMES = {"windows": "windows", "linux": "linux", "macos": "macos", "darwin": "macos"}

# Windows data sets (Elastic integrations) and the channel each one reads.
_WINDOWS_DATASETS = {
    "windows.sysmon_operational": "sysmon",
    "system.security": "windows-security",
    "system.system": "windows-system",
    "system.application": "windows-application",
    "windows.powershell_operational": "powershell",
    "windows.powershell": "powershell-classic",
}
# Data sets that hold events of any Windows channel.
_GENERIC_WINDOWS_DATASETS = frozenset({"windows.forwarded", "winlogbeat"})

_PROVIDERS = {
    "microsoft-windows-sysmon": "sysmon",
    "microsoft-windows-security-auditing": "windows-security",
    "microsoft-windows-powershell": "powershell",
    "powershell": "powershell-classic",
    "service control manager": "windows-system",
}

# Data sets of log sources without event ids -> (Sigma product, Sigma service).
_LOG_SOURCES = {
    "aws.cloudtrail": ("aws", "cloudtrail"),
    "azure.activitylogs": ("azure", "activitylogs"),
    "azure.signinlogs": ("azure", "signinlogs"),
    "azure.auditlogs": ("azure", "auditlogs"),
    "gcp.audit": ("gcp", "gcp.audit"),
    "okta.system": ("okta", "okta"),
    "o365.audit": ("m365", "audit"),
    "github.audit": ("github", "audit"),
    "kubernetes.audit_logs": ("kubernetes", "audit"),
    "auditd_manager.auditd": ("linux", "auditd"),
    "auditd.log": ("linux", "auditd"),
    "system.auth": ("linux", "auth"),
    "system.syslog": ("linux", "syslog"),
    # The Filebeat module's name for GCP's audit log, before the gcp integration.
    "googlecloud.audit": ("gcp", "gcp.audit"),
    # Entra ID Protection's risk detections (with its risky users, in the same data stream):
    # Sigma's riskdetection service, Splunk's UserRiskEvents.
    "azure.identity_protection": ("azure", "riskdetection"),
    # Zeek's conn.log; Sigma and Splunk's Zeek add-on name Zeek's logs by their file names.
    "zeek.connection": ("zeek", "conn"),
}
# Data sets that Sigma names whole, as the service of another product: Google Workspace's
# applications are Sigma's gcp services google_workspace.<application>.
_SIGMA_SERVICE_DATASETS = {"google_workspace.": "gcp"}
# FortiGate writes every log type (traffic, event, UTM) to one data stream. Its log ids say the
# type, 01 in the first two of the ten digits for event logs (system, VPN, user), and logins
# are event logs: a rule on those reads FortiGate's event log, Sigma's fortigate event service.
_FORTIGATE = "fortinet_fortigate.log"
_FORTIGATE_EVENT_LOG = re.compile(r"^01\d{8}$")
# CrowdStrike's Falcon Data Replicator writes the sensor's events to logs-crowdstrike.fdr; its
# process starts (on every OS) are ProcessRollup2 events, which Splunk reads as its
# "CrowdStrike ProcessRollup2" data source. A process creation rule on that index reads them.
_FDR_INDEX = "logs-crowdstrike.fdr"
_PROCESS_ROLLUP = logsource_event("crowdstrike", service="ProcessRollup2")
# Data sets that are read through categories or event codes, not as log sources.
_NOT_LOG_SOURCES = re.compile(r"^(endpoint|windows|system\.(security|system|application))\b")

#: Indices of alerts, not of log events: rules on them (building on other detections' alerts)
#: need those alerts, which are an event of their own for each producer. By the index
#: pattern's prefix, lower-cased.
ALERT_INDICES: dict[str, Event] = {
    ".alerts-security.": Event(id="elastic-security-alerts", name="Elastic Security alerts"),
    "logs-endpoint.alerts-": Event(id="elastic-defend-alerts", name="Elastic Defend alerts"),
    "endgame-": Event(id="endgame-alerts", name="Endgame alerts"),
}
#: Alert indices that also hold log events: alerts only when every index of the rule is one of
#: alerts (Endgame's index beside auditbeat-* and logs-* is one log index among others).
_MIXED_ALERT_INDICES = frozenset({"endgame-"})

# pySigma's tables, typed for what they hold (the audit table is annotated with a wrong type).
_SYSMON_IDS = cast("dict[str, int | list[int]]", sysmon_generic_logsource_eventid_mapping)
_AUDIT_EVENTS = cast(
    "dict[str, dict[str, object]]", generic_logsource_to_windows_audit_event_mapping
)

_INDEX_DATASET = re.compile(r"^logs-([a-z0-9_]+\.[a-z0-9_]+)[-*]")
# Elastic Defend writes each kind of event to its own data stream (``endpoint.events.process``);
# the kinds that are ECS categories the Sigma categories below are read from.
_ENDPOINT_INDEX = re.compile(r"^logs-endpoint\.events\.([a-z_]+)[-*]")
_ENDPOINT_CATEGORIES = frozenset({"process", "file", "network", "registry", "library"})

# Event codes whose channel is known from the code alone, for generic Windows indices.
# Sysmon's ids (1-29, 255) and the Security audit ranges (1100-1108, 4608-6424) are known too;
# any other code's channel is a guess that an explicitly named channel overrides.
_CODE_CHANNELS = {
    **dict.fromkeys((4103, 4104, 4105, 4106), "powershell"),
    **dict.fromkeys(CLASSIC_POWERSHELL_EVENTS, "powershell-classic"),
    **dict.fromkeys((7034, 7036, 7040, 7045, 104), "windows-system"),
}


def rule_events(
    predicates: Iterable[Predicate],
    indices: Sequence[str],
    tags: Sequence[str],
    parts: Sequence[Sequence[Predicate]] = (),
    shared: Sequence[Predicate] = (),
) -> list[Event]:
    """The catalog events the rule's query requires positively, deduplicated.

    A query in `parts` (sequence steps, `or` branches: see ParsedQuery.parts) needs the events
    of each part, each read with the `shared` predicates (the rule's filters); when no part
    names an event, the whole query is read as one, with its fallbacks (index data sets,
    alerts).
    """
    predicates = list(predicates)
    if parts:
        events: dict[str, Event] = {}
        for part in parts:
            found = _events([*part, *shared], indices, tags)
            if _reads_alerts(part):
                # A step on other detections' alerts (`event.kind == "signal"`, kibana.alert.*)
                # beside steps on logs: the alerts its indices hold.
                found += _alert_events(indices)
            events.update((e.id, e) for e in found)
        if events:
            return with_categories(events.values())
    return with_categories(_events(predicates, indices, tags, fallback=True))


def _events(
    predicates: Iterable[Predicate],
    indices: Sequence[str],
    tags: Sequence[str],
    *,
    fallback: bool = False,
) -> list[Event]:
    """The events one query, or one part of it, requires; with `fallback`, the index data sets
    or alerts when the predicates name none."""
    values: dict[str, set[str]] = {}
    fields: set[str] = set()
    for predicate in predicates:
        if predicate.negated:
            continue
        fields.add(predicate.field)
        if predicate.operator == "eq":
            values.setdefault(predicate.field, set()).add(predicate.value.lower())
    datasets = {v for f in _DATASET_FIELDS for v in values.get(f, ())}
    index_datasets = {m.group(1) for i in indices if (m := _INDEX_DATASET.match(i.lower()))}
    platforms = _platforms(values, tags, index_datasets)

    events: dict[str, Event] = {}
    windows, explained = _windows_events(
        values, fields, datasets, index_datasets, indices, on_windows="windows" in platforms
    )
    events.update((e.id, e) for e in windows)
    for dataset in sorted(datasets | (index_datasets & _LOG_SOURCES.keys())):
        event = _log_source(dataset, values)
        if event is not None:
            events.setdefault(event.id, event)
    if "event.category" not in values:
        kinds = {m.group(1) for i in indices if (m := _ENDPOINT_INDEX.match(i.lower()))}
        if kinds & _ENDPOINT_CATEGORIES:
            values = {**values, "event.category": kinds & _ENDPOINT_CATEGORIES}
    for platform in sorted(platforms):
        asked = values
        if platform == "windows":
            if explained is None:
                continue  # event codes name the Windows events more precisely than categories
            # The categories of the actions' events are named by those events already.
            asked = {**values, "event.category": values.get("event.category", set()) - explained}
        for event in _category_events(platform, asked, fields):
            events.setdefault(event.id, event)
        if "process_creation" in _sigma_categories(asked, fields) and any(
            index.lower().startswith(_FDR_INDEX) for index in indices
        ):
            events.setdefault(_PROCESS_ROLLUP.id, _PROCESS_ROLLUP)
    if not events and fallback:
        # Nothing more precise: the data sets the index patterns name, then the alerts.
        for dataset in sorted(index_datasets):
            event = _log_source(dataset, values)
            if event is not None:
                events.setdefault(event.id, event)
        events.update((e.id, e) for e in _alert_events(indices))
    return list(events.values())


def _reads_alerts(predicates: Iterable[Predicate]) -> bool:
    """Whether a query part selects alerts: `event.kind == "signal"`, or alert fields."""
    for p in predicates:
        if p.negated:
            continue
        if p.field == "event.kind" and p.value.lower() == "signal":
            return True
        if p.field.startswith(("kibana.alert.", "signal.")):
            return True
    return False


def _alert_events(indices: Sequence[str]) -> list[Event]:
    """The alerts a rule reads when its indices hold alerts (`ALERT_INDICES`)."""
    prefixes = [
        next((p for p in ALERT_INDICES if index.lower().startswith(p)), None) for index in indices
    ]
    only_alerts = all(prefixes)
    return [
        ALERT_INDICES[prefix]
        for prefix in dict.fromkeys(p for p in prefixes if p is not None)
        if only_alerts or prefix not in _MIXED_ALERT_INDICES
    ]


def _platforms(values: dict[str, set[str]], tags: Sequence[str], datasets: set[str]) -> set[str]:
    stated = {_OS_NAMES[v] for f in _OS_FIELDS for v in values.get(f, ()) if v in _OS_NAMES}
    if stated:
        return stated
    tagged = {_OS_TAGS[t.lower()] for t in tags if t.lower() in _OS_TAGS}
    if tagged:
        return tagged
    if datasets & _WINDOWS_DATASETS.keys():
        return {"windows"}
    return set()


def _windows_events(
    values: dict[str, set[str]],
    fields: set[str],
    datasets: set[str],
    index_datasets: set[str],
    indices: Sequence[str],
    *,
    on_windows: bool,
) -> tuple[list[Event], frozenset[str] | None]:
    """Events of the rule's Windows event codes or actions, with the ECS categories they name.

    None for the categories when the events come from codes: those name every Windows event
    of the rule, so categories add nothing.
    """
    keys = {k for c in values.get("winlog.channel", ()) if (k := channel_key(c))}
    keys |= {_PROVIDERS[p] for f in _PROVIDER_FIELDS for p in values.get(f, ()) if p in _PROVIDERS}
    keys |= {_WINDOWS_DATASETS[d] for d in datasets if d in _WINDOWS_DATASETS}
    generic = bool(datasets & _GENERIC_WINDOWS_DATASETS)
    if not keys:
        keys = {_WINDOWS_DATASETS[d] for d in index_datasets if d in _WINDOWS_DATASETS}
        generic = generic or any(
            i.lower().startswith(("winlogbeat-", "logs-windows.forwarded", "logs-windows.*"))
            for i in indices
        )
    events: list[Event] = []
    for code in sorted(values.get("event.code", ())):
        if not code.isdigit():
            continue
        key = _channel_for(int(code), keys, generic)
        if key is not None:
            events.append(windows_event(key, code))
    actions = values.get("event.action", set())
    if events:
        # An action the codes do not already name is another event of the rule (a sequence of
        # a special logon, by action, then a share access, by code: 4672 and 5145).
        named = {e.id for e in events}
        if keys or generic or on_windows:
            events += [e for e in _action_events(actions, keys, generic) if e.id not in named]
        return list({e.id: e for e in events}.values()), None
    if keys or generic or on_windows:
        events = _action_events(actions, keys, generic)
    if events:
        return events, frozenset(c for a in actions for c in action_categories(a))
    if "powershell.file.script_block_text" in fields and (keys or generic):
        return [windows_event("powershell", 4104)], None
    return [], frozenset()


def _channel_for(code: int, keys: set[str], generic: bool) -> str | None:
    """The channel of an event code: the only candidate, or the one the code belongs to.

    A generic index (winlogbeat, forwarded events) lets the code pick its channel only when the
    code's channel is known; an unknown code (MSSQL's 33205) stays on the one channel named.
    """
    guess = _known_channel(code)
    if guess is not None and (guess in keys or generic):
        return guess
    if len(keys) == 1:
        return next(iter(keys))
    if generic and not keys:
        return guess or "windows-security"
    return None


def _known_channel(code: int) -> str | None:
    if code in _CODE_CHANNELS:
        return _CODE_CHANNELS[code]
    if code <= 29 or code == 255:
        return "sysmon"
    if 1100 <= code <= 1108 or 4608 <= code <= 6424:
        return "windows-security"
    return None


def _action_events(actions: set[str], keys: set[str], generic: bool) -> list[Event]:
    """The events the rule's ``event.action`` values name, on the channels it reads."""
    events: list[Event] = []
    for action in sorted(actions):
        for key, code in action_events(action):
            if not keys or key in keys or generic:
                events.append(windows_event(key, code))
    return events


def _log_source(dataset: str, values: dict[str, set[str]]) -> Event | None:
    if "*" in dataset or "?" in dataset or _NOT_LOG_SOURCES.match(dataset):
        return None
    if dataset in _LOG_SOURCES:
        product, service = _LOG_SOURCES[dataset]
        return logsource_event(product, service=service)
    for prefix, product in _SIGMA_SERVICE_DATASETS.items():
        if dataset.startswith(prefix):
            return logsource_event(product, service=dataset)
    if dataset == _FORTIGATE and _reads_fortigate_events(values):
        return logsource_event("fortigate", service="event")
    product, _, service = dataset.partition(".")
    return logsource_event(product, service=service or None)


def _reads_fortigate_events(values: dict[str, set[str]]) -> bool:
    """True when the rule's FortiGate checks are of event logs: their log ids, or logins."""
    codes = values.get("event.code", set())
    if codes:
        return all(_FORTIGATE_EVENT_LOG.match(code) for code in codes)
    return "authentication" in values.get("event.category", set())


def _category_events(platform: str, values: dict[str, set[str]], fields: set[str]) -> list[Event]:
    events: list[Event] = []
    for category in sorted(_sigma_categories(values, fields)):
        if platform != "windows":
            events.append(logsource_event(platform, category=category))
            continue
        sysmon_ids = _SYSMON_IDS.get(category, [])
        for number in sysmon_ids if isinstance(sysmon_ids, list) else [sysmon_ids]:
            events.append(windows_event("sysmon", number))
        audit = _AUDIT_EVENTS.get(category, {}).get("EventID")
        if isinstance(audit, int):
            events.append(windows_event("windows-security", audit))
    return events


def _sigma_categories(values: dict[str, set[str]], fields: set[str]) -> set[str]:
    """Sigma log source categories of the ECS categories and types the query asks for."""
    categories = values.get("event.category", set())
    types = values.get("event.type", set()) | values.get("event.action", set())
    found: set[str] = set()
    if "process" in categories:
        if types & {"start", "process_started", "exec", "fork"} or not types & {"end"}:
            found.add("process_creation")
        if "end" in types:
            found.add("process_termination")
    if "network" in categories:
        dns = any(f.startswith("dns.") for f in fields) or any("lookup" in t for t in types)
        found.add("dns_query" if dns else "network_connection")
    if "file" in categories:
        found.add(
            "file_delete" if types & {"deletion"} and not types - {"deletion"} else "file_event"
        )
    if "registry" in categories:
        if types & {"change", "modification"}:  # Elastic Defend's action is `modification`
            found.add("registry_set")
        elif types & {"creation"}:
            found.add("registry_add")
        elif types & {"deletion"}:
            found.add("registry_delete")
        else:
            found.add("registry_event")
    if "library" in categories:
        found.add("image_load")
    if "driver" in categories:
        found.add("driver_load")
    return found
