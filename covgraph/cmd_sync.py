"""`covgraph sync`: fetch the pinned upstream sources into the local corpus cache."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from covgraph.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

    from covgraph.sync import ProgressFactory, SyncResult
    from covgraph.sync_fetch import ProgressHook, Timeouts


def register(commands: Any) -> None:
    """Add `sync` to the CLI's sub-commands."""
    parser = commands.add_parser(
        "sync",
        help="download the pinned rule catalogs and ATT&CK into the corpus cache",
        description=(
            "Download each pinned source (rules/sources.yaml), verify it and unpack it into the "
            "cache in the corpus layout, for `covgraph load --corpus <cache>`. Sources already "
            "at their pin are not downloaded again."
        ),
    )
    parser.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="corpus cache folder; default $COVGRAPH_CACHE/corpus or ~/.cache/covgraph/corpus",
    )
    parser.add_argument(
        "--sources",
        type=Path,
        metavar="FILE",
        help="sources file; default $COVGRAPH_SOURCES or the repository's rules/sources.yaml",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="sync this source only (repeatable)",
    )
    parser.add_argument(
        "--ref",
        action="append",
        default=[],
        metavar="NAME=REF",
        help="move a source's pin to REF (commit, tag or branch) and rewrite it in the sources "
        "file; a bare REF applies to the one source named by --only (repeatable)",
    )
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="serve archives from this mirror: replaces the scheme and host of each URL; "
        "$COVGRAPH_SYNC_BASE_URL",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        metavar="SECONDS",
        help="seconds to wait for a connection; $COVGRAPH_SYNC_CONNECT_TIMEOUT, default 15",
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        metavar="SECONDS",
        help="seconds to wait for data once connected; $COVGRAPH_SYNC_READ_TIMEOUT, default 60",
    )
    parser.add_argument(
        "--deadline",
        type=float,
        metavar="SECONDS",
        help="seconds one whole download may take, however steadily data comes; "
        "$COVGRAPH_SYNC_DEADLINE, default 1800",
    )
    parser.add_argument("--force", action="store_true", help="download even when up to date")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from covgraph.sync import SyncOptions, default_cache, sync
    from covgraph.sync_sources import default_sources_file

    env = os.environ
    cache = (args.cache.expanduser() if args.cache else default_cache(env)).resolve()
    options = SyncOptions(
        cache=cache,
        sources_file=(args.sources or default_sources_file()).resolve(),
        only=tuple(args.only),
        refs=parse_refs(args.ref, args.only),
        base_url=args.base_url or env.get("COVGRAPH_SYNC_BASE_URL") or None,
        timeouts=_timeouts(args, env),
        force=args.force,
    )
    with progress_bars(args.quiet) as progress:
        results = sync(options, progress, collect_errors=True)
    for result in results:
        _report(result)
    failed = [r for r in results if r.error is not None]
    if failed:
        return 1
    print(f"corpus ready in {cache}: covgraph load --corpus {cache}")
    return 0


def parse_refs(values: list[str], only: list[str]) -> dict[str, str]:
    """``NAME=REF`` pairs; a bare ``REF`` belongs to the single ``--only`` source."""
    refs: dict[str, str] = {}
    for value in values:
        name, sep, ref = value.partition("=")
        if not sep:
            if len(only) != 1:
                raise ConfigError(f"--ref {value}: write NAME=REF, or name one source with --only")
            name, ref = only[0], value
        if not name or not ref:
            raise ConfigError(f"--ref {value}: write NAME=REF")
        refs[name.strip()] = ref.strip()
    return refs


def _timeouts(args: argparse.Namespace, env: Mapping[str, str]) -> Timeouts:
    from covgraph.sync_fetch import Timeouts

    def seconds(flag: float | None, name: str, default: float) -> float:
        if flag is not None:
            value = flag
        else:
            raw = env.get(name)
            try:
                value = float(raw) if raw else default
            except ValueError:
                raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
        if value <= 0:
            raise ConfigError(f"{name} must be more than 0 seconds, got {value:g}")
        return value

    return Timeouts(
        connect=seconds(args.connect_timeout, "COVGRAPH_SYNC_CONNECT_TIMEOUT", 15.0),
        read=seconds(args.read_timeout, "COVGRAPH_SYNC_READ_TIMEOUT", 60.0),
        total=seconds(args.deadline, "COVGRAPH_SYNC_DEADLINE", 1800.0),
    )


@contextmanager
def progress_bars(quiet: bool, console: Console | None = None) -> Iterator[ProgressFactory | None]:
    """One rich progress bar per download, on stderr (or ``console``); none when quiet."""
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("{task.description:<8}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    console = console or Console(stderr=True)
    with Progress(*columns, console=console, transient=False) as bars:

        def factory(name: str, url: str) -> ProgressHook | None:
            task = bars.add_task(name, total=None)

            def hook(done: int, total: int | None) -> None:
                bars.update(task, completed=done, total=total)

            return hook

        yield factory


def _report(result: SyncResult) -> None:
    prov = result.provenance or {}
    short = result.ref[:12]
    if result.error is not None:
        print(f"{result.name}: failed at {short}: {result.error}", file=sys.stderr)
        return
    if result.action == "up-to-date":
        print(f"{result.name}: up to date at {short} (fetched {prov.get('fetched_at')})")
    else:
        size = prov.get("size", 0) / 1e6
        print(
            f"{result.name}: synced {short} into {prov.get('target')}"
            f" ({prov.get('file_count')} files, {size:.1f} MB, sha256 {prov.get('sha256')})"
        )
    for note in result.notes:
        print(f"{result.name}: note: {note}", file=sys.stderr)
    if result.pin_moved:
        print(f"{result.name}: pin moved to {result.ref} (sha256 {prov.get('sha256')})")
