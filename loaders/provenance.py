"""Where a corpus source came from: the sync provenance file, else the corpus MANIFEST.md."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from covgraph.errors import Location, ParseError
from loaders.records import SourceInfo

#: Folder of the corpus (cache) holding one ``<name>.json`` per synced source.
PROVENANCE_DIR = ".provenance"
MANIFEST = "MANIFEST.md"

#: Where each source lies in the corpus layout, relative to the corpus root.
DEFAULT_TARGETS = {
    "sigma": "sigma",
    "elastic": "elastic",
    "splunk": "splunk",
    "attack": "attack/enterprise-attack.json",
}

_REPOSITORY = re.compile(r"^\s*([\w.-]+/[\w.-]+)")
_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")
_VERSION = re.compile(r"\bv(\d+(?:\.\d+)*)\b")
_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}")


def provenance_path(corpus_root: Path, name: str) -> Path:
    """The provenance file `covgraph sync` writes for one source."""
    return corpus_root / PROVENANCE_DIR / f"{name}.json"


def source_info(corpus_root: Path, name: str) -> SourceInfo:
    """Provenance of one source of a corpus, for its Source node.

    From the sync provenance file when present; else from the corpus' MANIFEST.md table
    (repository, commit, commit date); else just the name and where the source lies. ``root`` is
    the source's folder (or file, for ATT&CK) in the corpus.
    """
    path = provenance_path(corpus_root, name)
    if path.is_file():
        return _from_provenance(corpus_root, name, path)
    manifest = corpus_root / MANIFEST
    if manifest.is_file():
        info = _from_manifest(corpus_root, name, manifest)
        if info is not None:
            return info
    return SourceInfo(name=name, root=str(corpus_root / DEFAULT_TARGETS.get(name, name)))


def _from_provenance(corpus_root: Path, name: str, path: Path) -> SourceInfo:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"provenance is not valid JSON: {exc.msg}", Location(str(path), exc.lineno, exc.colno)
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParseError(f"provenance cannot be read: {exc}", Location(str(path))) from None
    if not isinstance(data, dict):
        raise ParseError("provenance is not a JSON object", Location(str(path)))
    target = _text(data.get("target")) or DEFAULT_TARGETS.get(name, name)
    return SourceInfo(
        name=name,
        repository=_text(data.get("repository")),
        ref=_text(data.get("ref")),
        commit=_text(data.get("commit")),
        version=_text(data.get("version")),
        root=str(corpus_root / target),
        fetched_at=_text(data.get("fetched_at")),
        commit_date=_text(data.get("commit_date")),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _from_manifest(corpus_root: Path, name: str, manifest: Path) -> SourceInfo | None:
    """The row of the manifest table whose folder is the source's; None when there is none."""
    header: list[str] | None = None
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if not line.lstrip().startswith("|"):
            header = None
            continue
        cells = _cells(line)
        if header is None:
            header = [cell.lower() for cell in cells]
            continue
        if _SEPARATOR.match(line.strip()):
            continue
        row = dict(zip(header, cells, strict=False))
        folder = _column(row, "folder").strip("`").rstrip("/")
        if folder.split("/", 1)[0] != name:
            continue
        repository_cell = _column(row, "repository")
        repository = _REPOSITORY.match(repository_cell)
        commit = _column(row, "commit", exclude="date").lower()
        version = _VERSION.search(repository_cell)
        return SourceInfo(
            name=name,
            repository=repository.group(1) if repository else None,
            ref=commit if _COMMIT.match(commit) else None,
            commit=commit if _COMMIT.match(commit) else None,
            version=version.group(1) if version else None,
            root=str(corpus_root / folder),
            commit_date=_column(row, "date") or None,
        )
    return None


def _cells(line: str) -> list[str]:
    text = line.strip()
    text = text.removeprefix("|").removesuffix("|")
    return [cell.strip() for cell in text.split("|")]


def _column(row: dict[str, str], word: str, exclude: str | None = None) -> str:
    """The cell of the first column whose header contains ``word`` (and not ``exclude``)."""
    for header, cell in row.items():
        if word in header and (exclude is None or exclude not in header):
            return cell
    return ""
