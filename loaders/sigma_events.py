"""Sigma log sources to catalog events, through pySigma's Windows and Sysmon pipelines.

A Windows category names its events through the tables pySigma's pipelines are built from:
Sysmon event ids (``sigma.pipelines.sysmon``), Windows audit events and PowerShell channels
(``sigma.pipelines.windows``); ``process_creation`` is both ``sysmon:1`` and
``windows-security:4688``. A Windows service names its events by the EventID values the rule
checks (not excluded), beside its category's when it has both. Log sources without event ids
are one catalog event each, a few of them read as the log they stand for (`SERVICE_LOGS`,
`ALSO_IN`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import cast

from sigma.pipelines.sysmon.sysmon import sysmon_generic_logsource_eventid_mapping
from sigma.pipelines.windows.windows import (
    generic_logsource_to_windows_audit_event_mapping,
    windows_generic_category_channel_mapping,
)

from loaders.events import logsource_event, service_key, windows_event
from loaders.records import Event, Predicate

#: The Sigma field that carries a Windows event id.
EVENT_ID_FIELD = "EventID"

#: Services without a product that are one product's log. Sigma's web server access logs are
#: category webserver; its ``service: apache`` and ``service: nginx`` rules read the server's
#: error log (their definitions ask for error.log; a core dump is written there), which the
#: taxonomy's product apache, service error names and Elastic reads as apache.error.
SERVICE_LOGS: Mapping[str, tuple[str, None, str]] = {
    "apache": ("apache", None, "error"),
    "nginx": ("nginx", None, "error"),
}

#: Linux services whose messages another log holds too: sshd and sudo write to syslog's
#: auth facility, that is /var/log/auth.log (secure on Red Hat), Sigma's linux auth service
#: and Elastic's system.auth. Their rules run on either, so they observe both.
ALSO_IN: Mapping[tuple[str, str], tuple[str, None, str]] = {
    ("linux", "sshd"): ("linux", None, "auth"),
    ("linux", "sudo"): ("linux", None, "auth"),
}

# pySigma annotates these tables loosely (one as ast.Dict); their shapes are fixed.
_SYSMON = cast(Mapping[str, int | list[int]], sysmon_generic_logsource_eventid_mapping)
_AUDIT = cast(Mapping[str, Mapping[str, object]], generic_logsource_to_windows_audit_event_mapping)
_CHANNELS = cast(Mapping[str, Mapping[str, object]], windows_generic_category_channel_mapping)


def category_events(category: str) -> list[Event]:
    """The Windows events pySigma's pipelines map a Sigma category onto (may be none)."""
    events: list[Event] = []
    sysmon = _SYSMON.get(category)
    if sysmon is not None:
        for number in sysmon if isinstance(sysmon, list) else [sysmon]:
            events.append(windows_event("sysmon", number))
    audit = _AUDIT.get(category)
    if audit is not None:
        events.append(windows_event("windows-security", str(audit["EventID"])))
    channel = _CHANNELS.get(category)
    if channel is not None:
        events.append(windows_event(service_key(str(channel["service"])), str(channel["EventID"])))
    return events


def positive_event_ids(predicates: Iterable[Predicate]) -> list[int]:
    """EventID values the rule matches on (not excluded), in order of first appearance."""
    found: dict[int, None] = {}
    for predicate in predicates:
        if (
            predicate.vendor_field == EVENT_ID_FIELD
            and not predicate.negated
            and predicate.operator == "eq"
            and predicate.value.isdigit()
        ):
            found[int(predicate.value)] = None
    return list(found)


def sigma_events(
    product: str | None,
    category: str | None,
    service: str | None,
    predicates: Iterable[Predicate] = (),
) -> list[Event]:
    """The catalog events a Sigma rule with this log source and these predicates observes."""
    product = product.lower() if product else None
    events: list[Event] = []
    if product == "windows":
        if category:
            events = category_events(category.lower())
        if service:
            # A service names its channel; the EventID values say which of its events. With a
            # category as well (a global document's service beside a document's category),
            # both are observed.
            key = service_key(service)
            known = {event.id for event in events}
            for number in positive_event_ids(predicates):
                event = windows_event(key, number)
                if event.id not in known:
                    known.add(event.id)
                    events.append(event)
    if not events and (product or category or service):
        logsource = (product, category, service)
        if not product and not category and service:
            logsource = SERVICE_LOGS.get(service.lower(), logsource)
        events = [logsource_event(*logsource)]
        also = ALSO_IN.get((product or "", (service or "").lower()))
        if also is not None:
            events.append(logsource_event(*also))
    return events
