"""The exceptions covgraph raises, under one root."""

from __future__ import annotations

from dataclasses import dataclass


class CovgraphError(Exception):
    """Root of every error covgraph raises on purpose."""


class ConfigError(CovgraphError):
    """A setting from the environment or the command line is missing or wrong."""


class ServerError(CovgraphError):
    """The local Neo4j server could not be installed, started or stopped."""


class CatalogUnavailable(CovgraphError):
    """The graph database cannot be reached."""


class SyncError(CovgraphError):
    """An upstream archive could not be downloaded, verified or unpacked."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a source file something was found: path, and line and column when known."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = self.path
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


class ParseError(CovgraphError):
    """A file or a query could not be read; the message starts with where."""

    def __init__(self, reason: str, location: Location | None = None) -> None:
        self.reason = reason
        self.location = location
        super().__init__(f"{location}: {reason}" if location else reason)
