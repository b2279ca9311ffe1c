"""ATT&CK Navigator layers (format 4.5) built from per-technique rule counts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from api.types.rule import source_url

LAYER_VERSION = "4.5"
NAVIGATOR_VERSION = "5.1.0"
DOMAIN = "enterprise-attack"

#: Navigator's own names for the platforms; a filter is given in these spellings.
NAVIGATOR_PLATFORMS = (
    "Windows", "Linux", "macOS", "Network Devices", "ESXi", "PRE", "Containers",
    "IaaS", "SaaS", "Office Suite", "Identity Provider",
)  # fmt: skip


def _platform_name(platform: str, seen: Iterable[str]) -> str:
    for name in (*NAVIGATOR_PLATFORMS, *seen):
        if name.lower() == platform.lower():
            return name
    return platform


def build_layer(
    counts: Sequence[Mapping[str, Any]],
    links: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    attack_version: str | None,
    platform: str | None,
    vendors: Sequence[str] | None,
    links_per_technique: int,
) -> dict[str, Any]:
    """A layer scoring each covered technique by its distinct current rules.

    `counts` are TECHNIQUE_RULE_COUNTS rows, `links` the rules behind each technique id. The
    comment names the vendors with their counts; links point at the rule files upstream.
    """
    techniques: list[dict[str, Any]] = []
    top = 0
    for row in counts:
        by_vendor = {v["vendor"]: int(v["rules"]) for v in row["by_vendor"] if v}
        score = sum(by_vendor.values())
        if score == 0:
            continue
        top = max(top, score)
        rules = links.get(row["id"], ())
        entry_links = [
            {"label": f"{r['vendor']}: {r['title']}", "url": url}
            for r in rules
            if (url := source_url(r.get("repository"), r.get("commit"), r.get("path")))
        ][:links_per_technique]
        techniques.append(
            {
                "techniqueID": row["id"],
                "score": score,
                "color": "",
                "comment": ", ".join(f"{v}: {n}" for v, n in sorted(by_vendor.items())),
                "enabled": True,
                "metadata": [{"name": v, "value": str(n)} for v, n in sorted(by_vendor.items())],
                "links": entry_links,
                "showSubtechniques": False,
            }
        )
    scope = ", ".join(vendors) if vendors else "all vendors"
    layer: dict[str, Any] = {
        "name": "covgraph rule coverage",
        "versions": {
            "attack": attack_version or "18",
            "navigator": NAVIGATOR_VERSION,
            "layer": LAYER_VERSION,
        },
        "domain": DOMAIN,
        "description": (
            f"Distinct current rules per technique ({scope}"
            + (f", platform {platform}" if platform else "")
            + "). Score = rule count; comment = rules per vendor."
        ),
        "sorting": 3,
        "layout": {
            "layout": "side",
            "aggregateFunction": "average",
            "showID": True,
            "showName": True,
            "showAggregateScores": False,
            "countUnscored": False,
            "expandedSubtechniques": "none",
        },
        "hideDisabled": False,
        "techniques": techniques,
        "gradient": {
            "colors": ["#ffe766ff", "#8ec843ff"],
            "minValue": 1,
            "maxValue": max(top, 1),
        },
        "legendItems": [],
        "metadata": [],
        "links": [],
        "showTacticRowBackground": False,
        "tacticRowBackground": "#dddddd",
        "selectTechniquesAcrossTactics": True,
        "selectSubtechniquesWithParent": False,
        "selectVisibleTechniques": False,
    }
    if platform:
        layer["filters"] = {"platforms": [_platform_name(platform, ())]}
    return layer
