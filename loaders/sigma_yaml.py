"""Reading Sigma YAML text: documents, the raw ``detection:`` block, and lines of keys.

pySigma never records where in a file something was written, so the lines that problems report
are found here, by composing the YAML (node marks carry lines) only when a problem needs one.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import yaml

from loaders.yaml_keys import KeyLoader

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Loader(KeyLoader):
    """A loader of repeated keys that leaves dates as text.

    YAML's date resolver raises a bare ValueError on ``date: 2020-13-45`` and stops the whole
    file; pySigma reads date strings itself and reports a bad one as a rule error instead.
    """

    yaml_implicit_resolvers: dict[str, list[tuple[str, Any]]] = {  # noqa: RUF012
        first: [(tag, regex) for tag, regex in resolvers if tag != _TIMESTAMP]
        for first, resolvers in KeyLoader.yaml_implicit_resolvers.items()
    }


_DOCUMENT_START = re.compile(r"^---\s*(#.*)?$")
_TOP_LEVEL_KEY = re.compile(r"^[^\s#]")
_DETECTION_KEY = re.compile(r"^detection\s*:")


def load_documents(
    text: str,
) -> tuple[list[Any], list[tuple[str, int]], yaml.YAMLError | None]:
    """Every non-empty YAML document of a file, the keys written twice (with their lines), and
    the error that stopped the reading, if any: the documents before it are kept.
    """
    loader = _Loader(text)
    documents: list[Any] = []
    try:
        while loader.check_data():
            document = loader.get_data()
            if document is not None:
                documents.append(document)
    except yaml.YAMLError as error:
        return documents, loader.duplicates, error
    finally:
        loader.dispose()
    return documents, loader.duplicates, None


def error_line(error: yaml.YAMLError) -> tuple[int | None, int | None]:
    """1-based line and column a YAML error points at, when it says."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is None:
        return None, None
    return mark.line + 1, mark.column + 1


def document_texts(text: str) -> list[tuple[int, str]]:
    """The text of each YAML document with its 1-based first line, split on ``---`` lines."""
    parts: list[tuple[int, str]] = []
    start, lines = 1, list[str]()
    for number, line in enumerate(text.splitlines(), start=1):
        if _DOCUMENT_START.match(line):
            if _has_content(lines):
                parts.append((start, "\n".join(lines)))
            start, lines = number + 1, []
        else:
            lines.append(line)
    if _has_content(lines):
        parts.append((start, "\n".join(lines)))
    return parts


def _has_content(lines: list[str]) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#") for line in lines)


def detection_text(document: str) -> str | None:
    """The ``detection:`` block of one document, as written (comments and all)."""
    # Some old multi-document rules indent a whole document by one space; YAML reads it alike.
    lines = textwrap.dedent(document).splitlines()
    for index, line in enumerate(lines):
        if _DETECTION_KEY.match(line):
            block = [line]
            for following in lines[index + 1 :]:
                if _TOP_LEVEL_KEY.match(following):
                    break
                block.append(following)
            while block and not block[-1].strip():
                block.pop()
            return "\n".join(block)
    return None


class LineFinder:
    """Finds the line of a key in one file's YAML; composes the file on first use only."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._nodes: list[yaml.Node] | None = None

    def _documents(self) -> list[yaml.Node]:
        if self._nodes is None:
            self._nodes = []
            try:  # the documents before a malformed one keep their lines
                for node in yaml.compose_all(self._text, Loader=_Loader):
                    if node is not None:
                        self._nodes.append(node)
            except yaml.YAMLError:
                pass
        return self._nodes

    def document_line(self, document: int) -> int | None:
        """First line of the given document (0-based index among non-empty documents)."""
        nodes = self._documents()
        if document >= len(nodes):
            return None
        return int(nodes[document].start_mark.line) + 1

    def key_line(self, document: int, path: Sequence[str]) -> int | None:
        """Line of the key at ``path`` (e.g. ``("detection", "condition")``), or its parent's."""
        nodes = self._documents()
        if document >= len(nodes):
            return None
        node: yaml.Node = nodes[document]
        line: int | None = int(node.start_mark.line) + 1
        for key in path:
            found = _child(node, key)
            if found is None:
                return line
            key_node, node = found
            line = int(key_node.start_mark.line) + 1
        return line

    def item_lines(self, document: int, key: str) -> dict[str, int]:
        """Line of each text item of the top-level list ``key`` (the first, for a repeated one)."""
        nodes = self._documents()
        found = _child(nodes[document], key) if document < len(nodes) else None
        if found is None or not isinstance(found[1], yaml.SequenceNode):
            return {}
        lines: dict[str, int] = {}
        for item in found[1].value:
            if isinstance(item, yaml.ScalarNode):
                lines.setdefault(str(item.value), int(item.start_mark.line) + 1)
        return lines

    def find_key(
        self, document: int, path: Sequence[str], wanted: Callable[[str], bool]
    ) -> int | None:
        """Line of the first key under ``path`` for which ``wanted(key)`` holds, at any depth."""
        nodes = self._documents()
        if document >= len(nodes):
            return None
        node: yaml.Node = nodes[document]
        for key in path:
            found = _child(node, key)
            if found is None:
                return None
            node = found[1]
        return _search(node, wanted)


def _child(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return key_node, value_node
    return None


def _search(node: yaml.Node, wanted: Callable[[str], bool]) -> int | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and wanted(str(key_node.value)):
                return int(key_node.start_mark.line) + 1
            found = _search(value_node, wanted)
            if found is not None:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found = _search(item, wanted)
            if found is not None:
                return found
    return None
