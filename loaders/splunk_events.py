"""Splunk data sources (``splunk/data_sources/*.yml``) as catalog events and Sigma log sources.

A detection names its data sources (``Sysmon EventID 1``, ``Windows Event Log Security 4688``,
``AWS CloudTrail``). Windows ones become the catalog's Windows events (``sysmon:1``,
``windows-security:4688``), keyed by the channel in the data source's ``source`` and the event id
in its name. Others become the Event of the Sigma log source they match (``aws-cloudtrail``,
``linux-auditd``) or of the product log they read (`loaders.splunk_logs`: ``G Suite Drive`` is
``gcp-google-workspace-drive``, as Sigma names Google Workspace's logs), else an Event of their
own named by a slug of the data source name.

Names not in the catalog are read by pattern: ``Sysmon EventID 1 AND Sysmon EventID 11`` is two
data sources, ``Windows Event Log Defender 1126`` takes the channel of the catalog's other
``Windows Event Log Defender`` entries, ``NTLM Operational 8004,8005,8006`` is three events.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sigma.pipelines.common import windows_logsource_mapping
from sigma.pipelines.sysmon.sysmon import sysmon_generic_logsource_eventid_mapping

from covgraph.errors import Location, ParseError
from loaders.cim import DataSourceMapping
from loaders.events import channel_key, logsource_event, service_key, slug, windows_event
from loaders.records import Event, LogSource, Predicate
from loaders.splunk_logs import (
    PRODUCT_NAMES,
    data_source_events,
    longest_prefix,
    sourcetype_events,
)

# Data source names that Sigma reads under a log source of its own, by name prefix (the longest
# matching prefix wins). Each is the (product, category, service) of Sigma's rules for the same
# logs, so both vendors' rules observe the same Event.
SIGMA_LOGSOURCES: Mapping[str, LogSource] = {
    "AWS CloudTrail": ("aws", None, "cloudtrail"),
    "Linux Auditd": ("linux", None, "auditd"),
    "Linux Secure": ("linux", None, "auth"),
    "Azure Active Directory": ("azure", None, "auditlogs"),
    "Azure Active Directory Sign-in": ("azure", None, "signinlogs"),
    "Azure Audit": ("azure", None, "activitylogs"),
    "O365": ("m365", None, "audit"),
    "Office 365": ("m365", None, "audit"),
    "Okta": ("okta", None, "okta"),
    "GitHub": ("github", None, "audit"),
    "Kubernetes Audit": ("kubernetes", "application", "audit"),
    "Nginx Access": (None, "webserver", None),
    "Palo Alto Network Traffic": (None, "firewall", None),
    "Bro": ("zeek", None, "http"),
}

# Source types no data source file names, read as the Sigma log source of the same logs, so
# that the search's events meet Sigma's: Amazon EKS's control-plane audit log is the Kubernetes
# audit log, GCP's Pub/Sub export carries Cloud Audit Logs, Zscaler NSS web logs are proxy
# logs, Amazon Security Lake's API activity is CloudTrail's management events in OCSF form.
# The first two also map the search's fields (they are those logs' own names); Zscaler's are
# its own, which Sigma's proxy fields (c-uri, cs-host) do not name, and Security Lake's are
# OCSF's (`OCSF_FIELDS` in loaders/cim.py maps those its searches check).
SOURCETYPE_LOGSOURCES: Mapping[str, LogSource] = {
    "aws:cloudwatchlogs:eks": ("kubernetes", "application", "audit"),
    "google:gcp:pubsub:message": ("gcp", None, "gcp.audit"),
    "zscalernss-web": (None, "proxy", None),
    "aws:cloudtrail:lake": ("aws", None, "cloudtrail"),
}
_EVENTS_ONLY = frozenset({"zscalernss-web", "aws:cloudtrail:lake"})

# The Microsoft Cloud Services add-on reads every Entra ID log Azure Monitor exports under one
# source type; Azure Monitor's category says which log a record is from, each Sigma's log
# source for it. The "Azure Active Directory" data sources are read as the audit log (most of
# them name an audit operation) until the search selects another by its category, or by
# operationName "Sign-in activity", which every sign-in record carries. UserRiskEvents are
# Identity Protection's risk detections, which Sigma's riskdetection rules read.
ENTRA_SOURCETYPE = "azure:monitor:aad"
ENTRA_CATEGORIES: Mapping[str, LogSource] = {
    "auditlogs": ("azure", None, "auditlogs"),
    "signinlogs": ("azure", None, "signinlogs"),
    "noninteractiveusersigninlogs": ("azure", None, "signinlogs"),
    "serviceprincipalsigninlogs": ("azure", None, "signinlogs"),
    "managedidentitysigninlogs": ("azure", None, "signinlogs"),
    "userriskevents": ("azure", None, "riskdetection"),
}
ENTRA_OPERATIONS: Mapping[str, LogSource] = {
    "sign-in activity": ("azure", None, "signinlogs"),
}
# The checks that choose an Entra log, by the field they check.
_ENTRA_CHOOSERS: Mapping[str, Mapping[str, LogSource]] = {
    "category": ENTRA_CATEGORIES,
    "operationName": ENTRA_OPERATIONS,
}

# Splunk's Zeek add-on names each Zeek log's source type zeek:<log>:json; its fields are Zeek's
# own, as Sigma's zeek rules (product zeek, service <log>) write them.
_ZEEK_SOURCETYPE = re.compile(r"^(?:bro|zeek):(\w+):json$", re.IGNORECASE)
# Source types whose name is not the Zeek log's: zeek:rpc:json carries dce_rpc.log (endpoint,
# operation), which Sigma's rules read as service dce_rpc.
_ZEEK_LOGS = {"rpc": "dce_rpc"}

# Windows data source name prefixes the catalog does not hold in this spelling, with the channel
# they read: detections write "Windows Security 5136" for "Windows Event Log Security 5136".
WINDOWS_PREFIXES: Mapping[str, str] = {
    "Windows Security": "Security",
    "Windows Event Log Security": "Security",
    "Windows Event Log System": "System",
    "Windows Event Log Application": "Application",
    "NTLM Operational": "Microsoft-Windows-NTLM/Operational",
    "Powershell Script Block Logging": "Microsoft-Windows-PowerShell/Operational",
}

# Splunk sources that are a Windows channel under the add-on's own name.
SOURCE_CHANNELS: Mapping[str, str] = {
    "iis:configuration:operational": "Microsoft-IIS-Configuration/Operational",
}

# Data sources whose ``source`` names another channel than the one their event is written to.
# Each is set right by the detections that use it, and then meets Sigma's Event.
CHANNEL_CORRECTIONS: Mapping[str, str] = {
    # 4720 "A user account was created", 4726 "deleted" and 4728 "added to a security-enabled
    # global group" are Security audit events; short_lived_windows_accounts asks for the
    # Security audit policy. Their data source files say System.
    "Windows Event Log System 4720": "Security",
    "Windows Event Log System 4726": "Security",
    "Windows Event Log System 4728": "Security",
    # print_spooler_adding_a_printer_driver reads "PrintService operational logs, EventCode 316",
    # as Sigma's printservice-operational rules do; the data source file says Admin.
    "Windows Event Log Printservice 316": "Microsoft-Windows-PrintService/Operational",
}

_WINDOWS_SOURCE = re.compile(r"^(?:Xml)?WinEventLog:(.+)$", re.IGNORECASE)
_TRAILING_IDS = re.compile(r"^(.*?)\s+(\d+(?:\s*,\s*\d+)*)$")
_SYSMON_LINUX = "Sysmon for Linux EventID"
_MAX_SELECTED = 3


@dataclass(frozen=True, slots=True)
class SplunkDataSource:
    """A data source read from the catalog or from its name: its events and Sigma log sources."""

    name: str
    events: tuple[Event, ...] = ()
    logsources: tuple[LogSource, ...] = ()
    mappings: tuple[DataSourceMapping, ...] = ()
    path: str | None = None
    source: str | None = None
    sourcetype: str | None = None

    @property
    def data_sets(self) -> tuple[str, ...]:
        """The CIM data sets its field mappings fill (Endpoint.Processes)."""
        return tuple(dict.fromkeys(m.data_set for m in self.mappings))


@dataclass(slots=True)
class DataSourceCatalog:
    """Data sources by name, and the files that could not be read."""

    by_name: dict[str, SplunkDataSource] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)  # name prefix -> Windows channel
    errors: list[ParseError] = field(default_factory=list)

    def resolve(self, name: str) -> list[SplunkDataSource]:
        """The data sources a detection's ``data_source`` entry names (several for ``A AND B``)."""
        found: list[SplunkDataSource] = []
        for part in re.split(r"\s+AND\s+", name.strip()):
            if part:
                found.append(
                    self.by_name.get(part) or self._by_pattern(part) or _named_source(part, None)
                )
        return found

    def unknown(self, name: str) -> list[str]:
        """The parts of a ``data_source`` entry that neither the folder nor a pattern knows."""
        return [
            part
            for part in re.split(r"\s+AND\s+", name.strip())
            if part and part not in self.by_name and self._by_pattern(part) is None
        ]

    def logsources_for(self, selections: Sequence[tuple[str, str]]) -> list[LogSource]:
        """Sigma log sources of the events a search selects by ``source`` / ``sourcetype``.

        For detections that name no data source. A Windows channel source
        (``XmlWinEventLog:Security``) gives its channel's log source; other values the log
        sources of the catalog's data sources with that source or source type. A value that
        matches many unrelated log sources (``sourcetype=xmlwineventlog``) tells nothing.
        """
        found: list[LogSource] = []
        for name, value in selections:
            if name not in {"source", "sourcetype"}:
                continue
            windows = _WINDOWS_SOURCE.match(value)
            key = _channel_pattern_key(windows.group(1)) if windows else None
            if key is not None:
                found.append(("windows", None, _services().get(key)))
                continue
            matches = {
                ls
                for source in self.by_name.values()
                if value.lower()
                in {(source.source or "").lower(), (source.sourcetype or "").lower()}
                for ls in source.logsources
            }
            if 0 < len(matches) <= _MAX_SELECTED:
                found.extend(sorted(matches, key=str))
            elif not matches:
                logsource = sourcetype_logsource(value)
                if logsource is not None and value.lower() not in _EVENTS_ONLY:
                    found.append(logsource)
        return list(dict.fromkeys(found))

    def events_for(self, selections: Sequence[tuple[str, str]]) -> list[Event]:
        """Events of the data sources a search selects by ``source`` / ``sourcetype``.

        For detections whose ``data_source`` names nothing (``cloudtrail`` expands to
        ``sourcetype=aws:cloudtrail``, the AWS CloudTrail data source's): the catalog's data
        sources with that source or source type (the many "AWS CloudTrail <API call>" data
        sources are one event). A value whose data sources are many events
        (``xmlwineventlog``) tells nothing and gives none.
        """
        found: dict[str, Event] = {}
        for name, value in selections:
            if name not in {"source", "sourcetype"}:
                continue
            # A source type known by its log first: data source files may name it wrongly.
            events = {event.id: event for event in sourcetype_events(value)} or {
                event.id: event
                for source in self.by_name.values()
                if value.lower()
                in {(source.source or "").lower(), (source.sourcetype or "").lower()}
                for event in source.events
            }
            if not events:
                event = _sourcetype_event(value) if name == "sourcetype" else None
                events = {event.id: event} if event is not None else {}
            if len(events) <= _MAX_SELECTED:
                for key, event in events.items():
                    found.setdefault(key, event)
        return list(found.values())

    def mappings(self) -> list[DataSourceMapping]:
        """Every CIM field mapping of the catalog."""
        return [m for source in self.by_name.values() for m in source.mappings]

    def _by_pattern(self, name: str) -> SplunkDataSource | None:
        """The data source a name not in the folder stands for by its form, if any.

        ``Windows Event Log Security 4688, 4689`` and ``Sysmon EventID 13`` are read as their
        channel's events; any other form names nothing.
        """
        found = _TRAILING_IDS.match(name)
        if found:
            prefix, numbers = found.group(1), found.group(2)
            channel = self.channels.get(prefix) or WINDOWS_PREFIXES.get(prefix)
            if channel:
                ids = [int(n) for n in re.findall(r"\d+", numbers)]
                return _windows_source(name, channel, ids)
            if prefix in {"Sysmon EventID", _SYSMON_LINUX}:
                return _sysmon_source(name, prefix, int(numbers.split(",")[0]))
        return None


