"""The same indicator from different vendors is one Value: hand-written checks per rule."""

from __future__ import annotations

import pytest

from loaders.cim import CimMapper
from loaders.esql import parse_esql
from loaders.fields import sigma_to_ecs
from loaders.kql import parse_kql
from loaders.lucene import parse_lucene
from loaders.predicates import make_predicate, split_account


def triples(query: str) -> set[tuple[str, str, str, bool]]:
    return {(p.field, p.operator, p.value, p.negated) for p in parse_kql(query).predicates}


# --- cloud and SaaS operation names --------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "logsource", "expected"),
    [
        ("Operation", ("m365", None, "audit"), "event.action"),
        ("Workload", ("m365", None, "audit"), "event.provider"),
        ("eventName", ("m365", None, "threat_management"), "event.action"),
        ("eventSource", ("m365", None, "threat_management"), "event.provider"),
        ("operationName", ("azure", None, "auditlogs"), "event.action"),
        ("OperationName", ("azure", None, "auditlogs"), "event.action"),
        ("operationName", ("azure", None, "signinlogs"), "event.action"),
        ("operationName", ("azure", None, "activitylogs"), "event.action"),
        ("OperationNameValue", ("azure", None, "activitylogs"), "event.action"),
        ("ResourceId", ("azure", None, "activitylogs"), "azure.resource.id"),
        ("gcp.audit.method_name", ("gcp", None, "gcp.audit"), "event.action"),
        ("data.protoPayload.methodName", ("gcp", None, "gcp.audit"), "event.action"),
        ("eventName", ("gcp", None, "google_workspace.admin"), "event.action"),
        ("eventService", ("gcp", None, "google_workspace.admin"), "event.provider"),
        ("action", ("github", None, "audit"), "event.action"),
    ],
)
def test_cloud_operation_names_are_event_action(
    field: str, logsource: tuple[str, str | None, str], expected: str
) -> None:
    assert sigma_to_ecs(field, *logsource) == expected


def test_cloud_operation_fields_stay_raw_elsewhere() -> None:
    assert sigma_to_ecs("action", "windows", "process_creation") is None
    assert sigma_to_ecs("Operation", "linux", None, "auditd") is None


def test_elastic_azure_operation_name_is_event_action() -> None:
    found = triples('azure.auditlogs.operation_name : "Add member to role"')
    assert found == {("event.action", "eq", "add member to role", False)}


def test_elastic_okta_event_type_is_event_action_as_sigmas_event_type() -> None:
    found = triples("okta.event_type:user.session.start")
    assert found == {("event.action", "eq", "user.session.start", False)}
    assert sigma_to_ecs("eventType", "okta", None, "okta") == "event.action"


def test_splunk_security_lake_operation_is_event_action() -> None:
    mapper = CimMapper([])
    assert mapper.map_field("api.operation", None).name == "event.action"
    assert mapper.map_field("api.service.name", None).name == "event.provider"


# --- file extensions -----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["file.path", "file.name"])
def test_a_suffix_after_a_dot_is_the_file_extension(field: str) -> None:
    found = make_predicate(field, "wildcard", "*.VBS")
    assert (found.field, found.operator, found.value) == ("file.extension", "eq", "vbs")
    assert found.raw_value == "*.VBS"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("file.name", "*.tar.gz"),  # the extension is only "gz"
        ("file.path", "*.dll*"),  # more than the suffix
        ("file.name", "*.ex?"),  # a pattern, not one extension
        ("file.path", "*\\x.vbs"),  # a whole name: the path-to-name fold
        ("process.executable", "*.exe"),  # ECS has no process.extension
        ("dll.path", "*.dll"),  # nor dll.extension
    ],
)
def test_other_suffixes_do_not_become_an_extension(field: str, value: str) -> None:
    assert make_predicate(field, "wildcard", value).field != "file.extension"


def test_the_extension_fold_replaces_the_check() -> None:
    found = triples("file.name : *.hta and not file.path : *.js")
    assert found == {
        ("file.extension", "eq", "hta", False),
        ("file.extension", "eq", "js", True),
    }


# --- phrase searches on full-text fields ---------------------------------------------------------


def test_kql_phrase_on_a_text_field_is_contains() -> None:
    found = triples('powershell.file.script_block_text : ("Get-DomainUser" or Invoke-Kerberoast)')
    assert found == {
        ("powershell.file.script_block_text", "wildcard", "*get-domainuser*", False),
        ("powershell.file.script_block_text", "wildcard", "*invoke-kerberoast*", False),
    }


def test_kql_text_multi_field_is_contains_on_its_field() -> None:
    assert triples('process.command_line.text : "-enc"') == {
        ("process.command_line", "wildcard", "*-enc*", False)
    }


def test_lucene_term_and_phrase_on_a_text_field_are_contains() -> None:
    found = {
        (p.field, p.operator, p.value)
        for p in parse_lucene('message:"Logon Failure" OR message:denied').predicates
    }
    assert found == {
        ("message", "wildcard", "*logon failure*"),
        ("message", "wildcard", "*denied*"),
    }


