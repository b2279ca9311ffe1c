"""The Sigma loader: SigmaHQ rule files to typed Rule records.

Three layers, as pySigma's own collection is built: `rule_from_sigma` turns one parsed
SigmaRule (and where it came from) into a Rule; `read_sigma_file` reads one YAML file, placing
every problem on a line; `load_sigma` walks the rule folders of a SigmaHQ checkout.

Each YAML document is read with ``SigmaRule.from_dict``, not ``SigmaCollection.load_ruleset``:
load_ruleset reads files with ``yaml.safe_load_all``, so one malformed file (or invalid date)
raises out of the whole load and nothing carries a line. Here each file is read with a loader
that keeps lines and dates as text, and every document separately, so its problems get its
lines and a bad document costs only itself. The collection actions of old multi-document rules
(global, reset, repeat) are therefore followed here as ``SigmaCollection.from_dicts`` does
(`_rule_documents`); documents of one file that share an id become one Rule (`sigma_merge`).
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sigma.collection import deep_dict_update
from sigma.exceptions import (
    SigmaConditionError,
    SigmaDetectionError,
    SigmaError,
    SigmaModifierError,
    SigmaRegularExpressionError,
    SigmaRuleLocation,
    SigmaValueError,
)
from sigma.rule import SigmaRule
from sigma.rule.detection import EmptySigmaDetections

from covgraph.errors import Location
from loaders.bad_input import kind_of, shown
from loaders.records import Event, FileProgress, Problem, Rule, RuleLoad, SourceInfo
from loaders.sigma_detection import Issue, read_detection
from loaders.sigma_events import sigma_events
from loaders.sigma_merge import (
    QUERY_SEPARATOR,
    DocumentRule,
    merge_same_id,
    settle_no_predicate_problems,
)
from loaders.sigma_yaml import (
    LineFinder,
    detection_text,
    document_texts,
    error_line,
    load_documents,
)
from loaders.walk import read_rule_text, rule_files, unexpected
from loaders.yaml_keys import duplicate_key

#: The top folders of a SigmaHQ checkout that hold rules, in the order they are read.
SIGMA_FOLDERS: tuple[str, ...] = (
    "rules",
    "rules-threat-hunting",
    "rules-emerging-threats",
    "rules-compliance",
    "rules-dfir",
    "rules-placeholder",
    "deprecated",
    "unsupported",
)

_TECHNIQUE_TAG = re.compile(r"^t\d{4}(\.\d{3})?$", re.IGNORECASE)

# Errors pySigma raises while reading a detection section; the detection is then read again,
# one detection at a time, so these are reported from there instead.
_DETECTION_ERRORS = (
    SigmaConditionError,
    SigmaDetectionError,
    SigmaModifierError,
    SigmaRegularExpressionError,
    SigmaValueError,
)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a Sigma rule came from: its file relative to the Sigma root, and its folder."""

    path: str
    collection: str
    #: The ``detection:`` block as written, kept as the rule's query.
    query: str | None = None
    #: The rule's YAML document as parsed, for detections pySigma could not read whole.
    raw: Mapping[str, Any] | None = None
    #: The ``detection:`` blocks the query is made of: the template's, then the document's own.
    query_parts: tuple[str, ...] = ()


@dataclass(slots=True)
class SigmaRead:
    """One rule read from Sigma, or why not: its record, events and placed-by-key issues."""

    rule: Rule | None
    events: list[Event] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    unmapped_fields: set[str] = field(default_factory=set)


