"""Sigma -> ECS field names, read from pySigma's Elasticsearch pipelines."""

from __future__ import annotations

import pytest

from loaders.events import windows_service
from loaders.fields import (
    FieldName,
    sigma_field,
    sigma_to_ecs,
    sigma_value,
    windows_event_data_field,
)


@pytest.mark.parametrize(
    ("field", "logsource", "expected"),
    [
        # ecs_windows, product-wide mapping; ".caseless" dropped
        ("Image", ("windows", "process_creation", None), "process.executable"),
        ("ParentImage", ("windows", "process_creation", None), "process.parent.executable"),
        ("TargetObject", ("windows", "registry_set", None), "registry.path"),
        ("EventID", ("windows", None, "security"), "event.code"),
        ("NewProcessName", ("windows", None, "security"), "process.executable"),
        # ecs_windows, mappings conditioned on category or service win over product-wide ones
        (
            "OriginalFileName",
            ("windows", "process_creation", None),
            "process.pe.original_file_name",
        ),
        ("CommandLine", ("windows", "process_creation", None), "process.command_line"),
        ("CommandLine", ("windows", None, "powershell-classic"), "powershell.command.value"),
        ("SubjectUserName", ("windows", None, "security"), "user.name"),
        # ecs_macos_esf, borrowed for macOS rules that name no service
        ("User", ("macos", "process_creation", None), "process.user.name"),
        ("Image", ("macos", "process_creation", None), "process.executable"),
        # Sysmon for Linux categories read the Windows Sysmon mapping
        ("Image", ("linux", "process_creation", None), "process.executable"),
        ("CommandLine", ("linux", "process_creation", None), "process.command_line"),
        ("TargetFilename", ("linux", "file_event", None), "file.path"),
        # ecs_kubernetes: unconditional item, scoped to its pipeline's product
        ("username", ("kubernetes", "application", "audit"), "kubernetes.audit.user.username"),
        # ecs_zeek_beats: proxy / webserver categories are rewritten to zeek http
        ("c-uri", (None, "proxy", None), "url.original"),
        ("c-useragent", (None, "webserver", None), "user_agent.original"),
        ("cs-host", (None, "proxy", None), "url.domain"),
        ("dst_ip", ("zeek", None, "conn"), "destination.ip"),
        # hand table: fields no pipeline maps
        ("Details", ("windows", "registry_set", None), "registry.data.strings"),
        ("eventName", ("aws", None, "cloudtrail"), "event.action"),
        ("eventSource", ("aws", None, "cloudtrail"), "event.provider"),
        ("eventType", ("okta", None, "okta"), "event.action"),
        ("cs-uri-query", (None, "webserver", None), "url.query"),
    ],
)
def test_sigma_to_ecs_maps_through_the_pipelines(
    field: str, logsource: tuple[str | None, str | None, str | None], expected: str
) -> None:
    assert sigma_to_ecs(field, *logsource) == expected


@pytest.mark.parametrize(
    ("field", "logsource"),
    [
        ("username", ("okta", None, "okta")),  # the Kubernetes mapping is not for Okta
        ("Image", ("linux", None, "auditd")),  # auditd is no Sysmon event
        # CloudTrail's request object as a whole: its JSON text is not what the integration
        # keeps as text
        ("requestParameters", ("aws", None, "cloudtrail")),
        ("requestParameters.bucketName", ("gcp", None, "gcp.audit")),  # no CloudTrail event
        ("Provider", ("windows", None, "wmi")),
        ("user", ("zeek", None, "http")),  # zeek maps it onto the pattern zeek.*user*
    ],
)
def test_sigma_to_ecs_returns_none_without_a_mapping(
    field: str, logsource: tuple[str | None, str | None, str | None]
) -> None:
    assert sigma_to_ecs(field, *logsource) is None


def test_without_a_log_source_the_least_specific_mapping_is_used() -> None:
    assert sigma_to_ecs("Image") == "process.executable"
    assert sigma_to_ecs("CommandLine") == "process.command_line"
    assert sigma_to_ecs("ParentCommandLine") == "process.parent.command_line"


def test_field_names_are_matched_case_insensitively_as_a_fallback() -> None:
    assert sigma_to_ecs("commandline", "windows", "process_creation") == "process.command_line"


def test_log_source_parts_are_case_insensitive() -> None:
    assert sigma_to_ecs("Image", "Windows", "Process_Creation") == "process.executable"


