"""Event selectors: checks that say which events a rule reads, not what is suspicious in them.

The authoring guide, similarity and overlap can leave them out; the API and its Cypher read the
one vocabulary here.
"""

from __future__ import annotations

#: Fields that only say which events a rule reads (the log, provider, event id or ECS event
#: class), not what in those events is suspicious. Chosen from the corpus: each has few distinct
#: values shared by hundreds of rules of any technique (event.category: 16 values on 1,217 rules,
#: host.os.type: 3 on 1,077, event.type: 17 on 869, data_stream.dataset: 77 on 630, event.outcome:
#: 4 on 423, event.provider: 71 on 383). event.action is not one: its 1,285 values (AWS API calls,
#: audit actions) are what cloud and audit rules look for.
EVENT_SELECTOR_FIELDS = frozenset(
    {
        "event.category",
        "event.type",
        "event.kind",
        "event.outcome",
        "event.code",
        "event.provider",
        "event.dataset",
        "event.module",
        "data_stream.dataset",
        "host.os.type",
        "winlog.channel",
        "winlog.provider_name",
    }
)


#: Values that only restate the event kind, on fields whose other values are indicators; compared
#: lower-cased. Chosen from the corpus:
#: - event.action: the generic step of a process, file, network or library event, each checked by
#:   rules that also select the same event.category (exec 350 rules, 345 of them with category
#:   process; start 166; exec_event 151; ProcessRollup2 119; executed 105; process_started 85;
#:   creation 50, all but one with category file; connection_attempted 38; rename 25; load 10,
#:   with category library). Values naming what was done stay indicators: AWS and audit actions
#:   (consolelogin, deletebucket), uid_change, loaded-kernel-module, and logins (ssh_login names
#:   the protocol).
#: - type: the auditd record types that carry a process or path record (execve 48 rules, syscall
#:   25, path 18, proctitle 14), read by Linux rules of any technique; service_stop and add_user
#:   are what the rules look for.
EVENT_SELECTOR_VALUES: dict[str, frozenset[str]] = {
    "event.action": frozenset({
        # process
        "exec", "exec_event", "executed", "start", "process_started", "processrollup2", "fork",
        "fork_event", "end", "already_running",
        # file
        "creation", "file_create_event", "modification", "rename", "renamed",
        "file_rename_event", "open", "opened-file", "overwrite",
        # network and DNS
        "connection_attempted", "connection_accepted", "disconnect_received",
        "ipv4_connection_attempt_event", "connected-to", "lookup_requested", "lookup_result",
        # library
        "load",
    }),
    "type": frozenset({"execve", "syscall", "path", "proctitle"}),
}  # fmt: skip


def is_event_selector(field: str, value: str | None = None) -> bool:
    """Whether a check selects events rather than looks for something in them.

    A field of EVENT_SELECTOR_FIELDS is a selector whatever its value; a field of
    EVENT_SELECTOR_VALUES only with one of its values. Without a value, whether the field is.
    """
    if field in EVENT_SELECTOR_FIELDS:
        return True
    values = EVENT_SELECTOR_VALUES.get(field)
    return values is not None and value is not None and value.lower() in values


def selector_key(key: str) -> bool:
    """is_event_selector for a Value key (`field|operator|value`)."""
    field, _, rest = key.partition("|")
    return is_event_selector(field, rest.partition("|")[2])


def event_selector_params() -> dict[str, list[str]]:
    """The selector lists as Cypher parameters, for queries that leave selectors out.

    `selector_fields` are field names, `selector_values` `field|value` with the value
    lower-cased: a check is a selector when `v.field IN $selector_fields OR v.field + '|' +
    toLower(v.value) IN $selector_values`.
    """
    return {
        "selector_fields": sorted(EVENT_SELECTOR_FIELDS),
        "selector_values": sorted(
            f"{field}|{value}" for field, vs in EVENT_SELECTOR_VALUES.items() for value in vs
        ),
    }