def rule_from_sigma(rule: SigmaRule, origin: Origin) -> SigmaRead:
    """The Rule record of one parsed Sigma rule."""
    if rule.id is None:
        return SigmaRead(None, issues=[Issue("the rule has no id", "skipped-file", ("id",))])
    logsource = (
        _text(getattr(rule.logsource, "product", None)),
        _text(getattr(rule.logsource, "category", None)),
        _text(getattr(rule.logsource, "service", None)),
    )
    parsed = None if isinstance(rule.detection, EmptySigmaDetections) else rule.detection
    raw = origin.raw.get("detection") if origin.raw is not None else None
    read = read_detection(parsed, raw, logsource)
    issues = list(read.issues)
    status = "ok"
    if read.incomplete:
        status = "partial" if read.predicates else "failed"
    if not read.predicates:
        errors = [issue.reason for issue in read.issues if issue.severity == "error"]
        reason = (
            f"no predicate could be read ({errors[0]})"
            if errors
            else "the condition uses no detection item"
        )
        issues.append(Issue(reason, "no-predicates", ("detection",), severity="warning"))
    events = sigma_events(*logsource, read.predicates)
    raw = origin.raw or {}
    tags = tuple(str(tag) for tag in rule.tags)
    if not tags and isinstance(raw.get("tags"), str):
        # "tags: attack.t1059" is one tag, as Elastic and Splunk read a scalar; pySigma drops it.
        tags = (raw["tags"].strip(),)
        reason = f"tags is a text, not a list; read as the one tag {tags[0]!r}"
        issues.append(Issue(reason, "invalid-metadata", ("tags",), severity="warning"))
    title = _one_text("title", rule.title or raw.get("title"), issues)
    level = _enum_text(rule.level)
    status_name = _enum_text(rule.status)
    record = Rule(
        uid=f"sigma:{rule.id}",
        vendor="sigma",
        native_id=str(rule.id),
        title=title or str(rule.id),
        path=origin.path,
        collection=origin.collection,
        description=_one_text("description", rule.description, issues),
        level=level,
        status=status_name,
        deprecated=origin.collection == "deprecated" or status_name == "deprecated",
        author=_one_text("author", rule.author, issues),
        date=rule.date.isoformat() if rule.date else None,
        modified=rule.modified.isoformat() if rule.modified else None,
        references=_texts("references", rule.references, issues),
        falsepositives=_texts("falsepositives", rule.falsepositives, issues),
        tags=tags,
        rule_type="sigma",
        language="sigma",
        query=origin.query,
        techniques=techniques_of(tags),
        events=tuple(event.id for event in events),
        predicates=tuple(read.predicates),
        extra={
            "logsource_product": logsource[0],
            "logsource_category": logsource[1],
            "logsource_service": logsource[2],
        },
        parse_status=status,
    )
    return SigmaRead(record, events, issues, read.unmapped_fields)


def _one_text(key: str, value: object, issues: list[Issue]) -> str | None:
    """A metadata text (title, author, description); a list or number is joined or converted,
    a map dropped, and either reported, for pySigma keeps the invalid value after reporting it.
    """
    if value is None or value == "" or isinstance(value, str):
        return value or None
    if isinstance(value, list | tuple):
        text = ", ".join(str(item) for item in value if _is_scalar(item))
    elif _is_scalar(value):
        text = str(value)
    else:
        text = ""
    kept = f"read as {text!r}" if text else "dropped"
    reason = f"{key} is {kind_of(value)}, not a text; {kept}"
    issues.append(Issue(reason, "invalid-metadata", (key,), severity="warning"))
    return text or None


def _texts(key: str, value: object, issues: list[Issue]) -> tuple[str, ...]:
    """A list of texts (references, false positives): a scalar is one item, the rest reported.

    pySigma keeps an invalid value after reporting it, so ``references: http://x`` would be
    stored letter by letter, and a map as its keys.
    """
    if value is None or value == "":
        return ()
    if isinstance(value, list | tuple):
        kept = tuple(str(item) for item in value if _is_scalar(item))
        if len(kept) < len(value):
            reason = f"{key} holds {len(value) - len(kept)} item(s) that are not text; dropped"
            issues.append(Issue(reason, "invalid-metadata", (key,), severity="warning"))
        return kept
    if _is_scalar(value):
        reason = f"{key} is {kind_of(value)}, not a list; read as a list of one"
        issues.append(Issue(reason, "invalid-metadata", (key,), severity="warning"))
        return (str(value),)
    reason = f"{key} is {kind_of(value)}, not a list; dropped"
    issues.append(Issue(reason, "invalid-metadata", (key,), severity="warning"))
    return ()


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool) and value != ""


def techniques_of(tags: Sequence[str]) -> tuple[str, ...]:
    """ATT&CK technique ids of ``attack.tNNNN[.NNN]`` tags, upper-cased, in tag order."""
    found: dict[str, None] = {}
    for tag in tags:
        namespace, _, name = tag.partition(".")
        if namespace.lower() == "attack" and _TECHNIQUE_TAG.match(name):
            found[name.upper()] = None
    return tuple(found)


@dataclass(slots=True)
class FileRead:
    """Everything one Sigma file yields."""

    rules: list[Rule] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unmapped_fields: Counter[str] = field(default_factory=Counter)


