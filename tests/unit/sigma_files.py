"""Writing and reading small Sigma files in the Sigma loader's tests."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from loaders.records import Problem
from loaders.sigma import FileRead, read_sigma_file


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text), encoding="utf-8")
    return path


def read(tmp_path: Path, text: str, relative: str = "rules/windows/test.yml") -> FileRead:
    return read_sigma_file(write(tmp_path, relative, text), tmp_path)


def only(problems: list[Problem], kind: str) -> Problem:
    found = [p for p in problems if p.kind == kind]
    assert len(found) == 1, problems
    return found[0]