def entra_logs(
    sources: Sequence[SplunkDataSource], checks: Sequence[tuple[str, str]]
) -> list[SplunkDataSource]:
    """The data sources as read once the search has chosen an Entra ID log.

    ``checks`` are the search's equality checks (field, value), none under a NOT. A data source
    of the Entra source type (`ENTRA_SOURCETYPE`) takes the events and log sources of the logs
    ``category`` or ``operationName`` select: ``azure_monitor_aad category=SignInLogs`` on the
    generic "Azure Active Directory" data source reads Sigma's azure signinlogs, and its fields
    map as that log's. Other data sources, and searches choosing no log, are left as they are.
    """
    chosen: list[LogSource] = []
    for name, value in checks:
        logsource = _ENTRA_CHOOSERS.get(name, {}).get(value.strip().lower())
        if logsource is not None and logsource not in chosen:
            chosen.append(logsource)
    if not chosen:
        return list(sources)
    events = tuple(logsource_event(*logsource) for logsource in chosen)
    return [
        replace(source, events=events, logsources=tuple(chosen))
        if (source.sourcetype or "").lower() == ENTRA_SOURCETYPE
        else source
        for source in sources
    ]


def sourcetype_logsource(value: str) -> LogSource | None:
    """The Sigma log source of a source type no data source names, if covgraph knows it."""
    known = SOURCETYPE_LOGSOURCES.get(value.lower())
    if known is not None:
        return known
    zeek = _ZEEK_SOURCETYPE.match(value)
    if zeek is None:
        return None
    log = zeek.group(1).lower()
    return ("zeek", None, _ZEEK_LOGS.get(log, log))


