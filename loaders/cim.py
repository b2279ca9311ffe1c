"""Splunk field names (CIM data model fields and raw event fields) to canonical ECS names.

A CIM field is mapped in three steps, first answer wins:

1. pySigma's Splunk pipelines (``sigma.pipelines.splunk``): ``splunk_cim_data_model`` maps Sigma
   fields to CIM fields per log source; read from its items and inverted, then composed with
   Sigma -> ECS (``loaders.fields.sigma_to_ecs``) for the same log source.
2. The ``field_mappings`` of Splunk's data sources (``splunk/data_sources/*.yml``), Sigma -> CIM
   per data set, composed the same way. ``Image|endswith: Processes.process_name`` says the CIM
   field holds the last component of the path field: the ECS name field (process.name).
3. A small hand table for heavily used CIM fields neither source maps.

Fields are keyed by data set object and attribute (``Processes``, ``process_name``), so the
data model is never lost: ``Processes.process_name`` and ``process_name`` under ``from
datamodel=Endpoint.Processes`` are the same field.

Raw event fields (searches over a sourcetype, no data model) are Sigma's names for the Windows
channels Splunk reads (``EventCode`` is Sigma's ``EventID``), so they map through Sigma -> ECS
for the rule's log sources; failing that, as attributes of the CIM data sets its data sources
fill (the Splunk add-ons alias ``process_name`` and friends onto raw events).

CIM's ``action`` holds a fixed vocabulary of verbs, not the operation's name: it maps by value
onto ECS's categorisation fields (``created`` is event.type ``creation``), so the mapper gives
the value as well as the field (`CimMapper.map_check`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from sigma.pipelines.splunk.splunk import splunk_cim_data_model, splunk_windows_pipeline
from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation

from loaders.addon_fields import (
    ADDON_ONLY_FIELDS,
    LOG_FIELDS,
    OCSF_FIELDS,
    SYSMON_ADDON_FIELDS,
    TA_SECURITY_ALIASES,
    TA_SECURITY_NAME_ALIASES,
    TA_WINDOWS_ALIASES,
    WEB_FIELDS,
)
from loaders.fields import FieldName, sigma_field, sigma_to_ecs
from loaders.predicates import PATH_TO_NAME, has_wildcard
from loaders.records import LogSource

#: Root data set object of each CIM data model, for a ``from datamodel=X`` that names the model
#: alone (``Network_Traffic``) and fields written without their object (``| from datamodel``).
#: Fixed by Splunk's CIM; no library carries it.
ROOT_OBJECTS = {
    "Alerts": "Alerts",
    "Authentication": "Authentication",
    "Certificates": "All_Certificates",
    "Change": "All_Changes",
    "Change_Analysis": "All_Changes",
    "Data_Access": "Data_Access",
    "Email": "All_Email",
    "Identity_Management": "All_Identities",
    "Intrusion_Detection": "IDS_Attacks",
    "Malware": "Malware_Attacks",
    "Network_Resolution": "DNS",
    "Network_Sessions": "All_Sessions",
    "Network_Traffic": "All_Traffic",
    "Risk": "All_Risk",
    "UEBA": "All_UEBA_Events",
    "Updates": "Updates",
    "Vulnerabilities": "Vulnerabilities",
    "Web": "Web",
}

#: CIM fields used in many detections that neither pySigma nor the data sources map, with the
#: ECS field that holds the same data. Keyed by (object, attribute).
HAND_MAPPINGS: Mapping[tuple[str, str], str] = {
    # Registry: the data sources map TargetObject to registry_path, pySigma to registry_key_name;
    # the value name has no Sigma field at all (Sigma keeps it inside TargetObject).
    ("Registry", "registry_value_name"): "registry.value",
    ("Registry", "registry_hive"): "registry.hive",
    ("Registry", "process_name"): "process.name",
    # Filesystem: Sigma has only TargetFilename (a path); CIM splits out the name.
    ("Filesystem", "file_name"): "file.name",
    ("Filesystem", "process_name"): "process.name",
    ("Filesystem", "user"): "user.name",
    ("Filesystem", "file_extension"): "file.extension",
    ("Registry", "user"): "user.name",
    # Processes: fields Sigma's process_creation taxonomy has no name for.
    ("Processes", "dest"): "host.name",
    ("Processes", "parent_process_id"): "process.parent.pid",
    # Network traffic and DNS, where pySigma maps only DNS fields from ECS-style names.
    ("All_Traffic", "dest_port"): "destination.port",
    ("All_Traffic", "src_port"): "source.port",
    ("All_Traffic", "dest_ip"): "destination.ip",
    ("All_Traffic", "src_ip"): "source.ip",
    ("All_Traffic", "dest"): "destination.address",
    ("All_Traffic", "src"): "source.address",
    ("All_Traffic", "transport"): "network.transport",
    # CIM's protocol is the OSI layer 3 protocol (ip, ipx, appletalk), as ECS's network.type
    # (ipv4, ipv6); layer 4 (tcp, udp, icmp) is transport.
    ("All_Traffic", "protocol"): "network.type",
    # app is the application protocol (smb, rdp, ssl), except on endpoint traffic, where the
    # Windows and Sysmon add-ons put the process path in it: see APP_PROCESS_PATH.
    ("All_Traffic", "app"): "network.protocol",
    ("All_Traffic", "direction"): "network.direction",
    ("All_Traffic", "bytes"): "network.bytes",
    ("All_Traffic", "user"): "user.name",
    ("DNS", "reply_code"): "dns.response_code",
    ("DNS", "message_type"): "dns.type",
    # Web
    ("Web", "status"): "http.response.status_code",
    ("Web", "http_content_type"): "http.response.mime_type",
    ("Web", "user"): "user.name",
    # Authentication and change (account and cloud API activity). The action attributes are
    # CIM's verbs, mapped by value (CIM_VERBS); the operation's own name is command.
    # The name of the authentication event (ConsoleLogin, user.session.start): what Elastic's
    # cloud and identity rules check in event.action.
    ("Authentication", "signature"): "event.action",
    ("Authentication", "user"): "user.name",
    ("Authentication", "src"): "source.address",
    ("Authentication", "dest"): "destination.address",
    ("All_Changes", "command"): "event.action",
    ("All_Changes", "user"): "user.name",
    # CIM's status of a change is success or failure: ECS's event.outcome, the same values.
    ("All_Changes", "status"): "event.outcome",
    # Vulnerabilities and IDS alerts
    ("Vulnerabilities", "cve"): "vulnerability.id",
    ("IDS_Attacks", "signature"): "rule.name",
    ("IDS_Attacks", "src"): "source.address",
    ("IDS_Attacks", "dest"): "destination.address",
    ("IDS_Attacks", "severity"): "event.severity",
    # Email
    ("All_Email", "file_name"): "email.attachments.file.name",
}

#: CIM's normalised verbs, the values of every data set's ``action`` (Change, Endpoint,
#: Network_Traffic, Authentication, Web...), with the ECS categorisation field and value that
#: say the same. ``action`` is not the operation's name (that is Change's ``command``, ECS's
#: event.action: RunInstances, DeleteTrail): ``All_Changes.action=created`` is what Elastic's
#: rules check as ``event.type == "creation"``. ECS's event.type allowed and denied are for
#: permitted and blocked actions (firewalls, prevented processes), event.outcome for the result.
#: A verb not here (lockout, cleared, pending, error, unknown) has no ECS value that means it
#: and stays under its qualified CIM name (``All_Changes.action``).
CIM_VERBS: Mapping[str, tuple[str, str]] = {
    "created": ("event.type", "creation"),
    "deleted": ("event.type", "deletion"),
    "modified": ("event.type", "change"),
    "updated": ("event.type", "change"),
    "acl_modified": ("event.type", "change"),
    "read": ("event.type", "access"),
    "started": ("event.type", "start"),
    "stopped": ("event.type", "end"),
    "allowed": ("event.type", "allowed"),
    "blocked": ("event.type", "denied"),
    "denied": ("event.type", "denied"),
    "success": ("event.outcome", "success"),
    "failure": ("event.outcome", "failure"),
}

#: CIM's ``status`` of a change or account event (Change, Account_Management): success or
#: failure, ECS's event.outcome with the same values. Web's status is an HTTP code, not this.
CIM_OUTCOMES: Mapping[str, tuple[str, str]] = {
    verb: found for verb, found in CIM_VERBS.items() if found[0] == "event.outcome"
}

#: Sigma log-source categories pySigma's CIM pipeline has no data model for, with the CIM data
#: set their events fill (Sysmon 3 is Network_Traffic in the Sysmon add-on). Fixed by the CIM.
CATEGORY_DATA_SETS: Mapping[str, str] = {
    "network_connection": "Network_Traffic.All_Traffic",
    "dns_query": "Network_Resolution.DNS",
    "file_access": "Endpoint.Filesystem",
    "file_change": "Endpoint.Filesystem",
    "file_delete": "Endpoint.Filesystem",
    "file_rename": "Endpoint.Filesystem",
    "create_stream_hash": "Endpoint.Filesystem",
}


@dataclass(frozen=True, slots=True)
class DataSourceMapping:
    """One ``field_mappings`` entry of a Splunk data source, with the data source's log source."""

    data_set: str
    mapping: Mapping[str, str]
    logsource: LogSource
    source: str


