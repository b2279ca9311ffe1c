"""Elastic detection-rules (TOML) to Rule records: techniques, events and predicates.

Three layers: `rule_from_dict` (a parsed TOML table to a Rule, pure), `rule_from_toml` (text to
a Rule, with the line of every problem) and `load_elastic` (a walk over the rule folders).
"""

from __future__ import annotations

import datetime
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from covgraph.errors import Location, ParseError
from loaders.bad_input import TECHNIQUE_ID, RuleProblems, kind_of
from loaders.elastic_events import rule_events
from loaders.elastic_filters import parse_filters
from loaders.elastic_query import ParsedQuery
from loaders.eql_query import parse_eql
from loaders.esql import parse_esql
from loaders.events import windows_service
from loaders.fields import windows_event_data_field
from loaders.kql import parse_kql
from loaders.lucene import parse_lucene
from loaders.predicates import make_predicate
from loaders.records import (
    Event,
    FileProgress,
    Predicate,
    Problem,
    PropertyValue,
    Rule,
    RuleLoad,
    SourceInfo,
)
from loaders.walk import read_rule_text, rule_files, unexpected

DEFAULT_FOLDERS = ("rules", "rules_building_block")

#: Query parsers by the rule's ``language``.
PARSERS: Mapping[str, Callable[[str], ParsedQuery]] = {
    "eql": parse_eql,
    "kuery": parse_kql,
    "esql": parse_esql,
    "lucene": parse_lucene,
}

_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_KEY_LINE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*=")
#: What TOML calls a mapping, for `kind_of`.
TABLE = "a table"
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
        found, passed_over = rule_files(base, root, {".toml"})
        paths += found
        load.problems.extend(passed_over)
    for path in paths:
        load.files_seen += 1
        if progress is not None:
            progress(load.files_seen, len(paths))
        relative = path.relative_to(root).as_posix()
        try:
            text, warnings = read_rule_text(path, relative)
            result = rule_from_toml(text, relative)
        except OSError as exc:
            reason = f"cannot read the file: {exc}"
            load.problems.append(Problem(Location(relative), reason, kind="skipped-file"))
            continue
        except Exception as exc:  # noqa: BLE001  # one broken file never stops the load
            load.problems.append(unexpected(relative, exc))
            continue
        load.problems.extend(warnings)
        load.problems.extend(result.problems)
        if result.rule is not None:
            load.rules.append(result.rule)
            for event in result.events:
                events.setdefault(event.id, event)
    load.events = sorted(events.values(), key=lambda e: e.id)
    return load


def _windows_fields(predicates: Sequence[Predicate], events: Sequence[Event]) -> list[Predicate]:
    """Raw Windows event fields under their ECS names, for the channels the rule reads.

    See `windows_event_data_field`: ``winlog.event_data.SubjectUserSid`` on Security events is
    ``user.id``, the Value Sigma's and Splunk's rules reach. The vendor field stays as written.
    """
    services = {windows_service(event.id) for event in events}
    if not services or None in services:
        return list(predicates)
    channels = {service for service in services if service is not None}
    out: list[Predicate] = []
    for predicate in predicates:
        name = windows_event_data_field(predicate.field, channels)
        if name is None:
            out.append(predicate)
            continue
        out.append(
            make_predicate(
                name,
                predicate.operator,
                predicate.value,
                negated=predicate.negated,
                vendor_field=predicate.vendor_field,
                raw_value=predicate.raw_value,
                case_insensitive=not predicate.case_sensitive,
            )
        )
    return out


