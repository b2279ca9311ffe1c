"""Sigma field names to canonical ECS names, read from pySigma's Elasticsearch pipelines.

The table is built once, on first use, from the ``FieldMappingTransformation`` items of the
pipelines in ``sigma.pipelines.elasticsearch`` together with the log-source conditions of each
item (the mappings are built inside the pipeline functions, so they are read from the items).
A lookup prefers the mapping whose conditions match the log source most specifically, then one
whose pipeline addresses the log source without naming it, then (only when the caller gives no
log source) any mapping the log source does not contradict.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

from sigma.pipelines.elasticsearch import pipelines
from sigma.processing.conditions import (
    IncludeFieldCondition,
    LogsourceCondition,
    MatchValueCondition,
)
from sigma.processing.transformations import (
    ChangeLogsourceTransformation,
    FieldMappingTransformation,
    SetValueTransformation,
)

from loaders.addon_fields import TA_WINDOWS_ALIASES
from loaders.cloud_fields import CLOUD_MAPPINGS, cloud_attribute
from loaders.entra import entra_attribute
from loaders.predicates import clean_field
from loaders.records import LogSource

# The pipelines read, in order of preference. ecs_windows_old is left out: it maps only EventID
# and Channel, to pre-ECS names (event_id), which ecs_windows maps to ECS ones. The Corelight
# and raw Zeek pipelines target Zeek's own names, not ECS; ecs_zeek_beats is the ECS one.
_PIPELINES = ("ecs_windows", "ecs_macos_esf", "ecs_kubernetes", "ecs_zeek_beats")

# Where pySigma has no pipeline for a log source whose Sigma fields follow another one's
# taxonomy, read that other log source's mapping. Each entry is (product, category or None for
# any) -> (product, category or None to keep the rule's, service).
_BORROWED_LOGSOURCES: dict[tuple[str, str | None], tuple[str, str | None, str | None]] = {
    # Sigma's Linux process, file and network categories are Sysmon for Linux events, which use
    # the Windows Sysmon field names (Image, CommandLine, TargetFilename, DestinationIp...).
    ("linux", "process_creation"): ("windows", None, None),
    ("linux", "file_event"): ("windows", None, None),
    ("linux", "file_create"): ("windows", None, None),
    ("linux", "file_delete"): ("windows", None, None),
    ("linux", "network_connection"): ("windows", None, None),
    ("linux", "process_termination"): ("windows", None, None),
    ("linux", "raw_access_thread"): ("windows", None, None),
    # Sigma's macOS rules name no service; ecs_macos_esf is written for the Endpoint Security
    # Framework collector, whose events carry the same Sigma taxonomy.
    ("macos", None): ("macos", None, "endpointsecurity"),
}

# Fields no pipeline maps, whose ECS name is fixed by ECS itself and which Elastic's own rules
# check under that name. Keyed by (product, category, service) like a log-source condition;
# None matches anything. Kept small on purpose: everything else keeps pySigma's fallback name,
# which is what Elastic's Sysmon-based rules use too (winlog.event_data.TargetImage, ...).
_HAND_MAPPINGS: dict[LogSource, dict[str, str]] = {
    # Sysmon registry events: the written data is Details; ECS and Elastic's registry rules
    # (57 of them) carry it in registry.data.strings.
    ("windows", "registry_set", None): {"Details": "registry.data.strings"},
    ("windows", "registry_event", None): {"Details": "registry.data.strings"},
    ("windows", "registry_add", None): {"Details": "registry.data.strings"},
    # A Windows event's Message is its rendered text, not one of its data fields: winlogbeat
    # and Elastic's Windows integrations keep it in ECS's message, where Elastic's rules check
    # it (MSSQL's Application events); winlog.event_data.Message does not exist.
    ("windows", None, None): {"Message": "message"},
    # Antivirus alerts name the detected file's full path in Filename (Sigma's antivirus
    # rules match it with endswith and contains on folders): ECS's file.path. No pipeline maps
    # the antivirus category.
    (None, "antivirus", None): {"Filename": "file.path"},
    # Cloud and SaaS audit logs (loaders.cloud_fields).
    **CLOUD_MAPPINGS,
    # Linux auditd: the auditd integration's ECS names for the SYSCALL, PATH and CWD records.
    # EXECVE's a0..aN stay raw: an argument at a position is a stricter test than process.args.
    ("linux", None, "auditd"): {
        "comm": "process.name",
        "exe": "process.executable",
        "name": "file.path",
        "syscall": "auditd.data.syscall",
        "cwd": "process.working_directory",
    },
    # Zeek's connection tuple as Zeek's own logs write it (id.orig_h...), which Sigma's zeek
    # rules check and ecs_zeek_beats maps only under the Corelight names (src_ip, dst_ip...):
    # the zeek integration writes it to source.* and destination.*, as for those names.
    ("zeek", None, None): {
        "id.orig_h": "source.ip",
        "id.orig_p": "source.port",
        "id.resp_h": "destination.ip",
        "id.resp_p": "destination.port",
    },
    # Names ecs_zeek_beats maps only onto patterns (zeek.*user_agent*, zeek.*.cipher), which
    # count as no mapping: on the log the rule names, the field the zeek integration writes.
    ("zeek", None, "http"): {"user_agent": "user_agent.original"},
    ("zeek", None, "kerberos"): {
        "cipher": "zeek.kerberos.cipher",
        "service": "zeek.kerberos.service",
    },
    ("zeek", None, "smb_files"): {"path": "zeek.smb_files.path"},
    # Kubernetes audit events: current Sigma rules and Splunk's raw searches name the audit
    # event's JSON paths, which ecs_kubernetes (written for the older verb / resource /
    # namespace names) does not map; the kubernetes integration keeps them under
    # kubernetes.audit. with the annotation key's dots as underscores.
    ("kubernetes", None, "audit"): {
        name: "kubernetes.audit." + name
        for name in (
            "objectRef.resource",
            "objectRef.subresource",
            "objectRef.namespace",
            "objectRef.name",
            "objectRef.apiGroup",
            "requestURI",
            "user.username",
            "user.groups",
            "impersonatedUser.username",
            "sourceIPs",
            "responseStatus.code",
            "stage",
        )
    }
    | {
        "annotations.authorization.k8s.io/decision": (
            "kubernetes.audit.annotations.authorization_k8s_io/decision"
        ),
        # The client's user agent: ECS's user_agent.original, where the kubernetes
        # integration puts it and Elastic's Kubernetes rules check it (39 checks).
        "userAgent": "user_agent.original",
    },
    # IIS-style web server logs: ECS url.query and user_agent.original; the Zeek pipeline maps
    # only the c-uri-query / c-useragent spellings. cs-uri-stem takes what ecs_zeek_beats gives
    # its c-uri-stem spelling (url.original).
    (None, "webserver", None): {
        "cs-uri-stem": "url.original",
        "cs-uri-query": "url.query",
        "cs-user-agent": "user_agent.original",
        # The authenticated user of the request: ECS's user.name, where Elastic's IIS, Apache
        # and nginx integrations put it.
        "cs-username": "user.name",
    },
    # Proxy rules written with the web server's W3C name for the URI's path (cs-uri-stem, not
    # the proxy taxonomy's c-uri-stem) mean the same attribute.
    (None, "proxy", None): {"cs-uri-stem": "url.original"},
}

# Where pySigma's mapping is overridden: it maps a Sigma field onto an ECS field that ECS and
# Elastic's own rules keep for other data. Same keys as above; an override wins over any
# pipeline mapping for the log sources it names, however specific.
_OVERRIDES: dict[LogSource, dict[str, str]] = {
    # Sysmon image loads (event 7): ecs_windows maps ImageLoaded to file.path for every Windows
    # log source, but ECS puts a loaded library in dll.* and Elastic's rules check it there
    # (dll.name about 2,700 times, dll.path about 200); with file.path the same library is two
    # indicators. dll.path checked with endswith '\x.dll' becomes dll.name eq x.dll
    # (loaders.predicates.PATH_TO_NAME). driver_load keeps file.path: a driver is no dll.
    # The loaded file's other Sysmon 7 fields describe the same library: ECS's dll field set
    # has them (dll.pe.*, dll.code_signature.*), where Elastic's library rules check them.
    ("windows", "image_load", None): {
        "ImageLoaded": "dll.path",
        "OriginalFileName": "dll.pe.original_file_name",
        "Description": "dll.pe.description",
        "Product": "dll.pe.product",
        "Company": "dll.pe.company",
        "FileVersion": "dll.pe.file_version",
        "Signed": "dll.code_signature.signed",
        "Signature": "dll.code_signature.subject_name",
        "SignatureStatus": "dll.code_signature.status",
    },
    # ecs_zeek_beats reads firewall, proxy and web server logs as Zeek's and maps its catch-all
    # names there: a firewall's action (accept, deny, forward) is no SMB file action but the
    # event's, event.action, as Elastic's firewall integrations (Fortinet, pfSense, Check Point)
    # write it; a web server's status is the HTTP response's code, not a SOCKS status.
    (None, "firewall", None): {"action": "event.action"},
    # ecs_windows gives every Windows log's Payload to PowerShell's script block; the OpenSSH
    # server's payload is its log message, kept under its own name as the raw Windows fields.
    ("windows", None, "openssh"): {"payload": "winlog.event_data.payload"},
    (None, "webserver", None): {"status": "http.response.status_code"},
    # A proxy's cs-cookie is the request's whole Cookie header (names and values); Zeek's
    # cookie_vars, where ecs_zeek_beats puts it, lists the cookies' names only. Elastic's rules
    # check a request header as http.request.headers.<name> (authorization, on packet captures).
    (None, "proxy", None): {"cs-cookie": "http.request.headers.cookie"},
    # Zeek's http log: host is the request's Host header, which the zeek integration writes to
    # url.domain; ecs_zeek_beats gives every Zeek log's host the intel log's zeek.intel.seen.host.
    ("zeek", None, "http"): {"host": "url.domain"},
    # The System log's events keep their data raw (the system integration renames nothing):
    # 7045's AccountName is the account the new service runs as (LocalSystem), kept as
    # winlog.event_data.AccountName, not the acting user.name ecs_windows gives every Windows
    # AccountName; ProcessId, which no System event carries as data, is the header's
    # Execution ProcessID, winlog.process.pid (as Elastic's rules read it), not process.pid.
    ("windows", None, "system"): {
        "AccountName": "winlog.event_data.AccountName",
        "ProcessId": "winlog.process.pid",
    },
}

# Elastic fields that hold the same data as another ECS field Elastic's rules also check. The
# azure integration writes an audit operation's name to both event.action and
# azure.<log>.operation_name, and Elastic's rules check either (seven operation names under both);
# the okta integration copies okta.event_type into event.action the same way. The ECS name is
# the one the other vendors' mappings use (Sigma's and Splunk's Okta eventType is event.action).
ELASTIC_FIELD_ALIASES: dict[str, str] = {
    "azure.activitylogs.operation_name": "event.action",
    "azure.auditlogs.operation_name": "event.action",
    "azure.signinlogs.operation_name": "event.action",
    "okta.event_type": "event.action",
    "kubernetes.audit.userAgent": "user_agent.original",
    # A process token's integrity level: Elastic Defend names it (system, high, medium, low,
    # untrusted), Sysmon's IntegrityLevel too (System, High...), both from the token's mandatory
    # label; Elastic's own rules check either with one value (integrity_level_name : "System" or
    # IntegrityLevel : "System"). ECS has no field for it: the name Sigma and Splunk use.
    "process.Ext.token.integrity_level_name": "winlog.event_data.IntegrityLevel",
}

# Azure's diagnostic logs of AKS (category kube-audit) carry the Kubernetes audit event whole
# under azure.platformlogs.properties.log: the same attributes as the kubernetes integration's
# audit events, mapped as those are, so an AKS rule and a Kubernetes one meet.
_AKS_AUDIT = "azure.platformlogs.properties.log."

# Elastic's Windows pipelines name the logon type (winlog.logon.type "Network") that the event
# carries as a number (winlog.event_data.LogonType 3), which Sigma and Splunk check. One form
# per check: the event's own number, under the event's field. The names are Microsoft's table
# of logon types, as Elastic spells them.
LOGON_TYPE_CODES: dict[str, str] = {
    "interactive": "2",
    "network": "3",
    "batch": "4",
    "service": "5",
    "unlock": "7",
    "networkcleartext": "8",
    "newcredentials": "9",
    "remoteinteractive": "10",
    "cachedinteractive": "11",
}


# The azure integration stores Entra's arrays (targetResources, modifiedProperties) as
# objects keyed by position, and Elastic's rules address an element as ``.0.`` or any one as
# ``.*.``; Splunk's spath writes ``{}`` and Sigma the bare path. An array's elements are one
# attribute for the other vendors, so the position is dropped.
_AZURE_ARRAY_SEGMENT = re.compile(r"\.(?:\*|\d+)(?=\.)")


def elastic_check(field: str, value: object) -> tuple[str, object]:
    """The canonical (field, value) of an Elastic check: aliases, logon type names as numbers."""
    if field.startswith("azure."):
        field = _AZURE_ARRAY_SEGMENT.sub("", field)
    name = ELASTIC_FIELD_ALIASES.get(field, field)
    if name.startswith(_AKS_AUDIT) and len(name) > len(_AKS_AUDIT):
        attribute = name[len(_AKS_AUDIT) :]
        name = sigma_to_ecs(attribute, "kubernetes", "application", "audit") or (
            "kubernetes.audit." + attribute
        )
    if name == "winlog.logon.type" and isinstance(value, str):
        code = LOGON_TYPE_CODES.get(value.strip().lower())
        if code is not None:
            return "winlog.event_data.LogonType", code
    return name, value


# pySigma's ecs_windows prefixes every field it did not map with "winlog.event_data." unless
# the name is dotted already; unmapped Windows fields keep that form.
_WINDOWS_EVENT_DATA = "winlog.event_data."
_DOTTED = re.compile(r"\w+\.")


def windows_event_data_field(field: str, services: Collection[str]) -> str | None:
    """The ECS name of a raw Windows event field a rule reads on the channels ``services``.

    Elastic's rules sometimes check an event's own field (``winlog.event_data.SubjectUserSid``)
    where its integration also fills the ECS one (``user.id``), which is where Sigma's pipeline
    puts the same Sigma field for that channel (service ``security``), and Splunk's mapping
    after it. The ECS name is returned when pySigma maps the bare name for every one of the
    rule's channels, to one name; otherwise (no channel, a channel without that mapping, two
    names) None, and the field keeps its raw name.
    """
    if not field.startswith(_WINDOWS_EVENT_DATA) or not services:
        return None
    bare = field[len(_WINDOWS_EVENT_DATA) :]
    found = {sigma_to_ecs(bare, "windows", None, service) for service in services}
    if len(found) != 1:
        return None
    name = found.pop()
    return name if name and name != field else None


@dataclass(frozen=True, slots=True)
class _Entry:
    """One field mapping of one processing item, with the log source it is conditioned on."""

    target: str
    product: str | None
    category: str | None
    service: str | None
    order: int
    #: Products the item's pipeline addresses elsewhere, for items without conditions.
    scope: frozenset[str]

    @property
    def specificity(self) -> int:
        return sum(part is not None for part in (self.product, self.category, self.service))


@dataclass(frozen=True, slots=True)
class FieldName:
    """A Sigma field's canonical name, and whether a mapping (not a fallback) produced it."""

    name: str
    mapped: bool


