"""A regular expression's named group filled with a value: how a check on a captured group
becomes a check on the field the expression ran over (SPL `rex`, ES|QL `grok`)."""

from __future__ import annotations

import re


def fill_group(
    pattern: str, group: str, value: str, *, folded: bool, wildcards: bool = False
) -> str | None:
    """``pattern`` with the named group ``group`` matching ``value`` only.

    ``rex field=file_name "(?<ext>\\.[^\\.]+)$" | search ext=.stubbin`` keeps the events whose
    file_name the rex matches with ``.stubbin`` as the group's text: the regular expression
    ``(?<ext>(?i:\\.stubbin))$`` on file_name. The value is literal text, but for ``*`` (any
    text) with ``wildcards``, as in the search language; ``folded`` makes it match in any case.
    The group's own sub-pattern is dropped: the value replaces what it allowed. None when the
    pattern holds no such group (or an unbalanced one).
    """
    opening = re.search(rf"\(\?P?<{re.escape(group)}>", pattern)
    if opening is None:
        return None
    depth = 1
    index = opening.end()
    in_class = False
    while index < len(pattern) and depth:
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        index += 1
    if depth:
        return None
    parts = value.split("*") if wildcards else [value]
    literal = ".*".join(re.escape(part) for part in parts)
    inner = f"(?i:{literal})" if folded else literal
    return f"{pattern[: opening.end()]}{inner}){pattern[index:]}"
