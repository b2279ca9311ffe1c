"""The Splunk loader on the corpus' security_content: totals, coverage and hand-checked rules."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from corpus_expect import splunk_rules_per_technique

from loaders.records import Rule, RuleLoad
from loaders.splunk import load_splunk

pytestmark = pytest.mark.corpus

MOF = "detections/endpoint/windows_mof_event_triggered_execution_via_wmi.yml"


@pytest.fixture(scope="module")
def splunk_root(corpus_dir: Path) -> Path:
    root = corpus_dir / "splunk"
    if not (root / "detections").is_dir():
        pytest.skip(f"{root / 'detections'} is absent from the corpus")
    return root


@pytest.fixture(scope="module")
def load(splunk_root: Path) -> RuleLoad:
    return load_splunk(splunk_root)


@pytest.fixture(scope="module")
def by_path(load: RuleLoad) -> dict[str, Rule]:
    return {rule.path: rule for rule in load.rules}


@pytest.fixture(scope="module")
def yaml_detections(splunk_root: Path) -> dict[str, dict[str, object]]:
    """Every detection file parsed independently of the loader, by path."""
    found: dict[str, dict[str, object]] = {}
    for path in sorted((splunk_root / "detections").rglob("*.yml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        found[path.relative_to(splunk_root).as_posix()] = data
    return found


def test_every_detection_loads(
    load: RuleLoad, yaml_detections: dict[str, dict[str, object]]
) -> None:
    assert load.files_seen == len(yaml_detections) == 1711
    assert sorted(rule.path for rule in load.rules) == sorted(yaml_detections)
    assert [p for p in load.problems if p.kind == "skipped-file"] == []
    assert len({rule.uid for rule in load.rules}) == len(load.rules)
    collections = {rule.collection for rule in load.rules}
    assert collections == {"application", "cloud", "deprecated", "endpoint", "network", "web"}
    assert sum(rule.deprecated for rule in load.rules) >= 98


def test_rules_per_technique_match_the_yaml(load: RuleLoad, splunk_root: Path) -> None:
    expected = splunk_rules_per_technique(splunk_root)
    loaded: dict[str, set[str]] = defaultdict(set)
    for rule in load.rules:
        for technique in rule.techniques:
            loaded[technique].add(rule.uid)
    assert loaded == expected


def test_rule_types_match_the_manifest(load: RuleLoad) -> None:
    counts: dict[str | None, int] = defaultdict(int)
    for rule in load.rules:
        counts[rule.rule_type] += 1
    assert dict(counts) == {"TTP": 987, "Anomaly": 481, "Hunting": 228, "Correlation": 15}


def test_predicate_coverage_and_what_the_rest_check(load: RuleLoad) -> None:
    # Measured: 1670 of 1711 (97.6%); 16 of them owe their only indicator to a lookup
    # (`lookup T f OUTPUT x | search x=true`, read as `f lookup T`). The 41 others check only
    # what the search computes (model scores, stats, lengths, lookups of computed fields or of
    # rex groups) or select by index alone. Reading those computed fields as log fields gave
    # 10 more rules "indicators" no log holds (Web.Score, "Known Ransomware Notes"), so they
    # stay without.
    with_search = [rule for rule in load.rules if rule.query]
    covered = [rule for rule in with_search if rule.predicates]
    assert len(with_search) == 1711
    assert len(covered) >= 1670, len(covered)
    assert len(covered) / len(with_search) >= 0.97
    reasons = [p.reason for p in load.problems if p.kind == "no-predicates"]
    unread = [
        reason
        for reason in reasons
        if "checks nothing the parser reads as a log field" not in reason
        and "selects its events by index" not in reason
    ]
    assert unread == []  # no rule is empty because its search did not parse


def test_every_rule_without_predicates_has_a_problem_saying_why(load: RuleLoad) -> None:
    reasons = {p.rule_uid: p for p in load.problems if p.kind == "no-predicates"}
    empty = [rule for rule in load.rules if rule.query and not rule.predicates]
    assert {rule.uid for rule in empty} == set(reasons)
    for rule in empty:
        problem = reasons[rule.uid]
        assert problem.location.path == rule.path
        assert problem.location.line is not None
        assert problem.reason.startswith("no predicate: ")


def test_the_mof_rule_by_hand(by_path: dict[str, Rule]) -> None:
    rule = by_path[MOF]
    found = {(p.field, p.operator, p.value, p.negated) for p in rule.predicates}
    assert ("process.name", "eq", "mofcomp.exe", False) in found
    assert ("process.parent.name", "eq", "cmd.exe", False) in found
    assert ("process.parent.name", "eq", "powershell.exe", False) in found
    assert ("process.command_line", "wildcard", "*\\appdata\\local\\*", False) in found
    assert {"sysmon:1", "windows-security:4688"} <= set(rule.events)
    assert rule.techniques == ("T1546.003",)
    assert rule.parse_status == "ok"


def test_lookup_rules_by_hand(by_path: dict[str, Rule]) -> None:
    # `is_nirsoft_software_macro`: lookup ... filename as process_name OUTPUT nirsoftFile
    # | search nirsoftFile=true, after drop_dm_object_name(Processes).
    rule = by_path["detections/endpoint/windows_nirsoft_utilities.yml"]
    found = {(p.field, p.operator, p.value, p.negated, p.vendor_field) for p in rule.predicates}
    assert found == {
        ("process.name", "lookup", "is_nirsoft_software", False, "Processes.process_name")
    }
    # `dynamic_dns_providers`: two lookups on DNS.query, their outputs coalesced.
    rule = by_path["detections/network/detect_hosts_connecting_to_dynamic_domain_providers.yml"]
    found = {(p.field, p.operator, p.value, p.negated) for p in rule.predicates}
    assert found == {
        ("dns.question.name", "lookup", "dynamic_dns_providers_default", False),
        ("dns.question.name", "lookup", "dynamic_dns_providers_local", False),
    }
    # A LOLBAS binary (name in the table) run from elsewhere (no row of name and path): the
    # positive memberships are read, the negated pair is not split into per-field exclusions.
    rule = by_path["detections/endpoint/windows_lolbas_executed_outside_expected_path.yml"]
    lookups = {(p.field, p.negated) for p in rule.predicates if p.operator == "lookup"}
    assert lookups == {("process.name", False)}


def test_a_rule_using_process_wmic_by_hand(by_path: dict[str, Rule]) -> None:
    wmic = [rule for rule in by_path.values() if "`process_wmic`" in (rule.query or "")]
    assert len(wmic) >= 10
    for rule in wmic:
        found = {(p.field, p.operator, p.value) for p in rule.predicates if not p.negated}
        assert ("process.name", "eq", "wmic.exe") in found, rule.path
        assert ("process.pe.original_file_name", "eq", "wmic.exe") in found, rule.path


def test_stories_are_loaded_and_referenced(load: RuleLoad) -> None:
    assert len(load.stories) == 261
    story_ids = {story.id for story in load.stories}
    referenced = {story for rule in load.rules for story in rule.stories}
    assert referenced
    assert referenced <= story_ids
    assert [p for p in load.problems if p.kind == "unknown-story"] == []


def test_events_are_catalog_ids(load: RuleLoad) -> None:
    ids = {event.id for event in load.events}
    assert {"sysmon:1", "windows-security:4688", "powershell:4104"} <= ids
    assert {"aws-cloudtrail", "linux-auditd"} <= ids
    assert all(set(rule.events) <= ids for rule in load.rules)


def test_most_checked_fields_are_mapped(load: RuleLoad) -> None:
    # Measured on this corpus: 75.6% of predicates, 93.9% of those in data model searches.
    # Cloud fields (O365, CloudTrail, Okta) have no Sigma -> ECS mapping and keep their names.
    unmapped = set(load.unmapped_fields)
    predicates = [p for rule in load.rules for p in rule.predicates]
    in_models = [p for rule in load.rules if rule.extra.get("datamodels") for p in rule.predicates]
    assert sum(p.field not in unmapped for p in predicates) / len(predicates) >= 0.7
    assert sum(p.field not in unmapped for p in in_models) / len(in_models) >= 0.9


def test_a_search_names_its_own_events_when_data_source_does_not(
    by_path: dict[str, Rule],
) -> None:
    # data_source: [] and the search is `wmi` EventCode=5861: the wmi macro's channel.
    rule = by_path["detections/endpoint/wmi_permanent_event_subscription.yml"]
    assert rule.events == ("wmi-activity:5861",)
    # The data sources say process creation; the search reads `sysmon` EventCode=11 as well.
    icedid = by_path["detections/endpoint/icedid_exfiltrated_archived_file_creation.yml"]
    assert {"sysmon:1", "windows-security:4688", "sysmon:11"} <= set(icedid.events)
    # The macro says Security, the data sources TaskScheduler: the data sources win.
    tasks = by_path["detections/endpoint/winevent_windows_task_scheduler_event_action_started.yml"]
    assert set(tasks.events) == {"taskscheduler:200", "taskscheduler:201"}
    # Two channels in one search (Security 1102 OR System 104): no code is placed by guess.
    cleared = by_path["detections/endpoint/windows_event_log_cleared.yml"]
    assert set(cleared.events) == {"windows-security:1102", "windows-system:104"}


def test_a_search_without_data_sources_observes_what_its_source_type_names(
    by_path: dict[str, Rule],
) -> None:
    # data_source: [] and `o365_management_activity` expands to the O365 source type, which
    # Splunk's O365 data sources read: Sigma's m365 audit event.
    rule = by_path["detections/cloud/o365_mailbox_email_forwarding_enabled.yml"]
    assert rule.events == ("m365-audit",)
    rule = by_path["detections/cloud/aws_detect_sts_assume_role_abuse.yml"]
    assert rule.events == ("aws-cloudtrail",)
    # `amazon_security_lake` is sourcetype=aws:cloudtrail:lake: CloudTrail in OCSF form.
    rule = by_path["detections/cloud/asl_aws_defense_evasion_delete_cloudtrail.yml"]
    assert rule.events == ("aws-cloudtrail",)
    assert ("event.action", "eq", "deletetrail") in {
        (p.field, p.operator, p.value) for p in rule.predicates
    }
    # `zeek_rpc` is zeek:rpc:json, Zeek's dce_rpc.log, whose fields Sigma's pipeline maps.
    rule = by_path["detections/network/detect_zerologon_via_zeek.yml"]
    assert rule.events == ("zeek-dce-rpc",)
    assert {p.field for p in rule.predicates} == {"zeek.dce_rpc.operation"}
    # A correlation over the Risk data model reads the risk events other detections raise.
    rule = by_path["detections/cloud/aws_s3_exfiltration_behavior_identified.yml"]
    assert rule.events == ("splunk-risk-events",)
    # A source type no data source names is an event of its own.
    rule = by_path["detections/endpoint/crowdstrike_admin_weak_password_policy.yml"]
    assert rule.events == ("sourcetype-crowdstrike-identities",)


def test_the_plural_data_sources_key_is_read(by_path: dict[str, Rule], load: RuleLoad) -> None:
    path = "detections/endpoint/windows_identify_powershell_web_access_iis_pool.yml"
    assert by_path[path].events
    assert any(p.location.path == path and "data_sources" in p.reason for p in load.problems)


def _checks(rule: Rule) -> set[tuple[str, str, str, bool]]:
    return {(p.field, p.operator, p.value, p.negated) for p in rule.predicates}


def test_cim_action_verbs_are_ecs_event_types_by_hand(by_path: dict[str, Rule]) -> None:
    rule = by_path["detections/cloud/cloud_instance_modified_by_previously_unseen_user.yml"]
    assert ("event.type", "eq", "change", False) in _checks(rule)
    (verb,) = [p for p in rule.predicates if p.vendor_field == "All_Changes.action"]
    assert verb.raw_value == "modified"
    rule = by_path["detections/cloud/cloud_provisioning_activity_from_previously_unseen_city.yml"]
    assert {("event.type", "eq", "start", False), ("event.type", "eq", "creation", False)} <= (
        _checks(rule)
    )
    rule = by_path["detections/cloud/abnormally_high_number_of_cloud_instances_launched.yml"]
    assert _checks(rule) == {
        ("event.type", "eq", "creation", False),
        ("event.outcome", "eq", "success", False),
        ("All_Changes.object_category", "eq", "instance", False),
    }
    rule = by_path["detections/endpoint/linux_deletion_of_cron_jobs.yml"]
    assert ("event.type", "eq", "deletion", False) in _checks(rule)
    rule = by_path["detections/network/detect_outbound_smb_traffic.yml"]
    assert ("event.type", "eq", "allowed", False) in _checks(rule)
    rule = by_path["detections/network/detect_large_outbound_icmp_packets.yml"]
    assert ("event.type", "eq", "denied", True) in _checks(rule)
    # A verb ECS has no value for keeps its CIM name; the operation's name is event.action.
    rule = by_path["detections/application/okta_multiple_accounts_locked_out.yml"]
    assert {
        ("All_Changes.action", "eq", "lockout", False),
        ("event.action", "eq", "user.account.lock", False),
    } <= _checks(rule)
    # The add-ons' action on raw events: AWS failures, Zscaler blocks, GitHub's own action.
    rule = by_path["detections/cloud/aws_high_number_of_failed_authentications_for_user.yml"]
    assert ("event.outcome", "eq", "failure", False) in _checks(rule)
    rule = by_path["detections/web/zscaler_exploit_threat_blocked.yml"]
    assert ("event.type", "eq", "denied", False) in _checks(rule)
    rule = by_path["detections/cloud/github_dependabot_alert.yml"]
    assert ("event.action", "eq", "create", False) in _checks(rule)


def test_no_cim_verb_is_an_operation_name(load: RuleLoad) -> None:
    verbs = {"created", "deleted", "modified", "started", "allowed", "blocked", "lockout"}
    for rule in load.rules:
        for p in rule.predicates:
            if p.field == "event.action":
                assert not (p.value in verbs and "action" in (p.vendor_field or "")), rule.path


def test_add_on_names_on_security_events_by_hand(by_path: dict[str, Rule]) -> None:
    rule = by_path["detections/endpoint/petitpotam_suspicious_kerberos_tgt_request.yml"]
    assert ("source.ip", "eq", "::1", True) in _checks(rule)
    rule = by_path["detections/endpoint/windows_kerberos_local_successful_logon.yml"]
    assert {
        ("event.outcome", "eq", "success", False),
        ("source.ip", "eq", "127.0.0.1", False),
    } <= _checks(rule)
    for name in ("deleted", "disabled", "passwords_changed"):
        account = "account" if name == "passwords_changed" else "accounts"
        rule = by_path[f"detections/endpoint/windows_multiple_{account}_{name}.yml"]
        assert ("event.outcome", "eq", "success", False) in _checks(rule), rule.path
    rule = by_path["detections/endpoint/connectwise_screenconnect_path_traversal_windows_sacl.yml"]
    assert {
        ("winlog.event_data.ObjectName", "wildcard", "*\\screenconnect\\app_extensions\\*", False),
        ("winlog.event_data.ObjectName", "wildcard", "*.aspx", False),
        ("winlog.event_data.ObjectName", "wildcard", "*.ashx", False),
    } <= _checks(rule)
    # Active Directory monitoring's attributes, joined into a Security search: their own names.
    rule = by_path["detections/application/windows_ad_gpo_deleted.yml"]
    assert {
        ("objectCategory", "wildcard", "cn=group-policy-container*", False),
        ("admonEventType", "eq", "update", False),
    } <= _checks(rule)
    rule = by_path["detections/endpoint/windows_ad_domain_controller_audit_policy_disabled.yml"]
    assert ("dest_category", "eq", "domain_controller", False) in _checks(rule)


def test_no_add_on_name_is_dressed_as_a_windows_event_field(load: RuleLoad) -> None:
    names = {
        "action",
        "status",
        "src",
        "file_path",
        "file_name",
        "category",
        "dest_category",
        "src_category",
        "user_type",
        "start_mode",
        "signature_id",
        "EventData_Xml",
        "objectCategory",
        "admonEventType",
    }
    dressed = {f"winlog.event_data.{name}" for name in names}
    found = {(rule.path, p.field) for rule in load.rules for p in rule.predicates}
    assert {item for item in found if item[1] in dressed} == set()


SIGN_IN_SEARCHES = re.compile(
    r"category\s*=\s*\"?(SignInLogs|NonInteractiveUserSignInLogs)"
    r"|operationName=\"Sign-in activity\""
)


def test_entra_sign_in_searches_observe_the_sign_in_log(by_path: dict[str, Rule]) -> None:
    rule = by_path["detections/cloud/azure_ad_authentication_failed_during_mfa_challenge.yml"]
    assert rule.events == ("azure-signinlogs",)
    assert _checks(rule) == {
        ("azure.signinlogs.category", "eq", "signinlogs", False),
        ("azure.signinlogs.properties.status.error_code", "eq", "500121", False),
    }
    rule = by_path["detections/cloud/azure_ad_concurrent_sessions_from_different_ips.yml"]
    assert rule.events == ("azure-signinlogs",)
    assert {
        ("azure.signinlogs.category", "eq", "noninteractiveusersigninlogs", False),
        ("event.outcome", "eq", "success", False),
    } <= _checks(rule)
    # The same log through its own data source is read as before.
    rule = by_path["detections/cloud/azure_ad_user_consent_denied_for_oauth_application.yml"]
    assert rule.events == ("azure-signinlogs",)
    # Identity Protection's risk detections are Sigma's riskdetection log.
    rule = by_path["detections/cloud/azure_active_directory_high_risk_sign_in.yml"]
    assert rule.events == ("azure-riskdetection",)
    # An audit operation on the generic data source stays the audit log.
    rule = by_path["detections/cloud/azure_ad_pim_role_assigned.yml"]
    assert rule.events == ("azure-auditlogs",)
    sign_in = [
        rule
        for rule in by_path.values()
        if "azure_monitor_aad" in (rule.query or "") and SIGN_IN_SEARCHES.search(rule.query or "")
    ]
    assert len(sign_in) >= 15
    assert all(rule.events == ("azure-signinlogs",) for rule in sign_in), [
        rule.path for rule in sign_in if rule.events != ("azure-signinlogs",)
    ]


def test_the_aws_add_on_user_type_is_the_user_identity_type(by_path: dict[str, Rule]) -> None:
    rule = by_path["detections/cloud/aws_lambda_updatefunctioncode.yml"]
    assert ("aws.cloudtrail.user_identity.type", "eq", "iamuser", False) in _checks(rule)


def test_normalised_auditd_searches_check_the_command_line(by_path: dict[str, Rule]) -> None:
    """`linux_auditd_normalized_*_process` rebuild the command line into process_exec; the
    searches' checks on it are command-line checks beside the record type they select."""
    shred = by_path["detections/endpoint/linux_auditd_shred_overwrite_command.yml"]
    found = {(p.field, p.operator, p.value) for p in shred.predicates if not p.negated}
    assert ("type", "eq", "proctitle") in found
    assert {
        ("process.command_line", "wildcard", f"*{flag}*") for flag in ("shred", "-n", "-z")
    } <= found
    reread = [
        rule
        for rule in by_path.values()
        if "linux_auditd_normalized_" in (rule.query or "") and not rule.deprecated
    ]
    assert len(reread) >= 25
    assert all(
        any(p.field == "process.command_line" for p in rule.predicates) for rule in reread
    ), [r.path for r in reread if not any(p.field == "process.command_line" for p in r.predicates)]