def read_sigma_file(path: Path, root: Path) -> FileRead:
    """The rules of one Sigma YAML file; problems carry the file and line."""
    relative = path.relative_to(root).as_posix()
    collection = relative.split("/", 1)[0]
    result = FileRead()
    try:
        text, result.problems = read_rule_text(path, relative)
        documents, duplicates, malformed = load_documents(text)
    except OSError as error:
        result.problems.append(_skipped(relative, f"cannot read the file: {error}"))
        return result
    except (ValueError, TypeError) as error:
        result.problems.append(_skipped(relative, f"malformed YAML: {error}"))
        return result
    if malformed is not None:
        line, column = error_line(malformed)
        reason = f"malformed YAML: {getattr(malformed, 'problem', None) or malformed}"
        if documents:
            reason += f"; the {len(documents)} document(s) before it are read"
        result.problems.append(_skipped(relative, reason, line, column))
    result.problems.extend(duplicate_key(relative, key, line) for key, line in duplicates)
    lines = LineFinder(text)
    texts = [part for _, part in document_texts(text)]
    read: list[DocumentRule] = []
    for index, document, template in _rule_documents(documents, relative, result, lines):
        if not isinstance(document, dict):
            where = Location(relative, lines.document_line(index))
            result.problems.append(
                Problem(where, "the document is not a Sigma rule", "skipped-file")
            )
            continue
        parts = _query_parts(texts, index, template)
        query = QUERY_SEPARATOR.join(parts) or None
        origin = Origin(relative, collection, query, document, parts)
        found = _read_document(document, index, origin, lines, result)
        if found is not None:
            read.append(found)
    merged = merge_same_id(read)
    if len(merged) < len(read):
        result.problems = settle_no_predicate_problems(
            result.problems, (document.rule for document in merged)
        )
    for document in merged:
        result.rules.append(document.rule)
        result.events.extend(document.events)
        result.unmapped_fields.update(document.unmapped_fields)
    if not result.rules and not any(p.kind == "skipped-file" for p in result.problems):
        result.problems.append(_skipped(relative, "the file holds no readable rule"))
    return result


def _read_document(
    document: dict[str, Any], index: int, origin: Origin, lines: LineFinder, result: FileRead
) -> DocumentRule | None:
    """The rule of one YAML document; its problems go to ``result`` with their lines."""
    identifier = document.get("id")
    if identifier is not None and not isinstance(identifier, str):
        # pySigma fails on it with "'int' object has no attribute 'replace'", at no line.
        where = Location(origin.path, lines.key_line(index, ("id",)))
        reason = (
            f"id {shown(identifier)} is {kind_of(identifier)}, not a text (a UUID); "
            "the rule is skipped"
        )
        result.problems.append(Problem(where, reason, "skipped-file"))
        return None
    try:
        rule = SigmaRule.from_dict(
            document, collect_errors=True, source=SigmaRuleLocation(Path(origin.path))
        )
    except (SigmaError, TypeError, ValueError, AttributeError) as error:
        where = Location(origin.path, lines.document_line(index))
        result.problems.append(Problem(where, f"not a Sigma rule: {error}", "skipped-file"))
        return None
    read = rule_from_sigma(rule, origin)
    uid = read.rule.uid if read.rule else None
    # A key rule_from_sigma already reported (saying what it kept) is not reported twice.
    told = {issue.path[0] for issue in read.issues if issue.kind == "invalid-metadata"}
    for failure in rule.errors:
        if not isinstance(failure, _DETECTION_ERRORS):
            key = _metadata_key(failure)
            if key in told:
                continue
            where = Location(origin.path, lines.key_line(index, (key,) if key else ()))
            reason = str(failure.args[0]) if failure.args else str(failure)
            result.problems.append(Problem(where, reason, "invalid-metadata", "warning", uid))
    for issue in read.issues:
        line = _issue_line(issue, index, lines)
        result.problems.append(
            Problem(Location(origin.path, line), issue.reason, issue.kind, issue.severity, uid)
        )
    if read.rule is None:
        return None
    record = replace(read.rule, technique_lines=_technique_lines(read.rule, index, lines))
    return DocumentRule(record, read.events, read.unmapped_fields, origin.query_parts)


def _technique_lines(rule: Rule, index: int, lines: LineFinder) -> dict[str, int]:
    """The line of the tag naming each of the rule's techniques (else of ``tags:``)."""
    by_tag = {tag.lower(): line for tag, line in lines.item_lines(index, "tags").items()}
    found: dict[str, int] = {}
    for technique in rule.techniques:
        line = by_tag.get(f"attack.{technique.lower()}") or lines.key_line(index, ("tags",))
        if line is not None:
            found[technique] = line
    return found


