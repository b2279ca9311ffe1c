"""`covgraph sync`: download the pinned sources, verify them, swap them into the cache.

A source is fetched into a staging folder inside the cache, checked (size, checksum, a complete
gzip tar or a STIX bundle), unpacked there, and only then renamed over the previous copy, so a
failed or partial download never replaces a good cache. Its provenance file is written last.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from covgraph.errors import ConfigError, SyncError
from covgraph.sync_archive import check_stix_bundle, unpack_tarball
from covgraph.sync_fetch import Download, ProgressHook, Timeouts, fetch
from covgraph.sync_sources import Source, check_ref, load_sources, rebase_url, set_pin
from loaders.provenance import provenance_path

STAGING = ".tmp"
LOCK = ".sync.lock"

#: Makes a progress hook for one download, given the source name and the URL.
ProgressFactory = Callable[[str, str], ProgressHook | None]


def default_cache(env: Mapping[str, str] | None = None) -> Path:
    """$COVGRAPH_CACHE/corpus, else ~/.cache/covgraph/corpus."""
    from graph.settings import cache_root

    return cache_root(env) / "corpus"


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """What to sync, from where, into where."""

    cache: Path
    sources_file: Path
    only: tuple[str, ...] = ()
    #: New pins: source name to ref. The named sources are synced at that ref, and the pin in
    #: the sources file is rewritten once the download is good.
    refs: Mapping[str, str] = field(default_factory=dict)
    base_url: str | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    force: bool = False


@dataclass(slots=True)
class SyncResult:
    """What syncing one source did."""

    name: str
    ref: str
    action: Literal["up-to-date", "synced", "failed"]
    provenance: dict[str, Any] | None = None
    pin_moved: bool = False
    notes: list[str] = field(default_factory=list)
    error: SyncError | None = None


def selected(sources: Sequence[Source], options: SyncOptions) -> list[Source]:
    """The sources to sync: --only, else the ones given a new ref, else all of them."""
    known = {s.name for s in sources}
    for name in (*options.only, *options.refs):
        if name not in known:
            names = ", ".join(sorted(known))
            raise ConfigError(f"{options.sources_file}: no source named {name!r} (known: {names})")
    outside = sorted(set(options.refs) - set(options.only)) if options.only else []
    if outside:
        raise ConfigError(f"--ref names {', '.join(outside)}, which --only leaves out")
    wanted = set(options.only) or set(options.refs)
    return [s for s in sources if not wanted or s.name in wanted]


def sync(
    options: SyncOptions,
    progress: ProgressFactory | None = None,
    *,
    collect_errors: bool = False,
) -> list[SyncResult]:
    """Sync the selected sources; raises the first SyncError unless ``collect_errors``."""
    sources = selected(load_sources(options.sources_file), options)
    for ref in options.refs.values():
        check_ref(ref)
    options.cache.mkdir(parents=True, exist_ok=True)
    results: list[SyncResult] = []
    with _locked(options.cache):
        # Whatever a killed sync left behind; nobody else uses it while we hold the lock.
        shutil.rmtree(options.cache / STAGING, ignore_errors=True)
        for source in sources:
            try:
                results.append(sync_source(source, options, progress))
            except SyncError as exc:
                if not collect_errors:
                    raise
                ref = options.refs.get(source.name, source.ref)
                results.append(SyncResult(source.name, ref, "failed", error=exc))
    return results


def sync_source(
    source: Source, options: SyncOptions, progress: ProgressFactory | None = None
) -> SyncResult:
    """Bring one source of the cache to its pin (or its new ref); download only when needed."""
    ref = options.refs.get(source.name, source.ref)
    moving = source.name in options.refs
    target = options.cache / source.target
    current = read_provenance(options.cache, source.name)
    expected = expected_sha256(source, ref, current)
    if (
        not options.force
        and current is not None
        and _up_to_date(current, source, ref, expected.sha256 if expected else None, target)
    ):
        result = SyncResult(source.name, ref, "up-to-date", provenance=current)
    else:
        result = _download(source, ref, expected, options, progress)
    sha256 = (result.provenance or {}).get("sha256")
    if moving and (ref != source.ref or sha256 != source.sha256):
        set_pin(options.sources_file, source.name, ref, sha256)
        result.pin_moved = True
    return result


@dataclass(frozen=True, slots=True)
class Expected:
    """The checksum a download must have, and where it comes from."""

    sha256: str
    #: "pin" (the sources file) or "first use" (recorded by the sync that first fetched the ref).
    origin: Literal["pin", "first use"]
    fetched_at: str | None = None


def expected_sha256(source: Source, ref: str, current: Mapping[str, Any] | None) -> Expected | None:
    """The pin's sha256 for the pinned ref, else the one recorded when this ref was first fetched.

    Trust on first use: without a pin, the first download of a ref is taken as it comes and its
    checksum recorded in the provenance; a later download of the same ref from the same URL must
    match it, so an archive that changed upstream (or in transit) is refused.
    """
    if ref == source.ref and source.sha256:
        return Expected(source.sha256, "pin")
    if current is None:
        return None
    recorded = current.get("sha256")
    if (
        isinstance(recorded, str)
        and recorded
        and current.get("ref") == ref
        and current.get("upstream_url") == source.upstream_url(ref)
    ):
        fetched_at = current.get("fetched_at")
        return Expected(recorded, "first use", fetched_at if isinstance(fetched_at, str) else None)
    return None


def read_provenance(cache: Path, name: str) -> dict[str, Any] | None:
    """The provenance a previous sync recorded for a source; None when absent or unreadable."""
    try:
        data = json.loads(provenance_path(cache, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _up_to_date(
    current: dict[str, Any], source: Source, ref: str, expected: str | None, target: Path
) -> bool:
    if not target.exists():
        return False
    return (
        current.get("ref") == ref
        and current.get("repository") == source.repository
        and current.get("target") == source.target
        and current.get("folders") == list(source.folders)
        and current.get("files") == list(source.files)
        and (expected is None or current.get("sha256") == expected)
    )


def _download(
    source: Source,
    ref: str,
    expected: Expected | None,
    options: SyncOptions,
    progress: ProgressFactory | None,
) -> SyncResult:
    upstream = source.upstream_url(ref)
    url = rebase_url(upstream, options.base_url)
    staging_root = options.cache / STAGING
    try:
        staging_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{source.name}-", dir=staging_root))
    except OSError as exc:
        raise SyncError(f"{options.cache}: cannot write the cache: {exc}") from None
    try:
        hook = progress(source.name, url) if progress else None
        download = fetch(url, staging / "download", options.timeouts, hook)
        if expected is not None and download.sha256 != expected.sha256:
            raise SyncError(f"{url}: {_mismatch(expected, download.sha256)}")
        record = _provenance(source, ref, url, upstream, download)
        record["sha256_checked_against"] = expected.origin if expected else None
        notes: list[str] = []
        if source.kind == "tarball":
            fresh = staging / "tree"
            unpacked = unpack_tarball(download.path, fresh, source.folders, source.files, url)
            record.update(
                commit=unpacked.commit or _commit_of(ref),
                commit_date=unpacked.commit_date,
                file_count=unpacked.files,
            )
            notes += [f"not in the archive: {name}" for name in unpacked.missing]
            notes += [f"not unpacked: {name}" for name in unpacked.skipped]
        else:
            record.update(version=check_stix_bundle(download.path, url), file_count=1)
            fresh = download.path
        target = options.cache / source.target
        # No provenance while the swap runs: a crash in between leaves a source to fetch again,
        # never a provenance file describing files that are not there.
        provenance_path(options.cache, source.name).unlink(missing_ok=True)
        _swap(fresh, target, staging / "previous")
        _write_json(provenance_path(options.cache, source.name), record)
        return SyncResult(source.name, ref, "synced", provenance=record, notes=notes)
    except OSError as exc:
        raise SyncError(f"{options.cache}: cannot write the cache: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _mismatch(expected: Expected, got: str) -> str:
    if expected.origin == "pin":
        return f"checksum mismatch: expected sha256 {expected.sha256} (the pin), got {got}"
    when = f" at {expected.fetched_at}" if expected.fetched_at else ""
    return (
        f"checksum mismatch: expected sha256 {expected.sha256} (recorded when this ref was first"
        f" fetched{when}), got {got}"
    )


def _provenance(
    source: Source, ref: str, url: str, upstream: str, download: Download
) -> dict[str, Any]:
    return {
        "name": source.name,
        "repository": source.repository,
        "ref": ref,
        "commit": _commit_of(ref),
        "commit_date": None,
        "version": None,
        "url": url,
        "upstream_url": upstream,
        "final_url": download.final_url,
        "sha256": download.sha256,
        "size": download.size,
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "licence": source.licence,
        "kind": source.kind,
        "target": source.target,
        "folders": list(source.folders),
        "files": list(source.files),
    }


def _commit_of(ref: str) -> str | None:
    """The ref when it is a full commit id (a branch or tag names no fixed commit)."""
    return ref if len(ref) == 40 and all(c in "0123456789abcdef" for c in ref) else None


def _swap(fresh: Path, target: Path, previous: Path) -> None:
    """Put ``fresh`` where ``target`` is, keeping the old copy until the new one is in place.

    Both lie in the cache, on one filesystem, so each rename is atomic. A file is replaced in
    one step; a folder takes two renames, and the old one is put back if the second fails.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if fresh.is_file() or not target.exists():
        if target.is_dir() and fresh.is_file():
            target.rename(previous)
        os.replace(fresh, target)
        return
    target.rename(previous)
    try:
        fresh.rename(target)
    except OSError as exc:
        previous.rename(target)
        raise SyncError(f"cannot move the new copy into {target}: {exc.strerror}") from None


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextlib.contextmanager
def _locked(cache: Path) -> Iterator[None]:
    """Hold the cache's lock file so that two syncs never swap the same folders."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before
        yield
        return
    with (cache / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncError(f"another covgraph sync is running on {cache}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