def split_cim(field: str, datamodel: str | None = None) -> tuple[str, str] | None:
    """(object, attribute) of a CIM field: ``Processes.process_name`` -> (Processes, process_name).

    A field written without its object takes the object of the data model in force.
    """
    objects = _known_objects()
    head, dot, rest = field.partition(".")
    if dot and head in objects:
        return head, rest
    if datamodel:
        return _object_of(datamodel), field
    return None


def _object_of(datamodel: str) -> str:
    model, dot, data_set = datamodel.partition(".")
    if dot:
        return data_set.rsplit(".", 1)[-1]
    return ROOT_OBJECTS.get(model, model)


@cache
def _known_objects() -> frozenset[str]:
    objects = set(ROOT_OBJECTS.values())
    objects.update({"Processes", "Registry", "Filesystem", "Services", "Ports"})
    objects.update(key[0] for key in _pipeline_table())
    objects.update(key[0] for key in HAND_MAPPINGS)
    objects.update({"Account_Management", "Instance_Changes", "Endpoint_Changes", "SSL"})
    return frozenset(objects)


@cache
def _pipeline_table() -> dict[tuple[str, str], FieldName]:
    """(object, attribute) -> ECS from pySigma's CIM data model pipeline, inverted."""
    table: dict[tuple[str, str], FieldName] = {}
    pipeline: ProcessingPipeline = splunk_cim_data_model()  # type: ignore[no-untyped-call]
    for item in pipeline.items:
        transformation = item.transformation
        if not isinstance(transformation, FieldMappingTransformation):
            continue
        conditions = [c for c in item.rule_conditions if isinstance(c, LogsourceCondition)]
        if not conditions:
            continue
        # Items condition on several log sources linked by "any"; the first is the Windows one
        # the Sigma names come from (Linux process creation reads the same Sysmon names).
        cond = conditions[0]
        logsource: LogSource = (cond.product, cond.category, cond.service)
        for sigma, targets in transformation.mapping.items():
            if sigma is None:
                continue
            for target in [targets] if isinstance(targets, str) else targets:
                key = _split_any(target)
                if key is None or key in table:
                    continue
                if sigma == sigma.lower() and "." in sigma and not sigma_to_ecs(sigma, *logsource):
                    # The DNS item is written from ECS names (dns.question.name) already.
                    table[key] = FieldName(sigma, True)
                else:
                    # Unmapped Sigma fields keep the name the Sigma loader gives them, so the
                    # same data lands on the same Field (winlog.event_data.IntegrityLevel).
                    table[key] = sigma_field(sigma, *logsource)
    return table