def _issue_line(issue: Issue, index: int, lines: LineFinder) -> int | None:
    marker = issue.key_contains
    found = lines.find_key(index, issue.path, lambda key: marker in key) if marker else None
    return found or lines.key_line(index, issue.path)


def _rule_documents(
    documents: list[Any], path: str, result: FileRead, lines: LineFinder
) -> list[tuple[int, Any, int | None]]:
    """(document index, rule document, index of its template) after pySigma's collection actions.

    Old multi-document rules share a ``action: global`` template merged into each following
    document (``reset`` drops it, ``repeat`` re-reads the previous one with changes); this
    follows `SigmaCollection.from_dicts`.
    """
    found: list[tuple[int, Any, int | None]] = []
    template: dict[str, Any] = {}
    template_index: int | None = None
    previous: dict[str, Any] = {}
    for index, document in enumerate(documents):
        action = document.get("action") if isinstance(document, dict) else None
        if action is None:
            merged = document
            if isinstance(document, dict):
                previous = document
                if template:  # copies only for the few old multi-document rules
                    merged = deep_dict_update(copy.deepcopy(document), copy.deepcopy(template))
            found.append((index, merged, template_index))
        elif action == "global":
            template = {k: v for k, v in document.items() if k != "action"}
            template_index = index
        elif action == "reset":
            template, template_index = {}, None
        elif action == "repeat":
            changes = {k: v for k, v in document.items() if k != "action"}
            previous = deep_dict_update(copy.deepcopy(previous), changes)
            found.append((index, copy.deepcopy(previous), template_index))
        else:
            where = Location(path, lines.key_line(index, ("action",)))
            result.problems.append(Problem(where, f"unknown action {action!r}", "skipped-file"))
    return found


def _query_parts(texts: list[str], index: int, template: int | None) -> tuple[str, ...]:
    """The ``detection:`` blocks a document reads: its template's, then its own."""
    parts = [
        detection_text(texts[i]) for i in (template, index) if i is not None and i < len(texts)
    ]
    return tuple(part for part in dict.fromkeys(parts) if part)


def _metadata_key(error: SigmaError) -> str | None:
    """The top-level key a pySigma metadata error is about (SigmaTitleError -> title)."""
    name = type(error).__name__.removeprefix("Sigma").removesuffix("Error").lower()
    return {"identifier": "id", "tag": "tags"}.get(name, name) or None


def _skipped(path: str, reason: str, line: int | None = None, column: int | None = None) -> Problem:
    return Problem(Location(path, line, column), reason, "skipped-file")


def _enum_text(value: object) -> str | None:
    """A level or status name; pySigma keeps an invalid one as the text written (and reports it)."""
    if value is None or value == "":
        return None
    return str(getattr(value, "name", value)).lower()


def _text(value: object) -> str | None:
    return str(value) if value else None


def load_sigma(
    root: Path,
    source: SourceInfo | None = None,
    folders: Sequence[str] | None = None,
    progress: FileProgress | None = None,
) -> RuleLoad:
    """Every rule under the given top folders of a SigmaHQ checkout (default: all of them)."""
    load = RuleLoad(source=source or SourceInfo(name="sigma", root=str(root)), vendor="sigma")
    seen_events: dict[str, Event] = {}
    paths: list[Path] = []
    for folder in folders if folders is not None else SIGMA_FOLDERS:
        base = root / folder
        if not base.is_dir():
            if folders is not None:
                load.problems.append(
                    Problem(Location(folder), "no such folder", "missing-folder", "warning")
                )
            continue
        found, passed_over = rule_files(base, root, {".yml", ".yaml"})
        paths += found
        load.problems.extend(passed_over)
    for path in paths:
        load.files_seen += 1
        if progress is not None:
            progress(load.files_seen, len(paths))
        try:
            read = read_sigma_file(path, root)
        except Exception as error:  # noqa: BLE001  # one broken file never stops the load
            load.problems.append(unexpected(path.relative_to(root).as_posix(), error))
            continue
        load.problems.extend(read.problems)
        load.unmapped_fields.update(read.unmapped_fields)
        for event in read.events:
            seen_events.setdefault(event.id, event)
        load.rules.extend(read.rules)
    load.events = list(seen_events.values())
    load.drop_duplicate_uids()
    return load
