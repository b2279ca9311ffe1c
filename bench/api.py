"""Benchmark of the GraphQL API: technique pages under load over HTTP, similar techniques and rules.

By default it starts `covgraph serve` itself on a free port (with --workers), against the Neo4j
the environment names (NEO4J_URI or COVGRAPH_NEO4J_*), which must hold a loaded catalog. With
--url it measures a server that is already running.

    .venv/bin/python bench/api.py                 # 2 workers, 16 clients, 20 s
    .venv/bin/python bench/api.py --url http://127.0.0.1:8000 --clients 16 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent

PAGE = """
query Page($id: String!) {
  technique(id: $id) {
    id name description url isSubtechnique platforms tactics { id shortname name }
    parent { id name } subtechniques { id name }
    coverage {
      ruleCount eventCount events { id name ruleCount }
      byVendor { vendor ruleCount rules { uid title severity status sourceUrl } }
    }
    authoringGuide {
      distinctFieldCount distinctIndicatorCount distinctExclusionCount
      fields { field { name } ruleCount operators { operator count } sampleValues }
      indicators { field { name } operator value ruleCount corpusReach }
      exclusions { field { name } operator value ruleCount corpusReach }
    }
  }
}
"""

# A comment unique to this run: the response cache keys on the request body, so the
# similarTechniques timings below are computed answers even against a server measured before.
RUN_MARK = f"# bench run {time.time_ns()}\n"

SIMILAR = (
    RUN_MARK
    + """
query Similar($id: String!) {
  similarTechniques(id: $id, first: 10) { technique { id name } jaccard sharedIndicators }
}
"""
)

COVERED = """
query Covered($after: String) {
  techniques(covered: true, first: 200, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id coverage { ruleCount } }
  }
}
"""

ALL = """
query All($after: String) {
  techniques(first: 200, after: $after) { pageInfo { hasNextPage endCursor } nodes { id } }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def _server(workers: int) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "covgraph", "serve", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning"],
        cwd=REPO,
        env=os.environ.copy(),
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the API server did not become ready (is Neo4j loaded?)")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _post(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise SystemExit(f"query failed ({response.status_code}): {body.get('errors')}")
    return body["data"]


async def _paged(client: httpx.AsyncClient, query: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await _post(client, query, {"after": after}))["techniques"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def _pick(covered: list[dict[str, Any]], count: int) -> list[str]:
    """`count` covered techniques spread evenly over the id order, T1546.003 among them."""
    ids = sorted(t["id"] for t in covered)
    step = max(len(ids) / count, 1)
    chosen = {ids[int(i * step)] for i in range(min(count, len(ids)))}
    if "T1546.003" in ids and "T1546.003" not in chosen:
        chosen.discard(min(chosen))
        chosen.add("T1546.003")
    return sorted(chosen)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


async def _load(url: str, ids: list[str], clients: int, seconds: float) -> None:
    latencies: list[float] = []
    sizes: list[int] = []
    stop = time.perf_counter() + seconds

    async def client_loop(number: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            i = number
            while time.perf_counter() < stop:
                started = time.perf_counter()
                response = await client.post(
                    "/graphql", json={"query": PAGE, "variables": {"id": ids[i % len(ids)]}}
                )
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"HTTP {response.status_code}: {response.text[:300]}")
                sizes.append(len(response.content))
                i += clients

    began = time.perf_counter()
    await asyncio.gather(*(client_loop(n) for n in range(clients)))
    elapsed = time.perf_counter() - began
    ms = [v * 1000 for v in latencies]
    print(f"technique page, {len(ids)} techniques, {clients} clients, {elapsed:.1f} s:")
    print(f"  requests   {len(ms)}  ({len(ms) / elapsed:.0f} req/s)")
    print(
        f"  latency ms p50 {_percentile(ms, 50):.1f}  p95 {_percentile(ms, 95):.1f}  "
        f"p99 {_percentile(ms, 99):.1f}  max {max(ms):.1f}  mean {statistics.mean(ms):.1f}"
    )
    median_kib, max_kib = statistics.median(sizes) / 1024, max(sizes) / 1024
    print(f"  response   median {median_kib:.1f} KiB, max {max_kib:.0f} KiB")


async def _similar(url: str, ids: list[str], clients: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        started = time.perf_counter()
        await _post(client, SIMILAR, {"id": ids[0]})
        first = time.perf_counter() - started
    queue = list(ids)

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=120) as c:
            while queue:
                await _post(c, SIMILAR, {"id": queue.pop()})

    # Every body is new to the response cache (RUN_MARK): each answer is computed.
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    concurrent = time.perf_counter() - started
    print(f"similarTechniques for all {len(ids)} current techniques, over HTTP:")
    print(f"  first call (builds the index when cold) {first * 1000:.0f} ms")
    print(f"  all, {clients} clients, computed  {concurrent:.2f} s")


def _aliased_similar(ids: list[str]) -> str:
    """One query asking similarTechniques for several ids, one alias each."""
    variables = ", ".join(f"$i{n}: String!" for n in range(len(ids)))
    fields = " ".join(
        f"t{n}: similarTechniques(id: $i{n}, first: 10) "
        "{ technique { id name } jaccard sharedIndicators }"
        for n in range(len(ids))
    )
    return f"{RUN_MARK}query Similar({variables}) {{ {fields} }}"


async def _similar_batched(url: str, ids: list[str], clients: int, per_request: int) -> None:
    """Every technique again, as a client fetching many would: aliases, per_request at a time."""
    batches = [ids[i : i + per_request] for i in range(0, len(ids), per_request)]

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=120) as c:
            while batches:
                batch = batches.pop()
                await _post(c, _aliased_similar(batch), {f"i{n}": t for n, t in enumerate(batch)})

    count = len(batches)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(clients, count))))
    took = time.perf_counter() - started
    print(f"  all, {per_request} aliases per request ({count} requests), computed  {took:.2f} s")


