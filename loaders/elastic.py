"""Elastic detection-rules (TOML) to Rule records: techniques, events and predicates.

Three layers: `rule_from_dict` (a parsed TOML table to a Rule, pure), `rule_from_toml` (text to
a Rule, with the line of every problem) and `load_elastic` (a walk over the rule folders).
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from covgraph.errors import Location, ParseError
from loaders.elastic_events import rule_events
from loaders.elastic_filters import parse_filters
from loaders.elastic_query import ParsedQuery
from loaders.eql_query import parse_eql
from loaders.esql import parse_esql
from loaders.kql import parse_kql
from loaders.lucene import parse_lucene
from loaders.records import (
    Event,
    FileProgress,
    Problem,
    PropertyValue,
    Rule,
    RuleLoad,
    SourceInfo,
)

DEFAULT_FOLDERS = ("rules", "rules_building_block")

#: Query parsers by the rule's ``language``.
PARSERS: Mapping[str, Callable[[str], ParsedQuery]] = {
    "eql": parse_eql,
    "kuery": parse_kql,
    "esql": parse_esql,
    "lucene": parse_lucene,
}

_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_QUERY_KEY = re.compile(r"^query\s*=\s*('''|\"\"\"|'|\")", re.MULTILINE)


@dataclass(slots=True)
class RuleResult:
    """One rule read from a file, and what went wrong or is worth telling about it."""

    rule: Rule | None
    problems: list[Problem] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def load_elastic(
    root: Path,
    source: SourceInfo | None = None,
    folders: Sequence[str] | None = None,
    progress: FileProgress | None = None,
) -> RuleLoad:
    """Every rule under ``root``'s rule folders; one broken file never stops the load."""
    load = RuleLoad(source=source or SourceInfo(name="elastic", root=str(root)), vendor="elastic")
    events: dict[str, Event] = {}
    paths: list[Path] = []
    for folder in folders or DEFAULT_FOLDERS:
        base = root / folder
        if not base.is_dir():
            load.problems.append(
                Problem(Location(folder), "rule folder is missing", kind="missing-folder")
            )
            continue
        paths += sorted(base.rglob("*.toml"))
    for path in paths:
        load.files_seen += 1
        if progress is not None:
            progress(load.files_seen, len(paths))
        relative = path.relative_to(root).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            load.problems.append(Problem(Location(relative), str(exc), kind="skipped-file"))
            continue
        result = rule_from_toml(text, relative)
        load.problems.extend(result.problems)
        if result.rule is not None:
            load.rules.append(result.rule)
            for event in result.events:
                events.setdefault(event.id, event)
    load.events = sorted(events.values(), key=lambda e: e.id)
    return load


def rule_from_toml(text: str, path: str) -> RuleResult:
    """One rule from TOML text; ``path`` is relative to the Elastic root."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_POSITION.search(str(exc))
        line, column = (int(found.group(1)), int(found.group(2))) if found else (None, None)
        reason = f"invalid TOML: {_TOML_POSITION.sub('', str(exc)).strip()}"
        return RuleResult(None, [Problem(Location(path, line, column), reason, "skipped-file")])
    return rule_from_dict(data, path, query_position(text))


def query_position(text: str) -> tuple[int, int]:
    """(line, column) in the file where the query's first character sits; (0, 0) if unknown."""
    found = _QUERY_KEY.search(text)
    if not found:
        return 0, 0
    line = text.count("\n", 0, found.start()) + 1
    rest = text[found.end() : text.find("\n", found.end())]
    if len(found.group(1)) == 3 and not rest.strip():
        return line + 1, 1  # a multi-line string drops the newline right after its opener
    return line, found.end() - found.start() + 1


