"""Building canonical predicates: one place for the rules every vendor's parser shares.

Each parser reads its own syntax into (field, operator, value) and calls `make_predicate`, which
applies what makes indicators from different vendors the same Value node: suffix clean-up,
lower-casing of case-insensitive comparisons, path-to-name and extension folding.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace

from loaders.records import ANY_FIELD, Predicate

# ECS multi-field suffixes that name an index variant, not a different field.
_SUFFIXES = (".caseless", ".keyword", ".text", ".wildcard")

# A path field checked only for its last component is the same check as the name field with
# eq. ECS pairs each path-like field with its name field; the pairs are fixed by ECS itself.
PATH_TO_NAME = {
    "process.executable": "process.name",
    "process.parent.executable": "process.parent.name",
    "file.path": "file.name",
    "dll.path": "dll.name",
    "file.target_path": "file.target_name",
    "process.Ext.effective_parent.executable": "process.Ext.effective_parent.name",
    "process.group_leader.executable": "process.group_leader.name",
    "process.session_leader.executable": "process.session_leader.name",
}

# "*\name.ext" or "*/name": a wildcard anchored on a path separator, naming one component.
_LAST_COMPONENT = re.compile(r"^\*[\\/]+([^\\/*?]+)$")


def last_component(pattern: str) -> str | None:
    """The one path component a ``*\\name`` wildcard names, or None for any other pattern."""
    found = _LAST_COMPONENT.match(pattern)
    return found.group(1) if found else None


# A path or name checked only for what follows its last dot is the same check as ECS's
# file.extension with eq: ECS defines the extension as the text after the last dot of the name,
# without the dot. Like the path-to-name fold, this replaces the check (one indicator, one
# Value). ECS has no extension field for process.* or dll.*, so only file.* folds.
EXTENSION_FIELDS = {"file.path": "file.extension", "file.name": "file.extension"}

# "*.vbs": a wildcard on a suffix that starts at a dot and holds no separator, dot or wildcard.
_EXTENSION = re.compile(r"^\*\.([^\\/.*?\s]+)$")

CASE_FOLDED_OPERATORS = frozenset({"eq", "wildcard", "match"})

# Sysmon writes REG_DWORD and REG_QWORD data as "DWORD (0x00000001)"; Splunk's Sysmon add-on
# and Elastic's Sysmon pipeline keep the number alone ("0x00000001"), which their rules check.
# One spelling per datum: the number. Decimal data ("1") is not folded: on REG_SZ it is text.
_REGISTRY_NUMBER = re.compile(r"^[dq]word \((0x[0-9a-f]+)\)$", re.IGNORECASE)

# Windows writes a share's name in 5140 / 5145 events as \\*\NAME, the "*" standing for the
# server. SPL has no literal "*": its ShareName="\\\\*\\IPC$" matches exactly the events whose
# share name is that text, the literal Sigma and Elastic check.
_SHARE_NAME = re.compile(r"^\\\\\*\\[^*?\\]+$")

# Windows writes an account as DOMAIN\name in one field (Sysmon's User: NT AUTHORITY\SYSTEM);
# ECS, and Elastic's pipelines and rules, split it into user.domain and user.name
# (user.name : "SYSTEM"). A check of such a value is a check of both parts; "*\name" is the
# name in any domain. Patterns elsewhere in the value (SYSTEM*, NT AUTHORITY\*) are not split.
_ACCOUNT = re.compile(r"^([^\\*?]+|\*)\\([^\\*?]+)$")

# An IPv4 or IPv6 network written with a prefix length: what KQL and SPL compare as a range.
_CIDR_TEXT = re.compile(r"^[0-9A-Fa-f:.]+/[0-9]{1,3}$")


def clean_field(name: str) -> str:
    """Drop index-variant suffixes (``process.executable.caseless`` -> ``process.executable``)."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def canonical_cidr(text: str) -> str:
    """One spelling per network: ``FE80::/10`` -> ``fe80::/10``, ``::1`` -> ``::1/128``.

    The canonical form is Python's ``ip_network(text, strict=False)``: the network address,
    IPv6 lower-cased and compressed, and always a prefix length (a bare address is the /32 or
    /128 network, which is what Sigma's cidr modifier writes). Text that is no network is kept.
    """
    try:
        return str(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError:
        return text


def is_cidr(text: str) -> bool:
    """True for a network with a prefix length (``10.0.0.0/8``, ``fe80::/10``)."""
    if not _CIDR_TEXT.match(text.strip()):
        return False
    try:
        ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return False
    return True


def has_wildcard(value: str) -> bool:
    """True when the value holds an unescaped ``*`` or ``?``."""
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "*?":
            return True
    return False


#: Fields whose values come from a fixed vocabulary that has one spelling: CloudTrail's
#: `GetBucketAcl` is never `getbucketacl` in a log, so a case-sensitive check of it (EQL `==`,
#: ES|QL `in`) looks for the same thing as a case-insensitive one (Sigma, KQL `:`, SPL), and
#: both are one Value, lower-cased, the check no longer marked case-sensitive.
ONE_SPELLING_FIELDS = frozenset(
    {
        "event.action",
        "event.category",
        "event.type",
        "event.kind",
        "event.outcome",
        "event.provider",
        "event.dataset",
        "event.module",
        "data_stream.dataset",
        "winlog.channel",
        "winlog.provider_name",
        "http.request.method",
        "host.os.type",
        "host.os.family",
        "cloud.provider",
    }
)


def make_predicate(
    field: str | None,
    operator: str,
    value: object,
    *,
    negated: bool = False,
    vendor_field: str | None = None,
    raw_value: str | None = None,
    case_insensitive: bool = True,
) -> Predicate:
    """A canonical Predicate from a vendor's (field, operator, value).

    ``field`` is the canonical name already (None for a keyword search); ``value`` may be any
    scalar and is rendered as text. Values of case-insensitive eq / wildcard / match checks are
    lower-cased; case-sensitive ones keep their case and are marked ``case_sensitive`` (`-c` and
    `-C` are different flags). A path field matched on its last component becomes the name
    field with eq; a file path or name matched on ``*.ext`` becomes file.extension eq ext. CIDR
    values take their canonical spelling (`canonical_cidr`), registry numbers Sysmon writes as
    ``DWORD (0x…)`` the number alone.
    """
    text = _render(value)
    raw = text if raw_value is None else raw_value
    name = ANY_FIELD if not field else clean_field(field)
    if operator == "match":
        name = ANY_FIELD if not field else name
    case_sensitive = False
    if operator in CASE_FOLDED_OPERATORS:
        if case_insensitive or name in ONE_SPELLING_FIELDS:
            text = text.lower()
        else:
            # Only where case can matter: a value with letters (not "4", not "-1").
            case_sensitive = text.lower() != text.upper()
    if operator == "cidr":
        text = canonical_cidr(text)
    if operator == "wildcard" and name == "winlog.event_data.ShareName" and _SHARE_NAME.match(text):
        operator = "eq"
    if operator == "eq" and name == "registry.data.strings":
        number = _REGISTRY_NUMBER.match(text.strip())
        if number:
            text = number.group(1).lower()
    if operator == "wildcard" and name in PATH_TO_NAME:
        found = _LAST_COMPONENT.match(text)
        if found:
            name, operator, text = PATH_TO_NAME[name], "eq", found.group(1)
    if operator == "wildcard" and name in EXTENSION_FIELDS:
        suffix = _EXTENSION.match(text)
        if suffix:
            name, operator, text = EXTENSION_FIELDS[name], "eq", suffix.group(1)
    return Predicate(
        field=name,
        operator=operator,
        value=text,
        negated=negated,
        vendor_field=vendor_field,
        raw_value=raw,
        case_sensitive=case_sensitive,
    )


def split_account(predicate: Predicate) -> list[Predicate]:
    """A check of a ``DOMAIN\\name`` account on a user name field, as ECS's two fields.

    ``user.name eq nt authority\\system`` is ``user.name eq system`` and ``user.domain eq nt
    authority``; ``user.name wildcard *\\system`` is ``user.name eq system``. Both parts keep
    the check's negation, vendor field and raw value, as the checks of one Sigma selection under
    a NOT do. Any other check is returned as it is.
    """
    field = predicate.field
    if not (field == "user.name" or field.endswith(".user.name")):
        return [predicate]
    found = _ACCOUNT.match(predicate.value)
    if predicate.operator not in {"eq", "wildcard"} or found is None:
        return [predicate]
    domain, name = found.groups()
    if (predicate.operator == "eq") == (domain == "*"):
        # eq with a domain, or a wildcard whose only pattern is the domain
        return [predicate]
    parts = [replace(predicate, operator="eq", value=name)]
    if domain != "*":
        parts.append(replace(predicate, field=field[: -len("name")] + "domain", value=domain))
    return parts


def _render(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)