def _targets(value: str | list[str]) -> Iterator[str]:
    """The names a mapping gives, the canonical one first.

    From a list (Zeek's ``dst`` -> destination.address, destination.ip) the ``.ip`` name comes
    first: ECS keeps the parsed address there and rules query it; ``.address`` is the raw text.
    """
    names = (
        [value] if isinstance(value, str) else sorted(value, key=lambda n: not n.endswith(".ip"))
    )
    for target in names:
        text = target.strip()
        # Zeek's pipeline maps some names onto patterns ("zeek.*.arg") meant for querying many
        # indices at once; a pattern is no field name, so such a mapping counts as none.
        if text and "*" not in text:
            yield clean_field(text)


@cache
def _index() -> tuple[dict[str, list[_Entry]], list[tuple[LogSource, LogSource]]]:
    """Field name -> mapping entries, and the log-source rewrites the pipelines make."""
    entries: dict[str, list[_Entry]] = {}
    rewrites: list[tuple[LogSource, LogSource]] = []
    order = 0
    for name in _PIPELINES:
        items = pipelines[name]().items
        scope = frozenset(
            cond.product
            for item in items
            for cond in item.rule_conditions
            if isinstance(cond, LogsourceCondition) and cond.product
        )
        for item in items:
            conditions = [c for c in item.rule_conditions if isinstance(c, LogsourceCondition)]
            # Items conditioned on anything but a log source (field names, values) do not map
            # names by log source; items linking several conditions with "any" are not mappings.
            if len(conditions) != len(item.rule_conditions) or len(conditions) > 1:
                continue
            cond = conditions[0] if conditions else None
            where: LogSource = (
                (cond.product, cond.category, cond.service) if cond else (None, None, None)
            )
            transformation = item.transformation
            if isinstance(transformation, ChangeLogsourceTransformation):
                rewrites.append(
                    (
                        where,
                        (
                            transformation.product,
                            transformation.category,
                            transformation.service,
                        ),
                    )
                )
            elif isinstance(transformation, FieldMappingTransformation) and not (
                item.field_name_conditions or item.detection_item_conditions
            ):
                for source, value in transformation.mapping.items():
                    target = next(_targets(value), None)
                    if source is None or target is None:
                        continue
                    order += 1
                    entry = _Entry(target, *where, order=order, scope=scope)
                    entries.setdefault(source, []).append(entry)
    for where, table in _HAND_MAPPINGS.items():
        for source, target in table.items():
            order += 1
            entries.setdefault(source, []).append(
                _Entry(target, *where, order=order, scope=frozenset())
            )
    for rank, (where, table) in enumerate(_OVERRIDES.items(), start=1):
        for source, target in table.items():
            # Negative orders win every tie with a pipeline entry of the same specificity.
            entries.setdefault(source, []).insert(
                0, _Entry(target, *where, order=-rank, scope=frozenset())
            )
    return entries, rewrites


