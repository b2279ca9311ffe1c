"""Fields Splunk's add-ons give raw events, with the Sigma or ECS field that holds the same data.

A Splunk search over raw events (no data model) names the fields its add-ons extract: the
Windows add-on's names from the classic rendering of a message (``Logon_Type``), CIM aliases
(``src``, ``file_name``), names derived from another field (the Sysmon add-on's
``loaded_file``), and the attributes of cloud logs. `loaders.cim` maps a raw field through these
tables before the Sigma mapping; `loaders.fields` applies `TA_WINDOWS_ALIASES` to Sigma's rules
that borrow the add-on's spelling.
"""

from __future__ import annotations

from collections.abc import Mapping

from loaders.records import LogSource

#: Field names the Splunk Add-on for Microsoft Windows gives Security events, from the classic
#: rendering of the message ("Logon Type:" -> Logon_Type), with the XML (Sigma) field that holds
#: the same data. Neither pySigma nor the data sources' field_mappings list them; without this
#: they became winlog.event_data.Logon_Type beside Sigma's winlog.event_data.LogonType.
TA_WINDOWS_ALIASES: Mapping[str, str] = {
    "Logon_Type": "LogonType",
    "Logon_Process": "LogonProcessName",
    # 4624/4625 "Network Information": the client's address.
    "Source_Network_Address": "IpAddress",
    "Target_User_Name": "TargetUserName",
    # 4720, 4726 and the group events: "Caller User Name" is the subject that made the change.
    "Caller_User_Name": "SubjectUserName",
    "Service_Name": "ServiceName",
    "service_name": "ServiceName",
    "Process_Name": "ProcessName",
    # 4727-4737 group events: the group is the event's target.
    "Group_Name": "TargetUserName",
    # 4624/4625/4769: the add-on's Account_Name is multivalued (subject and target); detections
    # check it for the target account (computer accounts, "*$").
    "Account_Name": "TargetUserName",
    # 4663 object access: the accessed object's path.
    "object_file_path": "ObjectName",
    "object_file_name": "ObjectName",
    # Kerberos and logon events: the client address (Sysmon 3's SourceIp maps to the same ECS
    # field, so the alias holds there too).
    "src_ip": "IpAddress",
    # Sysmon 10 and WMI activity, under the add-ons' lower-case names.
    "granted_access": "GrantedAccess",
    "query": "Query",
    # The add-on's signature_id is the event's code on every channel (CIM's signature_id).
    "signature_id": "EventID",
}

#: Names the Windows add-on gives Security events only, with the XML (Sigma) field that holds
#: the same data there. On other channels the same names hold other data (Sysmon 3's src is
#: the connection's source, Sysmon 11's file_path the created file), so they map through the
#: CIM data set of those events instead.
TA_SECURITY_ALIASES: Mapping[str, str] = {
    # Logon and Kerberos events (4624, 4625, 4768, 4769, 4776): the client's address,
    # "Source Network Address" / "Client Address" in the message, IpAddress in the XML.
    "src": "IpAddress",
    # 4656 and 4663 object access: the accessed object's path, as object_file_path.
    "file_path": "ObjectName",
}

#: Names the Windows add-on gives Security object access events for the last component of
#: the XML field (file_name is ObjectName after its last backslash). A check on the name is a
#: check on the path's end: ``file_name=x.aspx`` is ``ObjectName=*\\x.aspx``.
TA_SECURITY_NAME_ALIASES: Mapping[str, str] = {
    "file_name": "ObjectName",
    "object_file_name": "ObjectName",
}

#: Fields Splunk's add-ons and apps add to raw Windows events that the event itself does not
#: carry and no ECS or Sigma field holds, kept under the name the search writes rather than
#: dressed as a Windows event field (``winlog.event_data.dest_category`` does not exist):
#: asset and identity categories from Enterprise Security's lookups (``dest_category``,
#: ``src_category``), the add-on's account type and service start mode (``user_type``,
#: ``start_mode``), the task category (``category``), the XML of the whole EventData
#: (``EventData_Xml``), Active Directory monitoring's attributes (``objectCategory``,
#: ``admonEventType``, from ``source=ActiveDirectory`` joined into Security searches), and the
#: CIM names mapped by value (``action``, ``status``) when the value is no CIM verb.
ADDON_ONLY_FIELDS: frozenset[str] = frozenset(
    {"action", "status", "src", "file_path", "file_name", "category", "user_type", "start_mode"}
    | {"dest_category", "src_category", "EventData_Xml", "objectCategory", "admonEventType"}
)

#: Attributes of cloud logs that Splunk searches name and no Sigma mapping covers, by Sigma log
#: source, with the field Elastic's integration for the same log stores them in.
LOG_FIELDS: Mapping[LogSource, Mapping[str, str]] = {
    # The Splunk Add-on for AWS aliases CloudTrail's userIdentity.type as CIM's user_type
    # (IAMUser, AssumedRole, Root): the aws integration's aws.cloudtrail.user_identity.type,
    # where userIdentity.type lands too.
    ("aws", None, "cloudtrail"): {"user_type": "aws.cloudtrail.user_identity.type"},
    # Azure Monitor's category names the Entra log a record belongs to (SignInLogs,
    # NonInteractiveUserSignInLogs, AuditLogs); the azure integration keeps it as
    # azure.<log>.category, which Elastic's sign-in rules check.
    ("azure", None, "signinlogs"): {"category": "azure.signinlogs.category"},
    ("azure", None, "auditlogs"): {"category": "azure.auditlogs.category"},
}

#: Raw fields the Splunk Add-on for Sysmon derives from a Sysmon field, with the Sigma field and
#: whether they hold only its last path component. Neither pySigma nor the data sources list
#: them; detections derive them the same way (windows_known_abused_dll_loaded_suspiciously.yml:
#: loaded_file is ImageLoaded without its folder), so they land where ImageLoaded does.
SYSMON_ADDON_FIELDS: Mapping[str, tuple[str, bool]] = {
    "loaded_file_path": ("ImageLoaded", False),
    "loaded_file": ("ImageLoaded", True),
}

#: OCSF attributes of Amazon Security Lake's API Activity events that Splunk's ASL searches check
#: (`amazon_security_lake` api.operation=CreateAccessKey). No pySigma pipeline or data source maps
#: them (those searches name no data source); they are CloudTrail's eventName and eventSource,
#: which Elastic's integration and the Sigma mapping put in event.action and event.provider.
OCSF_FIELDS: Mapping[str, str] = {
    "api.operation": "event.action",
    "api.service.name": "event.provider",
}

#: Raw fields the Splunk add-ons of web proxies, web servers and network sensors (Zscaler, nginx,
#: Splunk Stream's stream:http, Suricata's eve HTTP records) extract under the name of CIM's Web
#: attribute, which is how their events fill the Web data model; their searches check them
#: outside it (`stream_http` http_method=POST). The CIM gives these names to Web alone (url also
#: to an e-mail's links, the same kind of value), so such a raw field that the rule's log does not
#: map otherwise is that Web attribute: http_method is Web.http_method, http.request.method.
WEB_FIELDS: frozenset[str] = frozenset(
    {"http_method", "http_user_agent", "uri_path", "uri_query", "url"}
)
