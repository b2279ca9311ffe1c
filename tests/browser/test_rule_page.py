"""A rule's page in headless Chromium: the vendor's own scores are shown where it has them."""

from __future__ import annotations

import pytest
from browser_page import Page, gql

pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.neo4j]

SPLUNK_MOF = "splunk:e59b5a73-32bf-4467-a585-452c36ae10c1"
ELASTIC_WBEM = "elastic:1f460f12-a3cf-4105-9ebb-f788cc63f365"
SIGMA_RULE = "sigma:195e1b9d-bfc2-4ffa-ab4e-35aef69815f8"


def facts(page: Page) -> dict[str, str]:
    """The rule's facts list, label to text."""
    labels = [dt.text for dt in page.find_all("dl.facts dt")]
    values = [dd.text for dd in page.find_all("dl.facts dd")]
    return dict(zip(labels, values, strict=True))


def test_splunk_rule_shows_risk_score_confidence_and_impact(page: Page) -> None:
    properties = gql(page.base, f'{{ rule(uid: "{SPLUNK_MOF}") {{ vendorProperties }} }}')
    expected = properties["rule"]["vendorProperties"]
    assert page.open(f"#/rule/{SPLUNK_MOF}") == "ready"
    shown = facts(page)
    assert shown["severity"] == "—"  # Splunk has no severity level...
    assert shown["risk score"] == str(expected["risk_score"]) == "64"  # ...but its own scores
    assert shown["confidence"] == str(expected["confidence"])
    assert shown["impact"] == str(expected["impact"])
    page.screenshot("splunk-rule")


def test_elastic_building_block_shows_risk_score_and_flag(page: Page) -> None:
    assert page.open(f"#/rule/{ELASTIC_WBEM}") == "ready"
    shown = facts(page)
    assert shown["severity"] == "low"
    assert shown["risk score"] == "21"
    assert shown["building block"] == "yes"


def test_sigma_rule_shows_its_level_as_severity_only(page: Page) -> None:
    assert page.open(f"#/rule/{SIGMA_RULE}") == "ready"
    shown = facts(page)
    assert shown["severity"] == "high"
    assert "risk score" not in shown
