"""Words and records for what is wrong in a rule file, shared by the three rule loaders.

Each loader reports a value of the wrong type the same way ("name is a number, not a text") and
places every problem on the line of the key it concerns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from covgraph.errors import Location
from loaders.records import Problem, Severity

#: An ATT&CK technique or sub-technique id as the rule catalogs write it: T1059, T1059.001.
TECHNIQUE_ID = re.compile(r"^T\d{4}(?:\.\d{3})?$")


def kind_of(value: object, map_word: str = "a map") -> str:
    """What a parsed value is, in words: "a number", "a map"...

    ``map_word`` names a mapping in the file's own language ("a table" in TOML).
    """
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, Mapping):
        return map_word
    if isinstance(value, list | tuple):
        return "a list"
    return "empty" if value is None else f"a {type(value).__name__}"


def shown(value: object) -> str:
    """A value as a message quotes it: its repr, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(slots=True)
class RuleProblems:
    """The problems of one rule, each placed on the line of the key it is about."""

    path: str
    uid: str
    lines: Mapping[str, int] = field(default_factory=dict)
    found: list[Problem] = field(default_factory=list)

    def add(self, reason: str, kind: str, key: str, severity: Severity = "error") -> None:
        """Report ``reason`` at the line of ``key`` (the file alone when the key has no line)."""
        location = Location(self.path, self.lines.get(key))
        self.found.append(Problem(location, reason, kind, severity, self.uid))
