"""The ATT&CK Navigator layer format 4.5 as checks: what a layer file may hold, and in which type.

Transcribed from mitre-attack/attack-navigator layers/spec/v4.5/layerformat.md (property tables
of the layer, versions, filter, layout, technique, gradient, legend item, metadata, link and
divider objects). `layer_problems` returns every deviation; an empty list means the layer
follows the format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]


def _str(value: Any) -> bool:
    return isinstance(value, str)


def _bool(value: Any) -> bool:
    return isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _one_of(*allowed: Any) -> Check:
    return lambda value: value in allowed


_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_TECHNIQUE_ID = re.compile(r"^T\d{4}(\.\d{3})?$")
_TACTIC = re.compile(r"^[a-z]+(-[a-z]+)*$")

# name -> (required, check)
LAYER: Mapping[str, tuple[bool, Check]] = {
    "versions": (False, lambda v: isinstance(v, dict)),
    "name": (True, _str),
    "description": (False, _str),
    "domain": (True, _one_of("enterprise-attack", "mobile-attack", "ics-attack")),
    "customDataURL": (False, _str),
    "filters": (False, lambda v: isinstance(v, dict)),
    "sorting": (False, _one_of(0, 1, 2, 3)),
    "layout": (False, lambda v: isinstance(v, dict)),
    "hideDisabled": (False, _bool),
    "techniques": (False, lambda v: isinstance(v, list)),
    "gradient": (False, lambda v: isinstance(v, dict)),
    "legendItems": (False, lambda v: isinstance(v, list)),
    "showTacticRowBackground": (False, _bool),
    "tacticRowBackground": (False, lambda v: _str(v) and bool(_HEX.match(v))),
    "selectTechniquesAcrossTactics": (False, _bool),
    "selectSubtechniquesWithParent": (False, _bool),
    "selectVisibleTechniques": (False, _bool),
    "metadata": (False, lambda v: isinstance(v, list)),
    "links": (False, lambda v: isinstance(v, list)),
}
VERSIONS: Mapping[str, tuple[bool, Check]] = {
    "attack": (False, _str),
    "navigator": (True, _str),
    "layer": (True, _one_of("4.5")),
}
FILTERS: Mapping[str, tuple[bool, Check]] = {
    "platforms": (False, lambda v: isinstance(v, list) and all(_str(p) for p in v)),
}
LAYOUT: Mapping[str, tuple[bool, Check]] = {
    "layout": (False, _one_of("side", "flat", "mini")),
    "showID": (False, _bool),
    "showName": (False, _bool),
    "showAggregateScores": (False, _bool),
    "countUnscored": (False, _bool),
    "aggregateFunction": (False, _one_of("average", "min", "max", "sum")),
    "expandedSubtechniques": (False, _one_of("none", "all", "annotated")),
}
TECHNIQUE: Mapping[str, tuple[bool, Check]] = {
    "techniqueID": (True, lambda v: _str(v) and bool(_TECHNIQUE_ID.match(v))),
    "tactic": (False, lambda v: _str(v) and bool(_TACTIC.match(v))),
    "comment": (False, _str),
    "enabled": (False, _bool),
    "score": (False, _number),
    "color": (False, lambda v: v == "" or (_str(v) and bool(_HEX.match(v)))),
    "metadata": (False, lambda v: isinstance(v, list)),
    "links": (False, lambda v: isinstance(v, list)),
    "showSubtechniques": (False, _bool),
}
GRADIENT: Mapping[str, tuple[bool, Check]] = {
    "colors": (True, lambda v: isinstance(v, list) and len(v) >= 2 and all(
        _str(c) and bool(_HEX.match(c)) for c in v)),
    "minValue": (True, _number),
    "maxValue": (True, _number),
}  # fmt: skip
LEGEND_ITEM: Mapping[str, tuple[bool, Check]] = {
    "label": (True, _str),
    "color": (True, lambda v: _str(v) and bool(_HEX.match(v))),
}
METADATA: Mapping[str, tuple[bool, Check]] = {"name": (True, _str), "value": (True, _str)}
LINK: Mapping[str, tuple[bool, Check]] = {
    "label": (True, _str),
    "url": (True, lambda v: _str(v) and bool(re.match(r"^[a-z][a-z0-9+.-]*://", v))),
}
DIVIDER: Mapping[str, tuple[bool, Check]] = {"divider": (True, _bool)}


def _object(
    where: str, value: Any, spec: Mapping[str, tuple[bool, Check]], problems: list[str]
) -> None:
    if not isinstance(value, dict):
        problems.append(f"{where}: not an object")
        return
    for name, (required, _) in spec.items():
        if required and name not in value:
            problems.append(f"{where}: required {name!r} missing")
    for name, item in value.items():
        if name not in spec:
            problems.append(f"{where}: {name!r} is not a property of the format")
        elif not spec[name][1](item):
            problems.append(f"{where}: {name!r} has a value the format does not allow: {item!r}")


def _entries(
    where: str, items: list[Any], spec: Mapping[str, tuple[bool, Check]], problems: list[str]
) -> None:
    """A list of `spec` objects and Divider objects."""
    for i, item in enumerate(items):
        kind = DIVIDER if isinstance(item, dict) and "divider" in item else spec
        _object(f"{where}[{i}]", item, kind, problems)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def layer_problems(layer: Any) -> list[str]:
    """Every way the layer deviates from the 4.5 format (empty when it follows it)."""
    problems: list[str] = []
    _object("layer", layer, LAYER, problems)
    if not isinstance(layer, dict):
        return problems
    versions = layer.get("versions", {})
    _object("versions", versions, VERSIONS, problems)
    navigator = versions.get("navigator", "") if isinstance(versions, dict) else ""
    if not re.fullmatch(r"\d+\.\d+\.\d+", str(navigator)) or _version(navigator) < (4, 9, 0):
        problems.append(f"versions: navigator must be at least 4.9.0, got {navigator!r}")
    for name, spec in (("filters", FILTERS), ("layout", LAYOUT), ("gradient", GRADIENT)):
        if name in layer:
            _object(name, layer[name], spec, problems)
    gradient = layer.get("gradient")
    if (
        isinstance(gradient, dict)
        and _number(gradient.get("minValue"))
        and not gradient.get("maxValue", 0) > gradient["minValue"]
    ):
        problems.append("gradient: maxValue must be greater than minValue")
    for i, technique in enumerate(layer.get("techniques", [])):
        where = f"techniques[{i}]"
        _object(where, technique, TECHNIQUE, problems)
        if isinstance(technique, dict):
            _entries(f"{where}.metadata", technique.get("metadata", []), METADATA, problems)
            _entries(f"{where}.links", technique.get("links", []), LINK, problems)
    for i, item in enumerate(layer.get("legendItems", [])):
        _object(f"legendItems[{i}]", item, LEGEND_ITEM, problems)
    _entries("metadata", layer.get("metadata", []), METADATA, problems)
    _entries("links", layer.get("links", []), LINK, problems)
    return problems
