"""Sigma detections to canonical predicates, with negation traced through the condition.

pySigma parses the detection items and applies the modifiers; this module reads the resulting
typed values into (field, operator, value) predicates through `make_predicate`, and walks the
condition's parse tree (``parse(postprocess=False)`` keeps the identifiers) to find which
detections sit under an odd number of NOTs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from sigma.conditions import (
    ConditionIdentifier,
    ConditionItem,
    ConditionNOT,
    ConditionSelector,
    SigmaCondition,
)
from sigma.exceptions import SigmaError
from sigma.modifiers import (
    SigmaBase64Modifier,
    SigmaBase64OffsetModifier,
    SigmaCaseSensitiveModifier,
    SigmaWindowsDashModifier,
)
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaDetections
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaQueryExpression,
    SigmaRegularExpression,
    SigmaString,
    SigmaTimestampPart,
    SigmaType,
    SpecialChars,
)

from loaders.bad_input import shown
from loaders.fields import sigma_field, sigma_value
from loaders.predicates import last_component, make_predicate, split_account
from loaders.records import FIELD_REFERENCE, LogSource, Predicate

# Keys of a detection section that are not detections. pySigma drops only "condition"; the old
# "timeframe" key would otherwise become a keyword search for "30s" under "all of them".
_NOT_DETECTIONS = frozenset({"condition", "timeframe"})

# Values a keyword (full-text) search reads as text; a keyword regex or exists has no reading.
_KEYWORD_TYPES = (SigmaString, SigmaNumber, SigmaBool, SigmaCIDRExpression)

_COMPARE_OPERATORS = {
    CompareOperators.LT: "lt",
    CompareOperators.LTE: "lte",
    CompareOperators.GT: "gt",
    CompareOperators.GTE: "gte",
}


@dataclass(frozen=True, slots=True)
class Issue:
    """A detection problem, placed by the key path it concerns (the caller finds the line).

    ``key_contains`` narrows the place to the first key under ``path`` containing that text
    (the ``field|modifier`` key holding an unknown modifier).
    """

    reason: str
    kind: str
    path: tuple[str, ...]
    severity: Literal["error", "warning", "info"] = "error"
    key_contains: str | None = None


@dataclass(slots=True)
class DetectionRead:
    """What could be read from one rule's detection section."""

    predicates: list[Predicate] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    unmapped_fields: set[str] = field(default_factory=set)
    #: True when part of the section could not be read (a detection, a condition, a pipe).
    incomplete: bool = False
    #: Detections already reported as unreadable: a condition naming one is not reported again.
    unreadable: set[str] = field(default_factory=set)


def read_detection(
    parsed: SigmaDetections | None, raw: object, logsource: LogSource
) -> DetectionRead:
    """Predicates of a rule's detection section.

    ``parsed`` is pySigma's parse of the whole section, or None when pySigma failed on it; then
    each detection is parsed on its own from ``raw`` so that the readable ones still count.
    """
    result = DetectionRead()
    if parsed is not None and parsed.detections:
        detections = {
            name: det for name, det in parsed.detections.items() if name not in _NOT_DETECTIONS
        }
        conditions = _conditions(parsed.condition, result)
    else:
        detections, conditions = _parse_each(raw, result)
    polarity = _polarities(conditions, detections, result)
    seen: dict[tuple[str, bool, str | None, str | None], Predicate] = {}
    for name, detection in detections.items():
        for negated in sorted(polarity.get(name, ())):
            for predicate in _detection_predicates(name, detection, negated, logsource, result):
                key = (
                    predicate.key,
                    predicate.negated,
                    predicate.vendor_field,
                    predicate.raw_value,
                )
                seen.setdefault(key, predicate)
    result.predicates = list(seen.values())
    return result


