"""The catalog of log events every vendor's rules are mapped onto.

Ids are chosen so that Sigma log sources, Elastic event codes and data streams, and Splunk data
source names land on the same Event node:

* Windows events: ``<channel key>:<event id>``, e.g. ``sysmon:1``, ``windows-security:4688``,
  ``powershell:4104``, ``wmi-activity:5861``. Channel keys are Sigma's Windows service names
  (pySigma's ``windows_logsource_mapping``), except the four whose service name is too generic to
  read alone: security, system, application and wmi.
* Log sources without event ids get one Event each: ``<product>-<service or category>``, e.g.
  ``linux-auditd``, ``aws-cloudtrail``, ``proxy``, ``linux-process-creation``.
"""

from __future__ import annotations

import re
from functools import cache

from sigma.pipelines.common import windows_logsource_mapping

from loaders.records import Event

# Sigma service names that read badly as event id prefixes on their own.
_SERVICE_KEY_RENAMES = {
    "security": "windows-security",
    "system": "windows-system",
    "application": "windows-application",
    "wmi": "wmi-activity",
}

# Channels of Sigma Windows services that pySigma's service table lacks, as SigmaHQ's log source
# documentation names them, so the Events of those services carry their channel and a vendor
# naming the channel finds the same key. Splunk's windows_iis_components_new_module_added.yml
# names the IIS one as well; win_ldap_recon.yml's definition names the LDAP one.
_EXTRA_CHANNELS = {
    "iis-configuration": "Microsoft-IIS-Configuration/Operational",
    "ldap": "Microsoft-Windows-LDAP-Client/Debug",
    "smbclient-connectivity": "Microsoft-Windows-SmbClient/Connectivity",
}

# Providers of the channels whose events are written by one well-known provider.
_CHANNEL_PROVIDERS = {
    "sysmon": "Microsoft-Windows-Sysmon",
    "windows-security": "Microsoft-Windows-Security-Auditing",
    "powershell": "Microsoft-Windows-PowerShell",
    "powershell-classic": "PowerShell",
    "wmi-activity": "Microsoft-Windows-WMI-Activity",
    "taskscheduler": "Microsoft-Windows-TaskScheduler",
}

# Readable names of the channels, for Event names ("Sysmon EventID 1 - Process creation").
_CHANNEL_TITLES = {
    "sysmon": "Sysmon",
    "windows-security": "Windows Security",
    "windows-system": "Windows System",
    "windows-application": "Windows Application",
    "powershell": "PowerShell",
    "powershell-classic": "Windows PowerShell (classic)",
    "wmi-activity": "WMI-Activity",
}

# Sysmon's event names as Microsoft documents them. No library carries this table and Sysmon's
# schema changes rarely, so it is written here.
SYSMON_EVENT_NAMES = {
    1: "Process creation",
    2: "A process changed a file creation time",
    3: "Network connection",
    4: "Sysmon service state changed",
    5: "Process terminated",
    6: "Driver loaded",
    7: "Image loaded",
    8: "CreateRemoteThread",
    9: "RawAccessRead",
    10: "ProcessAccess",
    11: "FileCreate",
    12: "RegistryEvent (Object create and delete)",
    13: "RegistryEvent (Value Set)",
    14: "RegistryEvent (Key and Value Rename)",
    15: "FileCreateStreamHash",
    16: "ServiceConfigurationChange",
    17: "PipeEvent (Pipe Created)",
    18: "PipeEvent (Pipe Connected)",
    19: "WmiEvent (WmiEventFilter activity detected)",
    20: "WmiEvent (WmiEventConsumer activity detected)",
    21: "WmiEvent (WmiEventConsumerToFilter activity detected)",
    22: "DNSEvent (DNS query)",
    23: "FileDelete (File Delete archived)",
    24: "ClipboardChange (New content in the clipboard)",
    25: "ProcessTampering (Process image change)",
    26: "FileDeleteDetected (File Delete logged)",
    27: "FileBlockExecutable",
    28: "FileBlockShredding",
    29: "FileExecutableDetected",
    255: "Error",
}

