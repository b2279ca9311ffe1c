"""Entra ID (Azure AD) audit and sign-in attributes under the azure integration's names.

Sigma writes Log Analytics' columns or the JSON's paths, Splunk the JSON's paths, Elastic the
names the azure integration's ingest pipelines give them; `entra_attribute` gives the last for
the first two, so one attribute is one Field (`loaders.fields.sigma_to_ecs` falls back to it
for product azure).
"""

from __future__ import annotations

import re

# Entra ID's audit and sign-in records, as the azure integration stores them. Sigma writes Log
# Analytics' columns (AuthenticationRequirement) or the JSON's paths
# (properties.authenticationRequirement), Splunk the JSON's paths; the integration keeps an
# attribute under azure.<log>.properties. Columns for the record's own attributes (Category,
# ResultType, Location...) map one by one in _HAND_MAPPINGS or stay raw, as does Status (an
# object; Sigma checks it for text no sign-in holds).
_ENTRA_RECORD_COLUMNS = frozenset(
    {"category", "resulttype", "resultsignature", "resultdescription", "operationname"}
    | {"operationversion", "identity", "level", "location", "calleripaddress", "tenantid"}
    | {"correlationid", "durationms", "time", "resourceid", "status"}
)
_PROPERTIES = "properties."
# The sign-in pipeline snake-cases every JSON key with this pattern (keysToSnakeCase), renames
# three properties further and moves the user agent and client address to ECS. It moves the
# location to geo.* and the status texts into message; Sigma's free-text properties.message
# is no attribute at all. Those stay raw.
_SIGNIN_KEY = re.compile(r"([a-z])([A-Z]+)")
_SIGNIN_RENAMES = {
    "created_date_time": "created_at",
    "processing_time_in_milliseconds": "processing_time_ms",
    "risk_level_during_sign_in": "risk_level_during_signin",
}
# Log Analytics' IPAddress has no lower-case letter before its capitals: one word, ipaddress,
# which the pipeline reads as well.
_SIGNIN_ECS = {
    "user_agent": "user_agent.original",
    "ip_address": "source.ip",
    "ipaddress": "source.ip",
}
_SIGNIN_UNKEPT = ("location", "status.failure_reason", "status.additional_details", "message")
# The audit pipeline renames only these properties (lower-cased key -> its name) and keeps the
# others as the JSON spells them (initiated_by.user.userPrincipalName, userAgent). Of a target
# resource and its modified properties it keeps only the keys in _AUDIT_TARGET_KEYS.
_AUDIT_KEYS = {
    "activitydatetime": "activity_datetime",
    "additionaldetails": "additional_details",
    "category": "category",
    "correlationid": "correlation_id",
    "id": "id",
    "initiatedby": "initiated_by",
    "loggedbyservice": "logged_by_service",
    "operationtype": "operation_type",
    "resultreason": "result_reason",
    "targetresources": "target_resources",
    "useragent": "userAgent",
}
_AUDIT_TARGET_KEYS = {
    "displayname": "display_name",
    "id": "id",
    "type": "type",
    "ipaddress": "ip_address",
    "userprincipalname": "user_principal_name",
    "modifiedproperties": "modified_properties",
    "newvalue": "new_value",
    "oldvalue": "old_value",
}


def entra_attribute(field: str, log: str | None) -> str | None:
    """The azure integration's name of an Entra audit or sign-in attribute, or None.

    ``field`` is a JSON path under properties (``properties.authenticationRequirement``) or a
    Log Analytics column (``AuthenticationRequirement``, ``DeviceDetail.deviceId``). A column
    must carry a capital, as columns and JSON keys do: all-lower bare names (action, user, src)
    are the CIM aliases Splunk's add-on adds, not attributes of the log.
    """
    raw = field.startswith(_PROPERTIES)
    keys = (field[len(_PROPERTIES) :] if raw else field).split(".")
    if not all(keys):
        return None
    if not raw and (field == field.lower() or keys[0].lower() in _ENTRA_RECORD_COLUMNS):
        return None
    if log == "signinlogs":
        path = ".".join(_SIGNIN_KEY.sub(r"\1_\2", key).lower() for key in keys)
        if path in _SIGNIN_ECS:
            return _SIGNIN_ECS[path]
        if any(path == gone or path.startswith(gone + ".") for gone in _SIGNIN_UNKEPT):
            return None
        first, dot, inner = path.partition(".")
        return f"azure.signinlogs.properties.{_SIGNIN_RENAMES.get(first, first)}{dot}{inner}"
    if log != "auditlogs":
        return None
    head = _AUDIT_KEYS.get(keys[0].lower(), keys[0] if raw else None)
    rest = keys[1:]
    if head == "target_resources":
        rest = [_AUDIT_TARGET_KEYS.get(key.lower(), "") for key in rest]
    if head is None or not all(rest):
        return None
    return ".".join(["azure.auditlogs.properties", head, *rest])
