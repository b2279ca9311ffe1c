"""Entra ID audit and sign-in attributes are one Value for Sigma, Elastic and Splunk."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from loaders.cim import CimMapper
from loaders.elastic import load_elastic
from loaders.eql_query import parse_eql
from loaders.esql import parse_esql
from loaders.kql import parse_kql
from loaders.records import RuleLoad
from loaders.sigma import load_sigma
from loaders.splunk import load_splunk

SIGNIN = ("azure", None, "signinlogs")
AUDIT = ("azure", None, "auditlogs")


def kql(query: str) -> set[tuple[str, str, str, bool]]:
    return {(p.field, p.operator, p.value, p.negated) for p in parse_kql(query).predicates}


def eql(query: str) -> set[tuple[str, str, str, bool]]:
    return {(p.field, p.operator, p.value, p.negated) for p in parse_eql(query).predicates}


# --- Elastic: the integration's names, without array positions -------------------------------


def test_elastic_sign_in_attributes_keep_the_integrations_names() -> None:
    found = kql(
        "azure.signinlogs.properties.authentication_requirement : singleFactorAuthentication"
        ' and azure.signinlogs.properties.client_app_used : "Exchange ActiveSync"'
    )
    assert found == {
        (
            "azure.signinlogs.properties.authentication_requirement",
            "eq",
            "singlefactorauthentication",
            False,
        ),
        ("azure.signinlogs.properties.client_app_used", "eq", "exchange activesync", False),
    }


@pytest.mark.parametrize(
    "field",
    [
        "azure.auditlogs.properties.target_resources.*.modified_properties.*.new_value",
        "azure.auditlogs.properties.target_resources.0.modified_properties.1.new_value",
    ],
)
def test_elastic_array_positions_are_dropped(field: str) -> None:
    found = kql(f'{field} : "\\"Global Administrator\\""')
    assert found == {
        (
            "azure.auditlogs.properties.target_resources.modified_properties.new_value",
            "eq",
            '"global administrator"',
            False,
        )
    }


def test_elastic_esql_array_positions_are_dropped() -> None:
    query = (
        "from logs-azure.auditlogs-*\n| where "
        '`azure.auditlogs.properties.target_resources.0.modified_properties.1.new_value` == "x"'
    )
    found = {(p.field, p.operator, p.value) for p in parse_esql(query).predicates}
    assert (
        "azure.auditlogs.properties.target_resources.modified_properties.new_value",
        "eq",
        "x",
    ) in found


def test_elastic_eql_entra_attributes_keep_their_names() -> None:
    found = eql('any where azure.signinlogs.properties.risk_state : "atRisk"')
    assert found == {("azure.signinlogs.properties.risk_state", "eq", "atrisk", False)}


def test_array_positions_stay_outside_azure() -> None:
    found = kql("process.args.0.x : y")
    assert {f for f, _, _, _ in found} == {"process.args.0.x"}


# --- Splunk: raw JSON paths through the Sigma log sources ------------------------------------


@pytest.mark.parametrize(
    ("field", "logsource", "ecs"),
    [
        (
            "properties.authenticationRequirement",
            SIGNIN,
            "azure.signinlogs.properties.authentication_requirement",
        ),
        (
            "properties.authenticationProtocol",
            SIGNIN,
            "azure.signinlogs.properties.authentication_protocol",
        ),
        ("properties.appDisplayName", SIGNIN, "azure.signinlogs.properties.app_display_name"),
        (
            "properties.authenticationDetails{}.succeeded",
            SIGNIN,
            "azure.signinlogs.properties.authentication_details.succeeded",
        ),
        ("operationName", AUDIT, "event.action"),
        (
            "properties.initiatedBy.user.id",
            AUDIT,
            "azure.auditlogs.properties.initiated_by.user.id",
        ),
        (
            "properties.targetResources{}.modifiedProperties{}.newValue",
            AUDIT,
            "azure.auditlogs.properties.target_resources.modified_properties.new_value",
        ),
        ("properties.result", AUDIT, "event.outcome"),
        # Azure Monitor's own category of the record stays where it was
        ("category", AUDIT, "azure.auditlogs.category"),
        ("category", SIGNIN, "azure.signinlogs.category"),
    ],
)
def test_splunk_entra_paths_take_the_integrations_names(
    field: str, logsource: tuple[str, None, str], ecs: str
) -> None:
    assert CimMapper([]).map_field(field, None, [logsource]).name == ecs


def test_splunk_cim_action_on_sign_ins_is_still_a_verb() -> None:
    found = CimMapper([]).map_check("action", None, [SIGNIN], value="success")
    assert (found.field.name, found.value) == ("event.outcome", "success")


# --- the corpus: the same checks of the three vendors meet -----------------------------------


@pytest.fixture(scope="module")
def entra_loads(corpus_dir: Path) -> list[RuleLoad]:
    return [
        load_sigma(
            corpus_dir / "sigma",
            folders=["rules/cloud/azure", "rules-placeholder/cloud/azure"],
        ),
        load_elastic(corpus_dir / "elastic", folders=["rules/integrations/azure"]),
        load_splunk(corpus_dir / "splunk", folders=["cloud"]),
    ]


@pytest.fixture(scope="module")
def rules_by_value(entra_loads: list[RuleLoad]) -> dict[str, dict[str, set[str]]]:
    """Value key -> vendor -> paths of the current rules that check it positively."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for load in entra_loads:
        for rule in load.rules:
            if rule.deprecated:
                continue
            for predicate in rule.predicates:
                if not predicate.negated:
                    found[predicate.key][load.vendor].add(rule.path)
    return found


