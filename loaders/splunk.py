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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from covgraph.errors import Location, ParseError
from loaders.bad_input import TECHNIQUE_ID, RuleProblems, kind_of
from loaders.cim import CimMapper
from loaders.predicates import make_predicate
from loaders.records import (
    Event,
    FileProgress,
    LogSource,
    Predicate,
    Problem,
    PropertyValue,
    Rule,
    RuleLoad,
    SourceInfo,
)
from loaders.spl import Comparison, SplError, SplParse, parse_spl
from loaders.splunk_events import (
    DataSourceCatalog,
    SplunkDataSource,
    entra_logs,
    load_data_sources,
    search_events,
)
from loaders.splunk_macros import Expansion, MacroCatalog, expand, load_macros
from loaders.splunk_stories import load_stories
from loaders.walk import read_rule_text, rule_files, unexpected
from loaders.yaml_keys import KeyLoader, duplicate_key


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
    native_id, title = _identity(data, path, lines)
    problems = RuleProblems(path, f"splunk:{native_id}", lines)
    tags = _tags(data, problems)
    sources = _data_sources(data, context, problems)
    story_names = _texts(tags.get("analytic_story"))
    stories = _story_ids(story_names, context, problems)
    techniques = _techniques(tags, problems)
    raw_search = data.get("search")
    query = raw_search.strip() or None if isinstance(raw_search, str) else None
    events = _source_events(sources)
    search = SearchRead(status="no_query")
    if query is None:
        if raw_search is None or isinstance(raw_search, str):
            reason = "detection has no search"
        else:
            reason = f"search is {kind_of(raw_search)}, not a text; the rule loads without it"
        problems.add(reason, "no-query", "search" if "search" in data else "name")
    else:
        search = _read_search(query, sources, context, problems)
        events = _events(_source_events(search.sources), search, context)
    collection = _collection(path)
    status_text = _text(data.get("status"))
    rule = Rule(
        uid=problems.uid,
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
        predicates=tuple(search.predicates),
        stories=tuple(dict.fromkeys(stories)),
        extra=_extra(data, tags, story_names, search.datamodels),
        parse_status=search.status,
        technique_lines={t: lines["tags"] for t in techniques if "tags" in lines},
    )
    return DetectionRead(rule, events, problems.found, search.unmapped)


@dataclass(slots=True)
class SearchRead:
    """A detection's search read: its parse, its predicates and the rule's parse status."""

    status: str
    parsed: SplParse = field(default_factory=SplParse)
    predicates: list[Predicate] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    datamodels: list[str] = field(default_factory=list)
    sources: list[SplunkDataSource] = field(default_factory=list)


#: The risk events Splunk Enterprise Security's detections write (the Risk data model), which
#: its correlation searches read: alerts, not log events, so an event of their own.
RISK_EVENTS = Event(id="splunk-risk-events", name="Splunk ES risk events (Risk data model)")


def _identity(data: Mapping[str, Any], path: str, lines: Mapping[str, int]) -> tuple[str, str]:
    """The detection's id and name; raise ParseError, at the key's line, without either.

    Both must be texts: a number id (``id: 12345``) is refused, as Elastic refuses a number
    ``rule_id``, rather than read as ``splunk:12345``.
    """
    for key in ("id", "name"):
        value = data.get(key)
        if isinstance(value, str) and not value.strip():
            raise ParseError(f"detection {key} is empty", Location(path, lines.get(key, 1)))
        if value is not None and not isinstance(value, str):
            reason = f"detection {key} is {kind_of(value)}, not a text"
            raise ParseError(reason, Location(path, lines.get(key, 1)))
    native_id = _text(data.get("id"))
    title = _text(data.get("name"))
    if native_id is None or title is None:
        missing = "id" if native_id is None else "name"
        raise ParseError(f"detection has no {missing}", Location(path, lines.get(missing, 1)))
    return native_id, title


