"""The catalog of log events every vendor's rules are mapped onto.

Ids are chosen so that Sigma log sources, Elastic event codes and data streams, and Splunk data
source names land on the same Event node:

* Windows events: ``<channel key>:<event id>``, e.g. ``sysmon:1``, ``windows-security:4688``,
  ``powershell:4104``, ``wmi-activity:5861``. Channel keys are Sigma's Windows service names
  (pySigma's ``windows_logsource_mapping``), except the four whose service name is too generic to
  read alone: security, system, application and wmi.
* Log sources without event ids get one Event each: ``<product>-<service or category>``, e.g.
  ``linux-auditd``, ``aws-cloudtrail``, ``proxy``, ``linux-process-creation``. One Event is one log
  a user collects, on the id Sigma's log source for it makes (``gcp-google-workspace-admin`` for
  Google Workspace's admin activity, ``apache-access`` for Apache's access log), whichever
  vendor's name reads it. A product log that is also one of Sigma's generic categories
  (``nginx-access`` is a ``webserver`` log) adds that category's Event (`with_categories`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
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

#: The events of the classic "Windows PowerShell" log (engine and provider lifecycle, pipeline
#: execution); PowerShell's Operational channel has the others (4103-4106). Both are "the
#: PowerShell log" to ATT&CK's analytics and to generic Windows indices.
CLASSIC_POWERSHELL_EVENTS = frozenset({400, 403, 600, 800})

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
    # Their channels repeat "Windows" (Microsoft-Windows-Windows Defender/Operational).
    "windefend": "Windows Defender",
    "firewall-as": "Windows Firewall With Advanced Security",
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

# Microsoft's titles of the Windows events rules observe, without the final full stop. Security
# events: the titles of Microsoft's "Audit ..." event pages (the pre-Vista ids 5xx/6xx from the
# Windows Server 2003 list, marked legacy). System events: the Service Control Manager and
# Eventlog messages, with their inserts named. Chosen by how many corpus rules observe each id
# (every Security id observed by two rules or more, and the well-known ones observed by one);
# an id not listed is named by its channel and number alone. Written here because no library
# has the titles: pySigma's Windows pipelines and ATT&CK's data components carry event ids only.
WINDOWS_EVENT_NAMES = {
    ("windows-security", 517): "The audit log was cleared (legacy)",
    ("windows-security", 528): "Successful logon (legacy)",
    ("windows-security", 529): "Logon failure: unknown user name or bad password (legacy)",
    ("windows-security", 632): "Security enabled global group member added (legacy)",
    ("windows-security", 633): "Security enabled global group member removed (legacy)",
    ("windows-security", 634): "Security enabled global group deleted (legacy)",
    ("windows-security", 675): "Pre-authentication failed (legacy)",
    ("windows-security", 1100): "The event logging service has shut down",
    ("windows-security", 1102): "The audit log was cleared",
    ("windows-security", 4611): "A trusted logon process has been registered with the LSA",
    ("windows-security", 4616): "The system time was changed",
    ("windows-security", 4624): "An account was successfully logged on",
    ("windows-security", 4625): "An account failed to log on",
    ("windows-security", 4627): "Group membership information",
    ("windows-security", 4634): "An account was logged off",
    ("windows-security", 4647): "User initiated logoff",
    ("windows-security", 4648): "A logon was attempted using explicit credentials",
    ("windows-security", 4649): "A replay attack was detected",
    ("windows-security", 4656): "A handle to an object was requested",
    ("windows-security", 4657): "A registry value was modified",
    ("windows-security", 4658): "The handle to an object was closed",
    ("windows-security", 4660): "An object was deleted",
    ("windows-security", 4661): "A handle to an object was requested",
    ("windows-security", 4662): "An operation was performed on an object",
    ("windows-security", 4663): "An attempt was made to access an object",
    ("windows-security", 4670): "Permissions on an object were changed",
    ("windows-security", 4672): "Special privileges assigned to new logon",
    ("windows-security", 4673): "A privileged service was called",
    ("windows-security", 4674): "An operation was attempted on a privileged object",
    ("windows-security", 4688): "A new process has been created",
    ("windows-security", 4689): "A process has exited",
    ("windows-security", 4692): "Backup of data protection master key was attempted",
    ("windows-security", 4697): "A service was installed in the system",
    ("windows-security", 4698): "A scheduled task was created",
    ("windows-security", 4699): "A scheduled task was deleted",
    ("windows-security", 4701): "A scheduled task was disabled",
    ("windows-security", 4702): "A scheduled task was updated",
    ("windows-security", 4703): "A user right was adjusted",
    ("windows-security", 4704): "A user right was assigned",
    ("windows-security", 4706): "A new trust was created to a domain",
    ("windows-security", 4719): "System audit policy was changed",
    ("windows-security", 4720): "A user account was created",
    ("windows-security", 4722): "A user account was enabled",
    ("windows-security", 4723): "An attempt was made to change an account's password",
    ("windows-security", 4724): "An attempt was made to reset an account's password",
    ("windows-security", 4725): "A user account was disabled",
    ("windows-security", 4726): "A user account was deleted",
    ("windows-security", 4727): "A security-enabled global group was created",
    ("windows-security", 4728): "A member was added to a security-enabled global group",
    ("windows-security", 4729): "A member was removed from a security-enabled global group",
    ("windows-security", 4730): "A security-enabled global group was deleted",
    ("windows-security", 4731): "A security-enabled local group was created",
    ("windows-security", 4732): "A member was added to a security-enabled local group",
    ("windows-security", 4733): "A member was removed from a security-enabled local group",
    ("windows-security", 4734): "A security-enabled local group was deleted",
    ("windows-security", 4735): "A security-enabled local group was changed",
    ("windows-security", 4737): "A security-enabled global group was changed",
    ("windows-security", 4738): "A user account was changed",
    ("windows-security", 4741): "A computer account was created",
    ("windows-security", 4742): "A computer account was changed",
    ("windows-security", 4743): "A computer account was deleted",
    ("windows-security", 4744): "A security-disabled local group was created",
    ("windows-security", 4749): "A security-disabled global group was created",
    ("windows-security", 4754): "A security-enabled universal group was created",
    ("windows-security", 4755): "A security-enabled universal group was changed",
    ("windows-security", 4756): "A member was added to a security-enabled universal group",
    ("windows-security", 4759): "A security-disabled universal group was created",
    ("windows-security", 4764): "A group's type was changed",
    ("windows-security", 4765): "SID History was added to an account",
    ("windows-security", 4766): "An attempt to add SID History to an account failed",
    ("windows-security", 4768): "A Kerberos authentication ticket (TGT) was requested",
    ("windows-security", 4769): "A Kerberos service ticket was requested",
    ("windows-security", 4771): "Kerberos pre-authentication failed",
    ("windows-security", 4776): "The computer attempted to validate the credentials for an account",
    ("windows-security", 4780): "The ACL was set on accounts which are members of administrators "
    "groups",
    ("windows-security", 4781): "The name of an account was changed",
    ("windows-security", 4783): "A basic application group was created",
    ("windows-security", 4790): "An LDAP query group was changed",
    ("windows-security", 4794): "An attempt was made to set the Directory Services Restore Mode "
    "administrator password",
    ("windows-security", 4798): "A user's local group membership was enumerated",
    ("windows-security", 4799): "A security-enabled local group membership was enumerated",
    ("windows-security", 4800): "The workstation was locked",
    ("windows-security", 4825): "A user was denied the access to Remote Desktop",
    ("windows-security", 4876): "Certificate Services backup started",
    ("windows-security", 4886): "Certificate Services received a certificate request",
    ("windows-security", 4887): "Certificate Services approved a certificate request and issued "
    "a certificate",
    ("windows-security", 4898): "Certificate Services loaded a template",
    ("windows-security", 4899): "A Certificate Services template was updated",
    ("windows-security", 4904): "An attempt was made to register a security event source",
    ("windows-security", 4905): "An attempt was made to unregister a security event source",
    ("windows-security", 4964): "Special groups have been assigned to a new logon",
    ("windows-security", 5038): "Code integrity determined that the image hash of a file is not "
    "valid",
    ("windows-security", 5136): "A directory service object was modified",
    ("windows-security", 5137): "A directory service object was created",
    ("windows-security", 5140): "A network share object was accessed",
    ("windows-security", 5141): "A directory service object was deleted",
    ("windows-security", 5145): "A network share object was checked to see whether client can "
    "be granted desired access",
    ("windows-security", 5152): "The Windows Filtering Platform blocked a packet",
    ("windows-security", 5156): "The Windows Filtering Platform has permitted a connection",
    ("windows-security", 5157): "The Windows Filtering Platform has blocked a connection",
    ("windows-security", 5379): "Credential Manager credentials were read",
    ("windows-security", 5382): "Vault credentials were read",
    ("windows-security", 5447): "A Windows Filtering Platform filter has been changed",
    ("windows-security", 5449): "A Windows Filtering Platform provider context has been changed",
    ("windows-security", 6281): "Code Integrity determined that the page hashes of an image file "
    "are not valid",
    ("windows-security", 6416): "A new external device was recognized by the system",
    ("windows-security", 6423): "The installation of this device is forbidden by system policy",
    ("windows-system", 104): "The System log file was cleared",
    ("windows-system", 7023): "A service terminated with an error",
    ("windows-system", 7034): "A service terminated unexpectedly",
    ("windows-system", 7036): "A service entered the running or stopped state",
    ("windows-system", 7040): "The start type of a service was changed",
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

# How log source products, services and categories are spelt, where title-casing the machine
# name gets it wrong ("Aws Cloudtrail", "Macos", "Cisco Aaa"). Keys are lower case: a whole
# name ("fortinet_fortigate") or one of its words ("aws"). A name not listed is read word by
# word, each word from this table or capitalised. Written here because no library has the
# vendors' spellings: pySigma and ATT&CK carry only the machine names.
_TERMS = {
    # products
    "aws": "AWS",
    "gcp": "GCP",
    "macos": "macOS",
    "m365": "Microsoft 365",
    "openai": "OpenAI",
    "github": "GitHub",
    "fortios": "FortiOS",
    "fortigate": "FortiGate",
    "crowdstrike": "CrowdStrike",
    "cyberarkpas": "CyberArk PAS",
    "sentinel_one": "SentinelOne",
    "onelogin": "OneLogin",
    "opencanary": "OpenCanary",
    "pfsense": "pfSense",
    "sonicwall": "SonicWall",
    "panw": "Palo Alto Networks",
    "paloalto": "Palo Alto Networks",
    "globalprotect": "GlobalProtect",
    "panos": "PAN-OS",
    "qradar": "QRadar",
    "secops": "SecOps",
    "googlecloud": "Google Cloud",
    "checkpoint": "Check Point",
    "modsecurity": "ModSecurity",
    "nodejs": "Node.js",
    "ruby_on_rails": "Ruby on Rails",
    "entityanalytics": "Entity Analytics",
    "agentcore": "AgentCore",
    "clamav": "ClamAV",
    # services and categories
    "cloudtrail": "CloudTrail",
    "auditlogs": "Audit Logs",
    "activitylogs": "Activity Logs",
    "signinlogs": "Sign-in Logs",
    "platformlogs": "Platform Logs",
    "graphactivitylogs": "Graph Activity Logs",
    "aadgraphactivitylogs": "AAD Graph Activity Logs",
    "riskdetection": "Risk Detection",
    "loadbalancing": "Load Balancing",
    "sslvpnd": "SSL VPN",
    "eve": "EVE",  # Suricata's Extensible Event Format
    "conn": "Connection",  # Zeek's conn.log
    "msexchange": "MSExchange",
    "powershell": "PowerShell",
    "powershell-classic": "PowerShell (classic)",
    "webserver": "Web Server",
    "dce_rpc": "DCE/RPC",
    "x509": "X.509",
    "dhcpv4": "DHCPv4",
    "pgsql": "PostgreSQL",
    "mysql": "MySQL",
    "mongodb": "MongoDB",
    # daemons keep their lower-case names
    "auditd": "auditd",
    "sshd": "sshd",
    "vsftpd": "vsftpd",
    "sudo": "sudo",
    "cron": "cron",
    # acronyms
    **{
        word: word.upper()
        for word in (
            *("aaa", "amqp", "bgp", "dns", "fim", "ftd", "ftp", "http", "iis", "ibm", "icmp"),
            *("id", "irc", "jvm", "ldp", "nfs", "pim", "rdp", "rpc", "sip", "smb", "smtp"),
            *("sql", "ssh", "ssl", "tls", "vpn"),
        )
    },
}


def service_key(service: str) -> str:
    """Event id prefix of a Sigma Windows service name (``security`` -> ``windows-security``)."""
    service = service.lower()
    return _SERVICE_KEY_RENAMES.get(service, service)


def windows_service(event_id: str) -> str | None:
    """The Sigma Windows service of a catalog event (``windows-security:4624`` -> ``security``).

    None for an event of no Windows channel pySigma names (``linux-auditd``, ``aws-cloudtrail``).
    """
    key = event_id.partition(":")[0]
    service = next((s for s, k in _SERVICE_KEY_RENAMES.items() if k == key), key)
    return service if service in windows_logsource_mapping else None


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


def slug(text: str) -> str:
    """An id part of a name: lower case, runs of other characters as one ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def readable(term: str) -> str:
    """How a log source product, service or category reads (``aws`` -> ``AWS``)."""
    known = _TERMS.get(term.lower())
    if known:
        return known
    if "." in term:  # a dataset such as google_workspace.admin
        return " ".join(readable(part) for part in term.split(".") if part)
    words = [word for word in re.split(r"[_\s-]+", term) if word]
    if len(words) > 1:
        return " ".join(readable(word) for word in words)
    # A word already in mixed case ("ProcessRollup2") is the vendor's spelling: kept.
    return term.capitalize() if term.islower() else term


