"""The pinned upstream sources (rules/sources.yaml): reading them and moving a pin."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from covgraph.errors import ConfigError

Kind = Literal["tarball", "file"]
KINDS: tuple[Kind, ...] = ("tarball", "file")

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# A ref goes into a URL path and a YAML scalar: git ref characters only, no whitespace or quotes.
_REF = re.compile(r"^[\w][\w./-]*$")


def default_sources_file() -> Path:
    """The repository's rules/sources.yaml (the default pins), or $COVGRAPH_SOURCES."""
    configured = os.environ.get("COVGRAPH_SOURCES")
    if configured:
        return Path(configured).expanduser()
    return Path(__file__).resolve().parent.parent / "rules" / "sources.yaml"


@dataclass(frozen=True, slots=True)
class Source:
    """One pinned upstream source."""

    name: str
    repository: str
    kind: Kind
    url: str
    ref: str
    target: str
    sha256: str | None = None
    licence: str | None = None
    folders: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    def upstream_url(self, ref: str | None = None) -> str:
        """The archive URL of a ref (the pinned one by default)."""
        return self.url.format(repo=self.repository, ref=ref or self.ref)


def check_ref(ref: str) -> str:
    """The ref itself when it is a plausible git ref; ConfigError otherwise."""
    if not _REF.match(ref) or ".." in ref:
        raise ConfigError(f"not a valid git ref: {ref!r}")
    return ref


def rebase_url(url: str, base_url: str | None) -> str:
    """The URL with its scheme and host replaced by ``base_url`` (which may carry a path)."""
    if not base_url:
        return url
    parts = urlsplit(url)
    rest = parts.path + (f"?{parts.query}" if parts.query else "")
    return base_url.rstrip("/") + rest


def load_sources(path: Path) -> list[Source]:
    """Every source of a sources file, checked; ConfigError naming the file when it is wrong."""
    import yaml

    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the sources file ({exc.strerror}); name one with --sources"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    entries = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: expected a non-empty list under 'sources'")
    sources = [_source(path, i, entry) for i, entry in enumerate(entries)]
    names = [s.name for s in sources]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{path}: duplicate source names: {', '.join(duplicates)}")
    return sources


def _source(path: Path, index: int, entry: object) -> Source:
    where = f"{path}: sources[{index}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: expected a mapping")
    where = f"{path}: source {entry.get('name', index)!r}"

    def text(key: str, required: bool = True) -> str | None:
        value = entry.get(key)
        if value is None and not required:
            return None
        if isinstance(value, int | float):
            # YAML reads an all-digit sum or short commit as a number, losing leading zeros.
            raise ConfigError(f"{where}: '{key}' reads as a number: write it in quotes")
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: '{key}' must be a non-empty string")
        return value.strip()

    def names(key: str) -> tuple[str, ...]:
        value = entry.get(key) or []
        if not isinstance(value, list) or not all(_plain_name(v) for v in value):
            raise ConfigError(f"{where}: '{key}' must be a list of top-level names")
        return tuple(value)

    name = text("name") or ""
    if not _NAME.match(name):
        raise ConfigError(f"{where}: name must be lower-case letters, digits, '-' or '_'")
    kind = text("kind")
    if kind not in KINDS:
        raise ConfigError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    url = text("url") or ""
    if "{ref}" not in url:
        raise ConfigError(f"{where}: url must contain {{ref}}")
    try:
        ref = check_ref(text("ref") or "")
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    sha256 = text("sha256", required=False)
    if sha256 is not None and not _SHA256.match(sha256.lower()):
        raise ConfigError(f"{where}: sha256 must be 64 hex digits or null")
    target = text("target") or ""
    if target.startswith(("/", ".")) or ".." in Path(target).parts:
        raise ConfigError(f"{where}: target must be a relative path inside the cache")
    folders, files = names("folders"), names("files")
    if kind == "tarball" and not folders:
        raise ConfigError(f"{where}: a tarball source needs 'folders' to unpack")
    return Source(
        name=name,
        repository=text("repository") or "",
        kind=kind,
        url=url,
        ref=ref,
        target=target,
        sha256=sha256.lower() if sha256 else None,
        licence=text("licence", required=False),
        folders=folders,
        files=files,
    )


def _plain_name(value: object) -> bool:
    return isinstance(value, str) and bool(value) and "/" not in value and value not in (".", "..")


def set_pin(path: Path, name: str, ref: str, sha256: str | None) -> None:
    """Rewrite the ``ref`` and ``sha256`` of one source in place, keeping comments and layout.

    A line edit rather than a YAML round trip: PyYAML drops comments, and the file is meant to
    be read and diffed by people. The result is parsed again before it replaces the file.
    """
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = _item_start(lines, name)
    if start is None:
        raise ConfigError(f"{path}: no source named {name!r} to move")
    indent = len(lines[start]) - len(lines[start].lstrip(" -"))
    done = {"ref": False, "sha256": False}
    values = {"ref": _scalar(ref), "sha256": _scalar(sha256) if sha256 else "null"}
    for i in range(start, len(lines)):
        if i > start and _is_item(lines[i]):
            break
        match = re.match(rf"^( {{{indent}}})(ref|sha256):(\s*)(.*?)(\r?\n)?$", lines[i])
        if match:
            key = match.group(2)
            lines[i] = f"{match.group(1)}{key}: {values[key]}{match.group(5) or ''}"
            done[key] = True
    if not done["ref"]:
        raise ConfigError(f"{path}: source {name!r} has no 'ref:' line at its own indentation")
    if not done["sha256"]:
        # The ref line exists: put the checksum right after it.
        for i in range(start, len(lines)):
            if re.match(rf"^ {{{indent}}}ref:", lines[i]):
                lines.insert(i + 1, f"{' ' * indent}sha256: {values['sha256']}\n")
                break
    text = "".join(lines)
    _write_checked(path, text, name, ref, sha256)


def _scalar(value: str) -> str:
    """The value as YAML reads it back as the same string: quoted only when it must be."""
    import yaml

    return value if yaml.safe_load(value) == value else json.dumps(value)


def _is_item(line: str) -> bool:
    return bool(re.match(r"^\s*-\s+\w", line))


def _item_start(lines: list[str], name: str) -> int | None:
    pattern = re.compile(rf"^\s*-\s+name:\s*['\"]?{re.escape(name)}['\"]?\s*(#.*)?$")
    for i, line in enumerate(lines):
        if pattern.match(line.rstrip("\r\n")):
            return i
    return None


def _write_checked(path: Path, text: str, name: str, ref: str, sha256: str | None) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        moved = {s.name: s for s in load_sources(Path(tmp))}[name]
        if moved.ref != ref or moved.sha256 != sha256:
            raise ConfigError(f"{path}: rewriting the pin of {name!r} did not take; left as it was")
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