def _split_any(field: str) -> tuple[str, str] | None:
    head, dot, rest = field.partition(".")
    return (head, rest) if dot else None


@cache
def _windows_renames() -> dict[str, str]:
    """Splunk's Windows field -> Sigma's, inverted from splunk_windows_pipeline (EventCode)."""
    renames: dict[str, str] = {}
    pipeline: ProcessingPipeline = splunk_windows_pipeline()  # type: ignore[no-untyped-call]
    for item in pipeline.items:
        transformation = item.transformation
        if isinstance(transformation, FieldMappingTransformation):
            for sigma, target in transformation.mapping.items():
                if isinstance(target, str) and sigma is not None:
                    renames[target] = sigma
    return renames


@dataclass(frozen=True, slots=True)
class MappedCheck:
    """A Splunk check mapped: its canonical field, and its operator and value where they change.

    ``operator`` and ``value`` are None when the check keeps the search's own.
    """

    field: FieldName
    operator: str | None = None
    value: str | None = None


class CimMapper:
    """Maps Splunk fields to ECS with pySigma's tables, the data sources' and the hand table."""

    def __init__(self, data_sources: Iterable[DataSourceMapping] = ()) -> None:
        self.table: dict[tuple[str, str], FieldName] = dict(_pipeline_table())
        for entry in _ordered(data_sources):
            self._add_data_source(entry)
        for key, ecs in HAND_MAPPINGS.items():
            if key not in self.table or not self.table[key].mapped:
                self.table[key] = FieldName(ecs, True)

    def _add_data_source(self, entry: DataSourceMapping) -> None:
        for sigma, cim in entry.mapping.items():
            key = split_cim(cim, entry.data_set)
            name, _, modifier = sigma.partition("|")
            ecs = sigma_to_ecs(name, *entry.logsource)
            if key is None or ecs is None or (key in self.table and self.table[key].mapped):
                continue
            # "Image|endswith" and CIM "*_name" fields hold the last path component: the ECS
            # name field paired with the path field.
            if ecs in PATH_TO_NAME and (modifier == "endswith" or key[1].endswith("_name")):
                ecs = PATH_TO_NAME[ecs]
            self.table[key] = FieldName(ecs, True)

    def cim_to_ecs(self, field: str, datamodel: str | None = None) -> str | None:
        """The ECS name of a CIM field (``Processes.process_name``), or None."""
        found = self.lookup(field, datamodel)
        return found.name if found is not None and found.mapped else None

    def lookup(self, field: str, datamodel: str | None = None) -> FieldName | None:
        """The table's entry for a CIM field, mapped or kept under the Sigma loader's name."""
        key = split_cim(field, datamodel)
        return self.table.get(key) if key else None

    def map_field(
        self,
        field: str,
        datamodel: str | None,
        logsources: Sequence[LogSource] = (),
        data_sets: Sequence[str] = (),
        value: str | None = None,
    ) -> FieldName:
        """The canonical name of a field a Splunk search checks, and whether a mapping gave it.

        ``datamodel`` is the data model in force at the check; ``logsources`` and ``data_sets``
        are those of the rule's data sources, for raw event fields. ``value``, when given, is
        the value checked: ``All_Traffic.app`` holds a protocol or a process path (`map_app`),
        and a CIM verb is checked in another field than its own (`map_check` gives the value).
        """
        return self.map_check(field, datamodel, logsources, data_sets, value=value).field

    def map_check(
        self,
        field: str,
        datamodel: str | None,
        logsources: Sequence[LogSource] = (),
        data_sets: Sequence[str] = (),
        *,
        value: str | None = None,
        operator: str = "eq",
    ) -> MappedCheck:
        """A check a Splunk search makes, on its canonical field and with its canonical value.

        As `map_field`, and where the field's values are CIM's own vocabulary the value too:
        ``All_Changes.action=created`` is ``event.type`` ``creation`` (`CIM_VERBS`), and the
        Windows add-on's ``file_name=x.aspx`` on Security events is ``ObjectName`` ending in
        ``\\x.aspx``.
        """
        verbs = self._verbs_of(field, datamodel, logsources)
        if verbs is not None:
            found = verbs.get(value.lower()) if value is not None and operator == "eq" else None
            if found is not None:
                return MappedCheck(FieldName(found[0], True), value=found[1])
            if datamodel or split_cim(field) is not None:
                return MappedCheck(FieldName(_qualified(field, datamodel or ""), False))
        named = self._map_name(field, datamodel, logsources, data_sets, value)
        if named.name == "registry.path" and _names_a_value(field, value, operator):
            return MappedCheck(FieldName("registry.value", True))
        security = _security(logsources)
        if named.mapped or security is None or field not in TA_SECURITY_NAME_ALIASES:
            return MappedCheck(named)
        path = sigma_field(TA_SECURITY_NAME_ALIASES[field], *security)
        if value is None or operator not in {"eq", "wildcard"} or value.startswith("*"):
            return MappedCheck(path)
        return MappedCheck(path, "wildcard", "*\\" + value)

    def _verbs_of(
        self, field: str, datamodel: str | None, logsources: Sequence[LogSource]
    ) -> Mapping[str, tuple[str, str]] | None:
        """CIM's vocabulary of the field's values, when the field is CIM's action or status.

        A data set's ``action`` anywhere; a raw ``action`` or ``status`` (the add-ons' CIM
        aliases on raw events) unless the log itself has a field of that name (GitHub's audit
        log names its operation ``action``).
        """
        if datamodel or split_cim(field) is not None:
            key = split_cim(field, datamodel)
            return CIM_VERBS if key is not None and key[1] == "action" else None
        if field not in {"action", "status"}:
            return None
        if any(sigma_to_ecs(field, *logsource) for logsource in logsources):
            return None
        return CIM_VERBS if field == "action" else CIM_OUTCOMES

    def _map_name(
        self,
        field: str,
        datamodel: str | None,
        logsources: Sequence[LogSource],
        data_sets: Sequence[str],
        value: str | None,
    ) -> FieldName:
        if field == "_raw":
            # The whole event as received: ECS keeps it in event.original.
            return FieldName("event.original", True)
        if not datamodel and field in OCSF_FIELDS:
            return FieldName(OCSF_FIELDS[field], True)
        if value is not None and split_cim(field, datamodel) == ("All_Traffic", "app"):
            return FieldName(map_app(value), True)
        if datamodel or split_cim(field) is not None:
            entry = self.lookup(field, datamodel)
            if entry is not None:
                return entry
            if datamodel:
                return FieldName(_qualified(field, datamodel), False)
        security = _security(logsources)
        alias = TA_SECURITY_ALIASES.get(field) if security is not None else None
        renamed, last_component = SYSMON_ADDON_FIELDS.get(
            field,
            (alias or TA_WINDOWS_ALIASES.get(field, _windows_renames().get(field, field)), False),
        )
        # spath's array marks (sourceIPs{}, user.groups{}) are no part of the attribute's name.
        bare = renamed.replace("{}", "")
        for logsource in logsources:
            found = LOG_FIELDS.get(logsource, {}).get(bare) or sigma_to_ecs(bare, *logsource)
            if found:
                return FieldName(_name_of(found) if last_component else found, True)
        endpoint = any(ls[0] in {"windows", "linux"} for ls in logsources)
        # Splunk's Windows and Sysmon add-ons give every event the CIM process fields
        # (process_name, process_path...), whatever data set the event fills; the web and
        # network add-ons give their HTTP records Web's names (WEB_FIELDS).
        for data_set in [
            *data_sets,
            *_category_data_sets(logsources),
            *(["Endpoint.Processes"] if endpoint else []),
            *(["Web"] if field in WEB_FIELDS else []),
        ]:
            found = self.cim_to_ecs(field, data_set)
            if found:
                return FieldName(found, True)
        windows = next((ls for ls in logsources if ls[0] == "windows"), None)
        if windows is not None and renamed in ADDON_ONLY_FIELDS:
            return FieldName(field, False)
        if windows is not None:
            named = sigma_field(renamed, *windows)
            return FieldName(_name_of(named.name), named.mapped) if last_component else named
        return FieldName(field, False)