@cache
def _folded_names() -> dict[str, str]:
    """Lower-cased field name -> the name as the pipelines spell it."""
    return {name.lower(): name for name in _index()[0]}


def _matches(entry: _Entry, logsource: LogSource) -> bool:
    """True when the entry's log-source condition holds for the log source (pySigma's rule)."""
    return all(
        want is None or want == have
        for want, have in zip(
            (entry.product, entry.category, entry.service), logsource, strict=True
        )
    )


def _compatible(entry: _Entry, logsource: LogSource) -> bool:
    """True when nothing the caller gave contradicts the entry's condition."""
    return all(
        want is None or have is None or want == have
        for want, have in zip(
            (entry.product, entry.category, entry.service), logsource, strict=True
        )
    )


def _candidates(logsource: LogSource) -> list[LogSource]:
    """The log source, then what the borrow table and the pipelines rewrite it to."""
    product, category, service = logsource
    found = [logsource]
    if product:
        borrowed = _BORROWED_LOGSOURCES.get((product, category)) or _BORROWED_LOGSOURCES.get(
            (product, None)
        )
        if borrowed:
            found.append((borrowed[0], borrowed[1] or category, borrowed[2] or service))
    for where, target in _index()[1]:
        if all(w is None or w == h for w, h in zip(where, logsource, strict=True)):
            found.append(target)
    return found


