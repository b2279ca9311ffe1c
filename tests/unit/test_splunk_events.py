"""Splunk data source names to catalog events and Sigma log sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from covgraph.errors import ParseError
from loaders.events import channel_key, windows_event
from loaders.records import Predicate
from loaders.spl import parse_spl
from loaders.splunk_events import (
    DataSourceCatalog,
    SplunkDataSource,
    data_source_from_dict,
    entra_logs,
    load_data_sources,
    search_events,
)


def small_catalog() -> DataSourceCatalog:
    """A catalog of three data sources written as splunk/data_sources writes them."""
    entries = [
        {
            "name": "Sysmon EventID 1",
            "source": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
            "sourcetype": "xmlwineventlog",
        },
        {
            "name": "Windows Event Log Defender 1121",
            "source": "WinEventLog:Microsoft-Windows-Windows Defender/Operational",
        },
        {"name": "AWS CloudTrail", "source": "aws_cloudtrail", "sourcetype": "aws:cloudtrail"},
    ]
    catalog = DataSourceCatalog()
    for entry in entries:
        source = data_source_from_dict(entry, "data_sources/x.yml")
        catalog.by_name[source.name] = source
    catalog.channels["Windows Event Log Defender"] = (
        "Microsoft-Windows-Windows Defender/Operational"
    )
    return catalog


def event_ids(catalog: DataSourceCatalog, name: str) -> list[str]:
    return [event.id for source in catalog.resolve(name) for event in source.events]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Sysmon EventID 1", ["sysmon:1"]),
        ("Sysmon EventID 13", ["sysmon:13"]),  # by pattern: not in the small catalog
        ("Windows Event Log Security 4688", ["windows-security:4688"]),
        ("Windows Security 5136", ["windows-security:5136"]),
        ("Powershell Script Block Logging 4104", ["powershell:4104"]),
        ("Sysmon EventID 1 AND Sysmon EventID 11", ["sysmon:1", "sysmon:11"]),
        ("Windows Event Log Defender 1126", ["windefend:1126"]),  # the catalog's channel
        ("NTLM Operational 8004,8005,8006", ["ntlm:8004", "ntlm:8005", "ntlm:8006"]),
        ("AWS CloudTrail", ["aws-cloudtrail"]),
        ("AWS CloudTrail DeleteTrail", ["aws-cloudtrail"]),
        ("Linux Auditd Execve", ["linux-auditd"]),
        ("Sysmon for Linux EventID 1", ["linux-process-creation"]),
        ("Azure Active Directory Sign-in activity", ["azure-signinlogs"]),
        ("CrowdStrike ProcessRollup2", ["crowdstrike-processrollup2"]),
        # Product logs, on the ids Sigma's and Elastic's rules of the same logs observe.
        ("Google Workspace login_failure", ["gcp-google-workspace-login"]),
        ("Google Workspace login_success", ["gcp-google-workspace-login"]),
        ("G Suite Drive", ["gcp-google-workspace-drive"]),
        ("G Suite Gmail", ["gcp-google-workspace-gmail"]),
        ("Suricata", ["suricata-eve"]),
        ("Palo Alto Network Threat", ["panw-panos"]),
        ("Palo Alto Network Traffic", ["panw-panos", "firewall"]),
        ("Nginx Access", ["nginx-access", "webserver"]),
        ("Windows IIS", ["iis-access", "webserver"]),
        # A product, not one of its logs: the search's source type names the log.
        ("Google Workspace", []),
    ],
)
def test_data_source_names_become_catalog_events(name: str, expected: list[str]) -> None:
    assert event_ids(small_catalog(), name) == expected


def test_windows_events_carry_channel_provider_and_log_source() -> None:
    (source,) = small_catalog().resolve("Sysmon EventID 1")
    (event,) = source.events
    assert (event.channel, event.provider, event.event_id, event.platform) == (
        "Microsoft-Windows-Sysmon/Operational",
        "Microsoft-Windows-Sysmon",
        "1",
        "windows",
    )
    assert source.logsources == (("windows", "process_creation", "sysmon"),)
    (security,) = small_catalog().resolve("Windows Event Log Security 4688")
    assert security.logsources == (("windows", None, "security"),)


def test_logsources_for_a_search_without_data_sources() -> None:
    catalog = small_catalog()
    assert catalog.logsources_for([("source", "XmlWinEventLog:Security")]) == [
        ("windows", None, "security")
    ]
    assert catalog.logsources_for([("sourcetype", "aws:cloudtrail")]) == [
        ("aws", None, "cloudtrail")
    ]
    assert catalog.logsources_for([("source", "WinEventLog:Microsoft-Windows-AppLocker/*")]) == [
        ("windows", None, "applocker")
    ]
    assert catalog.logsources_for([("index", "main"), ("sourcetype", "unknown")]) == []


def test_a_data_source_needs_a_name() -> None:
    with pytest.raises(ParseError, match="no name"):
        data_source_from_dict({"source": "x"}, "data_sources/x.yml")


def test_add_on_source_names_are_read_as_their_windows_channel() -> None:
    entry = {"name": "Windows IIS 29", "source": "IIS:Configuration:Operational"}
    source = data_source_from_dict(entry)
    (event,) = source.events
    # Sigma's iis-configuration service: one Event for both vendors.
    assert (event.id, event.channel) == (
        "iis-configuration:29",
        "Microsoft-IIS-Configuration/Operational",
    )
    assert source.logsources == (("windows", None, "iis-configuration"),)


def test_channels_sigma_has_no_service_for_are_kept_on_the_event() -> None:
    channel = "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational"
    entry = {
        "name": "Windows Event Log RemoteConnectionManager 1149",
        "source": f"WinEventLog:{channel}",
    }
    (event,) = data_source_from_dict(entry).events
    assert (event.id, event.channel, event.event_id) == (
        "terminalservices-remoteconnectionmanager:1149",
        channel,
        "1149",
    )


def test_data_sources_naming_the_wrong_channel_are_corrected() -> None:
    entry = {"name": "Windows Event Log System 4720", "source": "XmlWinEventLog:System"}
    (event,) = data_source_from_dict(entry).events
    assert (event.id, event.channel) == ("windows-security:4720", "Security")
    # Other System events keep the System channel.
    entry = {"name": "Windows Event Log System 7045", "source": "XmlWinEventLog:System"}
    assert [e.id for e in data_source_from_dict(entry).events] == ["windows-system:7045"]


@pytest.mark.corpus
def test_corpus_events_meet_sigma_ids(corpus_dir: Path) -> None:
    catalog = load_data_sources(corpus_dir / "splunk" / "data_sources")
    assert event_ids(catalog, "Windows IIS 29") == ["iis-configuration:29"]
    assert event_ids(catalog, "Windows Event Log System 4720") == ["windows-security:4720"]
    (rcm,) = catalog.resolve("Windows Event Log RemoteConnectionManager 1149")
    assert [e.channel for e in rcm.events] == [
        "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational"
    ]
    # The correction does not make System the channel of every "Windows Event Log System" name.
    assert catalog.channels["Windows Event Log System"] == "System"


@pytest.mark.corpus
def test_corpus_catalog(corpus_dir: Path) -> None:
    catalog = load_data_sources(corpus_dir / "splunk" / "data_sources")
    assert catalog.errors == []
    assert len(catalog.by_name) == 205
    assert event_ids(catalog, "Powershell Script Block Logging 4104") == ["powershell:4104"]
    assert event_ids(catalog, "Windows Event Log Security 4688") == ["windows-security:4688"]
    assert event_ids(catalog, "Windows Event Log Defender 1126") == ["windefend:1126"]
    # The detection reads the Operational log, as Sigma does; the data source file says Admin.
    assert event_ids(catalog, "Windows Event Log Printservice 316") == [
        "printservice-operational:316"
    ]
    assert event_ids(catalog, "Windows Event Log Printservice 808") == ["printservice-admin:808"]
    assert event_ids(catalog, "Sysmon EventID 22") == ["sysmon:22"]
    (sysmon,) = catalog.resolve("Sysmon EventID 1")
    assert sysmon.data_sets == ("Endpoint.Processes",)


def test_sigma_services_missing_from_pysigma_still_carry_their_channel() -> None:
    # Sigma's iis-configuration rules and Splunk's "Windows IIS 29" build the same Event.
    event = windows_event("iis-configuration", 29)
    assert event.channel == "Microsoft-IIS-Configuration/Operational"
    assert channel_key("Microsoft-IIS-Configuration/Operational") == "iis-configuration"
    # A channel given by the caller never replaces the catalog's own.
    assert windows_event("sysmon", 1, "Other").channel == "Microsoft-Windows-Sysmon/Operational"


def codes(*values: str, negated: bool = False) -> list[Predicate]:
    return [Predicate("event.code", "eq", value, negated, "EventCode", value) for value in values]


@pytest.mark.parametrize(
    ("search", "event_codes", "expected"),
    [
        (
            'sourcetype="wineventlog:microsoft-windows-wmi-activity/operational" EventCode=5861',
            ["5861"],
            ["wmi-activity:5861"],
        ),
        (
            "eventtype=wineventlog_security OR Channel=security EventCode=4720",
            ["4720"],
            ["windows-security:4720"],
        ),
        (
            'source="XmlWinEventLog:Microsoft-Windows-AppLocker/*" EventCode=8004',
            ["8004"],
            ["applocker:8004"],
        ),
        # two channels: the codes cannot be placed
        (
            "(source=XmlWinEventLog:Security EventCode=1102)"
            " OR (eventtype=wineventlog_system EventCode=104)",
            ["1102", "104"],
            [],
        ),
        # no channel at all
        ("index=main EventCode=4688", ["4688"], []),
        # an excluded channel is not the search's channel
        ('index=x NOT source="XmlWinEventLog:System" EventCode=4688', ["4688"], []),
        # a channel written inside a quoted string is text, not a selection
        ('index=x | eval note="source=WinEventLog:System" | search EventCode=4688', ["4688"], []),
    ],
)
def test_a_search_names_the_events_of_its_one_channel(
    search: str, event_codes: list[str], expected: list[str]
) -> None:
    found = search_events(parse_spl(search).selections, codes(*event_codes))
    assert [event.id for event in found] == expected


def test_excluded_codes_and_codes_the_data_sources_name_are_not_added() -> None:
    search = "source=XmlWinEventLog:Security EventCode IN (200, 201, 4625) NOT EventCode=4624"
    declared = [windows_event("taskscheduler", 200), windows_event("taskscheduler", 201)]
    predicates = codes("200", "201", "4625") + codes("4624", negated=True)
    found = search_events(parse_spl(search).selections, predicates, declared)
    assert [event.id for event in found] == ["windows-security:4625"]


def test_a_source_type_selects_the_events_of_its_data_sources() -> None:
    catalog = small_catalog()
    for name in ("AWS CloudTrail CreateAccessKey", "AWS CloudTrail DeleteTrail"):
        entry = {"name": name, "source": "aws_cloudtrail", "sourcetype": "aws:cloudtrail"}
        catalog.by_name[name] = data_source_from_dict(entry, "data_sources/y.yml")
    # three data sources, one event: the source type names it
    assert [e.id for e in catalog.events_for([("sourcetype", "AWS:CloudTrail")])] == [
        "aws-cloudtrail"
    ]
    # an index is no source type, nor a source type pattern one log
    assert catalog.events_for([("index", "aws_cloudtrail"), ("sourcetype", "aws:*")]) == []
    # a source type no data source names is an event of its own, as an unknown data source is
    (own,) = catalog.events_for([("sourcetype", "crowdstrike:identities")])
    assert (own.id, own.name) == (
        "sourcetype-crowdstrike-identities",
        "Splunk source type crowdstrike:identities",
    )
    assert catalog.logsources_for([("sourcetype", "crowdstrike:identities")]) == []


def test_a_source_type_shared_by_many_events_names_none() -> None:
    catalog = DataSourceCatalog()
    for number in (1, 3, 11, 13):
        entry = {
            "name": f"Sysmon EventID {number}",
            "source": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
            "sourcetype": "xmlwineventlog",
        }
        catalog.by_name[entry["name"]] = data_source_from_dict(entry, "data_sources/s.yml")
    assert catalog.events_for([("sourcetype", "xmlwineventlog")]) == []


def test_a_channel_check_names_the_channel_and_an_excluded_one_does_not() -> None:
    channel = Predicate("winlog.channel", "eq", "security", False, "channel", "security")
    found = search_events([], [channel, *codes("4720")])
    assert [event.id for event in found] == ["windows-security:4720"]
    excluded = Predicate("winlog.channel", "eq", "security", True, "channel", "security")
    assert search_events([], [excluded, *codes("4720")]) == []


def test_source_types_no_data_source_names_read_as_sigmas_log_source() -> None:
    catalog = DataSourceCatalog()
    eks = [("sourcetype", "aws:cloudwatchlogs:eks")]
    assert [e.id for e in catalog.events_for(eks)] == ["kubernetes-audit"]
    assert catalog.logsources_for(eks) == [("kubernetes", "application", "audit")]
    # Zscaler's web logs are proxy events, but their field names are Zscaler's own.
    zscaler = [("sourcetype", "zscalernss-web")]
    assert [e.id for e in catalog.events_for(zscaler)] == ["proxy"]
    assert catalog.logsources_for(zscaler) == []


def test_security_lake_and_zeek_source_types_meet_sigmas_events() -> None:
    catalog = DataSourceCatalog()
    # Security Lake's API activity is CloudTrail's, its fields OCSF's (mapped apart).
    lake = [("sourcetype", "aws:cloudtrail:lake")]
    assert [e.id for e in catalog.events_for(lake)] == ["aws-cloudtrail"]
    assert catalog.logsources_for(lake) == []
    # zeek:<log>:json is Zeek's log of that name, its fields Zeek's own; rpc is dce_rpc.log.
    x509 = [("sourcetype", "zeek:x509:json")]
    assert [e.id for e in catalog.events_for(x509)] == ["zeek-x509"]
    assert catalog.logsources_for(x509) == [("zeek", None, "x509")]
    rpc = [("sourcetype", "zeek:rpc:json")]
    assert [e.id for e in catalog.events_for(rpc)] == ["zeek-dce-rpc"]


def test_product_logs_keep_their_sigma_log_source_for_fields() -> None:
    # The events name the product's log; the fields still map as the Sigma log source's.
    (nginx,) = small_catalog().resolve("Nginx Access")
    assert nginx.logsources == ((None, "webserver", None),)
    (traffic,) = small_catalog().resolve("Palo Alto Network Traffic")
    assert traffic.logsources == ((None, "firewall", None),)
    # The Workspace add-on's fields are its own: no Sigma log source maps them.
    (login,) = small_catalog().resolve("Google Workspace login_failure")
    assert login.logsources == ()


@pytest.mark.parametrize(
    ("sourcetype", "expected"),
    [
        ("gws:reports:admin", ["gcp-google-workspace-admin"]),
        ("gws:reports:login", ["gcp-google-workspace-login"]),
        ("gsuite:calendar:json", ["gcp-google-workspace-calendar"]),
        ("MSWindows:IIS", ["iis-access", "webserver"]),
        ("CrowdStrike:Event:Streams:JSON", ["crowdstrike-falcon"]),
        ("stream:dns", ["splunk-stream-dns", "dns"]),
    ],
)
def test_source_types_of_product_logs_meet_the_other_vendors(
    sourcetype: str, expected: list[str]
) -> None:
    catalog = small_catalog()
    # The corpus' Workspace login data sources give the admin source type, wrongly.
    entry = {"name": "Google Workspace login_failure", "sourcetype": "gws:reports:admin"}
    catalog.by_name[entry["name"]] = data_source_from_dict(entry, "data_sources/g.yml")
    assert [e.id for e in catalog.events_for([("sourcetype", sourcetype)])] == expected


def entra_source(name: str) -> SplunkDataSource:
    """An Entra ID data source as splunk/data_sources writes them."""
    entry = {"name": name, "source": "Azure AD", "sourcetype": "azure:monitor:aad"}
    return data_source_from_dict(entry, "data_sources/azure.yml")


@pytest.mark.parametrize(
    ("checks", "event", "logsource"),
    [
        ([("category", "SignInLogs")], "azure-signinlogs", ("azure", None, "signinlogs")),
        (
            [("category", "NonInteractiveUserSignInLogs")],
            "azure-signinlogs",
            ("azure", None, "signinlogs"),
        ),
        (
            [("category", "ServicePrincipalSignInLogs")],
            "azure-signinlogs",
            ("azure", None, "signinlogs"),
        ),
        (
            [("operationName", "Sign-in activity")],
            "azure-signinlogs",
            ("azure", None, "signinlogs"),
        ),
        ([("category", "AuditLogs")], "azure-auditlogs", ("azure", None, "auditlogs")),
        (
            [("category", "UserRiskEvents")],
            "azure-riskdetection",
            ("azure", None, "riskdetection"),
        ),
    ],
)
def test_the_entra_log_a_search_selects_is_its_event_and_log_source(
    checks: list[tuple[str, str]],
    event: str,
    logsource: tuple[str | None, str | None, str | None],
) -> None:
    generic = entra_source("Azure Active Directory")
    # Read alone, the generic data source is the audit log.
    assert [e.id for e in generic.events] == ["azure-auditlogs"]
    (found,) = entra_logs([generic], checks)
    assert [e.id for e in found.events] == [event]
    assert found.logsources == (logsource,)
    assert found.name == "Azure Active Directory"


def test_a_search_choosing_no_entra_log_keeps_the_data_sources() -> None:
    generic = entra_source("Azure Active Directory")
    assert entra_logs([generic], [("operationName", "Add member to role")]) == [generic]
    assert entra_logs([generic], []) == [generic]
    # category is the Entra log only on the Entra source type.
    cloudtrail = data_source_from_dict(
        {"name": "AWS CloudTrail", "source": "aws_cloudtrail", "sourcetype": "aws:cloudtrail"}
    )
    assert entra_logs([cloudtrail], [("category", "SignInLogs")]) == [cloudtrail]


def test_a_search_reading_two_entra_logs_observes_both() -> None:
    generic = entra_source("Azure Active Directory")
    checks = [("category", "SignInLogs"), ("category", "AuditLogs")]
    (found,) = entra_logs([generic], checks)
    assert [e.id for e in found.events] == ["azure-signinlogs", "azure-auditlogs"]