def test_keyword_fields_and_patterns_keep_their_operator() -> None:
    assert triples("process.name : Rundll32.exe") == {("process.name", "eq", "rundll32.exe", False)}
    assert triples("powershell.file.script_block_text : *iex*") == {
        ("powershell.file.script_block_text", "wildcard", "*iex*", False)
    }


def test_esql_equality_on_a_text_field_stays_eq() -> None:
    query = 'from logs-* | where powershell.file.script_block_text == "x"'
    found = {(p.field, p.operator, p.value) for p in parse_esql(query).predicates}
    assert ("powershell.file.script_block_text", "eq", "x") in found


# --- auditd, Kubernetes audit, CloudTrail, Entra sign-in and Okta attributes ---------------------


@pytest.mark.parametrize(
    ("field", "logsource", "expected"),
    [
        ("comm", ("linux", None, "auditd"), "process.name"),
        ("exe", ("linux", None, "auditd"), "process.executable"),
        ("name", ("linux", None, "auditd"), "file.path"),
        ("syscall", ("linux", None, "auditd"), "auditd.data.syscall"),
        (
            "objectRef.resource",
            ("kubernetes", "application", "audit"),
            "kubernetes.audit.objectRef.resource",
        ),
        ("user.groups", ("kubernetes", "application", "audit"), "kubernetes.audit.user.groups"),
        (
            "annotations.authorization.k8s.io/decision",
            ("kubernetes", "application", "audit"),
            "kubernetes.audit.annotations.authorization_k8s_io/decision",
        ),
        ("userIdentity.type", ("aws", None, "cloudtrail"), "aws.cloudtrail.user_identity.type"),
        ("errorCode", ("aws", None, "cloudtrail"), "aws.cloudtrail.error_code"),
        (
            "ResultType",
            ("azure", None, "signinlogs"),
            "azure.signinlogs.properties.status.error_code",
        ),
        ("outcome.result", ("okta", None, "okta"), "okta.outcome.result"),
    ],
)
def test_cloud_and_audit_attributes_take_the_integrations_names(
    field: str, logsource: tuple[str, str | None, str], expected: str
) -> None:
    assert sigma_to_ecs(field, *logsource) == expected


M365_AUDIT = ("m365", None, "audit")


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("ErrorNumber", "o365.audit.ErrorNumber"),
        ("LogonError", "o365.audit.LogonError"),
        ("ClientAppId", "o365.audit.ClientAppId"),
        ("ApplicationId", "o365.audit.ApplicationId"),
        ("ObjectId", "o365.audit.ObjectId"),
        # entries of the ExtendedProperties and Parameters lists, named alone
        ("RequestType", "o365.audit.ExtendedProperties.RequestType"),
        ("AccessRights", "o365.audit.Parameters.AccessRights"),
    ],
)
def test_m365_record_attributes_are_the_o365_integrations(field: str, expected: str) -> None:
    assert sigma_to_ecs(field, *M365_AUDIT) == expected


@pytest.mark.parametrize(
    ("field", "logsource"),
    [
        ("Name", M365_AUDIT),  # rule.name on alerts, o365.audit.Name elsewhere
        ("Parameters", M365_AUDIT),  # a list the integration turns into an object
        ("ErrorNumber", ("m365", None, "threat_management")),
        ("ErrorNumber", ("okta", None, "okta")),
    ],
)
def test_other_m365_names_stay_raw(field: str, logsource: tuple[str, str | None, str]) -> None:
    assert sigma_to_ecs(field, *logsource) is None


def test_splunks_m365_target_list_is_the_integrations() -> None:
    found = CimMapper([]).map_field("Target{}.ID", None, [M365_AUDIT])
    assert (found.name, found.mapped) == ("o365.audit.Target.ID", True)


def test_auditd_names_stay_raw_for_other_linux_logs() -> None:
    assert sigma_to_ecs("comm", "linux", "process_creation") is None
    assert sigma_to_ecs("a0", "linux", None, "auditd") is None


def test_splunk_array_marks_are_no_part_of_the_name() -> None:
    mapper = CimMapper([])
    logsources = [("kubernetes", "application", "audit")]
    found = mapper.map_field("sourceIPs{}", None, logsources)
    assert found.name == "kubernetes.audit.sourceIPs"


# --- Windows logon types -------------------------------------------------------------------------


def test_elastic_logon_type_names_are_the_events_numbers() -> None:
    found = {
        (p.field, p.operator, p.value, p.raw_value)
        for p in parse_kql('winlog.logon.type : ("Network" or newcredentials)').predicates
    }
    assert found == {
        ("winlog.event_data.LogonType", "eq", "3", "Network"),
        ("winlog.event_data.LogonType", "eq", "9", "newcredentials"),
    }


def test_unknown_logon_type_names_and_other_operators_stay() -> None:
    assert triples("winlog.logon.type : Remote*") == {
        ("winlog.logon.type", "wildcard", "remote*", False)
    }
    assert triples("winlog.logon.type : Other") == {("winlog.logon.type", "eq", "other", False)}