def rule_from_toml(text: str, path: str) -> RuleResult:
    """One rule from TOML text; ``path`` is relative to the Elastic root."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_POSITION.search(str(exc))
        line, column = (int(found.group(1)), int(found.group(2))) if found else (None, None)
        reason = f"invalid TOML: {_TOML_POSITION.sub('', str(exc)).strip()}"
        return RuleResult(None, [Problem(Location(path, line, column), reason, "skipped-file")])
    return rule_from_dict(data, path, query_position(text), key_lines(text))


def key_lines(text: str) -> dict[str, int]:
    """The line of each ``key =`` of the file (the first one per name): TOML keeps no marks."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        found = _KEY_LINE.match(line)
        if found:
            lines.setdefault(found.group(1), number)
            # 'id = "T9"' too, to place a complaint about that one value
            value = line[found.end() :].split("#")[0].strip().strip("'\"")
            lines.setdefault(f"{found.group(1)}={value}", number)
    return lines


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
    data: Mapping[str, object],
    path: str,
    query_at: tuple[int, int] = (0, 0),
    lines: Mapping[str, int] | None = None,
) -> RuleResult:
    """A Rule from a parsed TOML table; ``query_at`` places query errors in the file, ``lines``
    the other problems (the line of each key)."""
    lines = lines or {}
    table = data.get("rule")
    metadata = data.get("metadata") or {}
    if not isinstance(table, Mapping) or not isinstance(metadata, Mapping):
        what = "no [rule] table" if not isinstance(table, Mapping) else "[metadata] is no table"
        where = Location(path, lines.get("metadata") if isinstance(table, Mapping) else None)
        return RuleResult(None, [Problem(where, what, "skipped-file")])
    rule_id = _rule_id(table, path, lines)
    if isinstance(rule_id, Problem):
        return RuleResult(None, [rule_id])
    problems = RuleProblems(path, f"elastic:{rule_id}", lines)
    language = _text(table.get("language"))
    query = _text(table.get("query"))
    parsed, status = _read_query(table, language, query, query_at, problems)
    _metadata_problems(table, metadata, problems)
    techniques, complaints = threat_techniques(table)
    for complaint, key in complaints:
        problems.add(complaint, "invalid-technique", key if key in lines else "id")
    filters = table.get("filters")
    if isinstance(filters, list) and filters:
        parsed.extend(parse_filters(filters))
    indices = [str(i) for i in _list(table.get("index"))] + parsed.indices
    tags = [str(t) for t in _list(table.get("tags"))]
    events = rule_events(
        parsed.predicates, indices, tags, parsed.parts, parsed.predicates[parsed.parts_end :]
    )
    predicates = _windows_fields(parsed.predicates, events)
    folder = PurePosixPath(path).parent
    maturity = _text(metadata.get("maturity"))
    rule = Rule(
        uid=problems.uid,
        vendor="elastic",
        native_id=rule_id,
        title=_text(table.get("name")) or rule_id,
        path=path,
        collection=folder.parts[0] if folder.parts else "",
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
        rule_type=_text(table.get("type")),
        language=language,
        query=query,
        techniques=techniques,
        events=tuple(e.id for e in events),
        predicates=tuple(dict.fromkeys(predicates)),
        extra=_extra(table, metadata, folder, indices),
        parse_status=status,
        technique_lines={t: lines[f"id={t}"] for t in techniques if f"id={t}" in lines},
    )
    return RuleResult(rule, problems.found, events)


def _rule_id(table: Mapping[str, object], path: str, lines: Mapping[str, int]) -> str | Problem:
    """The rule's ``rule_id``, or the Problem that skips a rule without a usable one."""
    rule_id = table.get("rule_id")
    if isinstance(rule_id, str) and rule_id.strip():
        return rule_id.strip()
    if rule_id is None:
        reason = "rule has no rule_id"
    elif isinstance(rule_id, str):
        reason = "rule_id is empty"
    else:
        reason = f"rule_id {rule_id!r} is {kind_of(rule_id, TABLE)}, not a text"
    return Problem(Location(path, lines.get("rule_id")), reason, "skipped-file")