def _parse_each(raw: object, result: DetectionRead) -> tuple[dict[str, SigmaDetection], list[str]]:
    """Parse every detection of a raw section on its own; record those that fail."""
    if not isinstance(raw, Mapping):
        reason = "the rule has no detection section" if raw is None else "detection is not a map"
        result.issues.append(Issue(reason, "partial-rule", ("detection",)))
        result.incomplete = True
        return {}, []
    detections: dict[str, SigmaDetection] = {}
    for name, definition in raw.items():
        if str(name) in _NOT_DETECTIONS:
            continue
        try:
            detections[str(name)] = SigmaDetection.from_definition(definition)
        except SigmaError as error:
            result.incomplete = True
            result.unreadable.add(str(name))
            result.issues.append(
                Issue(
                    f"detection {name!r} cannot be read: {_message(error)}",
                    "partial-rule",
                    ("detection", str(name)),
                    key_contains=_modifier_in(error),
                )
            )
    return detections, _conditions(raw.get("condition"), result)


def _conditions(condition: object, result: DetectionRead) -> list[str]:
    """The condition texts of a section; a missing one or one that is not text is reported."""
    items = list(condition) if isinstance(condition, list | tuple) else [condition]
    texts = [item for item in items if isinstance(item, str) and item.strip()]
    if len(texts) < len(items):
        result.incomplete = True
        wrong = [item for item in items if not isinstance(item, str) or not item.strip()]
        if condition is None or all(item is None for item in items):
            reason = "the detection has no condition"
        elif isinstance(wrong[0], str):
            reason = "condition is empty; it is not read"
        else:
            reason = (
                f"condition {shown(wrong[0])} is not a text "
                f"({type(wrong[0]).__name__}); it is not read"
            )
        result.issues.append(Issue(reason, "partial-rule", ("detection", "condition")))
    return texts


def _polarities(
    conditions: Sequence[str], detections: Mapping[str, SigmaDetection], result: DetectionRead
) -> dict[str, set[bool]]:
    """Identifier -> the negations it is used with (False: as written, True: under a NOT)."""
    polarity: dict[str, set[bool]] = {}
    where = ("detection", "condition")
    pending = list(conditions)
    while pending:
        condition, _, aggregation = pending.pop(0).partition("|")
        near = re.match(r"\s*near\s+(.+)$", aggregation, re.DOTALL)
        if near:
            # "a | near b and not c": b and c are detections of the same rule, read like a
            # condition of their own.
            pending.append(near.group(1))
        if aggregation:
            # The old aggregation syntax ("selection | count() by x > 5") is no condition
            # pySigma reads; the part before the pipe still says which detections match.
            result.incomplete = True
            result.issues.append(
                Issue(
                    f"aggregation '| {aggregation.strip()}' is not supported; "
                    "read the condition before the pipe",
                    "partial-rule",
                    where,
                    severity="warning",
                )
            )
        try:
            tree = SigmaCondition(condition.strip(), _NO_DETECTIONS).parse(postprocess=False)
        except SigmaError as error:
            result.incomplete = True
            named = _named_in_text(condition, detections)
            for name, negations in named.items():
                polarity.setdefault(name, set()).update(negations)
            kept = f"; read {', '.join(sorted(named))} as the text names them" if named else ""
            result.issues.append(
                Issue(
                    f"condition {condition.strip()!r} cannot be read: {_message(error)}{kept}",
                    "partial-rule",
                    where,
                )
            )
            continue
        _walk(tree, False, detections, polarity, result)
    return polarity