def _names_a_value(field: str, value: str | None, operator: str) -> bool:
    """True for a ``registry_key_name`` check on a bare name: the registry value's name.

    pySigma reads the Registry data set's registry_key_name as Sysmon's TargetObject, the path
    (``*\\MicrosoftEdge\\PhishingFilter``), and most searches check it so. A name without a
    separator is no path but its last component, and the searches that check one name a value
    under the key their registry_path names: ``registry_path="*\\Control\\Lsa"
    registry_key_name="Security Packages"`` (also Debugger, BootExecute, Load). That is ECS's
    registry.value, where Sigma's registry_set rules (``TargetObject|endswith``) and Elastic's
    put the same check.
    """
    if value is None or operator != "eq" or "\\" in value or has_wildcard(value):
        return False
    return field.rpartition(".")[2] == "registry_key_name"


def _security(logsources: Sequence[LogSource]) -> LogSource | None:
    """The rule's Windows Security log source, if it reads that channel."""
    return next((ls for ls in logsources if ls[0] == "windows" and ls[2] == "security"), None)


def app_holds_process(value: str) -> bool:
    """True when an ``All_Traffic.app`` value is a process path or file, not a protocol.

    The Windows and Sysmon add-ons fill Network_Traffic's app with the connecting process's
    path (``C:\\Windows\\System32\\bitsadmin.exe``); lolbas_with_network_traffic checks
    ``*\\bitsadmin.exe``. A value with a path separator or an executable's extension is that.
    """
    text = value.strip("*").lower()
    return "\\" in text or "/" in text or text.endswith((".exe", ".dll", ".scr"))