def rule_from_dict(
    data: Mapping[str, object], path: str, query_at: tuple[int, int] = (0, 0)
) -> RuleResult:
    """A Rule from a parsed TOML table; ``query_at`` places query errors in the file."""
    table = data.get("rule")
    metadata = data.get("metadata") or {}
    if not isinstance(table, Mapping) or not isinstance(metadata, Mapping):
        return RuleResult(None, [Problem(Location(path), "no [rule] table", "skipped-file")])
    rule_id = table.get("rule_id")
    if not isinstance(rule_id, str) or not rule_id:
        return RuleResult(None, [Problem(Location(path), "rule has no rule_id", "skipped-file")])
    uid = f"elastic:{rule_id}"
    language = _text(table.get("language"))
    query = _text(table.get("query"))
    rule_type = _text(table.get("type"))
    problems: list[Problem] = []
    parsed = ParsedQuery()
    status = "ok"
    if query is None:
        status = "no_query"
    elif language is None or language not in PARSERS:
        status = "failed"
        problems.append(
            Problem(
                Location(path), f"unknown query language {language!r}", "parse-error", rule_uid=uid
            )
        )
    else:
        try:
            parsed = PARSERS[language](query)
        except ParseError as exc:
            status = "failed"
            problems.append(_query_problem(exc, path, query_at, language, uid))
        else:
            if not parsed.predicates:
                status = "partial" if parsed.unsupported else "ok"
                skipped = ", ".join(parsed.unsupported) or "no field checks"
                problems.append(
                    Problem(
                        Location(path, query_at[0] or None),
                        f"{language} query yields no predicates ({skipped})",
                        "no-predicates",
                        severity="warning",
                        rule_uid=uid,
                    )
                )
    filters = table.get("filters")
    if isinstance(filters, list) and filters:
        parsed.extend(parse_filters(filters))
    indices = [str(i) for i in _list(table.get("index"))] + parsed.indices
    tags = [str(t) for t in _list(table.get("tags"))]
    events = rule_events(parsed.predicates, indices, tags)
    folder = PurePosixPath(path).parent
    collection = folder.parts[0] if folder.parts else ""
    maturity = _text(metadata.get("maturity"))
    rule = Rule(
        uid=uid,
        vendor="elastic",
        native_id=rule_id,
        title=_text(table.get("name")) or rule_id,
        path=path,
        collection=collection,
        description=_text(table.get("description")),
        level=_text(table.get("severity")),
        status=maturity,
        deprecated="_deprecated" in folder.parts or maturity == "deprecated",
        author=", ".join(str(a) for a in _list(table.get("author"))) or None,
        date=_date(metadata.get("creation_date")),
        modified=_date(metadata.get("updated_date")),
        references=tuple(str(r) for r in _list(table.get("references"))),
        falsepositives=tuple(str(f) for f in _list(table.get("false_positives"))),
        tags=tuple(tags),
        rule_type=rule_type,
        language=language,
        query=query,
        techniques=techniques_of(table),
        events=tuple(e.id for e in events),
        predicates=tuple(dict.fromkeys(parsed.predicates)),
        extra=_extra(table, metadata, folder, indices),
        parse_status=status,
    )
    return RuleResult(rule, problems, events)


def techniques_of(table: Mapping[str, object]) -> tuple[str, ...]:
    """ATT&CK technique and sub-technique ids of a rule's ``[[rule.threat]]`` entries."""
    ids: list[str] = []
    for threat in _list(table.get("threat")):
        if not isinstance(threat, Mapping) or threat.get("framework", "MITRE ATT&CK") != (
            "MITRE ATT&CK"
        ):
            continue
        for technique in _list(threat.get("technique")):
            if not isinstance(technique, Mapping):
                continue
            ids.append(str(technique.get("id", "")))
            ids.extend(
                str(sub.get("id", ""))
                for sub in _list(technique.get("subtechnique"))
                if isinstance(sub, Mapping)
            )
    return tuple(dict.fromkeys(i.strip().upper() for i in ids if i.strip()))


def coverage(load: RuleLoad) -> dict[str, tuple[int, int]]:
    """Per query language: (rules carrying a query, rules yielding at least one predicate)."""
    with_query: Counter[str] = Counter()
    with_predicates: Counter[str] = Counter()
    for rule in load.rules:
        if rule.query is None or rule.language is None:
            continue
        with_query[rule.language] += 1
        if rule.predicates:
            with_predicates[rule.language] += 1
    return {lang: (count, with_predicates[lang]) for lang, count in sorted(with_query.items())}


def _query_problem(
    exc: ParseError, path: str, query_at: tuple[int, int], language: str, uid: str
) -> Problem:
    inner = exc.location
    line = column = None
    position = ""
    if inner is not None and inner.line is not None and query_at[0]:
        line = query_at[0] + inner.line - 1
        column = (
            inner.column
            if inner.line > 1 or inner.column is None
            else (query_at[1] + inner.column - 1)
        )
        position = f" (query line {inner.line}, column {inner.column})"
    return Problem(
        Location(path, line, column), f"{exc.reason}{position}", "parse-error", rule_uid=uid
    )


def _extra(
    table: Mapping[str, object],
    metadata: Mapping[str, object],
    folder: PurePosixPath,
    indices: list[str],
) -> dict[str, PropertyValue]:
    extra: dict[str, PropertyValue] = {
        "risk_score": _number(table.get("risk_score")),
        "index": tuple(dict.fromkeys(indices)),
        "maturity": _text(metadata.get("maturity")),
        "building_block": "building_block_type" in table,
        "folder": "/".join(folder.parts[1:]) or None,
        "integration": tuple(str(i) for i in _list(metadata.get("integration"))),
    }
    threshold = table.get("threshold")
    if isinstance(threshold, Mapping):
        extra["threshold_fields"] = tuple(str(f) for f in _list(threshold.get("field")))
        extra["threshold_value"] = _number(threshold.get("value"))
    new_terms = table.get("new_terms")
    if isinstance(new_terms, Mapping):
        extra["new_terms_fields"] = tuple(str(f) for f in _list(new_terms.get("value")))
    jobs = table.get("machine_learning_job_id")
    if jobs is not None:
        extra["machine_learning_job_id"] = tuple(str(j) for j in _list(jobs))
        extra["anomaly_threshold"] = _number(table.get("anomaly_threshold"))
    if "threat_index" in table:
        extra["threat_index"] = tuple(str(i) for i in _list(table.get("threat_index")))
    return {key: value for key, value in extra.items() if value not in (None, ())}


def _list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _number(value: object) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _date(value: object) -> str | None:
    text = _text(value)
    return text.replace("/", "-") if text else None
