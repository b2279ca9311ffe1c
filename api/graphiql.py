"""GraphiQL without the internet: strawberry's GraphiQL page with its assets served locally.

Strawberry's page loads React, GraphiQL and its explorer plugin from unpkg.com, each pinned to a
version and checked by a `integrity` hash. `python -m api.graphiql` (run by `make setup`) fetches
exactly those files with `npm pack` into a cache outside the repository
(COVGRAPH_GRAPHIQL_ASSETS, default `$COVGRAPH_CACHE/graphiql-<version>`, i.e.
`~/.cache/covgraph/graphiql-3.8.3`) and checks them against the page's hashes. When every file
is there, /graphql serves the page with its URLs pointing at /static/graphiql/ (the hashes kept,
so the browser checks the files too); otherwise it serves strawberry's page as is (CDN).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from graph.settings import cache_root

CDN = "https://unpkg.com/"
#: Where the page's assets are served from when they are in the cache.
LOCAL_PREFIX = "/static/graphiql/"
GRAPHIQL_VERSION = "3.8.3"

_ASSET = re.compile(r'(?:src|href)="' + re.escape(CDN) + r'([^"]+)"\s+integrity="([^"]+)"')
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}


@dataclass(frozen=True, slots=True)
class Asset:
    """One file the page loads: its path under the CDN (`name@version/file`) and its hash."""

    path: str
    integrity: str

    @property
    def package(self) -> str:
        """The npm spec, `name@version` (scoped names keep their `@scope/`)."""
        parts = self.path.split("/")
        return "/".join(parts[:2] if self.path.startswith("@") else parts[:1])

    @property
    def file(self) -> str:
        """The file's path inside the package."""
        return self.path[len(self.package) + 1 :]


@cache
def strawberry_page() -> str:
    """Strawberry's GraphiQL page, as it ships (assets on unpkg.com)."""
    from strawberry.http.ides import get_graphql_ide_html

    return get_graphql_ide_html(graphql_ide="graphiql")


def assets(page: str | None = None) -> tuple[Asset, ...]:
    """The files the page loads from the CDN, with their integrity hashes."""
    return tuple(Asset(path, digest) for path, digest in _ASSET.findall(page or strawberry_page()))


def assets_dir() -> Path:
    """The asset cache: COVGRAPH_GRAPHIQL_ASSETS, else `$COVGRAPH_CACHE/graphiql-<version>`."""
    explicit = os.environ.get("COVGRAPH_GRAPHIQL_ASSETS")
    if explicit:
        return Path(explicit).expanduser()
    return cache_root() / f"graphiql-{GRAPHIQL_VERSION}"


def local_assets_present(root: Path | None = None) -> bool:
    """Whether every file of the page is in the cache."""
    root = root or assets_dir()
    return all((root / a.path).is_file() for a in assets())


def ide_page() -> str:
    """The page /graphql shows a browser: local assets when present, else strawberry's."""
    page = strawberry_page()
    if local_assets_present():
        return page.replace(CDN, LOCAL_PREFIX)
    return page


async def asset(request: Request) -> Response:
    """GET /static/graphiql/{path}: one of the page's files from the cache (others are 404)."""
    path = request.path_params["path"]
    known = {a.path for a in assets()}
    target = assets_dir() / path
    if path not in known or not target.is_file():
        return PlainTextResponse("not found\n", status_code=404)
    return FileResponse(
        target,
        media_type=_MEDIA_TYPES.get(target.suffix, "application/octet-stream"),
        headers={"Cache-Control": "public, max-age=86400"},
    )


def sri(data: bytes, integrity: str) -> bool:
    """Whether data matches a subresource-integrity value (`sha384-<base64>`)."""
    algorithm, _, expected = integrity.partition("-")
    digest = hashlib.new(algorithm, data).digest()
    return base64.b64encode(digest).decode("ascii") == expected


def _npm_pack(spec: str, into: Path) -> Path:
    """The package tarball of `spec`, fetched by npm into `into`."""
    done = subprocess.run(
        ["npm", "pack", "--silent", "--pack-destination", str(into), spec],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    name = done.stdout.strip().splitlines()[-1]
    return into / name


def fetch(root: Path) -> None:
    """Fetch the page's assets with npm into `root`, verified; the cache is replaced only whole."""
    wanted = assets()
    with tempfile.TemporaryDirectory(prefix="graphiql-") as tmp:
        work = Path(tmp)
        stage = work / "stage"
        for package in sorted({a.package for a in wanted}):
            tarball = _npm_pack(package, work)
            with tarfile.open(tarball) as archive:
                members = [m for m in archive.getmembers() if m.name.startswith("package/")]
                for member in members:
                    member.name = member.name.removeprefix("package/")
                archive.extractall(stage / package, members=members, filter="data")
        for item in wanted:
            data = (stage / item.path).read_bytes()
            if not sri(data, item.integrity):
                raise RuntimeError(f"{item.path} from npm does not match the page's hash")
        root.parent.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(prefix=root.name + ".", dir=root.parent))
        staged.chmod(0o755)  # mkdtemp makes it private; the server may run as another user
        for item in wanted:  # only the files the page loads
            (staged / item.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(stage / item.path, staged / item.path)
        if root.exists():
            shutil.rmtree(root)
        staged.rename(root)


def main() -> int:
    """`python -m api.graphiql`: fill the asset cache; a missing npm or network only warns."""
    root = assets_dir()
    if local_assets_present(root):
        print(f"GraphiQL assets present in {root}")
        return 0
    fallback = "GraphiQL at /graphql will load its assets from unpkg.com"
    if shutil.which("npm") is None:
        print(f"npm not found (apt-get install npm): {fallback}", file=sys.stderr)
        return 0
    try:
        fetch(root)
    except (OSError, subprocess.SubprocessError, tarfile.TarError, RuntimeError) as exc:
        detail = getattr(exc, "stderr", None) or exc
        print(f"fetching GraphiQL's assets failed ({detail}): {fallback}", file=sys.stderr)
        return 0
    print(f"GraphiQL assets fetched into {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
