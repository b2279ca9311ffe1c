"""CIM and raw Splunk field names to ECS: pySigma's tables, data source mappings, hand table."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders.cim import CimMapper, DataSourceMapping, MappedCheck, split_cim
from loaders.fields import FieldName
from loaders.splunk_events import load_data_sources

# The Sysmon EventID 1 data source's CIM mapping, as splunk/data_sources/sysmon_eventid_1.yml
# writes it (abridged).
SYSMON_1 = DataSourceMapping(
    data_set="Endpoint.Processes",
    mapping={
        "Image": "Processes.process_path",
        "Image|endswith": "Processes.process_name",
        "CommandLine": "Processes.process",
        "ParentImage": "Processes.parent_process_name",
        "OriginalFileName": "Processes.original_file_name",
    },
    logsource=("windows", "process_creation", "sysmon"),
    source="Sysmon EventID 1",
)

REQUIRED = [
    ("Processes.process_name", "process.name"),
    ("Processes.parent_process_name", "process.parent.name"),
    ("Processes.process", "process.command_line"),
    ("Processes.original_file_name", "process.pe.original_file_name"),
    ("Processes.process_path", "process.executable"),
]


@pytest.mark.parametrize(("cim", "ecs"), REQUIRED)
def test_required_process_fields(cim: str, ecs: str) -> None:
    assert CimMapper([SYSMON_1]).cim_to_ecs(cim) == ecs


@pytest.mark.parametrize(
    ("cim", "ecs"),
    [
        # pySigma's splunk_cim_data_model, inverted and composed with Sigma -> ECS
        ("Processes.parent_process", "process.parent.command_line"),
        ("Processes.parent_process_path", "process.parent.executable"),
        ("Registry.registry_key_name", "registry.path"),
        ("Filesystem.file_path", "file.path"),
        ("Web.url", "url.original"),
        ("Web.http_user_agent", "user_agent.original"),
        ("DNS.query", "dns.question.name"),  # the DNS item maps from ECS names
    ],
)
def test_pysigma_pipeline_mappings(cim: str, ecs: str) -> None:
    assert CimMapper().cim_to_ecs(cim) == ecs


def test_pipeline_alone_does_not_know_process_name() -> None:
    # The name fields come from the data sources' "|endswith" mappings, not from pySigma.
    assert CimMapper().cim_to_ecs("Processes.process_name") is None


def test_hand_table_fills_gaps_only() -> None:
    mapper = CimMapper()
    assert mapper.cim_to_ecs("Registry.registry_value_name") == "registry.value"
    assert mapper.cim_to_ecs("All_Traffic.dest_port") == "destination.port"
    # the network layer's protocol; the transport's is All_Traffic.transport
    assert mapper.cim_to_ecs("All_Traffic.protocol") == "network.type"
    assert mapper.cim_to_ecs("All_Traffic.transport") == "network.transport"
    assert mapper.cim_to_ecs("Processes.dest") == "host.name"


def test_the_data_model_decides_for_fields_without_their_object() -> None:
    mapper = CimMapper([SYSMON_1])
    assert mapper.cim_to_ecs("process_name", "Endpoint.Processes") == "process.name"
    assert mapper.cim_to_ecs("url", "Web") == "url.original"
    assert mapper.cim_to_ecs("dest_port", "Network_Traffic") == "destination.port"
    assert mapper.cim_to_ecs("process_name") is None


def test_split_cim_knows_data_set_objects() -> None:
    assert split_cim("Processes.process_name") == ("Processes", "process_name")
    assert split_cim("All_Certificates.SSL.ssl_issuer", "Certificates") == (
        "All_Certificates",
        "SSL.ssl_issuer",
    )
    assert split_cim("userIdentity.arn") is None


def test_unmapped_cim_fields_keep_their_object_and_are_flagged() -> None:
    found = CimMapper().map_field("process_hash", "Endpoint.Processes")
    assert (found.name, found.mapped) == ("Processes.process_hash", False)


def test_unmapped_sigma_fields_keep_the_sigma_loaders_name() -> None:
    found = CimMapper().map_field("Processes.process_integrity_level", "Endpoint.Processes")
    assert (found.name, found.mapped) == ("winlog.event_data.IntegrityLevel", False)


@pytest.mark.parametrize(
    ("field", "logsource", "expected"),
    [
        ("EventCode", ("windows", None, "security"), "event.code"),  # Splunk's name for EventID
        ("NewProcessName", ("windows", None, "security"), "process.executable"),
        ("ScriptBlockText", ("windows", None, "powershell"), "powershell.file.script_block_text"),
        ("QueryName", ("windows", "dns_query", "sysmon"), "dns.question.name"),
    ],
)
def test_raw_fields_map_through_sigma_for_the_rules_log_source(
    field: str, logsource: tuple[str | None, str | None, str | None], expected: str
) -> None:
    found = CimMapper().map_field(field, None, [logsource])
    assert (found.name, found.mapped) == (expected, True)


def test_raw_cim_aliases_on_windows_events_map_through_the_process_data_set() -> None:
    found = CimMapper([SYSMON_1]).map_field("process_name", None, [("windows", None, "sysmon")])
    assert (found.name, found.mapped) == ("process.name", True)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("ImageLoaded", "dll.path"),
        ("loaded_file_path", "dll.path"),  # the Sysmon add-on's copy of ImageLoaded
        ("loaded_file", "dll.name"),  # ImageLoaded without its folder
    ],
)
def test_sysmon_image_load_fields_land_on_dll_fields(field: str, expected: str) -> None:
    found = CimMapper().map_field(field, None, [("windows", "image_load", "sysmon")])
    assert (found.name, found.mapped) == (expected, True)


def test_driver_load_fields_stay_on_file_fields() -> None:
    driver = ("windows", "driver_load", "sysmon")
    assert CimMapper().map_field("ImageLoaded", None, [driver]) == FieldName("file.path", True)
    assert CimMapper().map_field("loaded_file", None, [driver]) == FieldName("file.name", True)


def test_cloudtrail_object_attributes_drop_splunks_array_marks() -> None:
    cloudtrail = ("aws", None, "cloudtrail")
    found = CimMapper().map_field(
        "requestParameters.launchPermission.add.items{}.userId", None, [cloudtrail]
    )
    assert found == FieldName(
        "aws.cloudtrail.flattened.request_parameters.launchPermission.add.items.userId", True
    )
    egress = CimMapper().map_field("requestParameters.egress", None, [cloudtrail])
    assert egress == FieldName("aws.cloudtrail.flattened.request_parameters.egress", True)


@pytest.mark.parametrize(
    ("field", "logsources", "expected"),
    [
        # Splunk Stream's stream:http and Suricata's HTTP records: no log source of their own
        ("http_method", [], "http.request.method"),
        ("http_user_agent", [], "user_agent.original"),
        # Zscaler's web log, read as Sigma's proxy events only
        ("url", [], "url.original"),
        # nginx (Sigma's webserver category): pySigma reads Web's uri_path as c-uri-stem
        ("uri_path", [(None, "webserver", None)], "url.original"),
        ("uri_query", [(None, "webserver", None)], "url.query"),
    ],
)
def test_raw_web_attributes_of_network_add_ons_are_webs(
    field: str, logsources: list[tuple[str | None, str | None, str | None]], expected: str
) -> None:
    assert CimMapper().map_field(field, None, logsources) == FieldName(expected, True)


def test_other_raw_names_of_network_add_ons_keep_their_name() -> None:
    # form_data is Splunk Stream's own; status and dest mean other things in other data sets
    for field in ("form_data", "dest"):
        assert CimMapper().map_field(field, None, []) == FieldName(field, False)


@pytest.mark.parametrize(
    ("field", "datamodel", "value", "operator", "expected"),
    [
        # a bare name is the path's last component: the value's name
        ("Registry.registry_key_name", None, "Debugger", "eq", "registry.value"),
        ("registry_key_name", "Endpoint.Registry", "Security Packages", "eq", "registry.value"),
        # a path, a pattern or another attribute stays the path
        (
            "Registry.registry_key_name",
            None,
            "*\\MicrosoftEdge\\PhishingFilter",
            "wildcard",
            "registry.path",
        ),
        ("Registry.registry_key_name", None, "HKLM\\Software\\Run", "eq", "registry.path"),
        ("Registry.registry_key_name", None, "Debug*", "wildcard", "registry.path"),
    ],
)
def test_a_bare_registry_key_name_is_the_value_name(
    field: str, datamodel: str | None, value: str, operator: str, expected: str
) -> None:
    found = CimMapper().map_check(field, datamodel, value=value, operator=operator)
    assert found == MappedCheck(FieldName(expected, True))


def test_only_the_key_name_is_read_as_a_value_name() -> None:
    found = CimMapper().map_check("Registry.registry_path", None, value="Debugger")
    assert found.field.name != "registry.value"


def test_raw_fields_of_unknown_logs_keep_their_name() -> None:
    found = CimMapper().map_field("Username", None, [])
    assert (found.name, found.mapped) == ("Username", False)
    windows = CimMapper().map_field("TargetImage", None, [("windows", None, "sysmon")])
    assert (windows.name, windows.mapped) == ("winlog.event_data.TargetImage", False)


@pytest.mark.corpus
@pytest.mark.parametrize(("cim", "ecs"), REQUIRED)
def test_required_fields_with_the_corpus_data_sources(corpus_dir: Path, cim: str, ecs: str) -> None:
    catalog = load_data_sources(corpus_dir / "splunk" / "data_sources")
    assert CimMapper(catalog.mappings()).cim_to_ecs(cim) == ecs


# --- Splunk names on raw Windows events, All_Traffic.app, CIM attributes ------------------

SYSMON_3: tuple[str | None, str | None, str | None] = ("windows", "network_connection", "sysmon")
SECURITY: tuple[str | None, str | None, str | None] = ("windows", None, "security")


@pytest.mark.parametrize(
    ("field", "logsource", "ecs"),
    [
        # CIM spellings on raw Sysmon events: the data set the log source fills.
        ("dest_ip", SYSMON_3, "destination.ip"),
        ("src_ip", SYSMON_3, "source.ip"),
        ("file_name", ("windows", "file_event", "sysmon"), "file.name"),
        # The Windows add-on's names from the classic message rendering: Sigma's fields.
        ("Logon_Type", SECURITY, "winlog.event_data.LogonType"),
        ("Target_User_Name", SECURITY, "winlog.event_data.TargetUserName"),
        ("Caller_User_Name", SECURITY, "user.name"),
        ("Service_Name", SECURITY, "service.name"),
        ("service_name", ("windows", None, "system"), "winlog.event_data.ServiceName"),
        ("object_file_path", SECURITY, "winlog.event_data.ObjectName"),
        ("src_ip", SECURITY, "source.ip"),
        (
            "granted_access",
            ("windows", "process_access", "sysmon"),
            "winlog.event_data.GrantedAccess",
        ),
        ("query", ("windows", "dns_query", "sysmon"), "dns.question.name"),
    ],
)
def test_splunk_names_on_raw_windows_events(
    field: str, logsource: tuple[str | None, str | None, str | None], ecs: str
) -> None:
    assert CimMapper().map_field(field, None, [logsource]).name == ecs


@pytest.mark.parametrize(
    ("value", "ecs"),
    [
        ("*\\bitsadmin.exe", "process.executable"),
        ("*Regsvcs.exe", "process.executable"),
        ("*\\programdata\\*", "process.executable"),
        ("smb", "network.protocol"),
        ("ssl", "network.protocol"),
    ],
)
def test_traffic_app_holds_a_protocol_or_a_process(value: str, ecs: str) -> None:
    mapper = CimMapper()
    assert mapper.map_field("All_Traffic.app", None, value=value).name == ecs
    assert mapper.map_field("app", "Network_Traffic.All_Traffic", value=value).name == ecs


@pytest.mark.parametrize(
    ("cim", "ecs"),
    [
        ("Authentication.signature", "event.action"),
        ("All_Changes.command", "event.action"),  # the operation's name, unlike action
        ("Filesystem.file_extension", "file.extension"),
        ("All_Traffic.direction", "network.direction"),
        ("All_Traffic.user", "user.name"),
        ("All_Email.file_name", "email.attachments.file.name"),
    ],
)
def test_cim_attributes_ecs_has(cim: str, ecs: str) -> None:
    assert CimMapper().cim_to_ecs(cim) == ecs


# --- CIM's verbs, mapped by value ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "datamodel", "value", "ecs", "ecs_value"),
    [
        ("All_Changes.action", None, "created", "event.type", "creation"),
        ("All_Changes.action", None, "deleted", "event.type", "deletion"),
        ("All_Changes.action", None, "modified", "event.type", "change"),
        ("All_Changes.action", None, "updated", "event.type", "change"),
        ("All_Changes.action", None, "acl_modified", "event.type", "change"),
        ("All_Changes.action", None, "started", "event.type", "start"),
        ("All_Changes.action", None, "stopped", "event.type", "end"),
        ("Filesystem.action", None, "deleted", "event.type", "deletion"),
        ("Filesystem.action", None, "read", "event.type", "access"),
        ("action", "Endpoint.Filesystem", "Created", "event.type", "creation"),
        ("All_Traffic.action", None, "allowed", "event.type", "allowed"),
        ("All_Traffic.action", None, "blocked", "event.type", "denied"),
        ("action", "Network_Traffic", "denied", "event.type", "denied"),
        ("Processes.action", None, "blocked", "event.type", "denied"),
        ("Authentication.action", None, "success", "event.outcome", "success"),
        ("Authentication.action", None, "failure", "event.outcome", "failure"),
        # pySigma maps Sysmon's EventType onto Registry.action, but CIM's verbs are not
        # Sysmon's values (DeleteValue, SetValue).
        ("Registry.action", None, "deleted", "event.type", "deletion"),
        ("Registry.action", None, "modified", "event.type", "change"),
    ],
)
def test_cim_action_verbs_are_ecs_categorisation_values(
    field: str, datamodel: str | None, value: str, ecs: str, ecs_value: str
) -> None:
    found = CimMapper().map_check(field, datamodel, value=value)
    assert found == MappedCheck(FieldName(ecs, True), value=ecs_value)
    assert CimMapper().map_field(field, datamodel, value=value) == FieldName(ecs, True)


@pytest.mark.parametrize(
    ("field", "value", "kept"),
    [
        ("All_Changes.action", "lockout", "All_Changes.action"),
        ("Authentication.action", "pending", "Authentication.action"),
        ("Registry.action", "unknown", "Registry.action"),
        ("All_Traffic.action", "block*", "All_Traffic.action"),
        ("All_Changes.action", None, "All_Changes.action"),  # a lookup names no verb
    ],
)
def test_other_action_values_keep_the_qualified_cim_name(
    field: str, value: str | None, kept: str
) -> None:
    assert CimMapper().map_check(field, None, value=value) == MappedCheck(FieldName(kept, False))


def test_a_wildcard_on_an_action_is_no_verb() -> None:
    found = CimMapper().map_check("All_Changes.action", None, value="created", operator="wildcard")
    assert found == MappedCheck(FieldName("All_Changes.action", False))


def test_the_operation_name_and_the_change_status_keep_their_fields() -> None:
    mapper = CimMapper()
    assert mapper.map_check("All_Changes.command", None, value="RunInstances") == MappedCheck(
        FieldName("event.action", True)
    )
    assert mapper.map_check("All_Changes.status", None, value="success") == MappedCheck(
        FieldName("event.outcome", True)
    )
    # Web's status is an HTTP code.
    assert mapper.map_check("Web.status", None, value="200") == MappedCheck(
        FieldName("http.response.status_code", True)
    )


CLOUDTRAIL: tuple[str | None, str | None, str | None] = ("aws", None, "cloudtrail")
GITHUB: tuple[str | None, str | None, str | None] = ("github", None, "audit")
# A log no Sigma mapping knows (the AWS add-on's VPC flow logs carry CIM's allowed / blocked).
VPC_FLOW: tuple[str | None, str | None, str | None] = ("aws", None, "vpcflow")


@pytest.mark.parametrize(
    ("field", "value", "logsource", "expected"),
    [
        # The add-ons' CIM aliases on raw events: the same verbs.
        (
            "action",
            "failure",
            CLOUDTRAIL,
            MappedCheck(FieldName("event.outcome", True), None, "failure"),
        ),
        ("action", "blocked", VPC_FLOW, MappedCheck(FieldName("event.type", True), None, "denied")),
        (
            "action",
            "success",
            SECURITY,
            MappedCheck(FieldName("event.outcome", True), None, "success"),
        ),
        (
            "status",
            "success",
            SECURITY,
            MappedCheck(FieldName("event.outcome", True), None, "success"),
        ),
        (
            "status",
            "failure",
            CLOUDTRAIL,
            MappedCheck(FieldName("event.outcome", True), None, "failure"),
        ),
        # GitHub's audit log names its own operation action: that field, the value unchanged.
        ("action", "create", GITHUB, MappedCheck(FieldName("event.action", True))),
        ("action", "created", GITHUB, MappedCheck(FieldName("event.action", True))),
        # No verb: the name the search writes, never a Windows event field.
        ("action", "add", CLOUDTRAIL, MappedCheck(FieldName("action", False))),
        ("status", "0xc000006d", SECURITY, MappedCheck(FieldName("status", False))),
        ("status", "started", SECURITY, MappedCheck(FieldName("status", False))),
    ],
)
def test_raw_action_and_status_are_cim_verbs(
    field: str,
    value: str,
    logsource: tuple[str | None, str | None, str | None],
    expected: MappedCheck,
) -> None:
    assert CimMapper().map_check(field, None, [logsource], value=value) == expected


@pytest.mark.parametrize(
    ("field", "logsource", "ecs"),
    [
        # Security logon and Kerberos events: the add-on's src is the XML's IpAddress.
        ("src", SECURITY, "source.ip"),
        # Elsewhere src is the data set's (Sysmon 3 fills Network_Traffic).
        ("src", SYSMON_3, "source.address"),
        # 4663: the accessed object's path, as object_file_path.
        ("file_path", SECURITY, "winlog.event_data.ObjectName"),
        ("file_path", ("windows", "file_event", "sysmon"), "file.path"),
        # The event's code under CIM's name.
        ("signature_id", SECURITY, "event.code"),
        # CloudTrail's userIdentity.type under the AWS add-on's CIM alias.
        ("user_type", CLOUDTRAIL, "aws.cloudtrail.user_identity.type"),
        ("userIdentity.type", CLOUDTRAIL, "aws.cloudtrail.user_identity.type"),
        # Azure Monitor's category, as the azure integration stores it.
        ("category", ("azure", None, "signinlogs"), "azure.signinlogs.category"),
        ("category", ("azure", None, "auditlogs"), "azure.auditlogs.category"),
    ],
)
def test_add_on_names_with_a_field_of_their_own(
    field: str, logsource: tuple[str | None, str | None, str | None], ecs: str
) -> None:
    assert CimMapper().map_field(field, None, [logsource]).name == ecs


@pytest.mark.parametrize(
    ("field", "logsource"),
    [
        ("dest_category", SECURITY),
        ("src_category", SECURITY),
        ("user_type", SECURITY),
        ("start_mode", ("windows", None, "system")),
        ("category", ("windows", None, "printservice-operational")),
        ("EventData_Xml", ("windows", None, "system")),
        ("objectCategory", SECURITY),
        ("admonEventType", SECURITY),
        ("src", ("windows", None, "system")),
        ("file_path", ("windows", "process_creation", "sysmon")),
    ],
)
def test_add_on_names_without_a_windows_field_keep_their_name(
    field: str, logsource: tuple[str | None, str | None, str | None]
) -> None:
    assert CimMapper().map_field(field, None, [logsource]) == FieldName(field, False)


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        # file_name is ObjectName's last component: a check on the path's end.
        ("file_name", "wildcard", "*.aspx", (None, None)),
        ("file_name", "eq", "web.config", ("wildcard", "*\\web.config")),
        ("file_name", "wildcard", "web.*", ("wildcard", "*\\web.*")),
        ("object_file_name", "eq", "Login Data", ("wildcard", "*\\Login Data")),
    ],
)
def test_security_object_names_are_the_end_of_the_object_path(
    field: str, operator: str, value: str, expected: tuple[str | None, str | None]
) -> None:
    found = CimMapper().map_check(field, None, [SECURITY], value=value, operator=operator)
    path = FieldName("winlog.event_data.ObjectName", False)
    assert found == MappedCheck(path, *expected)


def test_file_name_on_file_events_stays_the_file_name() -> None:
    found = CimMapper().map_check(
        "file_name", None, [("windows", "file_event", "sysmon")], value="x.aspx"
    )
    assert found == MappedCheck(FieldName("file.name", True))
