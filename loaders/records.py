"""Typed records that cross from the loaders to the graph writer.

Every loader turns files into these frozen records; `graph.writer` is the only consumer that
turns them into nodes and relationships. The shapes follow the graph model in
docs/graph-model.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from covgraph.errors import Location

Vendor = Literal["sigma", "elastic", "splunk"]
VENDORS: tuple[Vendor, ...] = ("sigma", "elastic", "splunk")

#: The canonical operators every vendor's comparison is mapped onto. ``lookup`` is a check that
#: the field's value is in a named list kept outside the rule, the list's name being the value:
#: a Splunk lookup table (``lookup T f OUTPUT x | search x=true``) or a Sigma ``|expand``
#: placeholder (``%Administrators%``); see docs/graph-model.md.
OPERATORS = frozenset(
    {
        "eq",
        "wildcard",
        "regex_match",
        "match",
        "cidr",
        "exists",
        "lt",
        "lte",
        "gt",
        "gte",
        "lookup",
    }
)

#: Field of a keyword (full-text) predicate that names no field: Sigma keyword lists, bare
#: terms in KQL, Lucene and SPL. Its operator is always ``match``.
ANY_FIELD = "*"

#: A log source as Sigma names one and pySigma conditions a mapping on it: (product, category,
#: service), any of them None.
LogSource = tuple[str | None, str | None, str | None]

#: Called by the loaders' walkers as (files read, files in all) while they read a folder tree.
FileProgress = Callable[[int, int], None]

#: A property value Neo4j can store.
Scalar = str | int | float | bool
PropertyValue = Scalar | tuple[str, ...] | tuple[int, ...] | None

#: How much a Problem matters: an error loses part of a rule, a warning or info does not.
Severity = Literal["error", "warning", "info"]

#: The value of an ``eq`` predicate that compares with another field, not a literal
#: (``field:process.executable``); Sigma's ``|fieldref`` writes these.
FIELD_REFERENCE = "field:"


@dataclass(frozen=True, slots=True)
class Predicate:
    """One (field, operator, value) check a rule makes, and whether it is an exclusion.

    ``field`` is the canonical (ECS) name, ``value`` the normalised value (lower-cased when the
    comparison is case-insensitive). ``vendor_field`` and ``raw_value`` keep what the rule wrote;
    ``case_sensitive`` says an eq / wildcard / match check compares with case (EQL ``==``, Sigma
    ``|cased``...), its value then kept as written. ``negated`` is true when the check sits under
    an odd number of NOTs.
    """

    field: str
    operator: str
    value: str
    negated: bool = False
    vendor_field: str | None = None
    raw_value: str | None = None
    case_sensitive: bool = False

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise ValueError(f"unknown operator {self.operator!r}")

    @property
    def key(self) -> str:
        """The identity of the indicator: one Value node per key."""
        return value_key(self.field, self.operator, self.value)


def value_key(field_name: str, operator: str, value: str) -> str:
    """Key of a Value node; unambiguous because fields and operators never contain ``|``."""
    return f"{field_name}|{operator}|{value}"


@dataclass(frozen=True, slots=True)
class Event:
    """A catalog event: one (provider or channel, event id), or a log source without ids."""

    id: str
    name: str
    provider: str | None = None
    channel: str | None = None
    event_id: str | None = None
    platform: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """One detection rule from any vendor, with what it detects, observes and checks."""

    uid: str
    vendor: Vendor
    native_id: str
    title: str
    path: str
    collection: str
    description: str | None = None
    level: str | None = None
    status: str | None = None
    deprecated: bool = False
    author: str | None = None
    date: str | None = None
    modified: str | None = None
    references: tuple[str, ...] = ()
    falsepositives: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    rule_type: str | None = None
    language: str | None = None
    query: str | None = None
    techniques: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    predicates: tuple[Predicate, ...] = ()
    stories: tuple[str, ...] = ()
    #: Vendor-specific properties written onto the Rule node as they are (risk_score, index,
    #: maturity, building_block, how_to_implement, logsource_product, ...).
    extra: Mapping[str, PropertyValue] = field(default_factory=dict)
    #: "ok", "partial" (some of the detection could not be read), "failed" (none could),
    #: "no_query" (the rule has nothing to parse, e.g. machine_learning).
    parse_status: str = "ok"
    #: The line of the file where each technique is tagged, for problems about the technique.
    technique_lines: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Story:
    """A named group of rules (Splunk analytic stories)."""

    id: str
    name: str
    vendor: Vendor
    description: str | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """Something a loader could not read, or a finding worth telling the user about.

    ``kind`` is a short stable word (``skipped-file``, ``partial-rule``, ``no-predicates``,
    ``unmapped-field``, ``unknown-macro``, ``unknown-technique``, ...).
    """

    location: Location
    reason: str
    kind: str
    severity: Severity = "error"
    rule_uid: str | None = None

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """Provenance of one loaded source: the Source node's properties."""

    name: str
    repository: str | None = None
    ref: str | None = None
    commit: str | None = None
    version: str | None = None
    root: str | None = None
    fetched_at: str | None = None
    #: Date of the commit the files come from (ISO 8601), when known.
    commit_date: str | None = None