def _pick(entries: list[_Entry], logsource: LogSource) -> _Entry | None:
    product = logsource[0]
    conditioned = [e for e in entries if e.specificity and _matches(e, logsource)]
    if conditioned:
        return max(conditioned, key=lambda e: (e.specificity, -e.order))
    # An item without conditions in a pipeline that only addresses some products is meant for
    # those products: ecs_kubernetes maps "username" unconditionally only because the whole
    # pipeline is for Kubernetes audit logs.
    unconditioned = [
        e
        for e in entries
        if not e.specificity and (not e.scope or product is None or product in e.scope)
    ]
    if unconditioned and (product is not None or logsource == (None, None, None)):
        return min(unconditioned, key=lambda e: e.order)
    return None


@lru_cache(maxsize=8192)
def sigma_to_ecs(
    field: str,
    product: str | None = None,
    category: str | None = None,
    service: str | None = None,
) -> str | None:
    """The canonical ECS name of a Sigma field for a log source, or None when nothing maps it."""
    entries_by_field = _index()[0]
    name = field if field in entries_by_field else _folded_names().get(field.lower())
    logsource: LogSource = (_lower(product), _lower(category), _lower(service))
    entries = entries_by_field[name] if name is not None else []
    for candidate in _candidates(logsource):
        found = _pick(entries, candidate)
        if found:
            return found.target
    if logsource[0] is None:
        # The caller named no product (a Splunk data model, a category alone): take the least
        # specific mapping the given parts do not contradict, Windows first.
        # Another product's mapping (zeek's "action", "Filename") is no reading of a log source
        # that names none: a category alone (antivirus, firewall) borrows only Windows' or
        # product-free entries.
        loose = [e for e in entries if _compatible(e, logsource) and e.product in (None, "windows")]
        if loose:
            return min(loose, key=lambda e: (e.specificity, e.order)).target
    if logsource[0] == "azure":
        return entra_attribute(field, logsource[2])
    return cloud_attribute(field, logsource[0], logsource[2])