def _sourcetype_event(value: str) -> Event | None:
    """The Event a search reads by naming a source type no data source file names.

    A known one is its Sigma log source's Event; any other is an Event of its own, named
    after the source type (``crowdstrike:identities``), as an unknown data source name is:
    the detection still says which logs it needs. A pattern (``aws:*``) names no one log.
    """
    logsource = sourcetype_logsource(value)
    if logsource is not None:
        return logsource_event(*logsource)
    if not value.strip() or "*" in value:
        return None
    return Event(id=f"sourcetype-{slug(value)}", name=f"Splunk source type {value}")


def data_source_from_dict(data: Mapping[str, Any], path: str | None = None) -> SplunkDataSource:
    """A SplunkDataSource from a parsed data_sources/*.yml mapping."""
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ParseError("data source has no name", Location(path or "<data source>"))
    name = name.strip()
    source = str(data.get("source") or "")
    channel = _source_channel(name, source)
    numbers = _TRAILING_IDS.match(name)
    if name.startswith((f"{_SYSMON_LINUX} ", "Sysmon EventID ")) and numbers:
        base = _sysmon_source(name, numbers.group(1), int(numbers.group(2).split(",")[0]))
    elif channel and numbers:
        ids = [int(n) for n in re.findall(r"\d+", numbers.group(2))]
        base = _windows_source(name, channel, ids)
    elif numbers and numbers.group(1) in WINDOWS_PREFIXES:
        channel = WINDOWS_PREFIXES[numbers.group(1)]
        ids = [int(n) for n in re.findall(r"\d+", numbers.group(2))]
        base = _windows_source(name, channel, ids)
    else:
        base = _named_source(name, path)
    logsource = base.logsources[0] if base.logsources else (None, None, None)
    mappings = tuple(_cim_mappings(data.get("field_mappings"), logsource, name))
    sourcetype = str(data.get("sourcetype") or "") or None
    return SplunkDataSource(
        name, base.events, base.logsources, mappings, path, source or None, sourcetype
    )


