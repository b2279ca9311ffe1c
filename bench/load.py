"""Load benchmark: WIPES the database, then loads the corpus into it, timed, medians printed.

    python bench/load.py --wipe                  # ATT&CK + Sigma, then the whole corpus, 3 runs
    python bench/load.py --wipe --scope all --runs 5

Before every run it deletes every node of the configured database (NEO4J_DATABASE of NEO4J_URI,
else the local server's), so a graph loaded before (by `make run`) is gone afterwards: load it
again with `covgraph load` or `make run`. A database that holds anything is wiped only with
--wipe or COVGRAPH_BENCH_WIPE=1; `make bench` passes --wipe for the local server only. Peak
memory is the maximum resident set size of the writer (this process) and of the parse worker
(its child); the Neo4j server's own peak (VmHWM) is printed too when it is the local
covgraph-managed server.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from covgraph.pipeline import plan_from_corpus, run  # noqa: E402
from graph.driver import connect  # noqa: E402
from graph.schema import node_count  # noqa: E402
from graph.schema import wipe as wipe_database  # noqa: E402
from graph.settings import local_server_settings, neo4j_settings  # noqa: E402
from graph.writer import GraphWriter  # noqa: E402

SCOPES = {"sigma": {"attack", "sigma"}, "all": {"attack", "sigma", "elastic", "splunk"}}


def corpus() -> Path:
    configured = os.environ.get("COVGRAPH_CORPUS")
    path = Path(configured) if configured else REPO.parent / "shared" / "corpus"
    if not path.exists():
        sys.exit(f"no corpus at {path}: set COVGRAPH_CORPUS")
    return path


def refuse_to_wipe_data(driver: object, allow: bool) -> None:
    """Exit unless the database is empty or wiping it is allowed (--wipe, COVGRAPH_BENCH_WIPE=1)."""
    if allow or os.environ.get("COVGRAPH_BENCH_WIPE") == "1":
        return
    settings = neo4j_settings()
    nodes = node_count(driver, settings.database)  # type: ignore[arg-type]
    if nodes:
        sys.exit(
            f"refusing to wipe database {settings.database or '(default)'} of {settings.uri}: it "
            f"holds {nodes} nodes, and the benchmark deletes every node before each run. Pass "
            "--wipe (make bench does, for the local server) or set COVGRAPH_BENCH_WIPE=1 to "
            "let it; reload the graph afterwards with `covgraph load` or `make run`."
        )


def wipe(driver: object) -> None:
    """Delete every node of the configured database and recreate the schema."""
    wipe_database(driver, neo4j_settings().database)  # type: ignore[arg-type]


def server_peak_kib() -> int | None:
    if neo4j_settings().external:
        return None
    pid_file = local_server_settings().pid_file
    try:
        pid = int(pid_file.read_text().split()[0])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def one_run(driver: object, path: Path, sources: set[str]) -> dict[str, float]:
    wipe(driver)
    started = time.perf_counter()
    writer = GraphWriter(driver, neo4j_settings().database)  # type: ignore[arg-type]
    report = run(plan_from_corpus(path, sources), writer)
    wall = time.perf_counter() - started
    figures: dict[str, float] = {"wall": wall}
    rules = 0
    for s in report.sources:
        if s.failed:
            sys.exit(f"{s.name} failed: {s.failed}")
        figures[f"{s.name}.parse"] = s.parse_seconds
        figures[f"{s.name}.write"] = s.write_seconds
        rules += s.rules
    figures["rules"] = rules
    figures["rules_per_s"] = rules / wall
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0]
        + " Every node of the configured database (NEO4J_URI, else the local server) is "
        "deleted before each run.",
    )
    parser.add_argument("--scope", choices=[*SCOPES, "both"], default="both")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--wipe",
        "--allow-wipe",
        dest="wipe",
        action="store_true",
        help="wipe the database even when it holds nodes (or COVGRAPH_BENCH_WIPE=1); without "
        "it a non-empty database is refused",
    )
    args = parser.parse_args()
    path = corpus()
    scopes = list(SCOPES) if args.scope == "both" else [args.scope]
    driver = connect()
    refuse_to_wipe_data(driver, args.wipe)
    print(
        f"corpus {path}, server {neo4j_settings().uri}, {os.cpu_count()} cpus, "
        f"{args.runs} runs per scope; medians (min..max)"
    )
    for scope in scopes:
        runs = [one_run(driver, path, SCOPES[scope]) for _ in range(args.runs)]
        print(f"\n== {scope}: {' + '.join(sorted(SCOPES[scope]))}")
        for key in runs[0]:
            values = [r[key] for r in runs]
            if key == "rules":
                print(f"  {key:<16} {int(values[0])}")
                continue
            print(
                f"  {key:<16} {statistics.median(values):8.2f}   "
                f"({min(values):.2f}..{max(values):.2f})"
            )
        # ru_maxrss only grows: printed after each scope, it is that scope's peak so far. The
        # parse runs in a worker process (a child), the write in this one.
        writer_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        parser_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(
            f"  peak memory (max RSS so far): writer process {writer_peak / 1024:.0f} MiB, "
            f"parse worker {parser_peak / 1024:.0f} MiB"
        )
    server = server_peak_kib()
    if server is not None:
        print(f"peak memory, Neo4j server since its start (VmHWM): {server / 1024:.0f} MiB")
    driver.close()


if __name__ == "__main__":
    main()