def map_app(value: str) -> str:
    """The ECS field of an ``All_Traffic.app`` check with this value."""
    return "process.executable" if app_holds_process(value) else "network.protocol"


def _category_data_sets(logsources: Sequence[LogSource]) -> list[str]:
    """The CIM data sets the rule's log-source categories fill, pySigma's pipeline first."""
    found: list[str] = []
    for _product, category, _service in logsources:
        if category is None:
            continue
        found.extend(_pipeline_data_sets().get(category, ()))
        if category in CATEGORY_DATA_SETS:
            found.append(CATEGORY_DATA_SETS[category])
    return list(dict.fromkeys(found))


@cache
def _pipeline_data_sets() -> dict[str, tuple[str, ...]]:
    """Sigma category -> the CIM objects pySigma's CIM pipeline maps its fields onto."""
    found: dict[str, list[str]] = {}
    pipeline: ProcessingPipeline = splunk_cim_data_model()  # type: ignore[no-untyped-call]
    for item in pipeline.items:
        transformation = item.transformation
        if not isinstance(transformation, FieldMappingTransformation):
            continue
        objects: list[str] = []
        for targets in transformation.mapping.values():
            for target in [targets] if isinstance(targets, str) else targets:
                key = _split_any(target)
                if key is not None and key[0] not in objects:
                    objects.append(key[0])
        for cond in item.rule_conditions:
            if isinstance(cond, LogsourceCondition) and cond.category:
                found.setdefault(cond.category, []).extend(objects)
    return {category: tuple(dict.fromkeys(objects)) for category, objects in found.items()}


def _name_of(path_field: str) -> str:
    """The ECS name field paired with a path field (dll.path -> dll.name), else the field."""
    return PATH_TO_NAME.get(path_field, path_field)


def _qualified(field: str, datamodel: str) -> str:
    """An unmapped CIM field under its object: ``Processes.process_hash``."""
    key = split_cim(field, datamodel)
    return f"{key[0]}.{key[1]}" if key else field


def _ordered(entries: Iterable[DataSourceMapping]) -> list[DataSourceMapping]:
    # Sysmon's data sources carry Sigma's own field names; read them before the others, whose
    # mappings are looser (PowerShell maps ScriptBlockText onto Processes.process).
    return sorted(entries, key=lambda e: (not e.source.lower().startswith("sysmon"), e.source))
