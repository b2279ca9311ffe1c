"""The load pipeline: each source parsed by its loader, then written by the one writer.

Sources load one at a time (ATT&CK first, so that rules find their techniques), each parsed
completely before its single write transaction, and dropped before the next starts.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from covgraph.errors import Location
from loaders.records import AttackCatalog, FileProgress, Problem, RuleLoad, SourceInfo, Vendor

if TYPE_CHECKING:
    from graph.writer import GraphWriter

SOURCE_ORDER = ("attack", "sigma", "elastic", "splunk")
RULE_SOURCES: tuple[Vendor, ...] = ("sigma", "elastic", "splunk")


@dataclass(slots=True)
class LoadPlan:
    """Where each source is read from; None means the source is not loaded."""

    corpus: Path | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    folders: dict[str, list[str]] = field(default_factory=dict)

    def names(self) -> list[str]:
        return [name for name in SOURCE_ORDER if name in self.paths]


def plan_from_corpus(corpus: Path, only: set[str] | None = None) -> LoadPlan:
    """The plan for a corpus laid out like ../shared/corpus (sigma/, elastic/, splunk/, attack/)."""
    candidates = {
        "attack": corpus / "attack" / "enterprise-attack.json",
        "sigma": corpus / "sigma",
        "elastic": corpus / "elastic",
        "splunk": corpus / "splunk",
    }
    paths = {
        name: path
        for name, path in candidates.items()
        if path.exists() and (only is None or name in only)
    }
    return LoadPlan(corpus=corpus, paths=paths)


@dataclass(slots=True)
class LanguageCoverage:
    """How many rules of one language carry a query, and how many yielded a predicate."""

    with_query: int = 0
    with_predicates: int = 0

    @property
    def percent(self) -> float:
        return 100.0 * self.with_predicates / self.with_query if self.with_query else 100.0


@dataclass(slots=True)
class SourceReport:
    """What loading one source did: counts, time, problems."""

    name: str
    source: SourceInfo | None = None
    parse_seconds: float = 0.0
    write_seconds: float = 0.0
    files_seen: int = 0
    rules: int = 0
    deprecated: int = 0
    predicates: int = 0
    nodes: int = 0
    by_collection: Counter[str] = field(default_factory=Counter)
    coverage: dict[str, LanguageCoverage] = field(default_factory=dict)
    no_predicates: list[Problem] = field(default_factory=list)
    #: Rules that carry no query at all (machine-learning jobs...), by rule type.
    no_query: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    unmapped_fields: Counter[str] = field(default_factory=Counter)
    unknown_techniques: tuple[str, ...] = ()
    #: True when the parse checked the techniques against the ATT&CK of the same load: its
    #: unknown_techniques then stand, with each rule's file and line.
    techniques_checked: bool = False
    failed: str | None = None  # the source could not be loaded at all

    @property
    def loaded(self) -> bool:
        return self.failed is None and (self.rules > 0 or self.nodes > 0)


@dataclass(slots=True)
class LoadReport:
    """What a whole load did, source by source."""

    sources: list[SourceReport] = field(default_factory=list)
    dry_run: bool = False

    @property
    def anything_loaded(self) -> bool:
        return any(s.loaded for s in self.sources)


Progress = Callable[[str, str], None]  # (source name, phase text)
FilesProgress = Callable[[str, int, int], None]  # (source name, files read, files in all)


def _parse(
    name: str, path: Path, plan: LoadPlan, files: FileProgress | None = None
) -> AttackCatalog | RuleLoad:
    from loaders.provenance import source_info

    root = plan.corpus or path.parent
    info = source_info(root, name) if plan.corpus else SourceInfo(name=name, root=str(path))
    folders = plan.folders.get(name)
    if name == "attack":
        from loaders.attack import load_attack

        return load_attack(path, info)
    if name == "sigma":
        from loaders.sigma import load_sigma

        return load_sigma(path, info, folders, files)
    if name == "elastic":
        from loaders.elastic import load_elastic

        return load_elastic(path, info, folders, files)
    if name == "splunk":
        from loaders.splunk import load_splunk

        return load_splunk(path, info, folders, files)
    raise ValueError(f"unknown source {name!r}")


def summarise(
    name: str, parsed: AttackCatalog | RuleLoad, known: frozenset[str] | None = None
) -> SourceReport:
    """The report of a parsed source, before anything is written.

    ``known`` holds the technique ids of the ATT&CK read in the same load: a rule's technique
    id not among them is reported with the rule's file, dry run or not.
    """
    report = SourceReport(name=name, source=parsed.source)
    report.problems = list(parsed.problems)
    if isinstance(parsed, AttackCatalog):
        report.nodes = (
            len(parsed.tactics)
            + len(parsed.techniques)
            + len(parsed.data_sources)
            + len(parsed.data_components)
            + len(parsed.detection_strategies)
            + len(parsed.analytics)
        )
        return report
    report.files_seen = parsed.files_seen
    report.rules = len(parsed.rules)
    report.unmapped_fields = Counter(parsed.unmapped_fields)
    for rule in parsed.rules:
        report.deprecated += rule.deprecated
        report.predicates += len(rule.predicates)
        report.by_collection[rule.collection] += 1
        if rule.parse_status == "no_query" or not (rule.query or "").strip():
            report.no_query[rule.rule_type or "unknown"] += 1
            continue
        language = rule.language or "unknown"
        coverage = report.coverage.setdefault(language, LanguageCoverage())
        coverage.with_query += 1
        if rule.predicates:
            coverage.with_predicates += 1
    report.no_predicates = [p for p in parsed.problems if p.kind == "no-predicates"]
    if known is not None:
        unknown: dict[str, None] = {}
        for rule in parsed.rules:
            for technique in rule.techniques:
                if technique not in known:
                    unknown[technique] = None
                    report.problems.append(
                        Problem(
                            Location(rule.path, rule.technique_lines.get(technique)),
                            f"technique {technique} is not in ATT&CK",
                            "unknown-technique",
                            "warning",
                            rule.uid,
                        )
                    )
        report.unknown_techniques = tuple(sorted(unknown))
        report.techniques_checked = True
    return report


# How often a worker reports files read: often enough for a smooth bar, rarely enough to cost
# nothing next to parsing.
_REPORT_EVERY = 25


def _parse_timed(
    name: str, path: Path, plan: LoadPlan, queue: Any = None
) -> tuple[AttackCatalog | RuleLoad, float]:
    """Parse one source, timed; in a worker, files read go back through ``queue``."""

    def files(done: int, total: int) -> None:
        if queue is not None and (done % _REPORT_EVERY == 0 or done == total):
            queue.put((name, done, total))

    started = time.perf_counter()
    parsed = _parse(name, path, plan, files)
    return parsed, time.perf_counter() - started


def _workers() -> int:
    raw = os.environ.get("COVGRAPH_LOAD_WORKERS", "1")
    return int(raw) if raw.isdigit() else 1


def _relay(queue: Any, on_files: FilesProgress) -> None:
    """Pass the worker's file counts on until the None that ends them (runs in a thread)."""
    while (message := queue.get()) is not None:
        on_files(*message)


