"""Event names: log sources spelt as their vendors spell them, Windows events with their titles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loaders.events import logsource_event, windows_event, with_categories
from loaders.records import Event


@pytest.mark.parametrize(
    ("product", "category", "service", "event_id", "name"),
    [
        ("macos", "process_creation", None, "macos-process-creation", "macOS Process Creation"),
        ("aws", None, "cloudtrail", "aws-cloudtrail", "AWS CloudTrail"),
        # The service repeats its product: named once, the id stays as it was.
        ("gcp", None, "gcp.audit", "gcp-gcp-audit", "GCP Audit"),
        ("okta", None, "okta", "okta", "Okta"),
        ("azure_openai", None, "logs", "azure-openai-logs", "Azure OpenAI Logs"),
        ("cisco", None, "aaa", "cisco-aaa", "Cisco AAA"),
        ("fortios", None, "sslvpnd", "fortios-sslvpnd", "FortiOS SSL VPN"),
        ("azure", None, "signinlogs", "azure-signinlogs", "Azure Sign-in Logs"),
        ("m365", None, "audit", "m365-audit", "Microsoft 365 Audit"),
        ("linux", None, "auditd", "linux-auditd", "Linux auditd"),
        (
            "windows",
            None,
            "powershell-classic",
            "windows-powershell-classic",
            "Windows PowerShell (classic)",
        ),
        (None, "proxy", None, "proxy", "Proxy"),
        (None, "webserver", None, "webserver", "Web Server"),
        # The name follows the id: product and service, the category only without a service.
        ("kubernetes", "application", "audit", "kubernetes-audit", "Kubernetes Audit"),
        # Sigma files Google Workspace's data sets under gcp: the data set names its product.
        (
            "gcp",
            None,
            "google_workspace.admin",
            "gcp-google-workspace-admin",
            "Google Workspace Admin",
        ),
        ("suricata", None, "eve", "suricata-eve", "Suricata EVE"),
        ("zeek", None, "conn", "zeek-conn", "Zeek Connection"),
        ("splunk_stream", None, "dns", "splunk-stream-dns", "Splunk Stream DNS"),
    ],
)
def test_log_source_names(
    product: str | None, category: str | None, service: str | None, event_id: str, name: str
) -> None:
    event = logsource_event(product, category, service)
    assert (event.id, event.name) == (event_id, name)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # A web server's access log is Sigma's webserver category too; its error log is not.
        (["nginx-access"], ["nginx-access", "webserver"]),
        (["iis-access", "webserver"], ["iis-access", "webserver"]),
        (["apache-error"], ["apache-error"]),
        (["network-traffic-dns", "zeek-dns"], ["network-traffic-dns", "dns", "zeek-dns"]),
        (["aws-cloudtrail"], ["aws-cloudtrail"]),
    ],
)
def test_product_logs_add_their_generic_category(given: list[str], expected: list[str]) -> None:
    events = [Event(id=event_id, name=event_id) for event_id in given]
    found = with_categories(events)
    assert [event.id for event in found] == expected
    assert all(event.name == "Web Server" for event in found if event.id == "webserver")


def test_a_vendor_spelling_in_mixed_case_is_kept() -> None:
    assert logsource_event("crowdstrike", service="ProcessRollup2").name == (
        "CrowdStrike ProcessRollup2"
    )


@pytest.mark.parametrize(
    ("key", "number", "name"),
    [
        (
            "windows-security",
            4662,
            "Windows Security EventID 4662 - An operation was performed on an object",
        ),
        (
            "windows-security",
            5136,
            "Windows Security EventID 5136 - A directory service object was modified",
        ),
        (
            "windows-security",
            4624,
            "Windows Security EventID 4624 - An account was successfully logged on",
        ),
        (
            "windows-system",
            7045,
            "Windows System EventID 7045 - A service was installed in the system",
        ),
        ("sysmon", 1, "Sysmon EventID 1 - Process creation"),
        # Not in the table: channel and number alone.
        ("windows-security", 4999, "Windows Security EventID 4999"),
    ],
)
def test_windows_event_names(key: str, number: int, name: str) -> None:
    event = windows_event(key, number)
    assert (event.id, event.name) == (f"{key}:{number}", name)


# --- the whole corpus ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog(corpus_dir: Path) -> dict[str, tuple[Event, int]]:
    """Every catalog event the corpus rules produce, with how many rules observe it."""
    from loaders.elastic import load_elastic
    from loaders.provenance import source_info
    from loaders.sigma import load_sigma
    from loaders.splunk import load_splunk

    events: dict[str, tuple[Event, int]] = {}
    for name, load in (("sigma", load_sigma), ("elastic", load_elastic), ("splunk", load_splunk)):
        root = corpus_dir / name
        if not root.exists():
            pytest.skip(f"{root} is absent from the corpus")
        loaded = load(root, source_info(corpus_dir, name))
        observed: dict[str, int] = {}
        for rule in loaded.rules:
            for event_id in rule.events:
                observed[event_id] = observed.get(event_id, 0) + 1
        for event in loaded.events:
            count = events.get(event.id, (event, 0))[1] + observed.get(event.id, 0)
            events[event.id] = (event, count)
    return events


@pytest.mark.corpus
def test_no_event_name_doubles_a_word(catalog: dict[str, tuple[Event, int]]) -> None:
    doubled = [
        event.name
        for event, _ in catalog.values()
        if re.search(r"\b(\w+)\W+\1\b", event.name, re.IGNORECASE)
    ]
    assert doubled == []


@pytest.mark.corpus
def test_known_products_are_spelt_right(catalog: dict[str, tuple[Event, int]]) -> None:
    names = {event_id: event.name for event_id, (event, _) in catalog.items()}
    assert names["macos-process-creation"] == "macOS Process Creation"
    assert names["aws-cloudtrail"] == "AWS CloudTrail"
    assert names["gcp-gcp-audit"] == "GCP Audit"
    assert names["azure-openai-logs"] == "Azure OpenAI Logs"
    assert names["cisco-aaa"] == "Cisco AAA"
    assert names["fortios-sslvpnd"] == "FortiOS SSL VPN"
    assert names["okta"] == "Okta"
    assert names["gcp-google-workspace-admin"] == "Google Workspace Admin"
    assert names["suricata-eve"] == "Suricata EVE"
    machine = re.compile(r"\b(Aws|Gcp|Macos|Openai|Github|Aaa|Dns|Http|Iis|M365)\b|\.[A-Z]")
    assert [name for name in names.values() if machine.search(name)] == []


@pytest.mark.corpus
def test_busy_windows_security_and_system_events_have_titles(
    catalog: dict[str, tuple[Event, int]],
) -> None:
    """Every Security or System event two rules or more observe carries its title."""
    untitled = sorted(
        (count, event.id)
        for event, count in catalog.values()
        if event.id.split(":")[0] in ("windows-security", "windows-system")
        and count >= 2
        and " - " not in event.name
        # System 16 is written by several providers (Kernel-General's "access history in hive
        # was cleared" among them): no one title fits it.
        and event.id != "windows-system:16"
    )
    assert untitled == []
    assert catalog["windows-security:4662"][0].name.endswith(
        " - An operation was performed on an object"
    )