def test_unmapped_windows_fields_follow_pysigma_event_data_prefix() -> None:
    assert sigma_field("Provider", "windows", None, "wmi") == FieldName(
        "winlog.event_data.Provider", mapped=False
    )
    # already dotted names are left as they are, as ecs_windows does
    assert sigma_field("a.b", "windows") == FieldName("a.b", mapped=False)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        # Splunk's Windows add-on spellings some Sigma rules borrow: the event's own field
        ("Logon_Type", FieldName("winlog.event_data.LogonType", mapped=False)),
        ("Source_Network_Address", FieldName("source.ip", mapped=True)),
        ("Caller_User_Name", FieldName("user.name", mapped=True)),
    ],
)
def test_windows_add_on_spellings_are_the_events_fields(field: str, expected: FieldName) -> None:
    assert sigma_field(field, "windows", None, "security") == expected


def test_windows_add_on_spellings_stay_raw_on_other_products() -> None:
    assert sigma_field("Logon_Type", "linux", None, "auth") == FieldName("Logon_Type", False)


def test_unmapped_fields_of_other_log_sources_keep_their_sigma_name() -> None:
    assert sigma_field("requestParameters", "aws", None, "cloudtrail") == FieldName(
        "requestParameters", mapped=False
    )
    assert sigma_field("Image", "windows", "process_creation") == FieldName(
        "process.executable", mapped=True
    )


def test_zeeks_catch_all_names_stay_out_of_firewall_and_web_server_logs() -> None:
    # ecs_zeek_beats maps a bare action to zeek.smb_files.action and status to
    # zeek.socks.status for every log it reads as Zeek's; a firewall's action and a web
    # server's status are the event's action and the HTTP response's code.
    assert sigma_to_ecs("action", None, "firewall") == "event.action"
    assert sigma_to_ecs("status", None, "webserver") == "http.response.status_code"
    assert sigma_to_ecs("sc-status", None, "webserver") == "http.response.status_code"
    # Zeek's own SMB files log keeps its field.
    assert sigma_to_ecs("action", "zeek", None, "smb_files") == "zeek.smb_files.action"


def test_zeeks_catch_all_names_stay_out_of_proxy_and_zeek_http_logs() -> None:
    # A proxy's Cookie header is no list of Zeek cookie names; a Zeek http log's host is the
    # Host header (url.domain), not the intel log's host.
    assert sigma_to_ecs("cs-cookie", None, "proxy") == "http.request.headers.cookie"
    assert sigma_to_ecs("host", "zeek", None, "http") == "url.domain"
    assert sigma_to_ecs("user_agent", "zeek", None, "http") == "user_agent.original"


def test_zeeks_pattern_names_take_the_rules_log() -> None:
    # ecs_zeek_beats maps these onto zeek.*.<name>; the rule's log fills the pattern in.
    assert sigma_to_ecs("cipher", "zeek", None, "kerberos") == "zeek.kerberos.cipher"
    assert sigma_to_ecs("service", "zeek", None, "kerberos") == "zeek.kerberos.service"
    assert sigma_to_ecs("path", "zeek", None, "smb_files") == "zeek.smb_files.path"


def test_a_windows_events_message_is_its_rendered_text() -> None:
    assert sigma_to_ecs("Message", "windows", None, "application") == "message"
    assert sigma_to_ecs("Message", "windows", None, "system") == "message"


def test_a_service_installs_account_and_header_pid_keep_the_system_logs_names() -> None:
    # System 7045's AccountName is the service's account (LocalSystem), not the acting user;
    # its ProcessId is the event header's, which the system integration keeps under winlog.
    assert sigma_to_ecs("AccountName", "windows", None, "system") == (
        "winlog.event_data.AccountName"
    )
    assert sigma_to_ecs("ProcessId", "windows", None, "system") == "winlog.process.pid"
    assert sigma_to_ecs("ProcessId", "windows", None, "security") == "process.pid"


def test_an_openssh_payload_is_no_powershell_script_block() -> None:
    assert sigma_to_ecs("payload", "windows", None, "openssh") == "winlog.event_data.payload"
    assert sigma_to_ecs("Payload", "windows", None, "powershell") == (
        "powershell.file.script_block_text"
    )