def _tags(data: Mapping[str, Any], problems: RuleProblems) -> Mapping[str, Any]:
    """The ``tags`` map; one of another type is reported and read as empty."""
    raw_tags = data.get("tags")
    if isinstance(raw_tags, Mapping):
        return raw_tags
    if raw_tags is not None:
        reason = (
            f"tags is {kind_of(raw_tags)}, not a map: the rule loads without techniques, "
            "stories or risk score"
        )
        problems.add(reason, "invalid-metadata", "tags")
    return {}


def _data_sources(
    data: Mapping[str, Any], context: SplunkContext, problems: RuleProblems
) -> list[SplunkDataSource]:
    """The data sources the detection lists; a name not in splunk/data_sources is reported."""
    sources: list[SplunkDataSource] = []
    source_key = "data_source"
    if source_key not in data and "data_sources" in data:
        # Two detections spell the key in the plural; what they list is still their sources.
        source_key = "data_sources"
        reason = "the key is data_sources; read as data_source"
        problems.add(reason, "invalid-metadata", source_key, "warning")
    for name in _texts(data.get(source_key)):
        sources.extend(context.data_sources.resolve(name))
        for missing in context.data_sources.unknown(name):
            read_as = [e.id for s in context.data_sources.resolve(missing) for e in s.events]
            landed = (
                f"it is read by its name as {', '.join(read_as)}"
                if read_as
                else "the search's source type says which log it reads"
            )
            reason = f"data source {missing!r} is not in splunk/data_sources; {landed}"
            problems.add(reason, "unknown-data-source", source_key, "warning")
    return sources


def _story_ids(
    story_names: Sequence[str], context: SplunkContext, problems: RuleProblems
) -> list[str]:
    """Ids of the analytic stories named in the tags; a name with no story is reported."""
    stories: list[str] = []
    for name in story_names:
        story_id = context.story_ids.get(name)
        if story_id is None:
            reason = f"analytic story {name!r} is not in splunk/stories"
            problems.add(reason, "unknown-story", "tags", "warning")
        else:
            stories.append(story_id)
    return stories


def _techniques(tags: Mapping[str, Any], problems: RuleProblems) -> list[str]:
    """The ATT&CK ids of ``tags.mitre_attack_id``, upper-cased; anything else is reported."""
    techniques: list[str] = []
    for technique in _texts(tags.get("mitre_attack_id")):
        if TECHNIQUE_ID.match(technique.upper()):
            techniques.append(technique.upper())
        else:
            problems.add(f"{technique!r} is no ATT&CK technique id", "invalid-technique", "tags")
    return techniques


def _read_search(
    query: str,
    sources: Sequence[SplunkDataSource],
    context: SplunkContext,
    problems: RuleProblems,
) -> SearchRead:
    """The search with its macros expanded, parsed and mapped onto canonical predicates.

    Unknown or refused macros, a search with no predicate and a part that does not parse are
    reported in ``problems``.
    """
    try:
        expansion = expand(query, context.macros)
        parsed = parse_spl(expansion.text)
    except RecursionError:
        # Pathological nesting (thousands of parentheses): the rule keeps its metadata.
        expansion = Expansion(text=query, original=query)
        parsed = SplParse(errors=[SplError("the search is nested too deeply to read", 0)])
    # A data source that stands for several logs takes the one the search selects.
    checks = [
        (c.field, c.value)
        for c in parsed.comparisons
        if c.field is not None and c.operator == "eq" and not c.negated
    ]
    sources = entra_logs(sources, checks)
    logsources = [ls for s in sources for ls in s.logsources]
    if not logsources:
        logsources = context.data_sources.logsources_for(parsed.selections)
    data_sets = list(dict.fromkeys(d for s in sources for d in s.data_sets))
    predicates, unmapped = _predicates(parsed.comparisons, context.mapper, logsources, data_sets)
    for unknown in expansion.unknown:
        problems.add(
            f"unknown macro `{unknown.name}` at query position {unknown.position}; "
            "the search is read without it",
            "unknown-macro",
            "search",
        )
    for reason, position in expansion.refused.values():
        problems.add(
            f"{reason} at query position {position}; the search is read without it",
            "macro-error",
            "search",
        )
    if not predicates:
        problems.add(_no_predicates_reason(parsed, expansion), "no-predicates", "search")
    elif parsed.errors:
        first = parsed.errors[0]
        where = expansion.original_position(first.position)
        problems.add(
            f"part of the search was not read: {first.message} (original position {where})",
            "partial-rule",
            "search",
            "warning",
        )
    return SearchRead(
        status=_status(parsed, expansion, predicates),
        parsed=parsed,
        predicates=predicates,
        unmapped=unmapped,
        datamodels=list(dict.fromkeys(parsed.datamodels)),
        sources=list(sources),
    )


