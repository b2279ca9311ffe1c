"""`covgraph load`: parse the catalogs and write them into the graph."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from covgraph.errors import ConfigError


def register(commands: Any) -> None:
    """Add `load` to the CLI's sub-commands."""
    parser = commands.add_parser(
        "load",
        help="load ATT&CK and the rule catalogs into Neo4j",
        description="Parse each source and write it in its own transaction: a write that fails "
        "or is killed keeps that source's previous graph (sources written before it stay). "
        "A source that yields no rule (a wrong folder) is refused, never written. Exit code "
        "is non-zero only when nothing could be loaded.",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        help="a corpus laid out as sigma/, elastic/, splunk/, attack/enterprise-attack.json "
        "(default: $COVGRAPH_CORPUS, else the synced cache)",
    )
    parser.add_argument("--attack", type=Path, help="an ATT&CK STIX bundle (JSON)")
    parser.add_argument("--sigma", type=Path, help="a SigmaHQ checkout (its root)")
    parser.add_argument("--elastic", type=Path, help="an elastic/detection-rules checkout")
    parser.add_argument("--splunk", type=Path, help="a splunk/security_content checkout")
    parser.add_argument(
        "--only",
        help="comma-separated sources to load from the corpus (attack,sigma,elastic,splunk)",
    )
    parser.add_argument("--dry-run", action="store_true", help="parse and report; write nothing")
    parser.add_argument("--report", type=Path, help="also write the full report as JSON here")
    parser.add_argument("--problems", type=int, default=20, help="problems to print per source")
    parser.set_defaults(handler=_run)


def build_plan(args: argparse.Namespace) -> Any:
    """The load plan: --corpus, else the per-source flags alone, else COVGRAPH_CORPUS or the cache.

    Per-source flags without --corpus load those sources only: a user naming one checkout does
    not also get the whole COVGRAPH_CORPUS. With --corpus they replace that source's folder.
    """
    from covgraph.pipeline import LoadPlan, plan_from_corpus

    explicit = {
        name: getattr(args, name)
        for name in ("attack", "sigma", "elastic", "splunk")
        if getattr(args, name)
    }
    only = set(args.only.split(",")) if args.only else None
    corpus: Path | None = args.corpus
    if corpus is None and not explicit:
        from covgraph.sync import default_cache

        configured = os.environ.get("COVGRAPH_CORPUS")
        corpus = Path(configured) if configured else default_cache()
    if corpus is not None and not corpus.exists():
        raise ConfigError(
            f"no corpus at {corpus}: run `covgraph sync`, set COVGRAPH_CORPUS or pass --corpus"
        )
    plan = plan_from_corpus(corpus, only) if corpus is not None else LoadPlan()
    for name, path in explicit.items():
        if not path.exists():
            raise ConfigError(f"--{name} {path}: no such file or directory")
        plan.paths[name] = path
    if not plan.paths:
        raise ConfigError(f"nothing to load in {corpus}")
    return plan


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from covgraph import pipeline
    from covgraph.load_report import as_json, render

    plan = build_plan(args)
    console = Console(stderr=True)
    writer = None
    driver = None
    if not args.dry_run:
        from graph.driver import connect
        from graph.schema import bootstrap
        from graph.settings import neo4j_settings
        from graph.writer import GraphWriter

        settings = neo4j_settings()
        driver = connect(settings)
        bootstrap(driver, settings.database)
        writer = GraphWriter(driver, settings.database)
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<8}"),
            BarColumn(),
            TextColumn("{task.fields[files]:>15}"),
            TextColumn("{task.fields[phase]}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            tasks = {
                name: progress.add_task(name, total=None, phase="waiting", files="")
                for name in plan.names()
            }

            def say(name: str, phase: str) -> None:
                progress.update(tasks[name], phase=phase)
                if phase in ("done", "failed", "parsed"):
                    task = progress.tasks[tasks[name]]
                    total = task.total or 1  # ATT&CK is one file: no count came before
                    progress.update(tasks[name], total=total, completed=total)

            def files(name: str, done: int, total: int) -> None:
                # One step more than the files: the bar fills when the source is written.
                progress.update(
                    tasks[name], total=total + 1, completed=done, files=f"{done}/{total} files"
                )
                if progress.tasks[tasks[name]].fields["phase"] == "waiting":
                    progress.update(tasks[name], phase="parsing")

            report = pipeline.run(plan, writer, say, files)
    finally:
        if driver is not None:
            driver.close()
    out = Console()
    if not out.is_terminal:
        out = Console(width=120)  # a log file reads better wide than wrapped at 80
    render(report, out, problems=args.problems)
    if args.report:
        args.report.write_text(json.dumps(as_json(report), indent=2))
    return 0 if report.anything_loaded else 1
