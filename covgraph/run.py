"""`make run`: start Neo4j (unless NEO4J_URI is set), get the catalog, load it, serve the API.

Each step is the CLI command a user would type, so `make run` does nothing the README does not
show. The API's port is checked before anything else: a taken port is found in a second, not
after the load.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from covgraph.cli import main as cli
from covgraph.cmd_serve import check_port
from covgraph.errors import CovgraphError

#: The full load report of the last `make run`, under the cache root (COVGRAPH_CACHE).
REPORT_NAME = "load-report.json"


def _step(title: str, argv: list[str], hint: str = "") -> None:
    print(f"\n==> {title}: covgraph {' '.join(argv)}", flush=True)
    code = cli(argv)
    if code != 0:
        sys.exit(f"make run: `covgraph {' '.join(argv)}` failed with exit code {code}{hint}")


def _snapshot_hint() -> str:
    """Advice for a failed sync when a corpus snapshot sits beside the checkout."""
    snapshot = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    if not snapshot.is_dir():
        return ""
    return (
        f"\nmake run: a corpus snapshot exists at {snapshot}; to load it instead of syncing, "
        f"run: COVGRAPH_CORPUS={snapshot} make run"
    )


def _api_address() -> tuple[str, int]:
    """COVGRAPH_HOST and COVGRAPH_PORT, the port checked free; exits with the reason if not."""
    host = os.environ.get("COVGRAPH_HOST", "127.0.0.1")
    text = os.environ.get("COVGRAPH_PORT", "8000")
    try:
        port = int(text)
        check_port(
            host,
            port,
            "set COVGRAPH_PORT to a free port (and COVGRAPH_HOST to another "
            "address if need be), e.g. COVGRAPH_PORT=8001 make run",
        )
    except ValueError:
        sys.exit(f"make run: COVGRAPH_PORT={text!r} is not a port number")
    except CovgraphError as exc:
        sys.exit(f"make run: {exc}")
    return host, port


def report_path() -> Path:
    """Where `make run` writes the full load report: the cache root, created if need be."""
    from graph.settings import cache_root

    root = cache_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        sys.exit(f"make run: cannot create {root} (COVGRAPH_CACHE) for the load report: {exc}")
    return root / REPORT_NAME


def main() -> None:
    """Run the whole chain; stops at the first step that fails."""
    host, port = _api_address()
    if os.environ.get("NEO4J_URI"):
        print(f"==> NEO4J_URI is set: using {os.environ['NEO4J_URI']}", flush=True)
    else:
        _step("local Neo4j", ["neo4j", "start"])
    corpus = os.environ.get("COVGRAPH_CORPUS")
    if os.environ.get("COVGRAPH_SKIP_LOAD") == "1":
        # Nothing to read: no sync either, so this works offline on a graph loaded before.
        print("\n==> COVGRAPH_SKIP_LOAD=1: keeping the graph as it is", flush=True)
    elif corpus:
        print(f"\n==> catalog: COVGRAPH_CORPUS={corpus}", flush=True)
        _step("graph", ["load", "--corpus", corpus, "--report", str(report_path())])
    else:
        # The rule: COVGRAPH_CORPUS when set, otherwise the synced cache, syncing first. A
        # snapshot beside the checkout is only suggested, never picked silently.
        _step("catalog", ["sync"], hint=_snapshot_hint())
        _step("graph", ["load", "--report", str(report_path())])
    _step("API", ["serve", "--host", host, "--port", str(port)])


if __name__ == "__main__":
    main()