def logsource_name(product: str | None, detail: str | None) -> str:
    """The name of a log source event: product, then service or category, each word once.

    A service that repeats its product ("okta" of okta, "gcp.audit" of gcp) is named once; a
    service that is another product's data set names that product itself: Sigma files Google
    Workspace's ``google_workspace.admin`` under gcp, and it reads "Google Workspace Admin".
    """
    if product and detail:
        lowered, prefix = detail.lower(), product.lower()
        if lowered == prefix:
            detail = None
        elif lowered.startswith(prefix + "."):
            detail = detail[len(prefix) + 1 :]
        elif "." in lowered:
            product = None
    words: list[str] = []
    for part in (product, detail):
        for word in readable(part).split() if part else ():
            if not words or words[-1].lower() != word.lower():
                words.append(word)
    return " ".join(words)


def logsource_event(
    product: str | None, category: str | None = None, service: str | None = None
) -> Event:
    """The catalog Event of a log source that has no event ids (auditd, proxy, CloudTrail).

    The id and the name come from the product and the service, else the category: one id, one
    name, whichever rule names it.
    """
    parts: list[str] = []
    for part in (product, service or category):
        if part and slug(part) not in parts:
            parts.append(slug(part))
    if not parts:
        raise ValueError("a log source needs a product, a service or a category")
    event_id = "-".join(parts)
    return Event(
        id=event_id,
        name=logsource_name(product, service or category) or event_id,
        provider=service or None,
        channel=None,
        event_id=None,
        platform=product or None,
    )


# Product logs that are also one of Sigma's generic log source categories, by Event id. Sigma's
# taxonomy makes `webserver` any web server's access log (with the W3C fields of `proxy`; the
# Apache and nginx error logs are services of their own) and `dns` any log of DNS queries and
# answers, from a server or the wire. A rule reading the product's log observes the category as
# well, since either suffices to run it; Sigma's own rules name the one log source they are
# written for.
_LOG_CATEGORIES: Mapping[str, str] = {
    **dict.fromkeys(
        ("apache-access", "apache-tomcat-access", "nginx-access", "iis-access", "traefik-access"),
        "webserver",
    ),
    **dict.fromkeys(("network-traffic-dns", "zeek-dns", "splunk-stream-dns"), "dns"),
}


def with_categories(events: Iterable[Event]) -> list[Event]:
    """The events, each followed by the generic category Event its product log belongs to."""
    found: dict[str, Event] = {}
    for event in events:
        found.setdefault(event.id, event)
        category = _LOG_CATEGORIES.get(event.id)
        if category is not None:
            found.setdefault(category, logsource_event(None, category=category))
    return list(found.values())
