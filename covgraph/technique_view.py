"""A technique's page as terminal tables (rich), from one GraphQL request: `covgraph technique`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

VENDOR_LABELS = {"SIGMA": "Sigma", "ELASTIC": "Elastic", "SPLUNK": "Splunk"}

_INDICATOR = "field { name } operator value ruleCount corpusReach byVendor { vendor ruleCount }"

#: The page's one request: what the web page's technique view shows, rows capped at $first.
DOCUMENT = f"""
query TechniqueView($id: String!, $sub: Boolean!, $vendors: [Vendor!], $first: Int!,
                    $rules: Boolean!) {{
  technique(id: $id) {{
    id name url isSubtechnique deprecated revoked platforms
    tactics {{ name }}
    parent {{ id name }}
    coverage(includeSubtechniques: $sub) {{
      ruleCount eventCount
      eventUsage {{ ruleCount event {{ id name }} }}
      byVendor {{ vendor ruleCount rules @include(if: $rules) {{ uid title severity sourcePath }} }}
    }}
    authoringGuide(includeSubtechniques: $sub, vendors: $vendors) {{
      ruleCount distinctFieldCount distinctIndicatorCount distinctExclusionCount
      distinctEventSelectorCount distinctExcludedEventSelectorCount
      fields(first: $first) {{
        field {{ name }} ruleCount operators {{ operator count }} sampleValues(first: 3)
      }}
      indicators(first: $first, includeEventSelectors: false) {{ {_INDICATOR} }}
      exclusions(first: $first, includeEventSelectors: false) {{ {_INDICATOR} }}
      vendorAgreement(includeEventSelectors: false) {{ vendors indicatorCount }}
    }}
  }}
  similarTechniques(id: $id, first: 5, includeEventSelectors: false) {{
    jaccard sharedIndicators technique {{ id name }}
  }}
}}
"""


def _vendors(by_vendor: Sequence[Mapping[str, Any]]) -> str:
    """'Sigma 3, Elastic 1' for the vendors with rules; '-' for none."""
    parts = [
        f"{VENDOR_LABELS[v['vendor']]} {v['ruleCount']:,}" for v in by_vendor if v["ruleCount"]
    ]
    return ", ".join(parts) or "-"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _shown(rows: Sequence[object], total: int) -> str:
    """'(18 distinct)' or '(first 15 of 40)'."""
    return f"({total:,} distinct)" if len(rows) >= total else f"(first {len(rows)} of {total:,})"


def render(
    technique: Mapping[str, Any],
    similar: Sequence[Mapping[str, Any]],
    asked: Mapping[str, Any],
    console: Any = None,
) -> None:
    """Prints the technique's page: heading, coverage, events, fields, indicators, exclusions,
    similar techniques and (when asked) the rules."""
    from rich.console import Console
    from rich.table import Table

    out = console or Console(highlight=False)
    if console is None and not out.is_terminal:
        # Piped or redirected: rich would take 80 columns; values are long paths.
        out = Console(highlight=False, width=160)
    coverage = technique["coverage"]
    guide = technique["authoringGuide"]
    state = (
        " (revoked)" if technique["revoked"] else " (deprecated)" if technique["deprecated"] else ""
    )
    out.print(f"[bold]{_text(technique['id'])} {_text(technique['name'])}[/bold]{state}")
    tactics = ", ".join(_text(t["name"]) for t in technique["tactics"]) or "-"
    platforms = ", ".join(_text(p) for p in technique["platforms"]) or "-"
    out.print(f"Tactics: {tactics}. Platforms: {platforms}.")
    if technique["parent"]:
        parent = technique["parent"]
        out.print(f"Sub-technique of {_text(parent['id'])} {_text(parent['name'])}.")
    if technique["url"]:
        out.print(technique["url"])
    scope = " (with its sub-techniques)" if asked["sub"] else ""
    out.print(
        f"\n[bold]{_plural(coverage['ruleCount'], 'current rule')}[/bold]{scope}: "
        f"{_vendors(coverage['byVendor'])}; {_plural(coverage['eventCount'], 'catalog event')}."
    )
    vendors = asked.get("vendors")
    shown_events = coverage["eventUsage"][: asked["first"]]
    more = len(coverage["eventUsage"]) - len(shown_events)
    events = Table(
        title="Events the rules observe"
        + (" (rules of every vendor)" if vendors else "")
        + (f" (first {len(shown_events)} of {len(coverage['eventUsage'])})" if more else ""),
        title_justify="left",
    )
    events.add_column("Event", no_wrap=True)
    events.add_column("Name")
    events.add_column("Rules", justify="right")
    for use in shown_events:
        events.add_row(
            _text(use["event"]["id"]), _text(use["event"]["name"]), f"{use['ruleCount']:,}"
        )
    if coverage["eventUsage"]:
        out.print(events)

    of = f" by {' and '.join(VENDOR_LABELS[v] for v in vendors)} rules" if vendors else ""
    fields = Table(
        title=f"Fields filtered most{of} {_shown(guide['fields'], guide['distinctFieldCount'])}",
        title_justify="left",
    )
    fields.add_column("Field", no_wrap=True)
    fields.add_column("Rules", justify="right")
    fields.add_column("Operators")
    fields.add_column("Sample values", overflow="fold")
    for usage in guide["fields"]:
        operators = ", ".join(f"{o['operator']} {o['count']:,}" for o in usage["operators"])
        fields.add_row(
            _text(usage["field"]["name"]), f"{usage['ruleCount']:,}", operators,
            ", ".join(_value(v) for v in usage["sampleValues"]),
        )  # fmt: skip
    out.print(fields)
    # The lists leave event selectors out (host.os.type windows...), and so do their totals.
    for key, title, total in (
        (
            "indicators",
            "Top indicator values",
            guide["distinctIndicatorCount"] - guide["distinctEventSelectorCount"],
        ),
        (
            "exclusions",
            "What the rules exclude",
            guide["distinctExclusionCount"] - guide["distinctExcludedEventSelectorCount"],
        ),
    ):
        rows = guide[key]
        if not rows:
            out.print(f"\n{title}: none.")
            continue
        table = Table(title=f"{title}{of} {_shown(rows, total)}", title_justify="left")
        table.add_column("Field", no_wrap=True)
        table.add_column("Operator", no_wrap=True)
        table.add_column("Value", overflow="fold")
        table.add_column("Rules", justify="right")
        table.add_column("Corpus reach", justify="right")
        table.add_column("Vendors")
        for row in rows:
            table.add_row(
                _text(row["field"]["name"]), row["operator"], _value(row["value"]),
                f"{row['ruleCount']:,}", f"{row['corpusReach']:,}", _vendors(row["byVendor"]),
            )  # fmt: skip
        out.print(table)
    if not vendors or len(vendors) > 1:
        in_scope = set(vendors or VENDOR_LABELS)
        sets = [a for a in guide["vendorAgreement"] if set(a["vendors"]) <= in_scope]
        out.print(f"\n{_agreement(sets)}")
    if similar:
        near = "; ".join(
            f"{_text(s['technique']['id'])} {_text(s['technique']['name'])} "
            f"({s['sharedIndicators']:,} shared, Jaccard {s['jaccard']:.2f})"
            for s in similar
        )
        out.print(f"\nTechniques whose rules check the most of the same indicators: {near}.")
    _rules(out, coverage["byVendor"], asked)


def _agreement(sets: Sequence[Mapping[str, Any]]) -> str:
    """As the web page says it: indicators checked by all three vendors, by two, by one alone."""
    words = {3: "all three vendors", 2: "two vendors", 1: "one alone"}
    parts = []
    for size in (3, 2, 1):
        group = [s for s in sets if len(s["vendors"]) == size]
        if not group:
            continue
        total = sum(s["indicatorCount"] for s in group)
        detail = ", ".join(
            f"{' + '.join(VENDOR_LABELS[v] for v in s['vendors'])} {s['indicatorCount']:,}"
            for s in group
        )
        parts.append(f"by {words[size]}: {total:,}" + (f" ({detail})" if size < 3 else ""))
    return f"Indicators checked {'; '.join(parts)}."


def _rules(out: Any, by_vendor: Sequence[Mapping[str, Any]], asked: Mapping[str, Any]) -> None:
    if not asked["rules"]:
        out.print("\nEvery rule: add --rules.")
        return
    from rich.table import Table

    vendors = asked.get("vendors")
    for group in by_vendor:
        if not group["ruleCount"] or (vendors and group["vendor"] not in vendors):
            continue
        table = Table(
            title=f"{VENDOR_LABELS[group['vendor']]} rules ({group['ruleCount']:,})",
            title_justify="left",
        )
        table.add_column("Rule", no_wrap=True)
        table.add_column("Title")
        table.add_column("Severity")
        table.add_column("Source file", overflow="fold")
        for rule in group["rules"]:
            table.add_row(
                _text(rule["uid"]),
                _text(rule["title"]),
                _text(rule["severity"] or "-"),
                _text(rule["sourcePath"]),
            )
        out.print(table)


def _text(text: str) -> str:
    """Text from the graph, with rich's markup characters escaped (titles hold brackets)."""
    from rich.markup import escape

    return escape(text)


def _value(value: str) -> str:
    """A checked value as shown: the empty string visibly so."""
    return '""' if value == "" else _text(value)
