"""Real corpus rules whose indicators the loaders once read wrong, checked by hand.

Each test reads one rule file (not the whole corpus) and asserts on what the rule checks, so a
regression names the rule. The corpus comes from COVGRAPH_CORPUS; the tests skip without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus_rules import Check, elastic, sigma, splunk

from loaders.splunk import SplunkContext, load_context, read_detection


@pytest.fixture(scope="module")
def splunk_context(corpus_dir: Path) -> SplunkContext:
    return load_context(corpus_dir / "splunk")[0]


# --- CIDR values ---------------------------------------------------------------------------------


def test_kql_cidr_exclusions_are_cidr_checks(corpus_dir: Path) -> None:
    found = elastic(corpus_dir, "rules/windows/exfiltration_smb_rare_destination.toml")
    assert ("destination.ip", "cidr", "10.0.0.0/8", True) in found
    assert not {c for c in found if c[1] == "eq" and c[2] == "10.0.0.0/8"}


def test_cidr_values_are_canonical(corpus_dir: Path) -> None:
    found = elastic(
        corpus_dir, "rules/macos/command_and_control_perl_outbound_network_connection.toml"
    )
    cidrs = {value for _field, operator, value, _negated in found if operator == "cidr"}
    assert {"fe80::/10", "ff00::/8", "::1/128"} <= cidrs
    assert not {"FE80::/10", "FF00::/8", "::1", "127.0.0.1"} & cidrs


def test_spl_cidr_on_a_raw_sysmon_field(corpus_dir: Path, splunk_context: SplunkContext) -> None:
    found = splunk(
        corpus_dir, splunk_context, "detections/endpoint/detect_regasm_with_network_connection.yml"
    )
    assert ("destination.ip", "cidr", "10.0.0.0/8", True) in found
    assert not any(field.startswith("winlog.event_data.dest_ip") for field, *_ in found)


def test_a_keyword_field_holding_cidr_text_stays_eq(corpus_dir: Path) -> None:
    found = elastic(
        corpus_dir,
        "rules/integrations/aws/defense_evasion_vpc_security_group_ingress_rule_added_for_remote_connections.toml",
    )
    field = "aws.cloudtrail.flattened.request_parameters.ipPermissions.items.ipRanges.items.cidrIp"
    assert (field, "eq", "0.0.0.0/0", False) in found


# --- Sigma Initiated -----------------------------------------------------------------------------


def test_sigma_initiated_is_egress(corpus_dir: Path) -> None:
    found = sigma(
        corpus_dir,
        "rules/windows/network_connection/net_connection_win_regasm_network_activity.yml",
    )
    assert ("network.direction", "eq", "egress", False) in found
    assert not {c for c in found if c[0] == "network.direction" and c[2] == "true"}


# --- TA and CIM names on raw Windows events ------------------------------------------------------


def test_ta_logon_type_is_sigmas_field(corpus_dir: Path, splunk_context: SplunkContext) -> None:
    path = (
        "detections/endpoint/windows_unusual_count_of_users_failed_to_authenticate_from_process.yml"
    )
    found = splunk(corpus_dir, splunk_context, path)
    assert ("winlog.event_data.LogonType", "eq", "2", False) in found
    assert not any(field == "winlog.event_data.Logon_Type" for field, *_ in found)


def test_service_name_is_sigmas_service_name(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    found = splunk(
        corpus_dir, splunk_context, "detections/endpoint/windows_service_stop_win_updates.yml"
    )
    assert any(field == "winlog.event_data.ServiceName" for field, *_ in found)
    assert not any(field == "winlog.event_data.service_name" for field, *_ in found)


# --- fields the search creates -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "invented", "kept"),
    [
        (
            "detections/web/exploit_public_facing_application_via_apache_commons_text.yml",
            "Score",
            ("http.request.method", "eq", "post", False),
        ),
        (
            "detections/endpoint/unusually_long_command_line___mltk.yml",
            "IsOutlier",
            ("user.name", "eq", "unknown", True),
        ),
        (
            "detections/endpoint/detect_processes_used_for_system_network_configuration_discovery.yml",
            "eventcount",
            ("process.name", "eq", "arp.exe", False),
        ),
        (
            "detections/cloud/abnormally_high_number_of_cloud_instances_launched.yml",
            "cardinality",
            # All_Changes.action=created: CIM's verb, ECS's event.type creation.
            ("event.type", "eq", "creation", False),
        ),
        (
            "detections/application/windows_ad_gpo_new_cse_addition.yml",
            "new_values",
            ("event.code", "eq", "5136", False),
        ),
    ],
)
def test_created_fields_are_no_indicators(
    corpus_dir: Path, splunk_context: SplunkContext, path: str, invented: str, kept: Check
) -> None:
    found = splunk(corpus_dir, splunk_context, path)
    assert kept in found
    assert not [c for c in found if invented in c[0]]


@pytest.mark.parametrize(
    ("path", "invented"),
    [
        ("detections/endpoint/potential_password_in_username.yml", "ut_shannon"),
        ("detections/network/high_volume_of_bytes_out_to_url.yml", "sum_bytes_out"),
    ],
)
def test_a_search_checking_only_created_fields_names_them(
    corpus_dir: Path, splunk_context: SplunkContext, path: str, invented: str
) -> None:
    root = corpus_dir / "splunk"
    read = read_detection(root / path, root, splunk_context)
    assert read.rule.predicates == ()
    (problem,) = [p for p in read.problems if p.kind == "no-predicates"]
    assert f"check on a field the search creates ({invented})" in problem.reason


def test_a_lookup_output_checked_is_the_lookup_not_a_field(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    # `ransomware_notes`: lookup ransomware_notes_lookup ransomware_notes as file_name
    # OUTPUT status as "Known Ransomware Notes" | search "Known Ransomware Notes"=True
    root = corpus_dir / "splunk"
    path = "detections/endpoint/common_ransomware_notes.yml"
    read = read_detection(root / path, root, splunk_context)
    found = {(p.field, p.operator, p.value, p.negated) for p in read.rule.predicates}
    assert found == {("file.name", "lookup", "ransomware_notes_lookup", False)}
    assert not [p for p in read.problems if p.kind == "no-predicates"]


def test_a_summary_subsearch_names_no_keyword(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    path = "detections/cloud/abnormally_high_number_of_cloud_instances_launched.yml"
    found = splunk(corpus_dir, splunk_context, path)
    assert ("event.outcome", "eq", "success", False) in found
    assert not [c for c in found if c[1] == "match"]


def test_summary_subsearch_is_no_keyword_search(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    path = "detections/cloud/abnormally_high_number_of_cloud_infrastructure_api_calls.yml"
    found = splunk(corpus_dir, splunk_context, path)
    assert not [c for c in found if c[1] == "match"]


# --- joined subsearch fields ---------------------------------------------------------------------


def test_joined_registry_field_keeps_its_data_model(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    path = "detections/endpoint/disable_defender_enhanced_notification.yml"
    found = splunk(corpus_dir, splunk_context, path)
    assert ("registry.data.strings", "exists", "true", False) in found
    assert not [c for c in found if c[0] == "Processes.registry_value_data"]


def test_joined_file_name_is_the_file_name(corpus_dir: Path, splunk_context: SplunkContext) -> None:
    path = "detections/endpoint/detect_certipy_file_modifications.yml"
    found = splunk(corpus_dir, splunk_context, path)
    assert ("file.name", "exists", "true", False) in found
    assert not [c for c in found if c[0] == "Processes.file_name"]


# --- EQL missing events --------------------------------------------------------------------------


def test_missing_event_is_negated(corpus_dir: Path) -> None:
    path = "rules/integrations/okta/persistence_mfa_deactivation_with_no_reactivation.toml"
    found = elastic(corpus_dir, path)
    # okta.event_type is event.action, where the okta integration copies it.
    assert ("event.action", "eq", "user.mfa.factor.activate", True) in found
    assert ("event.action", "eq", "user.mfa.factor.activate", False) not in found


# --- All_Traffic.app holding process paths -------------------------------------------------------


def test_app_with_process_paths_is_the_process(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    found = splunk(
        corpus_dir, splunk_context, "detections/endpoint/lolbas_with_network_traffic.yml"
    )
    assert ("process.name", "eq", "ftp.exe", False) in found
    assert ("process.executable", "wildcard", "*bitsadmin.exe", False) in found
    assert not [c for c in found if c[0] == "network.protocol"]


def test_app_with_protocols_stays_the_protocol(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    found = splunk(corpus_dir, splunk_context, "detections/network/detect_outbound_smb_traffic.yml")
    assert not [c for c in found if c[0] == "process.executable"]


# --- ES|QL wrappers ------------------------------------------------------------------------------


def test_esql_to_ip_is_followed(corpus_dir: Path) -> None:
    found = elastic(
        corpus_dir, "rules/cross-platform/initial_access_azure_o365_with_network_alert.toml"
    )
    assert ("source.ip", "cidr", "10.0.0.0/8", True) in found
    assert ("source.ip", "exists", "true", False) in found


def test_esql_url_decode_is_followed(corpus_dir: Path) -> None:
    path = "rules/cross-platform/discovery_web_server_remote_file_inclusion_activity.toml"
    found = elastic(corpus_dir, path)
    assert ("url.original", "wildcard", "*=file://*", False) in found


# --- smaller SPL cases ---------------------------------------------------------------------------


def test_escaped_space_is_part_of_the_value(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    path = "detections/deprecated/suspicious_writes_to_system_volume_information.yml"
    found = splunk(corpus_dir, splunk_context, path)
    assert any(value == "*system volume" for _f, _o, value, _n in found)
    assert not any("\\ " in value for _f, _o, value, _n in found)


def test_case_cidrmatch_flag(corpus_dir: Path, splunk_context: SplunkContext) -> None:
    found = splunk(corpus_dir, splunk_context, "detections/network/detect_outbound_smb_traffic.yml")
    for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"):
        assert ("destination.ip", "cidr", network, True) in found


# --- mapping gaps --------------------------------------------------------------------------------


def test_sigma_cs_uri_stem_is_the_url(corpus_dir: Path) -> None:
    found = sigma(
        corpus_dir,
        "rules-emerging-threats/2023/Exploits/CVE-2023-46747/web_cve_2023_46747_f5_remote_code_execution.yml",
    )
    assert any(field == "url.original" for field, *_ in found)
    assert not any(field == "cs-uri-stem" for field, *_ in found)


def test_cim_authentication_signature_is_the_event_action(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    path = "detections/cloud/aws_credential_access_failed_login.yml"
    found = splunk(corpus_dir, splunk_context, path)
    assert ("event.action", "eq", "consolelogin", False) in found


# --- fields rex and spath create -----------------------------------------------------------------


def test_a_rex_group_checked_set_is_its_field_matching(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    # rex field=process "base64\s+(?<decode_flag>-{1,2}d\w*)" | where isnotnull(decode_flag)
    found = splunk(
        corpus_dir, splunk_context, "detections/endpoint/linux_decode_base64_to_shell.yml"
    )
    shells = ("sh", "ksh", "zsh", "bash", "dash", "rbash", "fish", "csh", "tcsh", "ion", "eshell")
    assert found == {
        ("process.command_line", "wildcard", "*|*", False),
        ("process.command_line", "regex_match", "base64\\s+(?<decode_flag>-{1,2}d\\w*)", False),
        *{("process.name", "eq", shell, False) for shell in shells},
    }


def test_a_rex_group_checked_unset_through_a_quoted_field(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    # rex field="file_name" "\.(?<extension>[^\.]*$)" | where isnull(extension)
    path = "detections/endpoint/windows_file_without_extension_in_critical_folder.yml"
    found = splunk(corpus_dir, splunk_context, path)
    assert found == {
        ("file.path", "wildcard", "*\\system32\\drivers\\*", False),
        ("file.path", "wildcard", "*\\syswow64\\drivers\\*", False),
        ("file.name", "regex_match", "\\.(?<extension>[^\\.]*$)", True),
    }


def test_a_value_of_a_rex_group_is_the_rex_with_the_value_in_place(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    # rex field=Message "The (?<service>...) service entered the (?<state>\w+) state"
    # | where state="running" | lookup previously_seen_running_windows_services service ...
    path = "detections/endpoint/first_time_seen_running_windows_service.yml"
    assert splunk(corpus_dir, splunk_context, path) == {
        ("event.code", "eq", "7036", False),
        (
            "message",
            "regex_match",
            "The (?<service>[-\\(\\)\\s\\w]+) service entered the (?<state>running) state",
            False,
        ),
    }
    # rex field=file_name "(?<file_extension>\.[^\.]+)$" | search file_extension=.stubbin OR ...
    path = "detections/endpoint/file_with_samsam_extension.yml"
    found = splunk(corpus_dir, splunk_context, path)
    assert ("file.name", "regex_match", "(?<file_extension>(?i:\\.stubbin))$", False) in found
    assert len(found) == 5
    assert {f for f, _, _, _ in found} == {"file.name"}


def test_a_rex_on_a_computed_field_named_with_quotes(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    # eval possible_plan=mvindex(split_value, 1)
    # | rex field="possible_plan" "DisabledPlans=\[(?P<DisabledPlans>[^\]]+)\]"
    # | search DisabledPlans IN ("*M365_ADVANCED_AUDITING*")
    path = "detections/cloud/o365_advanced_audit_disabled.yml"
    assert splunk(corpus_dir, splunk_context, path) == {
        ("event.action", "eq", "change user license.", False)
    }


def test_spath_on_a_field_creates_its_outputs(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    # spath input=json_field output=grantees path=...Grant{} | search grantees=*
    # | spath input=grantees output=uri path=Grantee.URI | search uri IN (...)
    path = "detections/cloud/detect_new_open_s3_buckets.yml"
    assert splunk(corpus_dir, splunk_context, path) == {
        ("event.provider", "eq", "s3.amazonaws.com", False),
        ("event.action", "eq", "putbucketacl", False),
    }


def test_spath_output_over_the_event_is_its_path(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    # spath output=member path=data.protoPayload.serviceData.policyDelta.bindingDeltas{}.member
    path = "detections/cloud/detect_new_open_gcp_storage_buckets.yml"
    found = splunk(corpus_dir, splunk_context, path)
    deltas = "data.protoPayload.serviceData.policyDelta.bindingDeltas{}"
    assert {c for c in found if c[0].startswith(deltas)} == {
        (f"{deltas}.member", "eq", "allusers", False),
        (f"{deltas}.action", "eq", "add", False),
    }
    assert not [c for c in found if c[0] in {"member", "action"}]


# --- eval flags, empty values, lookups into one output -------------------------------------------


def test_a_flag_set_or_null_is_its_condition(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    # eval uri_match=if(match(_raw, "..."), "URI matches", null()) | where isnotnull(uri_match)
    path = "detections/endpoint/papercut_ng_suspicious_behavior_debug_log.yml"
    found = splunk(corpus_dir, splunk_context, path)
    regexes = sorted((c[2][:12], c[3]) for c in found if c[1] == "regex_match")
    assert regexes == [("(?i)((25[0-5", False), ("(?i)(10\\.(25", True), ("(?i)(\\/app\\?", False)]
    assert {c for c in found if c[1] != "regex_match"} == {
        ("loginType", "eq", "admin", False),
        ("userName", "eq", "admin", False),
    }
    assert {c[0] for c in found if c[1] == "regex_match"} == {"event.original"}


def test_an_empty_value_in_a_list_is_checked(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    # NOT Processes.user IN ("","unknown")
    path = (
        "detections/endpoint/detect_processes_used_for_system_network_configuration_discovery.yml"
    )
    found = splunk(corpus_dir, splunk_context, path)
    assert {c for c in found if c[0] == "user.name"} == {
        ("user.name", "eq", "", True),
        ("user.name", "eq", "unknown", True),
    }


def test_quotes_glued_to_a_list_value_are_no_empty_value(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    # QueryName IN ("*pastebin*",""*textbin*"", ...)
    path = "detections/endpoint/windows_abused_web_services.yml"
    found = splunk(corpus_dir, splunk_context, path)
    sites = ("pastebin", "textbin", "ngrok.io", "discord", "duckdns.org", "pasteio.com")
    assert found == {
        ("event.code", "eq", "22", False),
        *{("dns.question.name", "wildcard", f"*{site}*", False) for site in sites},
    }


def test_two_lookups_into_one_output_check_both_inputs(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    # is_net_windows_file_macro: lookup ... filename as process_name OUTPUT netFile
    # | lookup ... originalFileName as original_file_name OUTPUT netFile | search netFile=true
    path = "detections/endpoint/windows_dotnet_binary_in_non_standard_path.yml"
    found = splunk(corpus_dir, splunk_context, path)
    folders = (
        "\\windows\\adws\\",
        "\\windows\\syswow64",
        "\\windows\\system32",
        "\\windows\\networkcontroller\\",
        "\\windows\\systemapps\\",
        "\\winsxs\\",
        "\\windows\\microsoft.net\\",
    )
    assert found == {
        ("process.name", "lookup", "is_net_windows_file", False),
        ("process.pe.original_file_name", "lookup", "is_net_windows_file", False),
        *{("process.executable", "wildcard", f"*{folder}*", True) for folder in folders},
    }
