"""A local Neo4j Community server, from Maven Central jars, run as a background process.

No Docker engine is needed: Maven resolves the server jars (see pom.xml beside this file) into a
cache outside the repository, and the server runs from them with a persistent home directory
(data, logs, the pid file) so that data survives a stop and a start. `install` holds the jars
and Java, `process` the pid file, lock, ports and logs, `server` start, stop and status.
"""

from __future__ import annotations

from graph.launcher.install import MIN_JAVA, find_java, install, is_installed, pom_path
from graph.launcher.process import MAIN_CLASS
from graph.launcher.server import JVM_OPTIONS, RunInfo, ServerStatus, start, status, stop

__all__ = [
    "JVM_OPTIONS",
    "MAIN_CLASS",
    "MIN_JAVA",
    "RunInfo",
    "ServerStatus",
    "find_java",
    "install",
    "is_installed",
    "pom_path",
    "start",
    "status",
    "stop",
]
