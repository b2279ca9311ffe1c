"""A rule's page in headless Chromium: the vendor's own scores are shown where it has them, and
the closest rules of each catalog."""

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


SIGMA_MOFCOMP = "sigma:1dd05363-104e-4b4a-b963-196a534b03a1"

CLOSEST = """query($uid: String!) { rule(uid: $uid) {
  sigma: similarRules(first: 3, vendors: [SIGMA]) { ...S }
  elastic: similarRules(first: 3, vendors: [ELASTIC]) { ...S }
  splunk: similarRules(first: 3, vendors: [SPLUNK]) { ...S } } }
fragment S on RuleSimilarity { score sharedIndicators rule { uid title } }"""


def test_the_closest_rules_of_each_catalog(page: Page) -> None:
    api = gql(page.base, CLOSEST, {"uid": SIGMA_MOFCOMP})["rule"]
    assert page.open(f"#/rule/{SIGMA_MOFCOMP}") == "ready"
    for vendor in ("SIGMA", "ELASTIC", "SPLUNK"):
        items = page.find_all(f'#similar-rules .vendor-rules[data-vendor="{vendor}"] li')
        expected = api[vendor.lower()]
        assert [li.get_attribute("data-uid") for li in items] == [
            s["rule"]["uid"] for s in expected
        ]
        for li, similar in zip(items, expected, strict=True):
            assert li.text.startswith(
                f"{similar['rule']['title']} {round(similar['score'] * 100)}%"
            )
            assert f"{similar['sharedIndicators']} shared indicator" in li.text
    # Its equivalents elsewhere come first: Splunk's MOF rule and Elastic's Mofcomp Activity,
    # though other rules share more of its (alternative) parent names.
    assert api["splunk"][0]["rule"]["uid"] == SPLUNK_MOF
    assert api["elastic"][0]["rule"]["uid"] == "elastic:210d4430-b371-470e-b879-80b7182aa75e"
    assert SIGMA_MOFCOMP not in [s["rule"]["uid"] for s in api["sigma"]]
    page.screenshot("rule-closest")
    # A shared value opens its indicator page.
    first = page.find('#similar-rules .vendor-rules[data-vendor="SPLUNK"] li .shared a')
    assert page.act(first.click) == "ready"
    assert page.find("#indicator-title").text.split()[1] == "eq"
