"""ATT&CK analytics' log sources to catalog events.

An ATT&CK v18 analytic names the logs it reads as (name, channel) pairs:
``WinEventLog:Sysmon`` / ``EventCode=19, 20, 21``, ``AWS:CloudTrail`` / ``RunInstances``,
``auditd:SYSCALL`` / ``execve``. Those that name a log the catalog knows become that log's Events,
built by the same functions the rule loaders use, so that "the events ATT&CK says to collect
for a technique" and "the events its rules observe" are the same nodes:

* Windows channels with event codes: one Event per code (``windows-security:4688``). A Windows
  channel without codes (``WinEventLog:PowerShell`` / ``CmdletName: Get-User``) names no event.
* Logs without event ids, where ATT&CK's name is unambiguous: the Sigma log source of that log
  (`LOG_SOURCES`), read through `sigma_events`. Names that cover several catalog logs (Google
  Workspace) or none (macOS unified log, ESXi) name no event. Sysmon for Linux's codes, macOS
  Endpoint Security's event types and network monitoring channels that name Zeek logs by file
  (``conn.log``) are read as the Sigma log source of that event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from loaders.events import CLASSIC_POWERSHELL_EVENTS, channel_key, windows_event
from loaders.records import Event, LogSource
from loaders.sigma_events import sigma_events

#: ATT&CK's short Windows channel names -> channel keys. Full channel names
#: (``Microsoft-Windows-CodeIntegrity/Operational``) go through `channel_key`.
WINDOWS_CHANNELS: Mapping[str, str] = {
    "sysmon": "sysmon",
    "security": "windows-security",
    "system": "windows-system",
    "application": "windows-application",
    "powershell": "powershell",
    "wmi": "wmi-activity",
    "taskscheduler": "taskscheduler",
    "windows defender": "windefend",
    "codeintegrity": "codeintegrity-operational",
    "applocker": "applocker",
}

#: ATT&CK log source names (lower case) -> the Sigma (product, category, service) of that log.
#: Only names that mean one log: ``m365:signinlogs`` are Entra ID sign-ins, which Sigma files
#: under azure; ``kubernetes:apiserver`` is the API server's audit log.
_AUDITD_RECORDS = (
    "syscall", "execve", "path", "file", "proctitle", "config_change", "user_login", "mmap", "fs",
    "auth", "memprotect", "file-events",
)  # fmt: skip

LOG_SOURCES: Mapping[str, LogSource] = {
    "aws:cloudtrail": ("aws", None, "cloudtrail"),
    **{f"auditd:{record}": ("linux", None, "auditd") for record in _AUDITD_RECORDS},
    "linux:syslog": ("linux", None, "syslog"),
    "linux:auth": ("linux", None, "auth"),
    "linux:cron": ("linux", None, "cron"),
    "azure:signinlogs": ("azure", None, "signinlogs"),
    "m365:signinlogs": ("azure", None, "signinlogs"),
    "azure:audit": ("azure", None, "auditlogs"),
    "azure:activity": ("azure", None, "activitylogs"),
    "m365:unified": ("m365", None, "audit"),
    "m365:audit": ("m365", None, "audit"),
    "m365:exchange": ("m365", None, "exchange"),
    "saas:okta": ("okta", None, "okta"),
    "saas:github": ("github", None, "audit"),
    "gcp:audit": ("gcp", None, "gcp.audit"),
    "kubernetes:audit": ("kubernetes", None, "audit"),
    "kubernetes:apiserver": ("kubernetes", None, "audit"),
    "nsm:firewall": (None, "firewall", None),
}

#: Sysmon for Linux's event codes -> Sigma's linux category of that event.
LINUX_SYSMON: Mapping[int, str] = {1: "process_creation", 3: "network_connection"}

#: macOS Endpoint Security event types -> Sigma's macos category of that event.
ENDPOINT_SECURITY: Mapping[str, str] = {"exec": "process_creation", "create": "file_event"}

#: Network monitoring names whose channels list Zeek logs by file (``conn.log``, ``dns.log``).
ZEEK_NAMES = frozenset({"nsm:flow", "nsm:connections"})

_WINDOWS_LOG = re.compile(r"wineventlog:(?P<channel>.+)", re.IGNORECASE)
#: ``ES_EVENT_TYPE_NOTIFY_EXEC``, ``es_event_exec``, ``exec: ...``: the event type's last word.
_ES_EVENT = re.compile(r"(?:ES_EVENT_(?:TYPE_)?(?:NOTIFY_|AUTH_)?)?([A-Za-z]+)", re.IGNORECASE)
#: Channels of ``linux:syslog`` that name the auth log or its writers (``auth.log /
#: secure.log``, ``sshd: Accepted password``, ``sshd logs``).
_AUTH_LOG = re.compile(r"(auth\.log|secure\.log|sshd\b)", re.IGNORECASE)
_ZEEK_LOG = re.compile(r"\b([a-z][a-z0-9_]*)\.log\b")
#: ``EventCode=4103, 4104`` and ``EventCode=5005 (WLAN), EventCode=302 (Bluetooth)``.
_EVENT_CODES = re.compile(r"EventCode\s*=\s*(\d+(?:\s*,\s*\d+)*)", re.IGNORECASE)


#: Event ids the Security channel can hold: the audit events (4608-6424), the event log
#: service's own (1100-1108) and those of Windows 2003 and before (512-861). ATT&CK files a few
#: events of other channels under Security (PowerShell's 4104, the System log's 7045).
_SECURITY_EVENT_IDS = (range(512, 862), range(1100, 1109), range(4608, 6425))


def misfiled(event: Event) -> bool:
    """Whether a Security event's id is none the Security channel has (another channel's)."""
    if not event.id.startswith("windows-security:") or event.event_id is None:
        return False
    return not any(int(event.event_id) in ids for ids in _SECURITY_EVENT_IDS)


def _event_codes(channel: str) -> list[int]:
    """The event codes a channel names, each once, in order."""
    codes = (
        int(number)
        for listed in _EVENT_CODES.findall(channel)
        for number in re.split(r"\s*,\s*", listed)
    )
    return list(dict.fromkeys(codes))


def _powershell(key: str, number: int) -> str:
    """`WinEventLog:PowerShell` names both PowerShell logs: 400, 403, 600 and 800 are the
    classic Windows PowerShell log's (`WinEventLog:PowerShell EventCode=400, 403`)."""
    if key == "powershell" and number in CLASSIC_POWERSHELL_EVENTS:
        return "powershell-classic"
    return key


