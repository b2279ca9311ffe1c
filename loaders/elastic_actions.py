"""The Windows events an Elastic ``event.action`` value stands for, when a rule names no code.

Elastic's Windows Security ingest pipeline sets ``event.action`` from the event code (the "Set
ECS categorization fields" script of elastic/integrations
``packages/system/data_stream/security/elasticsearch/ingest_pipeline/standard.yml``, earlier
winlogbeat's ``x-pack/winlogbeat/module/security/ingest/security.yml``), so many rules name the
event only by that action: ``event.action == "scheduled-task-created"`` is Security 4698. The
table below is that pipeline's, read backwards, for the actions the detection rules use and
their near relatives. No package ships it in a form we can import, so it is written here.

For events the pipeline has no entry for, winlogbeat puts the event's task category in
``event.action``; the few such names the rules use are listed apart, each with the rule text
that pairs it with its code.
"""

from __future__ import annotations

# Security channel: action -> event codes, from the pipeline's code -> action table.
_SECURITY_ACTIONS: dict[str, tuple[int, ...]] = {
    "audit-log-cleared": (1102,),
    "logged-in": (4624,),
    "logon-failed": (4625,),
    "logged-out": (4634, 4647),
    "logged-in-explicit": (4648,),
    "registry-value-modified": (4657,),
    "object-operation-performed": (4662,),
    "permissions-changed": (4670,),
    "logged-in-special": (4672, 4964),
    "privileged-service-called": (4673,),
    "privileged-operation": (4674,),
    "created-process": (4688,),
    "exited-process": (4689,),
    "service-installed": (4697,),
    "scheduled-task-created": (4698,),
    "scheduled-task-deleted": (4699,),
    "scheduled-task-enabled": (4700,),
    "scheduled-task-disabled": (4701,),
    "scheduled-task-updated": (4702,),
    "domain-trust-added": (4706,),
    "changed-audit-config": (4719,),
    "added-user-account": (4720,),
    "enabled-user-account": (4722,),
    "changed-password": (4723,),
    "reset-password": (4724,),
    "disabled-user-account": (4725,),
    "deleted-user-account": (4726,),
    "added-member-to-group": (4728, 4732, 4756),
    "removed-member-from-group": (4729, 4733, 4757),
    "modified-user-account": (4738,),
    "added-computer-account": (4741,),
    "changed-computer-account": (4742,),
    "kerberos-authentication-ticket-requested": (4768,),
    "kerberos-service-ticket-requested": (4769,),
    "kerberos-preauth-failed": (4771,),
    "credential-validated": (4776,),
    "renamed-user-account": (4781,),
    # The pipeline's own names, crossed over: 4798 enumerates a user's groups, 4799 a group's
    # members.
    "group-membership-enumerated": (4798,),
    "user-member-enumerated": (4799,),
    "directory-service-object-modified": (5136,),
    "directory-service-object-created": (5137,),
    "network-share-object-accessed": (5140,),
    "network-share-object-access-checked": (5145,),
    "windows-firewall-packet-drop": (5152,),
    "windows-firewall-packet-block": (5157,),
}

# Task-category names winlogbeat writes as the action of events outside the pipeline's table.
_TASK_ACTIONS: dict[str, tuple[tuple[str, int], ...]] = {
    # defense_evasion_clearing_windows_security_logs.toml pairs "Log clear" with the System
    # channel: System 104 (Eventlog, "The log file was cleared"), beside Security 1102.
    "log clear": (("windows-system", 104),),
    # privilege_escalation_tokenmanip_sedebugpriv_enabled.toml cites Microsoft's event-4703 page.
    "token right adjusted events": (("windows-security", 4703),),
    # defense_evasion_write_dac_access.toml pairs it with event.code 4662.
    "directory service access": (("windows-security", 4662),),
}

# ECS categories the pipeline gives the events above, for the categories our Sigma mapping reads:
# a rule's ``network where event.action == "windows-firewall-packet-drop"`` is Security 5152,
# not the Sysmon network connection its category alone would name.
_ACTION_CATEGORIES: dict[str, frozenset[str]] = {
    "registry-value-modified": frozenset({"registry"}),
    "created-process": frozenset({"process"}),
    "exited-process": frozenset({"process"}),
    "network-share-object-accessed": frozenset({"network", "file"}),
    "network-share-object-access-checked": frozenset({"network", "file"}),
    "windows-firewall-packet-drop": frozenset({"network"}),
    "windows-firewall-packet-block": frozenset({"network"}),
}


def action_categories(action: str) -> frozenset[str]:
    """The ECS categories of the events an ``event.action`` value names."""
    return _ACTION_CATEGORIES.get(action.strip().lower(), frozenset())


def action_events(action: str) -> tuple[tuple[str, int], ...]:
    """The (channel key, event id) pairs an ``event.action`` value names; () when unknown."""
    name = action.strip().lower()
    codes = _SECURITY_ACTIONS.get(name)
    if codes is not None:
        return tuple(("windows-security", code) for code in codes)
    return _TASK_ACTIONS.get(name, ())