def _named_in_text(
    condition: str, detections: Mapping[str, SigmaDetection]
) -> dict[str, set[bool]]:
    """Detections an unreadable condition names, each excluded when under an odd count of `not`.

    Conditions in a syntax pySigma has no grammar for (the correlation drafts of unsupported/:
    "write X from sel1 (if not sel2) to list ...; then if sel3 -> alert") still say which
    detections match and which exclude; reading the names keeps the rule's indicators rather
    than dropping every one. Only whole identifiers, `not` and parentheses are read: a `not`
    applies to the name or the parenthesised group right after it (`not (a or b)` excludes
    both), and nothing else of the text is read.
    """
    if not detections:
        return {}
    names = "|".join(re.escape(name) for name in sorted(detections, key=len, reverse=True))
    tokens = re.compile(
        r"(?P<open>\()|(?P<close>\))"
        r"|(?<![\w%])(?P<not>(?i:not))(?![\w%])"
        rf"|(?<![\w%])(?P<name>{names})(?![\w%])"
        r"|[^\s()]+"
    )
    named: dict[str, set[bool]] = {}
    groups: list[bool] = []  # per open parenthesis: whether a `not` stands before it
    pending_not = False
    for token in tokens.finditer(condition):
        kind = token.lastgroup
        if kind == "open":
            groups.append(pending_not)
        elif kind == "close" and groups:
            groups.pop()
        elif kind == "name":
            negated = (sum(groups) + pending_not) % 2 == 1
            named.setdefault(token.group("name"), set()).add(negated)
        pending_not = kind == "not" and not pending_not
    return named


def _walk(
    node: object,
    negated: bool,
    detections: Mapping[str, SigmaDetection],
    polarity: dict[str, set[bool]],
    result: DetectionRead,
) -> None:
    where = ("detection", "condition")
    if isinstance(node, ConditionIdentifier):
        if node.identifier in detections:
            polarity.setdefault(node.identifier, set()).add(negated)
        elif node.identifier in result.unreadable:
            result.incomplete = True  # reported once, where the detection is
        else:
            result.incomplete = True
            result.issues.append(
                Issue(
                    f"condition names {node.identifier!r}, which is not defined or cannot be read",
                    "partial-rule",
                    where,
                )
            )
    elif isinstance(node, ConditionSelector):
        names = _selected(node.pattern, detections)
        if not names:
            result.issues.append(
                Issue(
                    f"'{node.args[0]} of {node.pattern}' selects no detection",
                    "partial-rule",
                    where,
                    severity="warning",
                )
            )
        for name in names:
            polarity.setdefault(name, set()).add(negated)
    elif isinstance(node, ConditionNOT):
        for arg in node.args:
            _walk(arg, not negated, detections, polarity, result)
    elif isinstance(node, ConditionItem):  # AND, OR
        for arg in node.args:
            _walk(arg, negated, detections, polarity, result)


def _selected(pattern: str, detections: Mapping[str, SigmaDetection]) -> list[str]:
    """Detections a ``1 of x*`` / ``all of them`` pattern names.

    The same rule as pySigma's ``ConditionSelector.resolve_referenced_detections``, which needs
    a complete SigmaDetections object; a rule with one unreadable detection has none.
    """
    regex = re.compile(".*" if pattern == "them" else pattern.replace("*", ".*"))
    return [
        name
        for name in detections
        if regex.fullmatch(name) and (pattern.startswith("_") or not name.startswith("_"))
    ]


def _detection_predicates(
    name: str,
    detection: SigmaDetection,
    negated: bool,
    logsource: LogSource,
    result: DetectionRead,
) -> Iterator[Predicate]:
    for item in detection.detection_items:
        if isinstance(item, SigmaDetection):
            yield from _detection_predicates(name, item, negated, logsource, result)
        elif item.field is None and any(isinstance(value, SigmaNull) for value in item.value):
            # "selection:" with nothing under it: pySigma reads a keyword search for null,
            # which would become a Value keyed by the object's memory address.
            result.incomplete = True
            issue = Issue(f"detection {name!r} is empty", "partial-rule", ("detection", name))
            if issue not in result.issues:
                result.issues.append(issue)
        else:
            yield from _item_predicates(item, negated, logsource, result)


