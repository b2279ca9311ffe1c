"""Checking and unpacking a downloaded archive: a GitHub tarball, or the ATT&CK JSON bundle."""

from __future__ import annotations

import gzip
import json
import re
import tarfile
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from covgraph.errors import SyncError

_COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True, slots=True)
class Unpacked:
    """What unpacking a tarball gave: file count, the commit it says it is, what was left out."""

    files: int
    commit: str | None = None
    commit_date: str | None = None
    #: Configured folders and files the archive does not have.
    missing: tuple[str, ...] = ()
    #: Members not unpacked: links, devices, or names the safety filter refused.
    skipped: tuple[str, ...] = ()


def unpack_tarball(
    archive: Path, dest: Path, folders: Collection[str], files: Collection[str], url: str
) -> Unpacked:
    """Unpack the listed top-level folders and files of a GitHub archive into ``dest``.

    The archive's single top folder (``sigma-<ref>/``) is stripped. The whole gzip stream is
    read to its end, so that its length and CRC trailer are checked: a cut archive fails here
    even when the tar headers read so far look fine. ``git archive`` (which GitHub runs) puts
    the commit id in a pax global header and the commit time on every member.
    """
    top: str | None = None
    count = 0
    seen: set[str] = set()
    skipped: list[str] = []
    commit_time: float | None = None
    try:
        with gzip.open(archive, "rb") as stream:
            # Stream mode reads the tar once, front to back, as it comes out of gzip.
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    head, _, rest = member.name.strip("/").partition("/")
                    if top is None:
                        top = head
                    elif head != top:
                        raise SyncError(
                            f"{url}: not a GitHub archive: {member.name!r} lies outside the"
                            f" top folder {top!r}"
                        )
                    if commit_time is None:
                        commit_time = float(member.mtime)
                    if not rest:
                        continue
                    first = rest.split("/", 1)[0]
                    wanted = first in folders or (rest in files and member.isfile())
                    if not wanted:
                        continue
                    seen.add(first)
                    if not (member.isfile() or member.isdir()):
                        skipped.append(rest)
                        continue
                    try:
                        tar.extract(member.replace(name=rest, deep=False), dest, filter="data")
                    except tarfile.FilterError as exc:
                        skipped.append(f"{rest} ({exc})")
                        continue
                    count += member.isfile()
                commit = tar.pax_headers.get("comment")
            # Drain what follows the end-of-archive blocks: gzip checks CRC and size at EOF.
            while stream.read(1 << 16):
                pass
    except SyncError:
        raise
    except (EOFError, gzip.BadGzipFile, zlib.error, tarfile.TarError) as exc:
        raise SyncError(f"{url}: truncated or corrupt archive: {exc}") from None
    except OSError as exc:
        raise SyncError(f"{url}: cannot unpack into {dest}: {exc.strerror or exc}") from None
    if top is None:
        raise SyncError(f"{url}: the archive is empty")
    wanted_names = [*folders, *files]
    missing = tuple(name for name in wanted_names if name not in seen)
    if len(missing) == len(wanted_names):
        raise SyncError(
            f"{url}: the archive has none of the configured folders ({', '.join(folders)})"
        )
    return Unpacked(
        files=count,
        commit=commit if isinstance(commit, str) and _COMMIT.match(commit) else None,
        commit_date=_iso(commit_time),
        missing=missing,
        skipped=tuple(skipped),
    )


def _iso(timestamp: float | None) -> str | None:
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def check_stix_bundle(path: Path, url: str) -> str | None:
    """Check that a file is a STIX bundle; its ATT&CK version (x-mitre-collection) if stated."""
    try:
        with path.open("rb") as handle:
            data: Any = json.load(handle)
    except json.JSONDecodeError as exc:
        raise SyncError(
            f"{url}: not valid JSON (truncated?): {exc.msg} at line {exc.lineno},"
            f" column {exc.colno}"
        ) from None
    except UnicodeDecodeError as exc:
        raise SyncError(f"{url}: not UTF-8 JSON: {exc.reason}") from None
    if not isinstance(data, dict) or data.get("type") != "bundle":
        raise SyncError(f'{url}: not a STIX bundle (no top-level "type": "bundle")')
    objects = data.get("objects")
    if not isinstance(objects, list) or not objects:
        raise SyncError(f"{url}: the STIX bundle has no objects")
    for obj in objects:
        if isinstance(obj, dict) and obj.get("type") == "x-mitre-collection":
            version = obj.get("x_mitre_version")
            return str(version) if version else None
    return None