def load_data_sources(folder: Path, relative_to: Path | None = None) -> DataSourceCatalog:
    """Every data source in a folder of YAML files; unreadable files are kept as errors."""
    catalog = DataSourceCatalog()
    for path in sorted(folder.glob("*.yml")):
        shown = str(path.relative_to(relative_to)) if relative_to else str(path)
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
            if not isinstance(data, Mapping):
                raise ParseError("data source file is not a mapping", Location(shown, 1))
            source = data_source_from_dict(data, shown)
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark else None
            catalog.errors.append(ParseError(f"invalid YAML: {exc.problem}", Location(shown, line)))
            continue
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            catalog.errors.append(ParseError(f"unreadable data source: {exc}", Location(shown)))
            continue
        except ParseError as exc:
            catalog.errors.append(exc)
            continue
        catalog.by_name[source.name] = source
        channel = _source_channel(source.name, str(data.get("source") or ""))
        numbers = _TRAILING_IDS.match(source.name)
        if channel and numbers and source.name not in CHANNEL_CORRECTIONS:
            catalog.channels.setdefault(numbers.group(1), channel)
    return catalog


def _source_channel(name: str, source: str) -> str | None:
    """The Windows channel a data source reads, from its ``source`` and the corrections."""
    if name in CHANNEL_CORRECTIONS:
        return CHANNEL_CORRECTIONS[name]
    windows = _WINDOWS_SOURCE.match(source)
    if windows:
        return windows.group(1)
    return SOURCE_CHANNELS.get(source.strip().lower())


