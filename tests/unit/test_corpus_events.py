"""Real corpus rules of different vendors that read the same product log observe one Event.

Which files read which log is found in the files themselves (a Sigma log source, an Elastic
index or data set, a Splunk macro or data source); each file is then read by its loader.
The corpus comes from COVGRAPH_CORPUS; the tests skip without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from loaders.elastic import rule_from_toml
from loaders.records import Rule
from loaders.sigma import read_sigma_file
from loaders.splunk import SplunkContext, load_context, read_detection

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def splunk_context(corpus_dir: Path) -> SplunkContext:
    return load_context(corpus_dir / "splunk")[0]


def _files(root: Path, pattern: str, text: re.Pattern[str]) -> Iterator[Path]:
    """The files under root matching the glob whose text matches, deprecated ones left out."""
    if not root.is_dir():
        pytest.skip(f"{root} is absent from the corpus")
    for path in sorted(root.glob(pattern)):
        if "deprecated" in path.parts or "_deprecated" in path.parts:
            continue
        if text.search(path.read_text(encoding="utf-8")):
            yield path


def sigma_rules(corpus_dir: Path, text: str) -> list[Rule]:
    """The Sigma rules of the files whose text matches (a log source line)."""
    root = corpus_dir / "sigma"
    found = [
        rule
        for path in _files(root, "rules*/**/*.yml", re.compile(text, re.MULTILINE))
        for rule in read_sigma_file(path, root).rules
    ]
    assert found, f"no Sigma rule matches {text!r}"
    return found


def elastic_rules(corpus_dir: Path, text: str) -> list[Rule]:
    """The Elastic rules whose query or index patterns match (an index or a data set).

    Investigation guides quote other queries, so the file's text alone does not say.
    """
    root = corpus_dir / "elastic"
    pattern = re.compile(text)
    found = []
    for path in _files(root, "rules/**/*.toml", pattern):
        rule = rule_from_toml(path.read_text(encoding="utf-8"), str(path.relative_to(root))).rule
        if rule is None:
            continue
        indices = rule.extra.get("index", ())
        if pattern.search(" ".join([rule.query or "", *indices])):
            found.append(rule)
    assert found, f"no Elastic rule matches {text!r}"
    return found


def splunk_rules(corpus_dir: Path, context: SplunkContext, text: str) -> list[Rule]:
    """The Splunk detections of the files whose text matches (a macro or a data source)."""
    root = corpus_dir / "splunk"
    found = [
        read_detection(path, root, context).rule
        for path in _files(root, "detections/**/*.yml", re.compile(text, re.MULTILINE))
    ]
    assert found, f"no Splunk detection matches {text!r}"
    return found


def without(event_id: str, rules: list[Rule]) -> list[str]:
    """The paths of the rules that do not observe the event."""
    return [rule.path for rule in rules if event_id not in rule.events]


@pytest.mark.parametrize("application", ["admin", "login"])
def test_google_workspace_applications_are_one_event_each(
    corpus_dir: Path, splunk_context: SplunkContext, application: str
) -> None:
    event_id = f"gcp-google-workspace-{application}"
    sigma = sigma_rules(corpus_dir, rf"^\s+service: google_workspace\.{application}\s*$")
    elastic = elastic_rules(
        corpus_dir,
        rf'logs-google_workspace\.{application}[-*]|dataset\s*(==|:)\s*"google_workspace\.'
        rf'{application}"',
    )
    # The Google Workspace add-on's macros, one per Reports API application.
    splunk = splunk_rules(corpus_dir, splunk_context, rf"`gws_reports_{application}`")
    assert without(event_id, sigma + elastic + splunk) == []


def test_web_server_access_logs_are_the_webserver_category(
    corpus_dir: Path, splunk_context: SplunkContext
) -> None:
    sigma = sigma_rules(corpus_dir, r"^\s+category: webserver\s*$")
    elastic = elastic_rules(corpus_dir, r"logs-(nginx|apache|iis|traefik)\.access-\*")
    splunk = splunk_rules(corpus_dir, splunk_context, r"^\s*- Nginx Access\s*$")
    assert without("webserver", sigma + elastic + splunk) == []
    # The product's own log as well, the same for both vendors reading it.
    nginx = [r for r in elastic if "logs-nginx.access-*" in r.extra.get("index", ())]
    assert nginx
    assert without("nginx-access", nginx + splunk) == []


def test_fortigate_event_log(corpus_dir: Path) -> None:
    sigma = sigma_rules(corpus_dir, r"^\s+product: fortigate\s*$")
    # 0100044547 is FortiOS's "attribute configured" event log id (type 01: event).
    elastic = elastic_rules(corpus_dir, r'event\.code\s*(==|:)\s*"0100044547"')
    assert without("fortigate-event", sigma + elastic) == []


def test_suricata_eve_log(corpus_dir: Path, splunk_context: SplunkContext) -> None:
    elastic = elastic_rules(corpus_dir, r'logs-suricata\.eve\*?|"suricata\.eve"')
    splunk = splunk_rules(corpus_dir, splunk_context, r"^\s*- Suricata\s*$")
    assert without("suricata-eve", elastic + splunk) == []
