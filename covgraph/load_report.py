"""The final load report, printed with rich and available as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from covgraph.pipeline import LoadReport, SourceReport

TOP = 15


def render(
    report: LoadReport,
    console: Console,
    *,
    problems: int = 20,
    report_path: Path | None = None,
) -> None:
    """Print rules per vendor and collection, coverage per language, problems, unmapped fields.

    ``report_path`` is where the full JSON report was written, named wherever problems are left
    out and at the end.
    """
    title = "covgraph load (dry run: nothing written)" if report.dry_run else "covgraph load"
    table = Table(title=title)
    # ATT&CK has no rules: its objects (tactics, techniques, data sources and components,
    # detection strategies, analytics) are counted in their own column.
    for column in (
        "source",
        "files",
        "rules",
        "ATT&CK objects",
        "deprecated",
        "predicates",
        "problems",
        "parse s",
        "write s",
        "status",
    ):
        table.add_column(column, justify="right" if column not in ("source", "status") else "left")
    for s in report.sources:
        table.add_row(
            s.name,
            str(s.files_seen or ""),
            "" if s.name == "attack" else str(s.rules),
            str(s.nodes) if s.name == "attack" else "",
            str(s.deprecated or ""),
            str(s.predicates or ""),
            str(len(s.problems)),
            f"{s.parse_seconds:.1f}",
            f"{s.write_seconds:.1f}" if not report.dry_run else "-",
            _status(s),
        )
    console.print(table)
    for s in report.sources:
        if s.failed:
            console.print(f"[bold red]{s.name} failed:[/bold red] {s.failed}", highlight=False)
    for s in report.sources:
        if s.name == "attack":
            _render_problems(s, console, problems, report_path)
        elif s.rules or s.problems:
            _render_rule_source(s, console, problems, report_path)
    if report_path is not None:
        console.print(
            f"Full report, every problem with its file and line (JSON): {report_path}",
            highlight=False,
            soft_wrap=True,
        )


def _status(s: SourceReport) -> str:
    if s.failed:
        return "failed (below)"
    return "ok" if s.loaded else "nothing loaded"


def _render_rule_source(
    s: SourceReport, console: Console, problems: int, report_path: Path | None
) -> None:
    coverage = Table(title=f"{s.name}: rules per collection and parse coverage per language")
    coverage.add_column("collection")
    coverage.add_column("rules", justify="right")
    for collection, count in sorted(s.by_collection.items()):
        coverage.add_row(collection, str(count))
    console.print(coverage)
    languages = Table()
    for column in ("language", "with query", "with predicates", "%"):
        languages.add_column(column, justify="left" if column == "language" else "right")
    for language, c in sorted(s.coverage.items()):
        languages.add_row(language, str(c.with_query), str(c.with_predicates), f"{c.percent:.1f}")
    console.print(languages)
    if s.unmapped_fields:
        console.print(
            f"[bold]{s.name}: top unmapped fields[/bold] "
            + ", ".join(f"{name} ({n})" for name, n in s.unmapped_fields.most_common(TOP))
        )
    if s.unknown_techniques:
        console.print(
            f"[bold]{s.name}: technique ids not in ATT&CK[/bold] ({len(s.unknown_techniques)}): "
            + ", ".join(s.unknown_techniques[:TOP])
        )
    _render_problems(s, console, problems, report_path)


def _render_problems(
    s: SourceReport, console: Console, problems: int, report_path: Path | None
) -> None:
    """Problems by kind, then the first ``problems`` errors and warnings, errors first.

    Notes (severity info) are counted by kind only; the JSON report lists them.
    """
    kinds: dict[str, int] = {}
    for p in s.problems:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    if kinds:
        console.print(
            f"[bold]{s.name}: problems by kind[/bold] "
            + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        )
    _render_without_predicates(s, console)
    rank = {"error": 0, "warning": 1}
    others = [p for p in s.problems if p.severity in rank and p.kind != "no-predicates"]
    shown = sorted(others, key=lambda p: rank[p.severity])[:problems]
    for p in shown:
        console.print(Text.assemble("  ", (p.kind, "red"), " ", str(p)), highlight=False)
    if len(others) > len(shown):
        where = f"all in {report_path}" if report_path else "covgraph load --report FILE writes all"
        console.print(
            f"  ... {len(others) - len(shown)} more ({where})", highlight=False, soft_wrap=True
        )


def _render_without_predicates(s: SourceReport, console: Console) -> None:
    """Every rule that yielded no predicate, with its reason; rules with no query counted."""
    if s.no_query:
        console.print(
            f"[bold]{s.name}: {s.no_query.total()} rules carry no query[/bold] ("
            + ", ".join(f"{kind} {n}" for kind, n in s.no_query.most_common())
            + "): loaded with their techniques, without predicates"
        )
    if s.no_predicates:
        console.print(
            f"[bold]{s.name}: {len(s.no_predicates)} rules with a query yielded no predicate[/bold]"
        )
        for p in s.no_predicates:
            console.print(Text.assemble("  ", (p.kind, "yellow"), " ", str(p)), highlight=False)


def as_json(report: LoadReport) -> dict[str, Any]:
    """The whole report, every problem included, as plain data."""
    return {
        "dry_run": report.dry_run,
        "sources": [
            {
                "name": s.name,
                "failed": s.failed,
                "files_seen": s.files_seen,
                "rules": s.rules,
                "deprecated": s.deprecated,
                "predicates": s.predicates,
                "nodes": s.nodes,
                "parse_seconds": round(s.parse_seconds, 3),
                "write_seconds": round(s.write_seconds, 3),
                "by_collection": dict(s.by_collection),
                "coverage": {
                    language: {
                        "with_query": c.with_query,
                        "with_predicates": c.with_predicates,
                        "percent": round(c.percent, 2),
                    }
                    for language, c in s.coverage.items()
                },
                "unmapped_fields": dict(s.unmapped_fields.most_common()),
                "no_query": dict(s.no_query),
                "without_predicates": [str(p.location) for p in s.no_predicates],
                "unknown_techniques": list(s.unknown_techniques),
                "problems": [
                    {
                        "kind": p.kind,
                        "severity": p.severity,
                        "location": str(p.location),
                        "reason": p.reason,
                        "rule": p.rule_uid,
                    }
                    for p in s.problems
                ],
            }
            for s in report.sources
        ],
    }