@dataclass(slots=True)
class RuleLoad:
    """Everything one rule source yields: rules, the events they observe, stories, problems."""

    source: SourceInfo
    vendor: Vendor
    rules: list[Rule] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    stories: list[Story] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files_seen: int = 0
    unmapped_fields: Counter[str] = field(default_factory=Counter)

    def drop_duplicate_uids(self) -> None:
        """Keep the first rule of each uid; report every later one, naming both files.

        The graph holds one Rule per uid: dropping here, with a problem, keeps the load
        report's rule count equal to the graph's instead of letting the writer pick silently.
        """
        first: dict[str, Rule] = {}
        kept: list[Rule] = []
        for rule in self.rules:
            seen = first.setdefault(rule.uid, rule)
            if seen is rule:
                kept.append(rule)
                continue
            reason = f"rule id {rule.native_id} is also used by {seen.path}; kept that one"
            self.problems.append(
                Problem(Location(rule.path), reason, "duplicate-id", "warning", rule.uid)
            )
        self.rules = kept


# --- ATT&CK -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tactic:
    id: str
    name: str
    shortname: str
    description: str | None = None
    url: str | None = None
    stix_id: str | None = None
    order: int = 0
    deprecated: bool = False
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class Technique:
    id: str
    name: str
    description: str | None = None
    platforms: tuple[str, ...] = ()
    is_subtechnique: bool = False
    parent_id: str | None = None
    tactics: tuple[str, ...] = ()  # tactic ids (TA0003)
    deprecated: bool = False
    revoked: bool = False
    url: str | None = None
    stix_id: str | None = None
    data_sources: tuple[str, ...] = ()
    detection: str | None = None
    #: For a revoked technique, the id of the technique that replaced it (``revoked-by``).
    revoked_by: str | None = None


@dataclass(frozen=True, slots=True)
class DataSource:
    id: str
    name: str
    description: str | None = None
    platforms: tuple[str, ...] = ()
    collection_layers: tuple[str, ...] = ()
    deprecated: bool = False
    revoked: bool = False
    url: str | None = None
    stix_id: str | None = None


@dataclass(frozen=True, slots=True)
class LogSourceRef:
    """An ATT&CK ``x_mitre_log_sources`` entry: a log source name and its channel."""

    name: str
    channel: str
    #: The data component the entry belongs to, on an analytic's log source references.
    data_component_id: str | None = None
    #: Catalog events the entry names, on an analytic's references (loaders.attack_events).
    events: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DataComponent:
    id: str
    name: str
    description: str | None = None
    data_source_id: str | None = None
    log_sources: tuple[LogSourceRef, ...] = ()
    detects: tuple[str, ...] = ()  # technique ids
    deprecated: bool = False
    revoked: bool = False
    url: str | None = None
    stix_id: str | None = None


@dataclass(frozen=True, slots=True)
class Analytic:
    id: str
    name: str
    description: str | None = None
    platforms: tuple[str, ...] = ()
    data_components: tuple[str, ...] = ()  # component ids
    log_sources: tuple[LogSourceRef, ...] = ()
    deprecated: bool = False
    revoked: bool = False
    url: str | None = None
    stix_id: str | None = None


@dataclass(frozen=True, slots=True)
class DetectionStrategy:
    id: str
    name: str
    description: str | None = None
    techniques: tuple[str, ...] = ()  # technique ids
    analytics: tuple[str, ...] = ()  # analytic ids
    deprecated: bool = False
    revoked: bool = False
    url: str | None = None
    stix_id: str | None = None


@dataclass(slots=True)
class AttackCatalog:
    """Everything read from one ATT&CK STIX bundle."""

    source: SourceInfo
    tactics: list[Tactic] = field(default_factory=list)
    techniques: list[Technique] = field(default_factory=list)
    data_sources: list[DataSource] = field(default_factory=list)
    data_components: list[DataComponent] = field(default_factory=list)
    detection_strategies: list[DetectionStrategy] = field(default_factory=list)
    analytics: list[Analytic] = field(default_factory=list)
    #: Catalog events the analytics' log sources name.
    events: list[Event] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
