"""A YAML loader that reports keys written twice, shared by the Sigma and Splunk loaders.

YAML keeps the last of two equal keys in one map and says nothing (a second ``selection:``
drops the first one); pySigma's loader refuses such files. Here they load, and each repeated
key is reported once, with one wording and one severity, whichever loader read it.
"""

from __future__ import annotations

from typing import Any

import yaml

from covgraph.errors import Location
from loaders.records import Problem

# libyaml's loader is several times faster than the pure-Python one; both read the same YAML.
Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class KeyLoader(Base):  # type: ignore[misc]
    """A safe loader that records every key written twice in one map, with its line."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        #: (key, 1-based line) of every key written twice in one map; the last one wins.
        self.duplicates: list[tuple[str, int]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                self.duplicates.append((str(key), int(key_node.start_mark.line) + 1))
            seen.add(key if isinstance(key, str | int | float | bool) else id(key_node))
        return dict(super().construct_mapping(node, deep=deep))


def duplicate_key(path: str, key: str, line: int) -> Problem:
    """The warning for a key written twice: the load goes on with the last value."""
    reason = f"key {key!r} is written twice in one map; the last one is read"
    return Problem(Location(path, line), reason, "duplicate-key", "warning")