def _source_events(sources: Sequence[SplunkDataSource]) -> list[Event]:
    """The events of the data sources, each once."""
    return list({e.id: e for source in sources for e in source.events}.values())


def _events(declared: list[Event], search: SearchRead, context: SplunkContext) -> list[Event]:
    """The events a detection observes: its data sources', then those its search names.

    With neither, the search's index, source and source type selections choose them.
    """
    events = declared + search_events(search.parsed.selections, search.predicates, declared)
    if not events:
        events = context.data_sources.events_for(search.parsed.selections)
    if not events and any(model.split(".")[0] == "Risk" for model in search.datamodels):
        # Correlations over the Risk data model read the risk events other detections raise.
        events = [RISK_EVENTS]
    return events


def read_detection(path: Path, root: Path, context: SplunkContext) -> DetectionRead:
    """Read one detection file; raise ParseError with file and line when it cannot be read."""
    shown = path.relative_to(root).as_posix()
    try:
        text, warnings = read_rule_text(path, shown)
    except OSError as exc:
        raise ParseError(f"cannot read the file: {exc}", Location(shown)) from None
    data, lines, duplicates = read_yaml_keys(text, shown)
    if not isinstance(data, Mapping):
        raise ParseError("a detection file holds one mapping", Location(shown, 1))
    read = rule_from_dict(data, shown, context, lines)
    warnings.extend(duplicate_key(shown, key, line) for key, line in duplicates)
    read.problems[:0] = warnings
    return read


def read_yaml_keys(text: str, shown: str) -> tuple[Any, dict[str, int], list[tuple[str, int]]]:
    """The document, the line of each top-level key, and the keys written twice in one map."""
    loader = KeyLoader(text)
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
    return data, lines, sorted(loader.duplicates, key=lambda item: item[1])


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
    if not detections.is_dir():
        reason = "no detections folder (is it the root of a security_content checkout?)"
        load.problems.append(Problem(Location("detections"), reason, "missing-folder"))
        return load
    chosen = (
        sorted(folders) if folders else sorted(p.name for p in detections.iterdir() if p.is_dir())
    )
    paths: list[Path] = []
    for folder in chosen:
        found, passed_over = rule_files(detections / folder, root, {".yml"})
        paths += found
        load.problems.extend(passed_over)
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
        except Exception as exc:  # noqa: BLE001  # one broken file never stops the load
            load.problems.append(unexpected(path.relative_to(root).as_posix(), exc))
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
        operator, value = comparison.operator, comparison.value
        if comparison.field is not None:
            # A lookup's value names its table, not a value of the field.
            checked = None if comparison.operator == "lookup" else comparison.value
            mapped = mapper.map_check(
                comparison.field,
                comparison.datamodel,
                logsources,
                data_sets,
                value=checked,
                operator=comparison.operator,
            )
            name = mapped.field.name
            if not mapped.field.mapped:
                unmapped.append(name)
            # CIM's verbs are ECS's other words (created is event.type creation): the Value is
            # ECS's, the CHECKS relationship keeps the search's own as raw_value.
            operator = mapped.operator or operator
            value = mapped.value if mapped.value is not None else value
        predicate = make_predicate(
            name,
            operator,
            value,
            negated=comparison.negated,
            vendor_field=comparison.field,
            raw_value=comparison.value,
            case_insensitive=comparison.case_insensitive,
        )
        found.setdefault((predicate.key, predicate.negated), predicate)
    return list(found.values()), unmapped


def _status(parsed: SplParse, expansion: Expansion, predicates: Sequence[Predicate]) -> str:
    if not parsed.errors and not expansion.unknown and not expansion.refused:
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