def _similar_in_process(ids: list[str]) -> None:
    """The ranking itself, without HTTP or GraphQL: one index build, then every technique."""
    from graph.driver import connect
    from graph.queries.overlap import INDICATOR_SETS
    from graph.queries.similarity import SimilarityIndex

    with connect() as driver:
        started = time.perf_counter()
        records, _, _ = driver.execute_query(INDICATOR_SETS.text, routing_="r")
        read = time.perf_counter() - started
    started = time.perf_counter()
    index = SimilarityIndex.from_rows([dict(r) for r in records])
    built = time.perf_counter() - started
    started = time.perf_counter()
    for tid in ids:
        index.similar(tid, 10)
    ranked = time.perf_counter() - started
    print("similarTechniques in process (no HTTP):")
    print(f"  read indicator sets {read * 1000:.0f} ms, build index {built * 1000:.0f} ms")
    print(f"  rank all {len(ids)} techniques {ranked * 1000:.0f} ms")


def _similar_rules_in_process() -> None:
    """Rule.similarRules' ranking without HTTP: one index build, then every rule's neighbours."""
    from graph.driver import connect
    from graph.queries.rule_similarity import RULE_INDICATOR_SETS, RuleSimilarityIndex
    from graph.selectors import selector_key

    with connect() as driver:
        started = time.perf_counter()
        records, _, _ = driver.execute_query(RULE_INDICATOR_SETS.text, routing_="r")
        read = time.perf_counter() - started
    rows = [dict(r) for r in records]
    started = time.perf_counter()
    index = RuleSimilarityIndex(rows, drop=selector_key)
    built = time.perf_counter() - started
    started = time.perf_counter()
    for row in rows:
        index.similar(row["uid"], 10)
    ranked = time.perf_counter() - started
    print("similarRules in process (no HTTP):")
    print(f"  read indicator sets {read * 1000:.0f} ms, build index {built * 1000:.0f} ms")
    print(f"  rank all {len(rows)} rules {ranked * 1000:.0f} ms")


async def _run(url: str, args: argparse.Namespace) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        covered = await _paged(client, COVERED)
        everything = [t["id"] for t in await _paged(client, ALL)]
        ids = _pick(covered, args.techniques)
        print(f"{len(everything)} current techniques, {len(covered)} covered; pages for {len(ids)}")
        first_visits = []
        for round_ in range(2):  # warm-up: every page once per worker, more or less
            for tid in ids:
                started = time.perf_counter()
                await _post(client, PAGE, {"id": tid})
                if round_ == 0:
                    first_visits.append((time.perf_counter() - started) * 1000)
    # A page's first request reads Neo4j for everything not shared with an earlier page (cold
    # unless this server answered it before, as with --url against a warm server).
    print(f"first request for each page, 1 client, {len(first_visits)} pages:")
    print(
        f"  latency ms p50 {_percentile(first_visits, 50):.1f}  "
        f"p95 {_percentile(first_visits, 95):.1f}  max {max(first_visits):.1f}"
    )
    await _load(url, ids, args.clients, args.seconds)
    await _similar(url, everything, args.clients)
    # The API's alias limit (api.schema.MAX_ALIASES) is the largest batch a client may send.
    await _similar_batched(url, list(reversed(everything)), args.clients, per_request=30)
    _similar_in_process(everything)
    _similar_rules_in_process()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running API (default: start one)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers when started here")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--techniques", type=int, default=50)
    args = parser.parse_args()
    if args.url:
        asyncio.run(_run(args.url.rstrip("/"), args))
        return
    with _server(args.workers) as url:
        print(f"server: {url}, {args.workers} workers")
        asyncio.run(_run(url, args))


if __name__ == "__main__":
    main()