@pytest.mark.corpus
def test_application_owner_added_is_one_value(
    rules_by_value: dict[str, dict[str, set[str]]],
) -> None:
    vendors = rules_by_value["event.action|eq|add owner to application"]
    assert "rules/cloud/azure/audit_logs/azure_app_owner_added.yml" in vendors["sigma"]
    assert (
        "rules/integrations/azure/persistence_entra_id_user_added_as_owner_for_azure_application.toml"
        in vendors["elastic"]
    )
    assert "detections/cloud/azure_ad_service_principal_owner_added.yml" in vendors["splunk"]


@pytest.mark.corpus
def test_single_factor_authentication_is_one_value(
    rules_by_value: dict[str, dict[str, set[str]]],
) -> None:
    vendors = rules_by_value[
        "azure.signinlogs.properties.authentication_requirement|eq|singlefactorauthentication"
    ]
    # Sigma spells the column and the JSON path; both are the one Value
    assert {
        "rules/cloud/azure/signin_logs/azure_ad_sign_ins_from_unknown_devices.yml",
        "rules-placeholder/cloud/azure/signin_logs/azure_ad_auth_to_important_apps_using_single_factor_auth.yml",
    } <= vendors["sigma"]
    assert (
        "rules/integrations/azure/defense_evasion_entra_id_ca_mfa_bypass_first_party_graph.toml"
        in vendors["elastic"]
    )
    assert (
        "detections/cloud/azure_ad_successful_single_factor_authentication.yml" in vendors["splunk"]
    )


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("key", "vendors"),
    [
        (
            "azure.signinlogs.properties.client_app_used|eq|exchange activesync",
            {"sigma", "elastic"},
        ),
        ("azure.signinlogs.properties.risk_state|eq|atrisk", {"sigma", "elastic"}),
        ("azure.auditlogs.properties.category|eq|rolemanagement", {"sigma", "elastic"}),
        ("user_agent.original|wildcard|*bav2ropc*", {"sigma", "elastic"}),
        (
            "azure.signinlogs.properties.authentication_protocol|eq|devicecode",
            {"elastic", "splunk"},
        ),
        (
            "azure.auditlogs.properties.target_resources.modified_properties.new_value"
            '|eq|"global administrator"',
            {"elastic", "splunk"},
        ),
        ("event.action|eq|update application", {"sigma", "elastic", "splunk"}),
    ],
)
def test_entra_attributes_meet_across_vendors(
    rules_by_value: dict[str, dict[str, set[str]]], key: str, vendors: set[str]
) -> None:
    assert vendors <= set(rules_by_value[key])
