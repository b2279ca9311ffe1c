"""Splunk analytic stories (``splunk/stories/*.yml``) as Story records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from covgraph.errors import Location, ParseError
from loaders.records import Story


@dataclass(slots=True)
class StoryCatalog:
    """The stories read, and the files that could not be read."""

    stories: list[Story] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)


def story_from_dict(data: Mapping[str, Any], path: str) -> Story:
    """A Story from a parsed stories/*.yml mapping."""
    story_id, name = data.get("id"), data.get("name")
    if not isinstance(story_id, str) or not story_id.strip():
        raise ParseError("story has no id", Location(path, 1))
    if not isinstance(name, str) or not name.strip():
        raise ParseError("story has no name", Location(path, 1))
    description = data.get("description")
    return Story(
        id=story_id.strip(),
        name=name.strip(),
        vendor="splunk",
        description=description.strip() if isinstance(description, str) else None,
        path=path,
    )


def load_stories(folder: Path, relative_to: Path | None = None) -> StoryCatalog:
    """Every story in a folder of YAML files; unreadable files are kept as errors."""
    catalog = StoryCatalog()
    for path in sorted(folder.rglob("*.yml")):
        shown = path.relative_to(relative_to).as_posix() if relative_to else str(path)
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
            if not isinstance(data, Mapping):
                raise ParseError("story file is not a mapping", Location(shown, 1))
            catalog.stories.append(story_from_dict(data, shown))
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark else None
            catalog.errors.append(ParseError(f"invalid YAML: {exc.problem}", Location(shown, line)))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            catalog.errors.append(ParseError(f"unreadable story: {exc}", Location(shown)))
        except ParseError as exc:
            catalog.errors.append(exc)
    return catalog
