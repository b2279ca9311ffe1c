"""The server's jars (resolved by Maven from pom.xml into a cache) and the Java that runs them."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

from covgraph.errors import ServerError
from graph.settings import BROWSER_VERSION, LocalServerSettings

MIN_JAVA = 17


def pom_path() -> Path:
    """The pom that lists the server's artifacts."""
    return Path(str(resources.files("graph.launcher").joinpath("pom.xml")))


def is_installed(settings: LocalServerSettings) -> bool:
    """True when the jars of this version are complete in the cache."""
    return (settings.lib_dir / ".complete").exists()


def install(settings: LocalServerSettings, *, quiet: bool = True) -> Path:
    """Resolve the server jars with Maven into the cache, once; returns the lib directory."""
    if is_installed(settings):
        return settings.lib_dir
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServerError("Maven (mvn) is not on PATH; it is needed once to fetch the Neo4j jars")
    settings.lib_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="lib-", dir=settings.lib_dir.parent))
    command = [
        mvn,
        "-B",
        *(["-q"] if quiet else []),
        "-f",
        str(pom_path()),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        f"-Dneo4j.version={settings.version}",
        f"-Dneo4j.browser.version={BROWSER_VERSION}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
        raise ServerError(f"mvn could not resolve Neo4j {settings.version}:\n{tail}")
    (staging / ".complete").write_text(settings.version + "\n")
    # Rename into place so that a killed install never leaves a half-filled lib directory.
    shutil.rmtree(settings.lib_dir, ignore_errors=True)
    staging.rename(settings.lib_dir)
    return settings.lib_dir


def _java_version(java: str) -> int | None:
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    for raw in result.stderr.split():
        token = raw.strip('"')
        if token[:1].isdigit():
            major = token.split(".")[0]
            return int(major) if major.isdigit() else None
    return None


def find_java() -> str:
    """The java binary: JAVA_HOME's when set, else the one on PATH; must be 17 or newer."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise ServerError("no java found: install a JDK 17+ or set JAVA_HOME")
    version = _java_version(java)
    if version is None or version < MIN_JAVA:
        raise ServerError(f"{java} is Java {version}; Neo4j 5.26 needs Java {MIN_JAVA} or newer")
    return java