# Names of the few non-Sysmon events the seed pages show; others are named by channel and id.
WINDOWS_EVENT_NAMES = {
    ("windows-security", 4688): "A new process has been created",
    ("windows-security", 4624): "An account was successfully logged on",
    ("windows-security", 4625): "An account failed to log on",
    ("windows-security", 4657): "A registry value was modified",
    ("windows-security", 4663): "An attempt was made to access an object",
    ("windows-security", 4698): "A scheduled task was created",
    ("windows-security", 4697): "A service was installed in the system",
    ("windows-security", 4720): "A user account was created",
    ("windows-security", 4768): "A Kerberos authentication ticket (TGT) was requested",
    ("windows-security", 4769): "A Kerberos service ticket was requested",
    ("windows-system", 7045): "A service was installed in the system",
    ("powershell", 4103): "Module logging",
    ("powershell", 4104): "Script block logging",
    ("powershell-classic", 400): "Engine state changed",
    ("powershell-classic", 600): "Provider started",
    ("powershell-classic", 800): "Pipeline execution details",
    ("wmi-activity", 5857): "WMI provider started",
    ("wmi-activity", 5858): "WMI operation error",
    ("wmi-activity", 5859): "WMI event filter registered (permanent subscription)",
    ("wmi-activity", 5860): "WMI temporary event consumer registered",
    ("wmi-activity", 5861): "WMI permanent event consumer bound to a filter",
}


def service_key(service: str) -> str:
    """Event id prefix of a Sigma Windows service name (``security`` -> ``windows-security``)."""
    service = service.lower()
    return _SERVICE_KEY_RENAMES.get(service, service)


@cache
def _channels() -> dict[str, str]:
    """Lower-cased Windows channel name -> channel key, from pySigma's service table."""
    table: dict[str, str] = {}
    for service, channels in windows_logsource_mapping.items():
        for channel in [channels] if isinstance(channels, str) else channels:
            table[channel.lower()] = service_key(service)
    for key, channel in _EXTRA_CHANNELS.items():
        table.setdefault(channel.lower(), key)
    return table


def channel_key(channel: str) -> str | None:
    """Key of a Windows event channel (``Microsoft-Windows-Sysmon/Operational`` -> ``sysmon``)."""
    return _channels().get(channel.strip().lower())


@cache
def channel_of(key: str) -> str | None:
    """The (first) Windows channel name of a channel key."""
    for channel, candidate in _channels().items():
        if candidate == key:
            for service, names in windows_logsource_mapping.items():
                for name in [names] if isinstance(names, str) else names:
                    if name.lower() == channel and service_key(service) == key:
                        return name
    return _EXTRA_CHANNELS.get(key)


def windows_event(key: str, event_id: int | str, channel: str | None = None) -> Event:
    """The catalog Event for a Windows channel key and event id.

    ``channel`` names the channel of a key the catalog does not know (a Splunk data source's
    ``WinEventLog:<channel>``); the catalog's own channel name wins.
    """
    number = int(event_id)
    title = _CHANNEL_TITLES.get(key) or channel_of(key) or channel or key
    label = (
        SYSMON_EVENT_NAMES.get(number)
        if key == "sysmon"
        else WINDOWS_EVENT_NAMES.get((key, number))
    )
    name = f"{title} EventID {number}" + (f" - {label}" if label else "")
    return Event(
        id=f"{key}:{number}",
        name=name,
        provider=_CHANNEL_PROVIDERS.get(key),
        channel=channel_of(key) or channel,
        event_id=str(number),
        platform="windows",
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def logsource_event(
    product: str | None, category: str | None = None, service: str | None = None
) -> Event:
    """The catalog Event of a log source that has no event ids (auditd, proxy, CloudTrail)."""
    parts: list[str] = []
    for part in (product, service or category):
        if part and _slug(part) not in parts:
            parts.append(_slug(part))
    if not parts:
        raise ValueError("a log source needs a product, a service or a category")
    event_id = "-".join(parts)
    words = " ".join(p for p in (product, service, category) if p)
    return Event(
        id=event_id,
        name=words.replace("_", " ").title() if words else event_id,
        provider=service or None,
        channel=None,
        event_id=None,
        platform=product or None,
    )