def run(
    plan: LoadPlan,
    writer: GraphWriter | None,
    progress: Progress | None = None,
    on_files: FilesProgress | None = None,
) -> LoadReport:
    """Parse and (unless writer is None: dry run) write every source of the plan, in order.

    Parsing runs in a worker process, one source ahead of the writer: while Neo4j writes one
    source, the next is parsed on the other core. COVGRAPH_LOAD_WORKERS=0 parses in-process.
    ``progress`` hears each source's phase, ``on_files`` how many of its files are read.

    Each source is written in its own transaction: a source whose write fails, or is cut short
    by a kill, keeps its previous graph; sources committed before stay committed. (One
    transaction for the whole corpus outgrew the 1 GiB server's 717 MiB transaction memory,
    and ran 68 s before it was refused, against 17 s source by source.) A source that read no
    rule at all (a wrong folder) is refused rather than written, which would empty it.
    """
    say = progress or (lambda _source, _phase: None)
    report = LoadReport(dry_run=writer is None)
    names = plan.names()
    with contextlib.ExitStack() as stack:
        pool: Executor | None = None
        queue: Any = None
        if _workers() > 0 and len(names) > 1:
            context = mp.get_context("fork")
            pool = stack.enter_context(ProcessPoolExecutor(_workers(), mp_context=context))
            if on_files is not None:
                queue = stack.enter_context(context.Manager()).Queue()
                relay = threading.Thread(target=_relay, args=(queue, on_files), daemon=True)
                relay.start()
                stack.callback(relay.join, 5)
                stack.callback(queue.put, None)
        futures: dict[str, Future[tuple[AttackCatalog | RuleLoad, float]]] = {}
        known: frozenset[str] | None = None  # technique ids of the ATT&CK in this load
        if pool is not None:
            futures = {n: pool.submit(_parse_timed, n, plan.paths[n], plan, queue) for n in names}
        for name in names:
            say(name, "parsing")
            try:
                if name in futures:
                    parsed, seconds = futures[name].result()
                else:
                    parsed, seconds = _parse_in_process(name, plan, on_files)
            except Exception as exc:  # noqa: BLE001  # one broken source never stops the others
                report.sources.append(
                    SourceReport(name=name, failed=f"{type(exc).__name__}: {exc}")
                )
                say(name, "failed")
                continue
            if isinstance(parsed, RuleLoad):
                parsed.drop_duplicate_uids()  # reported, so the report counts what is written
            elif parsed.techniques:
                known = frozenset(technique.id for technique in parsed.techniques)
            source_report = summarise(name, parsed, known)
            source_report.parse_seconds = seconds
            report.sources.append(source_report)
            refused = _nothing_read(parsed, plan.paths[name])
            if refused is not None:
                source_report.failed = refused
                say(name, "failed")
            elif writer is None:
                say(name, "parsed")
            else:
                say(name, "writing")
                _write(writer, parsed, source_report)
                say(name, "done" if source_report.failed is None else "failed")
            del parsed
    return report