def _read_query(
    table: Mapping[str, object],
    language: str | None,
    query: str | None,
    query_at: tuple[int, int],
    problems: RuleProblems,
) -> tuple[ParsedQuery, str]:
    """The rule's query parsed by the parser of its language, and the rule's parse status.

    A query that is missing, written wrong, in an unknown language or unreadable is reported
    in ``problems``; the rule then loads with an empty parse.
    """
    raw_query = table.get("query")
    if query is None:
        if raw_query is None:
            return ParsedQuery(), "no_query"
        # Not an ML rule that has no query: a query written wrong, reported as such.
        wrong = (
            "empty" if isinstance(raw_query, str) else f"{kind_of(raw_query, TABLE)}, not a text"
        )
        problems.add(f"query is {wrong}; the rule loads without it", "no-query", "query")
        return ParsedQuery(), "failed"
    if language is None or language not in PARSERS:
        reason = (
            "the rule names no query language"
            if table.get("language") is None
            else f"unknown query language {table.get('language')!r}"
        )
        problems.add(reason, "parse-error", "language" if "language" in table else "query")
        return ParsedQuery(), "failed"
    where = Location(problems.path, query_at[0] or None)
    try:
        parsed = PARSERS[language](query)
    except ParseError as exc:
        problems.found.append(_query_problem(exc, problems.path, query_at, language, problems.uid))
        return ParsedQuery(), "failed"
    except RecursionError:
        # Thousands of nested parentheses: the rule keeps its metadata and techniques.
        reason = f"{language} query is nested too deeply to read"
        problems.found.append(Problem(where, reason, "parse-error", rule_uid=problems.uid))
        return ParsedQuery(), "failed"
    # Checks on values the query computes (ES|QL's stats and evals) are read and are no
    # indicators by design; any other construct skipped (a length() comparison, a string
    # function comparing two fields) is part of the detection left unread: `partial`.
    unread = [u for u in parsed.unsupported if "computed" not in u]
    if parsed.predicates:
        return parsed, "partial" if unread else "ok"
    skipped = ", ".join(parsed.unsupported) or "no field checks"
    reason = f"{language} query yields no predicates ({skipped})"
    problems.found.append(Problem(where, reason, "no-predicates", "warning", problems.uid))
    return parsed, "partial" if parsed.unsupported else "ok"


def _metadata_problems(
    table: Mapping[str, object], metadata: Mapping[str, object], problems: RuleProblems
) -> None:
    """Report a missing or mistyped name, a risk_score that is no number, dates that are none."""
    if _text(table.get("name")) is None:
        reason = "rule has no name; it is titled by its rule_id"
        if table.get("name") is not None:
            what = kind_of(table.get("name"), TABLE)
            reason = f"name is {what}, not a text; the rule is titled by its rule_id"
        key = "name" if "name" in table else "rule_id"
        problems.add(reason, "invalid-metadata", key, "warning")
    risk_score = table.get("risk_score")
    if risk_score is not None and _number(risk_score) is None:
        reason = f"risk_score {risk_score!r} is not a number; dropped"
        problems.add(reason, "invalid-metadata", "risk_score", "warning")
    for key in ("creation_date", "updated_date"):
        value = metadata.get(key)
        if value is not None and _date(value) is None:
            reason = f"{key} {value!r} is not a date; dropped"
            problems.add(reason, "invalid-metadata", key, "warning")


def threat_techniques(
    table: Mapping[str, object],
) -> tuple[tuple[str, ...], list[tuple[str, str]]]:
    """Technique ids of the ``[[rule.threat]]`` entries, and what in them cannot be read.

    Ids are checked as Splunk's are: ``T1059`` or ``T1059.001``; an entry that is not a table,
    or has no id, is reported rather than passed over. Each complaint comes with the key of
    `key_lines` that places it.
    """
    ids: list[str] = []
    complaints: list[tuple[str, str]] = []

    def take(entry: object, what: str) -> Mapping[str, object] | None:
        if not isinstance(entry, Mapping):
            what_it_is = kind_of(entry, TABLE)
            reason = f"a {what} entry is {what_it_is} ({entry!r}), not a table; it is not read"
            complaints.append((reason, f"{what}={entry}"))
            return None
        value = entry.get("id")
        text = value.strip().upper() if isinstance(value, str) else ""
        if value is None or value == "":
            complaints.append(
                (f"a {what} entry has no id; it is not read", f"name={entry.get('name')}")
            )
        elif not TECHNIQUE_ID.match(text):
            complaints.append((f"{value!r} is no ATT&CK technique id", f"id={value}"))
        else:
            ids.append(text)
        return entry

    for threat in _list(table.get("threat")):
        if not isinstance(threat, Mapping):
            complaints.append(
                (f"a rule.threat entry is {kind_of(threat, TABLE)}, not a table", "threat")
            )
            continue
        if threat.get("framework", "MITRE ATT&CK") != "MITRE ATT&CK":
            continue
        for technique in _list(threat.get("technique")):
            entry = take(technique, "technique")
            if entry is not None:
                for sub in _list(entry.get("subtechnique")):
                    take(sub, "subtechnique")
    return tuple(dict.fromkeys(ids)), complaints


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
    if isinstance(value, datetime.date):  # an unquoted TOML date: 2023-01-11
        return value.isoformat()[:10]
    text = _text(value)
    return text.replace("/", "-") if text else None