def sigma_field(
    field: str,
    product: str | None = None,
    category: str | None = None,
    service: str | None = None,
) -> FieldName:
    """The name a Sigma field is stored under: its ECS name, else the form pySigma leaves it in.

    Unmapped Windows fields become ``winlog.event_data.<Field>`` as pySigma's ecs_windows writes
    them; unmapped fields of other log sources keep their Sigma name. A Windows field spelled as
    Splunk's Windows add-on spells it (``Logon_Type``, which some rules borrow) is the event's
    field the add-on renamed (`TA_WINDOWS_ALIASES`: ``LogonType``), as it is in Splunk's rules.
    """
    mapped = sigma_to_ecs(field, product, category, service)
    if mapped is not None:
        return FieldName(mapped, True)
    if _lower(product) == "windows" and not _DOTTED.match(field):
        alias = TA_WINDOWS_ALIASES.get(field)
        if alias is not None and alias != field:
            return sigma_field(alias, product, category, service)
        return FieldName(_WINDOWS_EVENT_DATA + field, False)
    return FieldName(field, False)


def _lower(part: str | None) -> str | None:
    return part.strip().lower() or None if part else None


@cache
def _value_settings() -> dict[tuple[str, str], str]:
    """(ECS field, value as text) -> the value pySigma's pipelines set instead.

    ecs_windows turns Sysmon's ``Initiated: true`` / ``false`` on network.direction into
    ``egress`` / ``ingress`` (SetValueTransformation items conditioned on the field name and on
    the value). Only items of that form are read: one plain field name, one value to match.
    """
    settings: dict[tuple[str, str], str] = {}
    for name in _PIPELINES:
        for item in pipelines[name]().items:
            transformation = item.transformation
            if not isinstance(transformation, SetValueTransformation):
                continue
            fields = [
                field
                for cond in item.field_name_conditions
                if isinstance(cond, IncludeFieldCondition) and cond.mode == "plain"
                for field in cond.fields
            ]
            values = [
                cond.value
                for cond in item.detection_item_conditions
                if isinstance(cond, MatchValueCondition)
            ]
            if len(fields) != 1 or len(values) != 1:
                continue
            target = transformation.sigma_value
            matched = values[0]
            key = "true" if matched is True else "false" if matched is False else str(matched)
            settings[(clean_field(fields[0]), key.lower())] = str(target)
    return settings


def sigma_value(field: str | None, value: str) -> str:
    """The value a Sigma check on an ECS field stands for: ``network.direction`` true -> egress.

    pySigma sets the value only for a YAML boolean; the quoted ``'true'`` some rules write means
    the same and is set too, so both meet Elastic's ``network.direction : egress``.
    """
    if field is None:
        return value
    return _value_settings().get((field, value.lower()), value)