def _nothing_read(parsed: AttackCatalog | RuleLoad, path: Path) -> str | None:
    """Why a parsed source must not replace the graph's copy, or None when it may."""
    if isinstance(parsed, AttackCatalog):
        if parsed.techniques:
            return None
        return f"no ATT&CK technique in {path}: nothing written, the previous ATT&CK is kept"
    if parsed.rules:
        return None
    what = "no rule file" if parsed.files_seen == 0 else "no readable rule"
    return (
        f"{what} under {path} (is it the source's root folder?): nothing written, "
        f"the previous {parsed.source.name} rules are kept"
    )


def _parse_in_process(
    name: str, plan: LoadPlan, on_files: FilesProgress | None
) -> tuple[AttackCatalog | RuleLoad, float]:
    def files(done: int, total: int) -> None:
        if on_files is not None and (done % _REPORT_EVERY == 0 or done == total):
            on_files(name, done, total)

    started = time.perf_counter()
    parsed = _parse(name, plan.paths[name], plan, files)
    return parsed, time.perf_counter() - started


def _write(writer: GraphWriter, parsed: AttackCatalog | RuleLoad, report: SourceReport) -> None:
    started = time.perf_counter()
    try:
        if isinstance(parsed, AttackCatalog):
            stats = writer.write_attack(parsed)
        else:
            stats = writer.write_rules(parsed)
            if not report.techniques_checked:  # no ATT&CK in this load: the graph's decides
                report.unknown_techniques = stats.unknown_techniques
        report.nodes = max(report.nodes, stats.nodes)
    except Exception as exc:  # noqa: BLE001  # the transaction rolled back; say why, go on
        report.failed = f"write failed, previous graph kept: {exc}"
    report.write_seconds = time.perf_counter() - started
