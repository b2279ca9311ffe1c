"""The one writer: loader records in, nodes and relationships out, one transaction per source.

A source is written in a single transaction, in UNWIND batches, merging on keys. Its rules'
relationships are replaced and rules no longer in the source are removed, so loading the same
files twice changes nothing and a load that fails or is killed part-way leaves the previous
graph as it was (the transaction never commits).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from neo4j import Driver, ManagedTransaction

from graph import cypher_write as q
from loaders.records import (
    Analytic,
    AttackCatalog,
    Event,
    LogSourceRef,
    PropertyValue,
    Rule,
    RuleLoad,
    SourceInfo,
    Story,
)

T = TypeVar("T")
BATCH = 1000


@dataclass(frozen=True, slots=True)
class WriteStats:
    """What one source's write did."""

    source: str
    nodes: int
    rules: int = 0
    checks: int = 0
    detects: int = 0
    unknown_techniques: tuple[str, ...] = ()


def _batches(items: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _clean(props: Mapping[str, Any]) -> dict[str, Any]:
    """Properties Neo4j can store: no None (it would delete), tuples as lists."""
    out: dict[str, Any] = {}
    for name, value in props.items():
        if value is None:
            continue
        out[name] = list(value) if isinstance(value, tuple) else value
    return out


def _record_props(record: object, skip: Iterable[str] = ()) -> dict[str, Any]:
    assert is_dataclass(record)
    skipped = set(skip)
    return _clean(
        {
            f.name: getattr(record, f.name)
            for f in fields(record)
            if f.name not in skipped and _storable(getattr(record, f.name))
        }
    )


def _storable(value: object) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    return isinstance(value, tuple) and all(isinstance(v, str | int | float) for v in value)


class GraphWriter:
    """Writes loader records into Neo4j. The driver is passed in; nothing happens at init."""

    def __init__(self, driver: Driver, database: str | None = None) -> None:
        self._driver = driver
        self._database = database

    # --- ATT&CK ---------------------------------------------------------------------------

    def write_attack(self, catalog: AttackCatalog) -> WriteStats:
        """Replace the ATT&CK part of the graph with this catalog, in one transaction."""
        with self._driver.session(database=self._database) as session:
            return session.execute_write(self._write_attack, catalog)

    def _write_attack(self, tx: ManagedTransaction, catalog: AttackCatalog) -> WriteStats:
        groups: dict[str, list[Any]] = {
            "Tactic": list(catalog.tactics),
            "Technique": list(catalog.techniques),
            "DataSource": list(catalog.data_sources),
            "DataComponent": list(catalog.data_components),
            "DetectionStrategy": list(catalog.detection_strategies),
            "Analytic": list(catalog.analytics),
        }
        nodes = 0
        for label, records in groups.items():
            rows = [
                {"key": r.id, "props": _record_props(r, skip=_ATTACK_SKIP.get(label, ()))}
                for r in records
            ]
            for label_key, extra in _ATTACK_EXTRA.items():
                if label_key == label:
                    for row, record in zip(rows, records, strict=True):
                        row["props"].update(extra(record))
            for batch in _batches(rows):
                tx.run(q.MERGE_NODES[label], rows=batch).consume()
            tx.run(q.DELETE_STALE_NODES[label], keys=[r.id for r in records]).consume()
            nodes += len(rows)
        tx.run(q.DELETE_ATTACK_RELATIONSHIPS).consume()
        tx.run(q.DELETE_ATTACK_DETECTS).consume()
        links: dict[str, list[dict[str, str]]] = {
            "IN_TACTIC": [
                {"a": t.id, "b": tactic} for t in catalog.techniques for tactic in t.tactics
            ],
            "SUBTECHNIQUE_OF": [
                {"a": t.id, "b": t.parent_id} for t in catalog.techniques if t.parent_id
            ],
            "PART_OF": [
                {"a": c.id, "b": c.data_source_id}
                for c in catalog.data_components
                if c.data_source_id
            ],
            "COMPONENT_DETECTS": [
                {"a": c.id, "b": t} for c in catalog.data_components for t in c.detects
            ],
            "STRATEGY_DETECTS": [
                {"a": s.id, "b": t} for s in catalog.detection_strategies for t in s.techniques
            ],
            "USES": [
                {"a": s.id, "b": a} for s in catalog.detection_strategies for a in s.analytics
            ],
            "ANALYTIC_OBSERVES": [
                {"a": a.id, "b": c} for a in catalog.analytics for c in a.data_components
            ],
        }
        for name, pairs in links.items():
            for batch in _batches(pairs, 5000):
                tx.run(q.ATTACK_LINKS[name], pairs=batch).consume()
        # The catalog events the analytics read, on the same nodes the rules observe.
        for event_rows in _batches([_event_row(e) for e in _unique_by_id(catalog.events)]):
            tx.run(q.MERGE_EVENTS, rows=event_rows).consume()
        for reads in _batches(_analytic_events(catalog.analytics), 5000):
            tx.run(q.ANALYTIC_EVENTS, pairs=reads).consume()
        tx.run(q.DELETE_ORPHAN_EVENTS).consume()
        self._merge_source(tx, catalog.source, {"technique_count": len(catalog.techniques)})
        return WriteStats(source=catalog.source.name, nodes=nodes)

    # --- rules ----------------------------------------------------------------------------

    def write_rules(self, load: RuleLoad) -> WriteStats:
        """Replace one rule source (its rules and their relationships), in one transaction."""
        with self._driver.session(database=self._database) as session:
            return session.execute_write(self._write_rules, load)

    def _write_rules(self, tx: ManagedTransaction, load: RuleLoad) -> WriteStats:
        name = load.source.name
        rules = _unique_rules(load.rules)
        uids = [r.uid for r in rules]
        predicate_count = sum(len(r.predicates) for r in rules)
        self._merge_source(
            tx,
            load.source,
            {
                "vendor": load.vendor,
                "rule_count": len(rules),
                "predicate_count": predicate_count,
                "problem_count": len(load.problems),
                "files_seen": load.files_seen,
            },
        )
        tx.run(q.DELETE_RULES_NOT_IN, source=name, uids=uids).consume()
        for batch in _batches(uids, 5000):
            tx.run(q.DELETE_RULE_RELATIONSHIPS, uids=batch).consume()

        events = _unique_by_id(load.events)
        for rows in _batches([_event_row(e) for e in events]):
            tx.run(q.MERGE_EVENTS, rows=rows).consume()
        stories = _unique_by_id(load.stories)
        for rows in _batches([_story_row(s) for s in stories]):
            tx.run(q.MERGE_STORIES, rows=rows).consume()
        tx.run(q.DELETE_STALE_STORIES, vendor=load.vendor, keys=[s.id for s in stories]).consume()

        values: dict[str, dict[str, str]] = {}
        for rule in rules:
            for p in rule.predicates:
                values.setdefault(
                    p.key,
                    {"key": p.key, "field": p.field, "operator": p.operator, "value": p.value},
                )
        field_names = sorted({v["field"] for v in values.values()})
        for names in _batches(field_names, 5000):
            tx.run(q.MERGE_FIELDS, names=list(names)).consume()
        for value_rows in _batches(list(values.values()), 5000):
            tx.run(q.MERGE_VALUES, rows=value_rows).consume()

        known = set(tx.run(q.RULE_TECHNIQUE_IDS).single(strict=True)["ids"])
        unknown = sorted({t for r in rules for t in r.techniques if t not in known})
        detects = checks = 0
        for rule_rows in _batches([_rule_row(r) for r in rules], 500):
            record = tx.run(q.MERGE_RULES, rows=rule_rows, source=name).single()
            if record is not None:
                detects += record["detects"] or 0
                checks += record["checks"] or 0
        tx.run(q.DELETE_ORPHAN_VALUES).consume()
        tx.run(q.DELETE_ORPHAN_FIELDS).consume()
        tx.run(q.DELETE_ORPHAN_EVENTS).consume()
        return WriteStats(
            source=name,
            nodes=len(rules) + len(values) + len(events),
            rules=len(rules),
            checks=checks,
            detects=detects,
            unknown_techniques=tuple(unknown),
        )

    def remove_source(self, name: str) -> None:
        """Delete a rule source and its rules (the user asked for it to go)."""
        with self._driver.session(database=self._database) as session:
            session.execute_write(self._remove_source, name)

    @staticmethod
    def _remove_source(tx: ManagedTransaction, name: str) -> None:
        tx.run(q.DELETE_RULES_NOT_IN, source=name, uids=[]).consume()
        tx.run("MATCH (s:Source {name: $name}) DETACH DELETE s", name=name).consume()
        tx.run(q.DELETE_ORPHAN_VALUES).consume()
        tx.run(q.DELETE_ORPHAN_FIELDS).consume()
        tx.run(q.DELETE_ORPHAN_EVENTS).consume()

    @staticmethod
    def _merge_source(
        tx: ManagedTransaction, source: SourceInfo, counts: Mapping[str, PropertyValue]
    ) -> None:
        props = _record_props(source)
        props.update(_clean(counts))
        props["loaded_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        tx.run(q.MERGE_SOURCE, name=source.name, props=props).consume()


# ATT&CK record fields that are relationships, not properties.
_ATTACK_SKIP: dict[str, tuple[str, ...]] = {
    "Technique": ("tactics", "parent_id"),
    "DataComponent": ("detects", "data_source_id", "log_sources"),
    "DetectionStrategy": ("techniques", "analytics"),
    "Analytic": ("data_components", "log_sources"),
}


def _log_source_text(ls: LogSourceRef) -> str:
    """An ATT&CK log source reference as one string, ``name channel``."""
    return f"{ls.name} {ls.channel}".strip()


def _log_sources(record: Any) -> dict[str, Any]:
    return {"log_sources": [_log_source_text(ls) for ls in record.log_sources]}


_ATTACK_EXTRA = {"DataComponent": _log_sources, "Analytic": _log_sources}


def _analytic_events(analytics: Sequence[Analytic]) -> list[dict[str, Any]]:
    """One (analytic, event) pair per event an analytic reads, with the log sources naming it."""
    pairs: list[dict[str, Any]] = []
    for analytic in analytics:
        named: dict[str, list[str]] = {}
        for ls in analytic.log_sources:
            for event_id in ls.events:
                named.setdefault(event_id, []).append(_log_source_text(ls))
        pairs += [
            {"a": analytic.id, "b": event_id, "log_sources": list(dict.fromkeys(sources))}
            for event_id, sources in named.items()
        ]
    return pairs


def _unique_rules(rules: Sequence[Rule]) -> list[Rule]:
    """First rule per uid: a duplicated id is the loader's to report, not the writer's to crash."""
    seen: dict[str, Rule] = {}
    for rule in rules:
        seen.setdefault(rule.uid, rule)
    return list(seen.values())


def _unique_by_id(items: Sequence[Any]) -> list[Any]:
    seen: dict[str, Any] = {}
    for item in items:
        seen.setdefault(item.id, item)
    return list(seen.values())


def _event_row(event: Event) -> dict[str, Any]:
    return {"key": event.id, "props": _record_props(event)}


def _story_row(story: Story) -> dict[str, Any]:
    return {"key": story.id, "props": _record_props(story)}


def _rule_row(rule: Rule) -> dict[str, Any]:
    props = _record_props(rule, skip=("techniques", "events", "predicates", "stories", "extra"))
    for name, value in rule.extra.items():
        if name not in props and value is not None:
            props[name] = list(value) if isinstance(value, tuple) else value
    props["predicate_count"] = len(rule.predicates)
    checks: dict[tuple[str, bool, str | None, bool], dict[str, Any]] = {}
    operators: dict[str, set[str]] = {}
    for p in rule.predicates:
        checks.setdefault(
            (p.key, p.negated, p.vendor_field, p.case_sensitive),
            _clean(
                {
                    "key": p.key,
                    "negated": p.negated,
                    "vendor_field": p.vendor_field,
                    "raw_value": p.raw_value,
                    # Only when true: most checks ignore case, and absent reads as false.
                    "case_sensitive": p.case_sensitive or None,
                }
            ),
        )
        operators.setdefault(p.field, set()).add(p.operator)
    for check in checks.values():
        check.setdefault("vendor_field", None)
        check.setdefault("raw_value", None)
        check.setdefault("case_sensitive", None)
    return {
        "uid": rule.uid,
        "props": props,
        "techniques": sorted(set(rule.techniques)),
        "events": sorted(set(rule.events)),
        "stories": sorted(set(rule.stories)),
        "fields": [{"name": f, "operators": sorted(ops)} for f, ops in sorted(operators.items())],
        "checks": list(checks.values()),
    }
