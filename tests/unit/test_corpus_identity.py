"""Real corpus rules of different vendors that check the same indicator meet on one Value.

Each test reads single rule files (not the whole corpus). The corpus comes from
COVGRAPH_CORPUS; the tests skip without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus_rules import elastic, sigma, splunk

from loaders.splunk import SplunkContext, load_context


@pytest.fixture(scope="module")
def splunk_context(corpus_dir: Path) -> SplunkContext:
    return load_context(corpus_dir / "splunk")[0]


# --- cloud and SaaS operation names --------------------------------------------------------------


def test_entra_role_assignment_is_one_value(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    check = ("event.action", "eq", "add member to role", False)
    assert check in sigma(
        corpus_dir, "rules/cloud/azure/audit_logs/azure_ad_user_added_to_admin_role.yml"
    )
    assert check in splunk(
        corpus_dir,
        splunk_context,
        "detections/cloud/azure_ad_application_administrator_role_assigned.yml",
    )
    assert check in elastic(
        corpus_dir,
        "rules/integrations/azure/persistence_entra_id_global_administrator_role_assigned.toml",
    )


def test_security_lake_operation_meets_cloudtrail(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    found = splunk(
        corpus_dir, splunk_context, "detections/cloud/asl_aws_defense_evasion_delete_cloudtrail.yml"
    )
    assert ("event.action", "eq", "deletetrail", False) in found


def test_workspace_event_name_meets_elastic(corpus_dir: Path) -> None:
    found = sigma(
        corpus_dir,
        "rules/cloud/gcp/gworkspace/admin/gcp_gworkspace_application_access_levels_modified.yml",
    )
    assert ("event.action", "eq", "change_application_setting", False) in found


# --- file extensions -----------------------------------------------------------------------------


def test_hta_extension_is_one_value(corpus_dir: Path, splunk_context: SplunkContext) -> None:
    check = ("file.extension", "eq", "hta", False)
    assert check in elastic(
        corpus_dir, "rules/windows/command_and_control_ingress_transfer_bits.toml"
    )
    assert check in sigma(
        corpus_dir,
        "rules-emerging-threats/2023/Exploits/CVE-2023-27363/file_event_win_cve_2023_27363_foxit_rce.yml",
    )


def test_splunk_file_name_suffix_is_the_extension(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    found = splunk(
        corpus_dir,
        splunk_context,
        "detections/endpoint/executables_or_script_creation_in_suspicious_path.yml",
    )
    assert ("file.extension", "eq", "vbs", False) in found
    assert not {c for c in found if c[0] == "file.name" and c[2] == "*.vbs"}


# --- phrase searches on full-text fields ---------------------------------------------------------


def test_script_block_phrase_meets_splunk_contains(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    check = ("powershell.file.script_block_text", "wildcard", "*get-domainuser*", False)
    assert check in elastic(corpus_dir, "rules/windows/execution_posh_hacktool_functions.toml")
    assert check in splunk(
        corpus_dir,
        splunk_context,
        "detections/endpoint/disabled_kerberos_pre_authentication_discovery_with_powerview.yml",
    )


# --- web requests --------------------------------------------------------------------------------


def test_raw_http_method_of_stream_and_suricata_is_the_request_method(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    post = ("http.request.method", "eq", "post", False)
    for path in [
        "detections/network/plain_http_post_exfiltrated_data.yml",  # stream:http
        "detections/web/jetbrains_teamcity_authentication_bypass_suricata_cve_2024_27198.yml",
    ]:
        assert post in splunk(corpus_dir, splunk_context, path)
    assert post in sigma(corpus_dir, "rules/web/webserver_generic/web_webshell_regeorg.yml")
    assert post in elastic(corpus_dir, "rules/apm/apm_403_response_to_a_post.toml")


def test_raw_web_urls_meet_sigmas_url(corpus_dir: Path, splunk_context: SplunkContext) -> None:
    dll = ("url.original", "wildcard", "*.dll", False)
    assert dll in splunk(
        corpus_dir, splunk_context, "detections/web/zscaler_potentially_abused_file_download.yml"
    )
    assert dll in sigma(corpus_dir, "rules/network/zeek/zeek_http_susp_file_ext_from_susp_tld.yml")
    wizard = ("url.original", "wildcard", "*/setupwizard.aspx/*", False)
    assert wizard in splunk(
        corpus_dir,
        splunk_context,
        "detections/web/nginx_connectwise_screenconnect_authentication_bypass.yml",
    )
    assert wizard in sigma(
        corpus_dir,
        "rules-emerging-threats/2024/Exploits/CVE-2024-1709/web_exploit_cve_2024_1709_screenconnect.yml",
    )


# --- auditd, Kubernetes audit, CloudTrail attributes ---------------------------------------------


def test_auditd_exe_suffix_is_the_process_name(corpus_dir: Path) -> None:
    found = sigma(corpus_dir, "rules/linux/auditd/syscall/lnx_auditd_network_service_scanning.yml")
    assert ("process.name", "eq", "ncat", False) in found


def test_kubernetes_secrets_resource_is_one_value(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    check = ("kubernetes.audit.objectRef.resource", "eq", "secrets", False)
    assert check in sigma(
        corpus_dir, "rules/application/kubernetes/audit/kubernetes_audit_secrets_enumeration.yml"
    )
    assert check in splunk(
        corpus_dir,
        splunk_context,
        "detections/cloud/kubernetes_abuse_of_secret_by_unusual_location.yml",
    )


def test_cloudtrail_identity_type_meets_elastic(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    check = ("aws.cloudtrail.user_identity.type", "eq", "root", False)
    assert check in sigma(corpus_dir, "rules/cloud/aws/cloudtrail/aws_root_account_usage.yml")
    assert check in elastic(
        corpus_dir, "rules/_deprecated/privilege_escalation_root_login_without_mfa.toml"
    )
    found = splunk(
        corpus_dir, splunk_context, "detections/cloud/aws_iam_accessdenied_discovery_events.yml"
    )
    assert ("aws.cloudtrail.error_code", "eq", "accessdenied", False) in found


def test_cloudtrail_request_parameters_meet_elastics_flattened_fields(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    field = "aws.cloudtrail.flattened.request_parameters."
    found = splunk(
        corpus_dir,
        splunk_context,
        "detections/cloud/aws_network_access_control_list_created_with_all_open_ports.yml",
    )
    nacl = elastic(
        corpus_dir,
        "rules/integrations/aws/defense_evasion_ec2_nacl_all_traffic_allowed_new_identity.toml",
    )
    for check in [
        (field + "aclProtocol", "eq", "-1", False),
        (field + "ruleAction", "eq", "allow", False),
    ]:
        assert check in found
        assert check in nacl
    assert (field + "egress", "eq", "false", False) in found
    userdata = (field + "attribute", "eq", "userdata", False)
    assert userdata in sigma(corpus_dir, "unsupported/cloud/aws_ec2_download_userdata.yml")
    assert userdata in elastic(
        corpus_dir, "rules/integrations/aws/discovery_ec2_userdata_request_for_ec2_instance.toml"
    )


# --- Windows logon types -------------------------------------------------------------------------


def test_new_credentials_logon_is_one_value(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    check = ("winlog.event_data.LogonType", "eq", "9", False)
    assert check in elastic(corpus_dir, "rules/windows/lateral_movement_alternate_creds_pth.toml")
    assert check in sigma(
        corpus_dir,
        "rules/windows/builtin/security/account_management/win_security_access_token_abuse.yml",
    )
    assert check in splunk(
        corpus_dir,
        splunk_context,
        "detections/deprecated/detect_activity_related_to_pass_the_hash_attacks.yml",
    )


def test_sigmas_borrowed_logon_type_is_the_events_logon_type(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    # Two Sigma rules spell the field as Splunk's Windows add-on does (Logon_Type).
    check = ("winlog.event_data.LogonType", "eq", "3", False)
    for path in [
        "unsupported/windows/win_remote_service.yml",
        "unsupported/windows/win_remote_schtask.yml",
    ]:
        assert check in sigma(corpus_dir, path)
    assert check in sigma(
        corpus_dir,
        "rules/windows/builtin/security/account_management/win_security_successful_external_remote_smb_login.yml",
    )
    assert check in splunk(
        corpus_dir,
        splunk_context,
        "detections/endpoint/unusual_number_of_remote_endpoint_authentication_events.yml",
    )


def test_defends_integrity_level_meets_sysmons(corpus_dir: Path) -> None:
    # The rule checks Elastic Defend's integrity_level_name alone.
    check = ("winlog.event_data.IntegrityLevel", "eq", "system", False)
    assert check in elastic(corpus_dir, "rules/windows/privilege_escalation_installertakeover.toml")
    assert check in sigma(
        corpus_dir,
        "rules-emerging-threats/2021/Exploits/CVE-2021-41379/proc_creation_win_exploit_cve_2021_41379.yml",
    )


def test_m365_record_attributes_meet_elastics(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    app = ("o365.audit.ApplicationId", "eq", "9ba1a5c7-f17a-4de9-a1f1-6178c8d51223", False)
    assert app in sigma(
        corpus_dir, "rules/cloud/m365/audit/microsoft365_bypass_conditional_access.yml"
    )
    assert app in elastic(
        corpus_dir,
        "rules/integrations/o365/initial_access_identity_oauth_phishing_via_first_party_microsoft_application.toml",
    )
    full = ("o365.audit.Parameters.AccessRights", "eq", "fullaccess", False)
    assert full in splunk(
        corpus_dir, splunk_context, "detections/cloud/o365_elevated_mailbox_permission_assigned.yml"
    )
    assert full in elastic(
        corpus_dir,
        "rules/integrations/o365/persistence_exchange_suspicious_mailbox_permission_delegation.toml",
    )


def test_splunks_bare_registry_key_names_are_value_names(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    found = splunk(
        corpus_dir, splunk_context, "detections/endpoint/registry_keys_used_for_persistence.yml"
    )
    packages = ("registry.value", "eq", "security packages", False)
    assert packages in found
    assert ("registry.value", "eq", "debugger", False) in found
    assert not {c for c in found if c[0] == "registry.path" and "\\" not in c[2]}
    assert packages in elastic(
        corpus_dir, "rules/windows/persistence_via_lsa_security_support_provider_registry.toml"
    )


def test_sigmas_system_account_meets_the_bare_user_name(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    # User|endswith: '\SYSTEM' is the name SYSTEM in any domain, as Splunk and Elastic write it.
    system = ("user.name", "eq", "system", False)
    assert system in sigma(
        corpus_dir,
        "rules/windows/process_creation/proc_creation_win_susp_child_process_as_system_.yml",
    )
    assert system in splunk(
        corpus_dir, splunk_context, "detections/endpoint/windows_registry_delete_task_sd.yml"
    )
    found = sigma(
        corpus_dir, "unsupported/windows/win_possible_privilege_escalation_using_rotten_potato.yml"
    )
    assert {system, ("user.domain", "eq", "nt authority", False)} <= found