def log_source_events(name: str, channel: str) -> list[Event]:
    """The catalog events an analytic's log source reference names (often none)."""
    windows = _WINDOWS_LOG.fullmatch(name.strip())
    if windows:
        channel_name = windows["channel"].strip()
        key = WINDOWS_CHANNELS.get(channel_name.lower()) or channel_key(channel_name)
        if key is None:
            return []
        return [windows_event(_powershell(key, number), number) for number in _event_codes(channel)]
    key = name.strip().lower()
    if key == "linux:syslog" and _AUTH_LOG.match(channel.strip()):
        # Syslog's auth facility is a log of its own (Sigma's linux auth): sshd and sudo write
        # there, /var/log/auth.log or secure.
        return sigma_events("linux", None, "auth")
    logsource = LOG_SOURCES.get(key)
    if logsource:
        return sigma_events(*logsource)
    found: list[Event] = []
    if key == "linux:sysmon":
        for number in _event_codes(channel):
            category = LINUX_SYSMON.get(number)
            if category:
                found += sigma_events("linux", category, None)
    elif key == "macos:endpointsecurity":
        # The event types come before any ": description".
        for part in channel.partition(":")[0].split(","):
            match = _ES_EVENT.fullmatch(part.strip())
            category = ENDPOINT_SECURITY.get(match[1].lower()) if match else None
            if category:
                found += sigma_events("macos", category, None)
    elif key in ZEEK_NAMES:
        for log in _ZEEK_LOG.findall(channel.lower()):
            found += sigma_events("zeek", None, log)
    return list({event.id: event for event in found}.values())
