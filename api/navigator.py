"""ATT&CK Navigator layers (format 4.5) built from per-technique rule counts, and their download.

The layer follows the 4.5 layer format (mitre-attack/attack-navigator
layers/spec/v4.5/layerformat.md) and declares Navigator 5.2.0, the first release that ships ATT&CK
v18 with that format; older Navigators (5.1 knows ATT&CK up to v17) offer to upgrade it first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.errors import BAD_ARGUMENT, CATALOG_UNAVAILABLE, INTERNAL, BadArgument, shown
from api.types.rule import source_url

if TYPE_CHECKING:
    from strawberry.schema.base import BaseSchema

LAYER_VERSION = "4.5"
NAVIGATOR_VERSION = "5.2.0"
DOMAIN = "enterprise-attack"
#: Gradient from the lowest score (1 rule) to the highest; 6-digit RGB as the format asks.
GRADIENT_COLORS = ("#ffe766", "#8ec843")

#: Navigator's own names for the platforms; a filter is given in these spellings.
NAVIGATOR_PLATFORMS = (
    "Windows", "Linux", "macOS", "Network Devices", "ESXi", "PRE", "Containers",
    "IaaS", "SaaS", "Office Suite", "Identity Provider",
)  # fmt: skip


def navigator_platform(platform: str) -> str:
    """Navigator's spelling of a platform, any case; BadArgument for one it does not know."""
    for name in NAVIGATOR_PLATFORMS:
        if name.lower() == platform.strip().lower():
            return name
    raise BadArgument(
        f"unknown platform {shown(platform)}; one of: {', '.join(NAVIGATOR_PLATFORMS)}"
    )


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
    gaps_of: str | None = None,
) -> dict[str, Any]:
    """A layer scoring each covered technique by its distinct current rules.

    `counts` are TECHNIQUE_RULE_COUNTS rows, `links` the rules behind each technique id. The
    comment names the vendors with their counts; links point at the rule files upstream.
    With `gaps_of` (a vendor, counted in `counts`), only the techniques with no rule of that
    vendor are scored, by the other vendors' rules: its gaps.
    """
    techniques: list[dict[str, Any]] = []
    top = 0
    for row in counts:
        by_vendor = {v["vendor"]: int(v["rules"]) for v in row["by_vendor"] if v}
        if gaps_of is not None and by_vendor.pop(gaps_of, 0):
            continue
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
        # No `tactic`: the entry applies under every tactic of the technique. No
        # `showSubtechniques`: "annotated" below expands every parent with a scored sub-technique.
        techniques.append(
            {
                "techniqueID": row["id"],
                "score": score,
                "color": "",
                "comment": ", ".join(f"{v}: {n}" for v, n in sorted(by_vendor.items())),
                "enabled": True,
                "metadata": [{"name": v, "value": str(n)} for v, n in sorted(by_vendor.items())],
                "links": entry_links,
            }
        )
    # None is every vendor; an empty list is none, as in coverageMatrix and the guide.
    others = [v for v in vendors if v != gaps_of] if vendors is not None else None
    if others is None:
        scope = "all vendors" if gaps_of is None else "all other vendors"
    else:
        scope = ", ".join(others) or "no vendor"
    if gaps_of is None:
        name = "covgraph rule coverage"
        what = f"Distinct current rules per technique ({scope}"
        score_is = "Score = rule count; comment = rules per vendor."
    else:
        name = f"covgraph gaps of {gaps_of.capitalize()}"
        what = (
            f"Techniques with no current {gaps_of.capitalize()} rule, scored by the rules of "
            f"the others ({scope}"
        )
        score_is = "Score = rules of the others; comment = rules per vendor."
    layer: dict[str, Any] = {
        "name": name,
        # The layer format makes the ATT&CK version optional: left out when the graph does not
        # know it, rather than guessed.
        "versions": {
            **({"attack": attack_version} if attack_version else {}),
            "navigator": NAVIGATOR_VERSION,
            "layer": LAYER_VERSION,
        },
        "domain": DOMAIN,
        "description": what + (f", platform {platform}" if platform else "") + "). " + score_is,
        "sorting": 3,
        "layout": {
            "layout": "side",
            "aggregateFunction": "average",
            "showID": True,
            "showName": True,
            "showAggregateScores": False,
            "countUnscored": False,
            "expandedSubtechniques": "annotated",
        },
        "hideDisabled": False,
        "techniques": techniques,
        # The format requires maxValue > minValue, also when the top score is 1 (or none).
        "gradient": {"colors": list(GRADIENT_COLORS), "minValue": 1, "maxValue": max(top, 2)},
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


LAYER_QUERY = """
query Layer($platform: String, $vendors: [Vendor!], $links: Int, $gapsOf: Vendor) {
  navigatorLayer(platform: $platform, vendors: $vendors, linksPerTechnique: $links,
                 gapsOf: $gapsOf)
}
"""


def layer_filename(
    platform: str | None, vendors: Sequence[str] | None, gaps_of: str | None = None
) -> str:
    """`covgraph-layer[-<platform>][-<vendors>][-gaps-of-<vendor>].json`, in safe lower case."""
    gaps = f"gaps-of-{gaps_of}" if gaps_of else ""
    parts = ["covgraph-layer", platform or "", "-".join(vendors or ()), gaps]
    words = (re.sub(r"[^a-z0-9]+", "-", p.lower()).strip("-") for p in parts)
    return "-".join(w for w in words if w) + ".json"


def _status(codes: Iterable[str]) -> int:
    codes = set(codes)
    if CATALOG_UNAVAILABLE in codes:
        return 503
    if INTERNAL in codes:
        return 500
    return 400


class LayerDownload:
    """`GET /navigator-layer.json?platform=&vendors=SIGMA,ELASTIC&linksPerTechnique=&gapsOf=`.

    The same layer as the `navigatorLayer` field (it runs that field), as a file to save and
    open in Navigator. Errors come back as a GraphQL-style `{"errors": [...]}` with 400 (bad
    parameter), 503 (Neo4j unavailable) or 500.
    """

    def __init__(self, schema: BaseSchema, context: Callable[[Request], Any]) -> None:
        self.schema = schema
        self.context = context

    async def endpoint(self, request: Request) -> Response:
        query = request.query_params
        platform = (query.get("platform") or "").strip() or None
        vendors = [v.strip().upper() for v in query.get("vendors", "").split(",") if v.strip()]
        gaps_of = (query.get("gapsOf") or "").strip().upper() or None
        links: int | None = None
        if query.get("linksPerTechnique"):
            try:
                links = int(query["linksPerTechnique"])
            except ValueError:
                error = {
                    "message": "linksPerTechnique must be a whole number",
                    "extensions": {"code": BAD_ARGUMENT},
                }
                return JSONResponse({"errors": [error]}, status_code=400)
        result = await self.schema.execute(
            LAYER_QUERY,
            variable_values={
                "platform": platform,
                "vendors": vendors or None,
                "links": links,
                "gapsOf": gaps_of,
            },
            context_value=self.context(request),
        )
        if result.errors or not result.data:
            errors = [e.formatted for e in result.errors or ()]
            codes = [str((e.get("extensions") or {}).get("code")) for e in errors]
            headers = {"Retry-After": "5"} if CATALOG_UNAVAILABLE in codes else None
            return JSONResponse({"errors": errors}, status_code=_status(codes), headers=headers)
        name = layer_filename(platform, vendors, gaps_of)
        return JSONResponse(
            result.data["navigatorLayer"],
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
