"""Cloud and SaaS audit log attributes under the names Elastic's integrations store them.

No pySigma pipeline maps any cloud or SaaS audit log. Sigma's rules and Splunk's raw searches
write the logs' own attribute names (CloudTrail's ``eventName``, Okta's ``eventType``), Elastic's
rules the names its integrations give them (``event.action``, ``okta.outcome.result``); the
tables here give the second for the first, so the same check is one indicator for every vendor.
`loaders.fields` reads them as hand mappings of its Sigma-to-ECS table.
"""

from __future__ import annotations

from loaders.records import LogSource

#: Attribute name -> ECS or integration field, per log source.
CLOUD_MAPPINGS: dict[LogSource, dict[str, str]] = {
    # Cloud audit logs: Elastic's integrations put the API call in event.action and the
    # calling service in event.provider (212 of Elastic's CloudTrail rules check event.action).
    # No pySigma pipeline maps any cloud or SaaS audit log; every entry below is one of these
    # integrations' own renames, so the same API call is one indicator for every vendor.
    # The other CloudTrail attributes rules check, as the aws integration renames them.
    # errorCode keeps its raw name only in Splunk's add-on "success" (no error), which the
    # integration leaves empty; the attribute itself is the same.
    ("aws", None, "cloudtrail"): {
        "eventName": "event.action",
        "eventSource": "event.provider",
        "userIdentity.type": "aws.cloudtrail.user_identity.type",
        "userIdentity.arn": "aws.cloudtrail.user_identity.arn",
        "userIdentity.accessKeyId": "aws.cloudtrail.user_identity.access_key_id",
        "userIdentity.invokedBy": "aws.cloudtrail.user_identity.invoked_by",
        "errorCode": "aws.cloudtrail.error_code",
        "errorMessage": "aws.cloudtrail.error_message",
        "userAgent": "user_agent.original",
    },
    # Okta system log (the okta integration's renames).
    ("okta", None, "okta"): {
        "eventType": "event.action",
        "outcome.result": "okta.outcome.result",
        "outcome.reason": "okta.outcome.reason",
        "securityContext.isProxy": "okta.security_context.is_proxy",
        "actor.alternateId": "okta.actor.alternate_id",
        "actor.displayName": "okta.actor.display_name",
    },
    # Microsoft 365 management API (the o365 integration): Operation and Workload; Sigma's
    # threat_management rules spell the same attributes eventName and eventSource.
    ("m365", None, None): {
        "Operation": "event.action",
        "eventName": "event.action",
        "Workload": "event.provider",
        "eventSource": "event.provider",
    },
    # The management activity records' other attributes: the o365 integration keeps them under
    # o365.audit. as the API spells them, where Elastic's rules check them (ClientAppId 146
    # times, ErrorNumber 26). ObjectId is moved to url.original on SharePoint file and sharing
    # records only. Left raw: attributes the integration moves depending on the record type
    # (an alert's Name is rule.name, a Teams setting's o365.audit.Name) and the Parameters and
    # ExtendedProperties lists as a whole, which it turns into objects keyed by each entry's
    # name. An entry of those lists named alone (Splunk's add-on extracts Exchange cmdlets'
    # parameters as fields: AccessRights=FullAccess) is that object's attribute.
    ("m365", None, "audit"): {
        name: "o365.audit." + name
        for name in (
            "ApplicationId",
            "AppId",
            "ClientAppId",
            "ClientInfoString",
            "ErrorNumber",
            "LogonError",
            "ObjectId",
            "ResultStatus",
            "UserId",
            "UserType",
            "DeliveryAction",
            "Directionality",
            "Target.ID",
            "Target.Type",
            "Actor.Type",
            "Item.ParentFolder.MemberUpn",
            "Item.ParentFolder.MemberRights",
        )
    }
    | {
        name: "o365.audit.ExtendedProperties." + name
        for name in ("RequestType", "ResultStatusDetail", "UserAuthenticationMethod")
    }
    | {name: "o365.audit.Parameters." + name for name in ("AccessRights", "Role")},
    # Entra ID and Azure activity logs (the azure integration copies operationName into
    # event.action, and keeps it too as azure.<log>.operation_name, which
    # ELASTIC_FIELD_ALIASES folds into event.action). The other attributes of the two Entra
    # logs follow the integration's names through entra_attribute; the entries here are those
    # that are no plain rename of a properties attribute.
    ("azure", None, "auditlogs"): {
        "operationName": "event.action",
        # An audit entry's activity is its operation: Entra writes the same text to
        # activityDisplayName (Log Analytics' ActivityDisplayName), and Sigma's audit rules
        # search it as properties.message ("Add owner to application").
        "ActivityDisplayName": "event.action",
        "properties.activityDisplayName": "event.action",
        "properties.message": "event.action",
        # Log Analytics' Category column is the audit category (RoleManagement), the JSON's
        # properties.category; the record's own category (AuditLogs) is a different field.
        "Category": "azure.auditlogs.properties.category",
        # The integration moves result (success, failure) to event.outcome.
        "Result": "event.outcome",
        "properties.result": "event.outcome",
    },
    # Entra sign-in result code: Sigma's ResultType (Log Analytics' column) and the raw
    # properties.status.errorCode are the integration's properties.status.error_code.
    ("azure", None, "signinlogs"): {
        "operationName": "event.action",
        "ResultType": "azure.signinlogs.properties.status.error_code",
        "properties.status.errorCode": "azure.signinlogs.properties.status.error_code",
        # Attributes of the record rather than of its properties, as the integration stores
        # them: the caller's address is source.ip, the result text result_description.
        "ResultDescription": "azure.signinlogs.result_description",
        "callerIpAddress": "source.ip",
        # Sigma's ClientApp is Log Analytics' ClientAppUsed, the JSON's clientAppUsed.
        "ClientApp": "azure.signinlogs.properties.client_app_used",
        # deviceDetail.trustType; lookups ignore case, so Sigma's "trusttype" finds it.
        "DeviceDetail.trustType": "azure.signinlogs.properties.device_detail.trust_type",
    },
    # OperationNameValue is Log Analytics' column of the same operation name (AzureActivity).
    ("azure", None, "activitylogs"): {
        "operationName": "event.action",
        "OperationNameValue": "event.action",
        # The Azure integration keeps the resource's id as azure.resource.id.
        "ResourceId": "azure.resource.id",
    },
    # GCP audit logs and Google Workspace (the gcp and google_workspace integrations).
    ("gcp", None, "gcp.audit"): {
        "gcp.audit.method_name": "event.action",
        "data.protoPayload.methodName": "event.action",
    },
    ("gcp", None, "google_workspace.admin"): {
        "eventName": "event.action",
        "eventService": "event.provider",
    },
    # GitHub audit log (the github integration): the audit action, "repo.destroy".
    ("github", None, "audit"): {"action": "event.action"},
}