def test_image_loads_map_imageloaded_to_dll_path_over_pysigma() -> None:
    # pySigma's ecs_windows says file.path for every Windows log source; ECS and Elastic's
    # rules keep a loaded library in dll.*.
    assert sigma_to_ecs("ImageLoaded", "windows", "image_load") == "dll.path"
    assert sigma_to_ecs("ImageLoaded", "windows", "image_load", "sysmon") == "dll.path"
    # a driver is no library: driver_load keeps pySigma's mapping, as do other categories
    assert sigma_to_ecs("ImageLoaded", "windows", "driver_load") == "file.path"
    assert sigma_to_ecs("ImageLoaded", "windows", None, "sysmon") == "file.path"
    # the loaded library's PE and signature fields follow it into dll.*; the loading process
    # (Image) keeps pySigma's mapping
    assert sigma_to_ecs("OriginalFileName", "windows", "image_load") == (
        "dll.pe.original_file_name"
    )
    assert sigma_to_ecs("Signed", "windows", "image_load") == "dll.code_signature.signed"
    assert sigma_to_ecs("Signature", "windows", "image_load") == "dll.code_signature.subject_name"
    assert sigma_to_ecs("SignatureStatus", "windows", "image_load") == "dll.code_signature.status"
    assert sigma_to_ecs("Signed", "windows", "driver_load") == "file.code_signature.signed"
    assert sigma_to_ecs("Image", "windows", "image_load") == "process.executable"


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("requestParameters.egress", "aws.cloudtrail.flattened.request_parameters.egress"),
        (
            "requestParameters.ipPermissions.items.fromPort",
            "aws.cloudtrail.flattened.request_parameters.ipPermissions.items.fromPort",
        ),
        (
            "responseElements.ConsoleLogin",
            "aws.cloudtrail.flattened.response_elements.ConsoleLogin",
        ),
        ("additionalEventData.MFAUsed", "aws.cloudtrail.flattened.additional_eventdata.MFAUsed"),
        (
            "serviceEventDetails.backupVaultName",
            "aws.cloudtrail.flattened.service_event_details.backupVaultName",
        ),
        # the object's name in any case; the path inside it as written
        (
            "RequestParameters.aclProtocol",
            "aws.cloudtrail.flattened.request_parameters.aclProtocol",
        ),
    ],
)
def test_cloudtrail_object_attributes_take_the_flattened_field(field: str, expected: str) -> None:
    # The aws integration keeps requestParameters and its siblings whole, keys as CloudTrail
    # spells them, under aws.cloudtrail.flattened; Elastic's rules check them there.
    assert sigma_field(field, "aws", None, "cloudtrail") == FieldName(expected, mapped=True)


def test_webserver_cs_uri_stem_is_the_url() -> None:
    assert sigma_to_ecs("cs-uri-stem", None, "webserver", None) == "url.original"
    # proxy rules that borrow the web server's spelling of the URI's path
    assert sigma_to_ecs("cs-uri-stem", None, "proxy", None) == "url.original"


def test_webserver_cs_username_is_the_user_name() -> None:
    assert sigma_to_ecs("cs-username", None, "webserver", None) == "user.name"


def test_network_direction_values_come_from_the_pipeline() -> None:
    assert sigma_value("network.direction", "true") == "egress"
    assert sigma_value("network.direction", "False") == "ingress"
    assert sigma_value("network.direction", "inbound") == "inbound"
    assert sigma_value("process.name", "true") == "true"


def test_a_category_alone_borrows_no_other_products_mapping() -> None:
    # Zeek's pipeline maps a files log's Filename; an antivirus alert's Filename is the path of
    # the detected file.
    assert sigma_field("Filename", None, "antivirus") == FieldName("file.path", True)
    assert sigma_to_ecs("Filename", None, "webserver") is None


def test_raw_windows_event_fields_map_only_when_every_channel_agrees() -> None:
    assert windows_event_data_field("winlog.event_data.SubjectUserSid", {"security"}) == "user.id"
    # Sigma maps ServiceName on Security events, not on System ones: no single name.
    assert windows_event_data_field("winlog.event_data.ServiceName", {"security"}) == "service.name"
    assert windows_event_data_field("winlog.event_data.ServiceName", {"security", "system"}) is None
    assert windows_event_data_field("winlog.event_data.SubjectUserSid", set()) is None
    assert windows_event_data_field("user.id", {"security"}) is None
    assert windows_service("windows-security:4624") == "security"
    assert windows_service("sysmon:1") == "sysmon"
    assert windows_service("aws-cloudtrail") is None


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("id.orig_h", "source.ip"),
        ("id.orig_p", "source.port"),
        ("id.resp_h", "destination.ip"),
        ("id.resp_p", "destination.port"),
        # Corelight's names, which the pipeline maps, land on the same fields.
        ("src_ip", "source.ip"),
    ],
)
def test_zeeks_own_connection_fields_are_source_and_destination(field: str, expected: str) -> None:
    assert sigma_to_ecs(field, "zeek", None, "rdp") == expected
    assert sigma_to_ecs(field, "zeek", None, "conn") == expected


# --- Entra ID audit and sign-in logs: the azure integration's names ---------------------------