def _windows_source(name: str, channel: str, ids: list[int]) -> SplunkDataSource:
    known = channel_key(channel)
    key = known or _channel_slug(channel)
    # A channel the catalog knows but pySigma's table lacks is read by Sigma under its key.
    service = _services().get(key) or known
    logsource: LogSource = ("windows", None, service)
    events = tuple(windows_event(key, i, channel) for i in ids)
    return SplunkDataSource(name, events, (logsource,))


def _sysmon_source(name: str, prefix: str, event_id: int) -> SplunkDataSource:
    category = _sysmon_categories().get(event_id)
    if prefix == _SYSMON_LINUX:
        # Sigma reads Sysmon for Linux as the linux product's categories, without a service.
        logsource: LogSource = ("linux", category, None)
        if category is None:
            return _named_source(name, None)
        return SplunkDataSource(name, (logsource_event("linux", category),), (logsource,))
    return SplunkDataSource(
        name, (windows_event("sysmon", event_id),), (("windows", category, "sysmon"),)
    )


def _named_source(name: str, path: str | None) -> SplunkDataSource:
    if name in PRODUCT_NAMES:
        return SplunkDataSource(name, path=path)  # the search's source type names the log
    logs = data_source_events(name)
    prefix = longest_prefix(name, SIGMA_LOGSOURCES)
    if prefix is not None:
        logsource = SIGMA_LOGSOURCES[prefix]
        events = {e.id: e for e in [*logs, logsource_event(*logsource)]}
        return SplunkDataSource(name, tuple(events.values()), (logsource,), path=path)
    return SplunkDataSource(name, tuple(logs) or (Event(id=slug(name), name=name),), path=path)


def _channel_pattern_key(channel: str) -> str | None:
    """Key of a channel, or of the first Sigma channel a wildcard pattern matches (AppLocker/*)."""
    if "*" not in channel:
        return channel_key(channel)
    for service, names in windows_logsource_mapping.items():
        for name in [names] if isinstance(names, str) else names:
            if fnmatch.fnmatchcase(name.lower(), channel.lower()):
                return service_key(service)
    return None


def _channel_slug(channel: str) -> str:
    """A key for a channel Sigma has no service for, in the style of Sigma's service names."""
    text = re.sub(r"^Microsoft-Windows-", "", channel, flags=re.IGNORECASE)
    text = re.sub(r"/Operational$", "", text, flags=re.IGNORECASE)
    return slug(text)


