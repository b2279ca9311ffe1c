"""ATT&CK analytics' log source references to catalog events, on hand-written references."""

from __future__ import annotations

import pytest

from loaders.attack_events import log_source_events, misfiled
from loaders.events import windows_event
from loaders.sigma_events import sigma_events


def _ids(name: str, channel: str) -> list[str]:
    return [event.id for event in log_source_events(name, channel)]


@pytest.mark.parametrize(
    ("name", "channel", "expected"),
    [
        ("WinEventLog:Sysmon", "EventCode=1", ["sysmon:1"]),
        ("WinEventLog:Sysmon", "EventCode=3, 22", ["sysmon:3", "sysmon:22"]),
        ("WinEventLog:Security", "EventCode=4778, EventCode=4779",
         ["windows-security:4778", "windows-security:4779"]),
        ("WinEventLog:System", "EventCode=5005 (WLAN), EventCode=302 (Bluetooth)",
         ["windows-system:5005", "windows-system:302"]),
        ("WinEventLog:PowerShell", "EventCode=4103, 4104, 4104",
         ["powershell:4103", "powershell:4104"]),
        # The classic Windows PowerShell log's events, under the same name.
        ("WinEventLog:PowerShell", "EventCode=400, 403",
         ["powershell-classic:400", "powershell-classic:403"]),
        ("WinEventLog:PowerShell", "EventCode=800, 4104",
         ["powershell-classic:800", "powershell:4104"]),
        ("WinEventLog:WMI", "EventCode=5861", ["wmi-activity:5861"]),
        ("wineventlog:taskscheduler", "EventCode=106", ["taskscheduler:106"]),
        # A full channel name goes through the catalog's channel table.
        ("WinEventLog:Microsoft-Windows-Windows Firewall With Advanced Security/Firewall",
         "EventCode=2004", ["firewall-as:2004"]),
        # No event code, or a channel the catalog does not know: no event.
        ("WinEventLog:PowerShell", "CmdletName: Get-Recipient, Get-User", []),
        ("WinEventLog:Microsoft-Office-Alerts", "EventCode=300", []),
        ("AWS:CloudTrail", "RunInstances", ["aws-cloudtrail"]),
        ("auditd:SYSCALL", "execve", ["linux-auditd"]),
        ("auditd:EXECVE", "", ["linux-auditd"]),
        ("saas:okta", "user.session.start", ["okta"]),
        ("m365:unified", "UserLoggedIn", ["m365-audit"]),
        ("kubernetes:apiserver", "verb=create", ["kubernetes-audit"]),
        ("macos:unifiedlog", "process: crontab", []),
        ("linux:Sysmon", "EventCode=1", ["linux-process-creation"]),
        ("linux:Sysmon", "EventCode=3, 22", ["linux-network-connection"]),
        ("macos:endpointsecurity", "ES_EVENT_TYPE_NOTIFY_EXEC", ["macos-process-creation"]),
        ("macos:endpointsecurity", "ES_EVENT_TYPE_NOTIFY_EXEC, ES_EVENT_TYPE_NOTIFY_MMAP",
         ["macos-process-creation"]),
        ("macos:endpointsecurity", "exec: Process execution context", ["macos-process-creation"]),
        ("macos:endpointsecurity", "ES_EVENT_TYPE_NOTIFY_CREATE: path under /Users/*",
         ["macos-file-event"]),
        ("macos:endpointsecurity", "es_event_authentication", []),
        ("NSM:Flow", "smtp.log, conn.log", ["zeek-smtp", "zeek-conn"]),
        ("NSM:Flow", "flow records", []),
        ("linux:syslog", "auth.log / secure.log", ["linux-auth"]),
        ("linux:syslog", "sshd[pid]: Failed password", ["linux-auth"]),
        ("linux:syslog", "Execution of non-standard script or binary by cron", ["linux-syslog"]),
        ("saas:googleworkspace", "login", []),
    ],
)  # fmt: skip
def test_log_source_references(name: str, channel: str, expected: list[str]) -> None:
    assert _ids(name, channel) == expected


def test_the_events_are_those_the_rule_loaders_make() -> None:
    # Same id, same name and properties as a Sigma rule of that log source gets.
    assert log_source_events("WinEventLog:Sysmon", "EventCode=1") == [windows_event("sysmon", 1)]
    assert log_source_events("AWS:CloudTrail", "x") == sigma_events("aws", None, "cloudtrail")
    assert log_source_events("linux:syslog", "x") == sigma_events("linux", None, "syslog")


def test_security_codes_of_other_channels_are_misfiled() -> None:
    assert misfiled(windows_event("windows-security", 4104))
    assert misfiled(windows_event("windows-security", 7045))
    assert not misfiled(windows_event("windows-security", 4688))
    assert not misfiled(windows_event("windows-security", 1102))
    assert not misfiled(windows_event("windows-security", 528))
    assert not misfiled(windows_event("powershell", 4104))