SIGNIN = ("azure", None, "signinlogs")
AUDIT = ("azure", None, "auditlogs")


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        # Log Analytics' columns and the JSON's paths, snake-cased as the integration does
        ("AuthenticationRequirement", "azure.signinlogs.properties.authentication_requirement"),
        (
            "properties.authenticationRequirement",
            "azure.signinlogs.properties.authentication_requirement",
        ),
        ("RiskState", "azure.signinlogs.properties.risk_state"),
        ("ResourceDisplayName", "azure.signinlogs.properties.resource_display_name"),
        ("conditionalAccessStatus", "azure.signinlogs.properties.conditional_access_status"),
        ("DeviceDetail.deviceId", "azure.signinlogs.properties.device_detail.device_id"),
        ("properties.deviceDetail.deviceId", "azure.signinlogs.properties.device_detail.device_id"),
        ("properties.appId", "azure.signinlogs.properties.app_id"),
        ("properties.appDisplayName", "azure.signinlogs.properties.app_display_name"),
        (
            "properties.authenticationProtocol",
            "azure.signinlogs.properties.authentication_protocol",
        ),
        # the pipeline's own renames after snake-casing
        (
            "properties.riskLevelDuringSignIn",
            "azure.signinlogs.properties.risk_level_during_signin",
        ),
        ("properties.createdDateTime", "azure.signinlogs.properties.created_at"),
        # names that are no plain snake_case of the attribute
        ("ClientApp", "azure.signinlogs.properties.client_app_used"),
        ("DeviceDetail.trusttype", "azure.signinlogs.properties.device_detail.trust_type"),
        # moved to ECS by the integration
        ("userAgent", "user_agent.original"),
        ("properties.userAgent", "user_agent.original"),
        ("IPAddress", "source.ip"),
        ("callerIpAddress", "source.ip"),
        # the record's own attributes
        ("ResultType", "azure.signinlogs.properties.status.error_code"),
        ("ResultDescription", "azure.signinlogs.result_description"),
        ("operationName", "event.action"),
    ],
)
def test_entra_sign_in_fields_take_the_integrations_names(field: str, expected: str) -> None:
    assert sigma_to_ecs(field, *SIGNIN) == expected


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        # the activity is the operation's name
        ("properties.message", "event.action"),
        ("ActivityDisplayName", "event.action"),
        ("operationName", "event.action"),
        # Log Analytics' Category is the audit category, properties.category
        ("Category", "azure.auditlogs.properties.category"),
        ("properties.category", "azure.auditlogs.properties.category"),
        ("properties.result", "event.outcome"),
        ("LoggedByService", "azure.auditlogs.properties.logged_by_service"),
        ("properties.operationType", "azure.auditlogs.properties.operation_type"),
        # initiatedBy is renamed, what it holds keeps the JSON's spelling
        ("properties.initiatedBy.user.id", "azure.auditlogs.properties.initiated_by.user.id"),
        (
            "properties.initiatedBy.user.userPrincipalName",
            "azure.auditlogs.properties.initiated_by.user.userPrincipalName",
        ),
        ("properties.userAgent", "azure.auditlogs.properties.userAgent"),
        # target resources and their modified properties, without positions
        (
            "properties.targetResources.modifiedProperties.newValue",
            "azure.auditlogs.properties.target_resources.modified_properties.new_value",
        ),
        (
            "TargetResources.ModifiedProperties.DisplayName",
            "azure.auditlogs.properties.target_resources.modified_properties.display_name",
        ),
        ("targetResources.type", "azure.auditlogs.properties.target_resources.type"),
    ],
)
def test_entra_audit_fields_take_the_integrations_names(field: str, expected: str) -> None:
    assert sigma_to_ecs(field, *AUDIT) == expected


@pytest.mark.parametrize(
    ("field", "logsource"),
    [
        # all-lower bare names are Splunk's CIM aliases, not attributes of the log
        ("action", SIGNIN),
        ("status", SIGNIN),
        ("user", AUDIT),
        # Status is an object; Location and the status texts move out of properties
        ("Status", SIGNIN),
        ("location", SIGNIN),
        ("properties.status.additionalDetails", SIGNIN),
        # a sign-in has no message attribute; Sigma uses it as free text there
        ("properties.message", SIGNIN),
        # audit columns the integration does not rename, and keys it drops
        ("ActivityType", AUDIT),
        ("properties.targetResources.modifiedProperties.unknownKey", AUDIT),
        # no Entra log: the generic rule does not reach activity logs or other products
        ("AuthenticationRequirement", ("azure", None, "activitylogs")),
        ("AuthenticationRequirement", ("okta", None, "okta")),
    ],
)
def test_entra_names_outside_properties_stay_raw(
    field: str, logsource: tuple[str | None, str | None, str | None]
) -> None:
    assert sigma_to_ecs(field, *logsource) is None