# --- registry data ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("DWORD (0x00000000)", "0x00000000"),
        ("dword (0x0000000A)", "0x0000000a"),
        ("QWORD (0x0000000000000001)", "0x0000000000000001"),
        ("0x00000001", "0x00000001"),
        # Decimal data is text on REG_SZ values; a typo without 0x is no Sysmon number.
        ("1", "1"),
        ("DWORD (00000001)", "dword (00000001)"),
    ],
)
def test_sysmon_registry_numbers_are_the_number_alone(value: str, expected: str) -> None:
    found = make_predicate("registry.data.strings", "eq", value)
    assert (found.field, found.operator, found.value) == ("registry.data.strings", "eq", expected)
    assert found.raw_value == value


def test_a_registry_number_inside_a_pattern_stays_a_pattern() -> None:
    found = make_predicate("registry.data.strings", "wildcard", "*DWORD (0x00000001)*")
    assert found.value == "*dword (0x00000001)*"


# --- Kubernetes audit events, from the kubernetes integration or from AKS -----------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('azure.platformlogs.properties.log.verb : "create"', ("kubernetes.audit.verb", "create")),
        (
            'azure.platformlogs.properties.log.objectRef.subresource : "exec"',
            ("kubernetes.audit.objectRef.subresource", "exec"),
        ),
        (
            'azure.platformlogs.properties.log.userAgent : "kubectl*"',
            ("user_agent.original", "kubectl*"),
        ),
        ('kubernetes.audit.userAgent : "curl*"', ("user_agent.original", "curl*")),
        # An attribute no mapping names keeps the audit event's path.
        (
            'azure.platformlogs.properties.log.requestObject.spec.signerName : "x"',
            ("kubernetes.audit.requestObject.spec.signerName", "x"),
        ),
    ],
)
def test_aks_audit_attributes_are_the_kubernetes_audit_fields(
    query: str, expected: tuple[str, str]
) -> None:
    ((field, _, value, _),) = triples(query)
    assert (field, value) == expected
    assert sigma_to_ecs("verb", "kubernetes", "application", "audit") == "kubernetes.audit.verb"
    assert sigma_to_ecs("userAgent", "kubernetes", "application", "audit") == "user_agent.original"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("\\\\*\\IPC$", ("eq", "\\\\*\\ipc$")),
        ("\\\\*\\ADMIN$", ("eq", "\\\\*\\admin$")),
        # Another wildcard, or none where the server goes, is a pattern still.
        ("\\\\*\\*", ("wildcard", "\\\\*\\*")),
        ("*\\IPC$", ("wildcard", "*\\ipc$")),
    ],
)
def test_a_share_name_as_windows_writes_it_is_the_literal(
    value: str, expected: tuple[str, str]
) -> None:
    found = make_predicate("winlog.event_data.ShareName", "wildcard", value)
    assert (found.operator, found.value) == expected
    # Sigma and Elastic write the literal: one Value.
    if expected[0] == "eq":
        assert make_predicate("winlog.event_data.ShareName", "eq", value).key == found.key


# --- process integrity level ---------------------------------------------------------------------


def test_defends_integrity_level_is_sysmons() -> None:
    # Elastic's own rules check the two with one value: ?process.Ext.token.integrity_level_name
    # : "System" or ?winlog.event_data.IntegrityLevel : "System".
    query = (
        'process.Ext.token.integrity_level_name : "System" or '
        'winlog.event_data.IntegrityLevel : "System"'
    )
    assert triples(query) == {("winlog.event_data.IntegrityLevel", "eq", "system", False)}
    found = parse_kql('process.Ext.token.integrity_level_name : "high"').predicates
    assert [p.vendor_field for p in found] == ["process.Ext.token.integrity_level_name"]
    assert sigma_to_ecs("IntegrityLevel", "windows", "process_creation") is None  # Sigma: raw


# --- Windows accounts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        (
            "user.name",
            "eq",
            "NT AUTHORITY\\SYSTEM",
            {("user.name", "eq", "system"), ("user.domain", "eq", "nt authority")},
        ),
        ("user.name", "wildcard", "*\\SYSTEM", {("user.name", "eq", "system")}),
        (
            "process.user.name",
            "eq",
            "CORP\\svc_backup",
            {("process.user.name", "eq", "svc_backup"), ("process.user.domain", "eq", "corp")},
        ),
        # patterns in the name or the domain, a literal "*" and other fields stay as they are
        ("user.name", "wildcard", "*\\sys*", {("user.name", "wildcard", "*\\sys*")}),
        (
            "user.name",
            "wildcard",
            "nt auth*\\system",
            {("user.name", "wildcard", "nt auth*\\system")},
        ),
        ("user.name", "eq", "*\\system", {("user.name", "eq", "*\\system")}),
        ("user.id", "eq", "NT AUTHORITY\\SYSTEM", {("user.id", "eq", "nt authority\\system")}),
    ],
)
def test_a_domain_account_on_a_user_name_is_ecs_name_and_domain(
    field: str, operator: str, value: str, expected: set[tuple[str, str, str]]
) -> None:
    found = split_account(make_predicate(field, operator, value))
    assert {(p.field, p.operator, p.value) for p in found} == expected
    assert {p.raw_value for p in found} == {value}
