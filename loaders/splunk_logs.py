"""Splunk data sources and source types of product logs, as the Events other vendors read them by.

`loaders.splunk_events` reads a data source as the Event of its Sigma log source, which also
maps its fields (`SIGMA_LOGSOURCES` there). The tables here name Events only: the logs whose
Splunk fields are the add-on's own, not those of a Sigma log source, and the product logs a
data source mapped to a generic Sigma category stands for. Each entry is the (product,
category, service) whose `logsource_event` is the Event Sigma and Elastic rules of the same log
observe, so the ids are made in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from loaders.events import logsource_event, with_categories
from loaders.records import Event, LogSource

_WORKSPACE_ADMIN: LogSource = ("gcp", None, "google_workspace.admin")
_WORKSPACE_LOGIN: LogSource = ("gcp", None, "google_workspace.login")
_PAN_OS: LogSource = ("panw", None, "panos")
_SURICATA_EVE: LogSource = ("suricata", None, "eve")
_IIS_ACCESS: LogSource = ("iis", None, "access")

#: Data source names (longest matching prefix) -> the log sources whose Events they observe,
#: beside their Sigma log source's when they have one.
DATA_SOURCE_LOGS: Mapping[str, tuple[LogSource, ...]] = {
    # Both read the Reports API's login application (`gws_reports_login`); their files give
    # the admin source type, which no search of theirs reads.
    "Google Workspace login_failure": (_WORKSPACE_LOGIN,),
    "Google Workspace login_success": (_WORKSPACE_LOGIN,),
    # Google Workspace's former name: Drive's and Gmail's activity logs.
    "G Suite Drive": (("gcp", None, "google_workspace.drive"),),
    "G Suite Gmail": (("gcp", None, "google_workspace.gmail"),),
    # Sigma's webserver category, and the nginx access log it is.
    "Nginx Access": (("nginx", None, "access"),),
    # Its file names IIS's configuration channel, but the detections naming it search the Web
    # data model (status, URI, method): IIS's access log.
    "Windows IIS": (_IIS_ACCESS,),
    # PAN-OS sends its traffic, threat and system logs as one syslog feed, which the add-on
    # splits into source types and Elastic's integration keeps as one data stream, panw.panos,
    # whose rules mostly do not say which type they read: one Event for the feed. The traffic
    # log is also Sigma's firewall category (its Sigma log source).
    "Palo Alto Network Threat": (_PAN_OS,),
    "Palo Alto Network Traffic": (_PAN_OS,),
    # The Suricata add-on reads eve.json, Elastic's suricata.eve.
    "Suricata": (_SURICATA_EVE,),
}

#: Data source names that name a product, not one of its logs: the search's source type says
#: which log the detection reads ("Google Workspace" with `gws_reports_admin`).
PRODUCT_NAMES = frozenset({"Google Workspace"})

#: Source types no data source file names (or names wrongly) -> the log sources whose Events a
#: search selecting them observes.
SOURCETYPE_LOGS: Mapping[str, tuple[LogSource, ...]] = {
    # The Google Workspace add-on's Reports API source types, one per application.
    "gws:reports:admin": (_WORKSPACE_ADMIN,),
    "gws:reports:login": (_WORKSPACE_LOGIN,),
    "gsuite:calendar:json": (("gcp", None, "google_workspace.calendar"),),
    # The Windows add-on's IIS access log (W3C fields, as Exchange's front end writes them).
    "mswindows:iis": (_IIS_ACCESS,),
    # Falcon's streaming API (detection summaries, audit events): Elastic's crowdstrike.falcon.
    "crowdstrike:event:streams:json": (("crowdstrike", None, "falcon"),),
    # Splunk Stream's DNS protocol records, named as its HTTP and TCP data sources are.
    "stream:dns": (("splunk_stream", None, "dns"),),
}


def data_source_events(name: str) -> list[Event]:
    """The Events `DATA_SOURCE_LOGS` gives a data source name, with their categories."""
    prefix = longest_prefix(name, DATA_SOURCE_LOGS)
    logsources = DATA_SOURCE_LOGS[prefix] if prefix is not None else ()
    return with_categories(logsource_event(*logsource) for logsource in logsources)


def sourcetype_events(value: str) -> list[Event]:
    """The Events `SOURCETYPE_LOGS` gives a source type (none for one it does not hold)."""
    logsources = SOURCETYPE_LOGS.get(value.strip().lower(), ())
    return with_categories(logsource_event(*logsource) for logsource in logsources)


def longest_prefix(name: str, prefixes: Iterable[str]) -> str | None:
    """The longest of the prefixes a data source name starts with, as whole words."""
    found = (p for p in prefixes if name == p or name.startswith(p + " "))
    return max(found, key=len, default=None)