#: CloudTrail's request, response and extra-data objects, which the aws integration keeps whole,
#: their keys as CloudTrail spells them, in flattened fields under aws.cloudtrail.flattened (and
#: as text, ``{key=value, ...}``, in aws.cloudtrail.request_parameters and its siblings). Sigma's
#: rules and Splunk's searches name an attribute inside one by its JSON path
#: (``requestParameters.egress``), Elastic's rules by the flattened field
#: (``aws.cloudtrail.flattened.request_parameters.egress``). One spelling per attribute: the
#: integration's, as for every other CloudTrail attribute above, since that is the name the
#: stored events and Elastic's rules use and the raw one is no field of theirs. The flattened
#: type addresses array elements without positions, as Splunk's ``{}`` (dropped before the
#: lookup) does. The objects themselves (Sigma's ``requestParameters|contains`` on the JSON
#: text) stay raw: the integration's text form is not JSON, so the same pattern finds other text.
CLOUDTRAIL_OBJECTS: dict[str, str] = {
    "requestparameters": "aws.cloudtrail.flattened.request_parameters",
    "responseelements": "aws.cloudtrail.flattened.response_elements",
    "additionaleventdata": "aws.cloudtrail.flattened.additional_eventdata",
    "serviceeventdetails": "aws.cloudtrail.flattened.service_event_details",
}


def cloud_attribute(field: str, product: str | None, service: str | None) -> str | None:
    """The integration's name of a cloud log attribute that no table entry names, or None.

    An attribute inside one of CloudTrail's objects (`CLOUDTRAIL_OBJECTS`): CloudTrail's
    ``requestParameters.aclProtocol`` is the integration's
    ``aws.cloudtrail.flattened.request_parameters.aclProtocol``. The object's name is matched
    without regard to case, the path inside it kept as written.
    """
    if (product, service) != ("aws", "cloudtrail"):
        return None
    head, dot, rest = field.partition(".")
    target = CLOUDTRAIL_OBJECTS.get(head.lower())
    return f"{target}.{rest}" if target is not None and dot and rest else None
