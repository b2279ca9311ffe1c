"""Finding and reading a source's rule files, shared by the three rule loaders.

The walk reports what ``Path.rglob`` passes over in silence (a folder it cannot list, a
symlinked folder), and the reading helpers turn what is wrong with one file into a Problem
naming it, so one broken file never stops a load.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

from covgraph.errors import Location
from loaders.records import Problem


def rule_files(
    base: Path, root: Path, suffixes: Collection[str]
) -> tuple[list[Path], list[Problem]]:
    """Files under ``base`` whose suffix is one of ``suffixes``, sorted; and what was passed over.

    Symlinked folders are not followed (a link back up the tree would read rules twice or
    forever) but each is reported; a folder that cannot be listed is reported with its error.
    """
    problems: list[Problem] = []

    def cannot_list(error: OSError) -> None:
        where = _shown(Path(error.filename) if error.filename else base, root)
        reason = f"cannot read the folder: {error.strerror or error}; its rules are not loaded"
        problems.append(Problem(Location(where), reason, "skipped-folder"))

    found: list[Path] = []
    for folder, folders, names in os.walk(base, onerror=cannot_list):
        here = Path(folder)
        for name in sorted(folders):
            if (here / name).is_symlink():
                reason = "a symlinked folder is not followed; its rules are not loaded"
                problems.append(
                    Problem(
                        Location(_shown(here / name, root)), reason, "skipped-folder", "warning"
                    )
                )
        found.extend(here / name for name in names if Path(name).suffix in suffixes)
    return sorted(found), problems


def read_rule_text(path: Path, shown: str) -> tuple[str, list[Problem]]:
    """The text of a rule file, a UTF-8 BOM dropped; raises OSError when it cannot be read.

    A byte that is not UTF-8 (a Latin-1 "é" in an author's name) costs that character only:
    it is read as U+FFFD and reported with its line, rather than the whole rule being lost.
    """
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        start = error.start
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        reason = (
            f"byte 0x{data[start]:02x} is not UTF-8; every such byte is read as U+FFFD "
            "(is the file in another encoding?)"
        )
        problem = Problem(Location(shown, line, column), reason, "invalid-encoding", "warning")
        return data.decode("utf-8-sig", errors="replace"), [problem]


def unexpected(shown: str, error: BaseException) -> Problem:
    """The Problem of an exception no loader expected while reading one file: it is skipped."""
    reason = f"the file could not be read ({type(error).__name__}: {error}); it is skipped"
    return Problem(Location(shown), reason, "internal-error")


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