def _cim_mappings(entries: object, logsource: LogSource, name: str) -> list[DataSourceMapping]:
    found: list[DataSourceMapping] = []
    if not isinstance(entries, list):
        return found
    for entry in entries:
        if not isinstance(entry, Mapping) or entry.get("data_model") != "cim":
            continue
        data_set, mapping = entry.get("data_set"), entry.get("mapping")
        if isinstance(data_set, str) and isinstance(mapping, Mapping):
            table = {str(k): str(v) for k, v in mapping.items() if k and v}
            found.append(DataSourceMapping(data_set, table, logsource, name))
    return found


@cache
def _services() -> dict[str, str]:
    """Channel key -> Sigma Windows service name (windows-security -> security)."""
    return {service_key(service): service for service in windows_logsource_mapping}


@cache
def _sysmon_categories() -> dict[int, str]:
    """Sysmon event id -> Sigma category, from pySigma's Sysmon pipeline (first one listed)."""
    table: dict[int, str] = {}
    mapping: dict[str, object] = dict(sysmon_generic_logsource_eventid_mapping)
    # Categories owning one id first (registry_set: 13), then those spanning several
    # (registry_event: 12, 13, 14), so an id gets its most specific category.
    for category, ids in mapping.items():
        if isinstance(ids, int):
            table.setdefault(ids, category)
    for category, ids in mapping.items():
        for event_id in ids if isinstance(ids, list) else []:
            if isinstance(event_id, int):
                table.setdefault(event_id, category)
    return table


# `eventtype=wineventlog_system`: Splunk's Windows add-on names an event type per channel.
_WINDOWS_EVENTTYPE = re.compile(r"^wineventlog_([a-z]+)$", re.IGNORECASE)
#: The canonical field of a Windows channel (Splunk's and Sigma's Channel).
CHANNEL_FIELD = "winlog.channel"
#: The canonical field of a Windows event id (Splunk's EventCode, Sigma's EventID).
EVENT_CODE_FIELD = "event.code"


def search_events(
    selections: Sequence[tuple[str, str]],
    predicates: Sequence[Predicate],
    declared: Sequence[Event] = (),
) -> list[Event]:
    """The Windows events a search names itself: its EventCode values, on its one channel.

    A detection's data_source list may be empty or name other events than the search reads
    (``wmi EventCode=5861`` with ``data_source: []``); the search's own channel and EventCode
    values say which events it needs. The channel comes from the parse: the search's
    ``selections`` (``source=XmlWinEventLog:Security``, ``sourcetype="wineventlog:..."``,
    ``eventtype=wineventlog_security``, ``Channel=security``, none of them under a NOT) and its
    ``winlog.channel`` predicates. Only a search naming exactly one channel is read: with
    several (a join across logs) the codes cannot be placed, and no event is guessed. A code
    one of the ``declared`` events (the data sources') already has is theirs: the data source
    names its channel better than a macro set up for one site (``wineventlog_task_scheduler``
    reads Security).
    """
    channels = [channel for name, value in selections if (channel := _channel_of(name, value))]
    channels += [
        p.value
        for p in predicates
        if p.field == CHANNEL_FIELD and p.operator == "eq" and not p.negated
    ]
    keys = {
        _channel_pattern_key(channel) or _channel_slug(channel): channel for channel in channels
    }
    if len(keys) != 1:
        return []
    ((key, channel),) = keys.items()
    taken = {event.event_id for event in declared}
    codes = dict.fromkeys(
        int(p.value)
        for p in predicates
        if p.field == EVENT_CODE_FIELD
        and p.operator == "eq"
        and not p.negated
        and p.value.isdigit()
    )
    return [windows_event(key, code, channel) for code in codes if str(code) not in taken]


def _channel_of(name: str, value: str) -> str | None:
    """The Windows channel one selection of a search names, if it names one."""
    field_name = name.lower()
    if field_name == "channel":
        return value or None
    if field_name in {"source", "sourcetype"}:
        found = _WINDOWS_SOURCE.match(value)
    elif field_name == "eventtype":
        found = _WINDOWS_EVENTTYPE.match(value)
    else:
        return None
    return found.group(1) if found else None
