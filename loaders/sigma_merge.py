"""Documents of one Sigma file that share an id, merged into one Rule.

Old multi-document rules (``action: global`` followed by one document per log source) give
every document the template's id: pySigma reads each document as a rule of its own, but the
graph has one Rule per uid. Each document's log source is kept as the events it observes, and
what the documents check is the union of their predicates, so no branch of the rule is lost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from loaders.records import Event, Problem, Rule

#: Between the detection blocks of a merged rule's query, as between YAML documents.
QUERY_SEPARATOR = "\n---\n"

_T = TypeVar("_T")


@dataclass(slots=True)
class DocumentRule:
    """The rule one YAML document yields, with its events and the detection texts it reads."""

    rule: Rule
    events: list[Event] = field(default_factory=list)
    unmapped_fields: set[str] = field(default_factory=set)
    query_parts: tuple[str, ...] = ()


def merge_same_id(documents: Sequence[DocumentRule]) -> list[DocumentRule]:
    """One DocumentRule per uid, in order of first appearance; documents sharing it merged."""
    groups: dict[str, list[DocumentRule]] = {}
    for document in documents:
        groups.setdefault(document.rule.uid, []).append(document)
    return [group[0] if len(group) == 1 else _merge(group) for group in groups.values()]


def _merge(group: list[DocumentRule]) -> DocumentRule:
    """The first document's metadata; the union of what every document detects and checks."""
    rules = [document.rule for document in group]
    parts = _union(part for document in group for part in document.query_parts)
    rule = dataclasses.replace(
        rules[0],
        tags=_union(tag for r in rules for tag in r.tags),
        references=_union(ref for r in rules for ref in r.references),
        falsepositives=_union(fp for r in rules for fp in r.falsepositives),
        techniques=_union(t for r in rules for t in r.techniques),
        technique_lines={t: n for r in reversed(rules) for t, n in r.technique_lines.items()},
        events=_union(e for r in rules for e in r.events),
        predicates=_union(p for r in rules for p in r.predicates),
        query=QUERY_SEPARATOR.join(parts) or None,
        parse_status=_status([r.parse_status for r in rules]),
    )
    events = list({e.id: e for document in group for e in document.events}.values())
    unmapped = {name for document in group for name in document.unmapped_fields}
    return DocumentRule(rule, events, unmapped, parts)


def _status(statuses: list[str]) -> str:
    """``ok`` or ``failed`` when every document says so; ``partial`` for a mix."""
    if len(set(statuses)) == 1:
        return statuses[0]
    return "partial"


def settle_no_predicate_problems(problems: list[Problem], rules: Iterable[Rule]) -> list[Problem]:
    """The problems without "no predicate" reports that a merged rule's other documents answer.

    A document without predicates is no finding when a sibling with the same id has some; when
    none has, the rule is reported once.
    """
    with_predicates = {rule.uid for rule in rules if rule.predicates}
    kept: list[Problem] = []
    reported: set[str | None] = set()
    for problem in problems:
        if problem.kind == "no-predicates":
            if problem.rule_uid in with_predicates or problem.rule_uid in reported:
                continue
            reported.add(problem.rule_uid)
        kept.append(problem)
    return kept


def _union(items: Iterable[_T]) -> tuple[_T, ...]:
    return tuple(dict.fromkeys(items))
