"""Typed reads of STIX object properties that never raise on a value of the wrong type.

A bundle is data from outside: a property may be absent, null or of another type than the
ATT&CK specification says. These readers turn such values into "absent" so that one odd object
is reported, never a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: ``source_name`` of the external reference that carries an object's ATT&CK id and page.
ATTACK_SOURCE_NAMES = frozenset({"mitre-attack", "mitre-mobile-attack", "mitre-ics-attack"})

StixObject = Mapping[str, Any]


def text(obj: StixObject, key: str) -> str | None:
    """The property as a string, or None when absent, blank or not a string."""
    value = obj.get(key)
    if isinstance(value, str) and value.strip():
        return value
    return None


def texts(obj: StixObject, key: str) -> tuple[str, ...]:
    """The property as a tuple of non-blank strings, without repeats, in their order."""
    value = obj.get(key)
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(item for item in value if isinstance(item, str) and item.strip()))


def flag(obj: StixObject, key: str) -> bool:
    """True only when the property is the JSON value ``true``."""
    return obj.get(key) is True


def entries(obj: StixObject, key: str) -> list[StixObject]:
    """The property's items that are JSON objects; anything else in the list is dropped."""
    value = obj.get(key)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def attack_reference(obj: StixObject) -> tuple[str, str | None] | None:
    """The ATT&CK id and page url from the object's ``mitre-attack`` external reference."""
    for reference in entries(obj, "external_references"):
        if reference.get("source_name") in ATTACK_SOURCE_NAMES:
            external_id = text(reference, "external_id")
            if external_id is not None:
                return external_id.strip(), text(reference, "url")
    return None


def is_withdrawn(obj: StixObject) -> bool:
    """Whether the object is revoked or deprecated."""
    return flag(obj, "revoked") or flag(obj, "x_mitre_deprecated")
