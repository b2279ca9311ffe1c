"""Splunk security_content detections: YAML files in, Rule and Story records out.

Three layers, as in pySigma's collection: `rule_from_dict` turns one parsed detection into a Rule
(pure, given the macros, data sources and stories it refers to); `read_detection` reads one
file, keeping the line of each top-level key for error messages; `load_splunk` walks
``splunk/detections`` and reads ``splunk/macros``, ``splunk/data_sources`` and
``splunk/stories`` for support. A file or search that cannot be read is a Problem; it never
stops the load, and a rule whose search does not parse keeps its metadata, techniques and
events.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from covgraph.errors import Location, ParseError
from loaders.cim import CimMapper
from loaders.fields import LogSource
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
from loaders.spl import Comparison, SplParse, parse_spl
from loaders.splunk_events import DataSourceCatalog, SplunkDataSource, load_data_sources
from loaders.splunk_macros import Expansion, MacroCatalog, expand, load_macros
from loaders.splunk_stories import load_stories

_TECHNIQUE = re.compile(r"^T\d{4}(?:\.\d{3})?$")


@dataclass(slots=True)
class SplunkContext:
    """What detections refer to: macros, data sources, story ids by name, the field mapper."""

    macros: MacroCatalog = field(default_factory=MacroCatalog)
    data_sources: DataSourceCatalog = field(default_factory=DataSourceCatalog)
    story_ids: dict[str, str] = field(default_factory=dict)
    mapper: CimMapper = field(default_factory=CimMapper)


@dataclass(slots=True)
class DetectionRead:
    """One detection read: its Rule, its Events, what went wrong, and the fields left unmapped."""

    rule: Rule
    events: list[Event] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


def rule_from_dict(
    data: Mapping[str, Any],
    path: str,
    context: SplunkContext,
    lines: Mapping[str, int] | None = None,
) -> DetectionRead:
    """A Rule from one parsed detection (``path`` relative to the splunk root)."""
    lines = lines or {}
    native_id = _text(data.get("id"))
    title = _text(data.get("name"))
    if native_id is None or title is None:
        missing = "id" if native_id is None else "name"
        raise ParseError(f"detection has no {missing}", Location(path, lines.get(missing, 1)))
    uid = f"splunk:{native_id}"
    raw_tags = data.get("tags")
    tags: Mapping[str, Any] = raw_tags if isinstance(raw_tags, Mapping) else {}
    problems: list[Problem] = []

    def problem(reason: str, kind: str, key: str, severity: str = "error") -> None:
        location = Location(path, lines.get(key))
        problems.append(Problem(location, reason, kind, severity, uid))  # type: ignore[arg-type]

    sources: list[SplunkDataSource] = []
    for name in _texts(data.get("data_source")):
        sources.extend(context.data_sources.resolve(name))
    events = list({e.id: e for s in sources for e in s.events}.values())
    story_names = _texts(tags.get("analytic_story"))
    stories: list[str] = []
    for name in story_names:
        story_id = context.story_ids.get(name)
        if story_id is None:
            reason = f"analytic story {name!r} is not in splunk/stories"
            problem(reason, "unknown-story", "tags", "warning")
        else:
            stories.append(story_id)
    techniques: list[str] = []
    for technique in _texts(tags.get("mitre_attack_id")):
        if _TECHNIQUE.match(technique.upper()):
            techniques.append(technique.upper())
        else:
            problem(f"{technique!r} is no ATT&CK technique id", "invalid-technique", "tags")

    query = _text(data.get("search"))
    predicates: list[Predicate] = []
    unmapped: list[str] = []
    datamodels: list[str] = []
    if query is None:
        status = "no_query"
        problem("detection has no search", "no-query", "search" if "search" in data else "name")
    else:
        expansion = expand(query, context.macros)
        parsed = parse_spl(expansion.text)
        datamodels = list(dict.fromkeys(parsed.datamodels))
        logsources = [ls for s in sources for ls in s.logsources]
        if not logsources:
            logsources = context.data_sources.logsources_for(parsed.selections)
        data_sets = list(dict.fromkeys(d for s in sources for d in s.data_sets))
        predicates, unmapped = _predicates(
            parsed.comparisons, context.mapper, logsources, data_sets
        )
        for unknown in expansion.unknown:
            problem(
                f"unknown macro `{unknown.name}` at query position {unknown.position}; "
                "the search is read without it",
                "unknown-macro",
                "search",
            )
        status = _status(parsed, expansion, predicates)
        if not predicates:
            problem(_no_predicates_reason(parsed, expansion), "no-predicates", "search")
        elif parsed.errors:
            first = parsed.errors[0]
            where = expansion.original_position(first.position)
            problem(
                f"part of the search was not read: {first.message} (original position {where})",
                "partial-rule",
                "search",
                "warning",
            )

    collection = _collection(path)
    status_text = _text(data.get("status"))
    rule = Rule(
        uid=uid,
        vendor="splunk",
        native_id=native_id,
        title=title,
        path=path,
        collection=collection,
        description=_text(data.get("description")),
        status=status_text,
        deprecated=collection == "deprecated" or (status_text or "").lower() == "deprecated",
        author=_text(data.get("author")),
        date=_text(data.get("date")),
        modified=_text(data.get("modified")),
        references=_texts(data.get("references")),
        falsepositives=_texts(data.get("known_false_positives")),
        rule_type=_text(data.get("type")),
        language="spl",
        query=query,
        techniques=tuple(dict.fromkeys(techniques)),
        events=tuple(e.id for e in events),
        predicates=tuple(predicates),
        stories=tuple(dict.fromkeys(stories)),
        extra=_extra(data, tags, story_names, datamodels),
        parse_status=status,
    )
    return DetectionRead(rule, events, problems, unmapped)


def read_detection(path: Path, root: Path, context: SplunkContext) -> DetectionRead:
    """Read one detection file; raise ParseError with file and line when it cannot be read."""
    shown = path.relative_to(root).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParseError(f"cannot read the file: {exc}", Location(shown)) from None
    data, lines = read_yaml(text, shown)
    if not isinstance(data, Mapping):
        raise ParseError("a detection file holds one mapping", Location(shown, 1))
    return rule_from_dict(data, shown, context, lines)


def read_yaml(text: str, shown: str) -> tuple[Any, dict[str, int]]:
    """The document, and the line of each top-level key (from the YAML node marks)."""
    loader = yaml.CSafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise ParseError(f"invalid YAML: {exc.problem}", Location(shown, line, column)) from None
    except yaml.YAMLError as exc:
        raise ParseError(f"invalid YAML: {exc}", Location(shown)) from None
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                lines[str(key.value)] = key.start_mark.line + 1
    return data, lines


def load_context(root: Path) -> tuple[SplunkContext, list[Problem], list[Any]]:
    """Macros, data sources and stories of a splunk root, with problems reading them."""
    macros = load_macros(root / "macros", root)
    data_sources = load_data_sources(root / "data_sources", root)
    stories = load_stories(root / "stories", root)
    problems = [
        Problem(error.location or Location(str(root)), error.reason, "skipped-file")
        for error in [*macros.errors, *data_sources.errors, *stories.errors]
    ]
    context = SplunkContext(
        macros=macros,
        data_sources=data_sources,
        story_ids={story.name: story.id for story in stories.stories},
        mapper=CimMapper(data_sources.mappings()),
    )
    return context, problems, stories.stories


def load_splunk(
    root: Path,
    source: SourceInfo | None = None,
    folders: Sequence[str] | None = None,
    progress: FileProgress | None = None,
) -> RuleLoad:
    """Every detection under ``root/detections`` (or only ``folders`` of it), with its stories."""
    load = RuleLoad(source=source or SourceInfo(name="splunk", root=str(root)), vendor="splunk")
    context, problems, stories = load_context(root)
    load.problems.extend(problems)
    load.stories.extend(stories)
    events: dict[str, Event] = {}
    detections = root / "detections"
    chosen = (
        sorted(folders) if folders else sorted(p.name for p in detections.iterdir() if p.is_dir())
    )
    paths = [path for folder in chosen for path in sorted((detections / folder).rglob("*.yml"))]
    for path in paths:
        load.files_seen += 1
        if progress is not None:
            progress(load.files_seen, len(paths))
        try:
            read = read_detection(path, root, context)
        except ParseError as exc:
            location = exc.location or Location(path.relative_to(root).as_posix())
            load.problems.append(Problem(location, exc.reason, "skipped-file"))
            continue
        load.rules.append(read.rule)
        load.problems.extend(read.problems)
        load.unmapped_fields.update(read.unmapped)
        for event in read.events:
            events.setdefault(event.id, event)
    load.events.extend(events.values())
    return load


def _predicates(
    comparisons: Sequence[Comparison],
    mapper: CimMapper,
    logsources: Sequence[LogSource],
    data_sets: Sequence[str],
) -> tuple[list[Predicate], list[str]]:
    """Canonical predicates of a search's comparisons, and the names of unmapped fields."""
    found: dict[tuple[str, bool], Predicate] = {}
    unmapped: list[str] = []
    for comparison in comparisons:
        name: str | None = None
        if comparison.field is not None:
            mapped = mapper.map_field(comparison.field, comparison.datamodel, logsources, data_sets)
            name = mapped.name
            if not mapped.mapped:
                unmapped.append(name)
        predicate = make_predicate(
            name,
            comparison.operator,
            comparison.value,
            negated=comparison.negated,
            vendor_field=comparison.field,
            case_insensitive=comparison.case_insensitive,
        )
        found.setdefault((predicate.key, predicate.negated), predicate)
    return list(found.values()), unmapped


