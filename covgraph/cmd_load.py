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
    parser.add_argument(
        "--report",
        type=Path,
        help="also write the full report as JSON here: every problem with its file and line "
        "(make run writes it to ~/.cache/covgraph/load-report.json)",
    )
    parser.add_argument(
        "--problems", type=_count, default=20, help="problems to print per source (0 or more)"
    )
    parser.set_defaults(handler=_run)


def _count(text: str) -> int:
    """A count of 0 or more, for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is below 0")
    return value


def _only(text: str | None, explicit: set[str]) -> set[str] | None:
    """The sources --only names, checked: each one a known source, at least one."""
    from covgraph.pipeline import SOURCE_ORDER

    if text is None:
        return None
    names = {name.strip().lower() for name in text.split(",") if name.strip()}
    wrong = sorted(names - set(SOURCE_ORDER))
    if not names or wrong:
        what = f"{', '.join(wrong)} is no source" if wrong else "it names no source"
        raise ConfigError(f"--only {text!r}: {what} (choose from {', '.join(SOURCE_ORDER)})")
    outside = sorted(explicit - names)
    if outside:
        flags = ", ".join(f"--{name}" for name in outside)
        raise ConfigError(f"--only {text!r} leaves out {flags}, given too: drop one or the other")
    return names


def _check_report_path(path: Path | None) -> None:
    """Refuse a --report path that cannot be written before a load that may take a while."""
    if path is None:
        return
    if path.is_dir():
        raise ConfigError(f"--report {path}: is a folder")
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(f"--report {path}: no folder {folder}")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"--report {path}: not writable")


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
    only = _only(args.only, set(explicit))
    _check_report_path(args.report)
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
    written = None
    if args.report:
        try:
            args.report.write_text(json.dumps(as_json(report), indent=2))
            written = args.report
        except OSError as exc:
            # The load is done (and written): only the JSON copy of the report is lost, and the
            # exit code keeps its meaning (non-zero only when nothing could be loaded).
            console.print(f"covgraph: error: cannot write the report {args.report}: {exc}")
    # Written first, so that the printed report can say where the rest of it is.
    render(report, out, problems=args.problems, report_path=written)
    return 0 if report.anything_loaded else 1