def _item_predicates(
    item: SigmaDetectionItem, negated: bool, logsource: LogSource, result: DetectionRead
) -> Iterator[Predicate]:
    """One predicate per value of a detection item (several for base64offset)."""
    name: str | None = None
    if item.field:
        mapped = sigma_field(item.field, *logsource)
        if not mapped.mapped:
            result.unmapped_fields.add(item.field)
        name = mapped.name
    negated = negated != item.negated  # the "neq" modifier negates the item itself
    # base64 text is case-sensitive by nature: folding it names another string.
    cased = any(modifier in item.modifiers for modifier in _CASED_MODIFIERS)
    windash = SigmaWindowsDashModifier in item.modifiers
    originals = item.original_value or []
    raws = (
        [_raw(value) for value in originals]
        if len(originals) == len(item.value)
        else [None] * len(item.value)
    )
    for value, raw in zip(item.value, raws, strict=True):
        # windash: the variants are one indicator spelled with other dashes; pySigma lists the
        # "-" spelling first, which is the one other vendors' rules check, so only it is kept.
        # base64offset: the three encodings are different strings an event may contain, so
        # each is an indicator of its own.
        values = (
            (value.values[:1] if windash else value.values)
            if isinstance(value, SigmaExpansion)
            else [value]
        )
        context = _Context(name, item.field, raw, negated, cased, logsource)
        for one in values:
            predicate = _predicate(context, one)
            if predicate is not None:
                # Sysmon's User holds DOMAIN\name, which ECS keeps as user.domain and user.name.
                yield from split_account(predicate)
                continue
            # No Value is keyed by an object's repr: a value no operator reads is reported.
            what = type(one).__name__.removeprefix("Sigma").lower()
            where = f"field {item.field!r}" if item.field else "a keyword list"
            issue = Issue(f"a {what} value of {where} is not read", "partial-rule", ("detection",))
            result.incomplete = True
            if issue not in result.issues:
                result.issues.append(issue)


#: Modifiers whose values are compared with their case: `|cased`, and the base64 encodings.
_CASED_MODIFIERS = (SigmaCaseSensitiveModifier, SigmaBase64Modifier, SigmaBase64OffsetModifier)


@dataclass(frozen=True, slots=True)
class _Context:
    """What every value of one detection item shares."""

    name: str | None
    vendor_field: str | None
    raw: str | None
    negated: bool
    cased: bool
    logsource: LogSource

    def build(
        self, operator: str, text: str, *, flip: bool = False, folded: bool | None = None
    ) -> Predicate:
        predicate = make_predicate(
            self.name,
            operator,
            sigma_value(self.name, text) if operator == "eq" else text,
            negated=self.negated != flip,
            vendor_field=self.vendor_field,
            raw_value=self.raw,
            case_insensitive=not self.cased if folded is None else folded,
        )
        # In a registry_set event (Sysmon 13, Security 4657) TargetObject is the key's path
        # followed by the value's name, so "ends with \Name" names the value: ECS's
        # registry.value, which Elastic and Splunk rules check. In key events (create, delete,
        # rename) the last component is a key, so only this category is read so.
        if (
            self.logsource[1] == "registry_set"
            and predicate.field == "registry.path"
            and predicate.operator == "wildcard"
        ):
            value_name = last_component(predicate.value)
            if value_name is not None:
                return replace(predicate, field="registry.value", operator="eq", value=value_name)
        return predicate