def _status(parsed: SplParse, expansion: Expansion, predicates: Sequence[Predicate]) -> str:
    if not parsed.errors and not expansion.unknown:
        return "ok"
    return "partial" if predicates else "failed"


def _no_predicates_reason(parsed: SplParse, expansion: Expansion) -> str:
    """Why a search yields no predicate: its parse error, else the constructs passed over."""
    if parsed.errors:
        first = parsed.errors[0]
        where = expansion.original_position(first.position)
        return (
            f"no predicate: the search does not parse: {first.message} (original position {where})"
        )
    skipped = list(dict.fromkeys(parsed.skipped))
    if skipped:
        return "no predicate: the search checks nothing the parser reads as a log field: " + (
            "; ".join(skipped[:4])
        )
    return "no predicate: the search selects its events by index, source type or data model only"


def _collection(path: str) -> str:
    parts = Path(path).parts
    return parts[1] if len(parts) > 2 and parts[0] == "detections" else "detections"


def _extra(
    data: Mapping[str, Any],
    tags: Mapping[str, Any],
    story_names: tuple[str, ...],
    datamodels: list[str],
) -> dict[str, PropertyValue]:
    extra: dict[str, PropertyValue] = {
        "how_to_implement": _text(data.get("how_to_implement")),
        "data_source": _texts(data.get("data_source")),
        "analytic_stories": story_names,
        "asset_type": _text(tags.get("asset_type")),
        "security_domain": _text(tags.get("security_domain")),
        "datamodels": tuple(datamodels),
        "version": _number(data.get("version")),
    }
    for key in ("risk_score", "confidence", "impact"):
        extra[key] = _number(tags.get(key))
    return {key: value for key, value in extra.items() if value not in (None, ())}


def _text(value: object) -> str | None:
    if value is None or isinstance(value, Mapping | list):
        return None
    text = str(value).strip()
    return text or None


def _texts(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value] if value is not None else []
    return tuple(dict.fromkeys(t for t in (_text(item) for item in items) if t))


def _number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None