def _predicate(context: _Context, value: SigmaType) -> Predicate | None:
    """The predicate of one typed value, after pySigma applied the modifiers (None: no reading)."""
    build = context.build
    if context.name is None:
        if not isinstance(value, _KEYWORD_TYPES):
            return None
        # A keyword is a full-text search: any "*" written or added around it adds nothing.
        return build("match", _text(value).strip("*"))
    if isinstance(value, SigmaString):
        placeholder = _placeholder(value)
        if placeholder is not None:
            return build("lookup", placeholder)
        if value.contains_special():
            return build("wildcard", str(value))
        return build("eq", _plain(value))
    if isinstance(value, SigmaRegularExpression):
        flags = "".join(sorted(value.sigma_to_re_flag[flag] for flag in value.flags))
        regexp: object = value.regexp
        if isinstance(regexp, SigmaString):
            pattern = regexp.original or regexp.to_plain_regex()
        else:  # "|re: 1": YAML read a number, the rule means the pattern as written
            pattern = str(regexp)
        return build("regex_match", f"(?{flags}){pattern}" if flags else pattern, folded=False)
    if isinstance(value, SigmaCIDRExpression):
        return build("cidr", str(value))
    if isinstance(value, SigmaExists):
        # "|exists: false" is the exists indicator, excluded.
        return build("exists", "true", flip=not value.exists)
    if isinstance(value, SigmaNull):
        # "field: null" matches events without the field: exists, excluded.
        return build("exists", "true", flip=True)
    if isinstance(value, SigmaCompareExpression):
        if value.op in _COMPARE_OPERATORS:
            return build(_COMPARE_OPERATORS[value.op], str(value.number.number))
        return build("eq", str(value.number.number), flip=True)  # "|neq": not equal
    if isinstance(value, SigmaFieldReference):
        # fieldref compares two fields of one event; the value names the other field by its
        # canonical name ("field:process.executable"), so it reads the same across vendors.
        # The name keeps its case; it is no literal compared with case.
        other = sigma_field(value.field, *context.logsource).name
        return replace(build("eq", f"{FIELD_REFERENCE}{other}", folded=False), case_sensitive=False)
    if isinstance(value, SigmaNumber | SigmaBool | SigmaQueryExpression | SigmaTimestampPart):
        return build("eq", _text(value))
    return None


def _placeholder(value: SigmaString) -> str | None:
    """The name of the one ``|expand`` placeholder a value is, wildcards around it aside.

    ``Attributes|contains|expand: '%known_cdcs%'`` checks the field against a list each site
    fills in (pySigma's placeholder pipelines replace it before a query runs): no event holds
    the text ``%known_cdcs%``, so the indicator is membership in that named list, the ``lookup``
    check whose value names the list, as a Splunk lookup's value names its table. A value that
    mixes a placeholder with literal text keeps its text.
    """
    names = [part.name for part in value.s if isinstance(part, Placeholder)]
    others = [part for part in value.s if not isinstance(part, Placeholder | SpecialChars)]
    if len(names) != 1 or any(others):
        return None
    return names[0]


def _plain(value: SigmaString) -> str:
    """A string without wildcards, unescaped (pySigma's str() escapes literal ``*`` and ``?``)."""
    return "".join(
        part if isinstance(part, str) else f"%{part.name}%" if isinstance(part, Placeholder) else ""
        for part in value.s
    )


def _text(value: SigmaType) -> str:
    if isinstance(value, SigmaString):
        return str(value) if value.contains_special() else _plain(value)
    if isinstance(value, SigmaBool):
        return "true" if value.boolean else "false"
    if isinstance(value, SigmaNumber):
        return str(value.number)
    return str(value)


def _raw(value: SigmaType) -> str | None:
    """The value as the rule wrote it."""
    if isinstance(value, SigmaString):
        return value.original
    if isinstance(value, SigmaNull):
        return "null"
    return _text(value)


_OBJECT_REPR = re.compile(r"<sigma\.types\.(\w+) object at 0x[0-9a-fA-F]+>")


def _message(error: SigmaError) -> str:
    # pySigma appends the (empty) location to str(error); the bare message reads better. Its
    # messages may hold an object's repr ("<...SigmaNull object at 0x7f...>"): named instead.
    text = str(error.args[0]) if error.args else type(error).__name__
    return _OBJECT_REPR.sub(lambda found: found.group(1).lower().replace("sigma", ""), text)


def _modifier_in(error: SigmaError) -> str | None:
    found = re.search(r"Unknown modifier '([^']+)'", _message(error))
    return f"|{found.group(1)}" if found else None


class _NoDetections:
    """Stands in for SigmaDetections: parse(postprocess=False) never looks at them."""

    detections: dict[str, Any] = {}  # noqa: RUF012 - read-only stand-in


_NO_DETECTIONS: Any = _NoDetections()
