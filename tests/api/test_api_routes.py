"""The HTTP routes beside /graphql: readiness, the Navigator layer file, GraphiQL's own assets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_process import free_port
from http_api import data, gql, running_api
from navigator_spec import layer_problems
from small_graph import write_small_graph

from api.errors import UNAVAILABLE_MESSAGE
from api.graphiql import CDN, LOCAL_PREFIX, assets, sri


def test_readiness_while_neo4j_is_unreachable_names_no_internals() -> None:
    dead = f"bolt://127.0.0.1:{free_port()}"
    with running_api({"NEO4J_URI": dead}) as url:
        health = httpx.get(f"{url}/healthz", timeout=60)
        status, body = gql(url, "{ tactics { id } }")
    assert health.status_code == 503
    assert health.headers["retry-after"] == "5"
    payload = health.json()
    assert payload["status"] == "unavailable"
    assert payload["code"] == "CATALOG_UNAVAILABLE"
    # The same fixed message as GraphQL's error, and nothing of the driver's text.
    assert (status, body["errors"][0]["message"]) == (503, UNAVAILABLE_MESSAGE)
    assert payload["message"] == UNAVAILABLE_MESSAGE
    for internal in ("bolt://", "127.0.0.1", "Errno", "Couldn't connect", "ServiceUnavailable"):
        assert internal not in health.text


@pytest.mark.neo4j
def test_the_navigator_layer_as_a_file(clean_graph: Any, api_url: str) -> None:
    write_small_graph(clean_graph)
    response = httpx.get(
        f"{api_url}/navigator-layer.json",
        params={"platform": "Windows", "vendors": "sigma,ELASTIC"},
        timeout=60,
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"] == (
        'attachment; filename="covgraph-layer-windows-sigma-elastic.json"'
    )
    layer = response.json()
    assert layer_problems(layer) == []
    # The same layer as the GraphQL field.
    field = data(api_url, '{ navigatorLayer(platform: "Windows", vendors: [SIGMA, ELASTIC]) }')[
        "navigatorLayer"
    ]
    assert layer == field
    assert {t["techniqueID"]: t["score"] for t in layer["techniques"]} == {
        "T1047": 2,
        "T1546.003": 3,
        "T1546.008": 1,
    }
    everything = httpx.get(f"{api_url}/navigator-layer.json", timeout=60)
    assert 'filename="covgraph-layer.json"' in everything.headers["content-disposition"]
    assert "filters" not in everything.json()
    assert len(everything.json()["techniques"]) > len(layer["techniques"])
    links = httpx.get(f"{api_url}/navigator-layer.json?linksPerTechnique=1", timeout=60).json()
    assert max(len(t["links"]) for t in links["techniques"]) == 1
    # Elastic's gaps against Sigma: what Sigma covers on Windows and Elastic does not.
    gaps = httpx.get(
        f"{api_url}/navigator-layer.json",
        params={"platform": "Windows", "vendors": "SIGMA", "gapsOf": "elastic"},
        timeout=60,
    )
    assert gaps.status_code == 200
    assert gaps.headers["content-disposition"] == (
        'attachment; filename="covgraph-layer-windows-sigma-gaps-of-elastic.json"'
    )
    assert layer_problems(gaps.json()) == []
    assert gaps.json()["name"] == "covgraph gaps of Elastic"
    assert [(t["techniqueID"], t["score"]) for t in gaps.json()["techniques"]] == [("T1546.008", 1)]


@pytest.mark.neo4j
def test_the_navigator_layer_file_with_bad_parameters(api_url: str) -> None:
    bad_vendor = httpx.get(f"{api_url}/navigator-layer.json?vendors=SIGMA,QRADAR", timeout=60)
    assert bad_vendor.status_code == 400
    error = bad_vendor.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "QRADAR" in error["message"]
    # The same bad variable over /graphql is the client's error too, not a masked one.
    _, body = gql(
        api_url, "query($v: [Vendor!]) { navigatorLayer(vendors: $v) }", {"v": ["QRADAR"]}
    )
    assert body["errors"][0]["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    for value in ("many", "-1"):
        bad = httpx.get(f"{api_url}/navigator-layer.json?linksPerTechnique={value}", timeout=60)
        assert bad.status_code == 400
        assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT"
    # A platform Navigator does not know is refused, naming the ones it does; any case is fine.
    nope = httpx.get(f"{api_url}/navigator-layer.json?platform=Nope", timeout=60)
    assert nope.status_code == 400
    error = nope.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_ARGUMENT"
    assert "'Nope'" in error["message"]
    assert "Windows" in error["message"]
    lower = httpx.get(f"{api_url}/navigator-layer.json?platform=windows", timeout=60)
    assert lower.status_code == 200
    assert lower.json()["filters"] == {"platforms": ["Windows"]}
    # Links past the cap are lowered to it, within the cost budget, not refused.
    many = httpx.get(f"{api_url}/navigator-layer.json?linksPerTechnique=200", timeout=60)
    assert many.status_code == 200


def _asset_urls(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


def test_graphiql_falls_back_to_the_cdn_without_local_assets(tmp_path: Any) -> None:
    env = {"COVGRAPH_GRAPHIQL_ASSETS": str(tmp_path / "none"), "NEO4J_URI": "bolt://127.0.0.1:1"}
    with running_api(env) as url:
        page = httpx.get(f"{url}/graphql", headers={"accept": "text/html"}, timeout=30)
        missing = httpx.get(f"{url}{LOCAL_PREFIX}{assets()[0].path}", timeout=30)
    assert page.status_code == 200
    urls = [u for u in _asset_urls(page.text) if not u.startswith("data:")]
    assert urls
    assert all(u.startswith(CDN) for u in urls)
    assert missing.status_code == 404


def test_graphiql_serves_its_assets_locally(graphiql_assets: Path) -> None:
    with running_api({"COVGRAPH_GRAPHIQL_ASSETS": str(graphiql_assets)}) as url:
        page = httpx.get(f"{url}/graphql", headers={"accept": "text/html"}, timeout=30)
        assert page.status_code == 200
        assert "unpkg.com" not in page.text
        urls = [u for u in _asset_urls(page.text) if not u.startswith("data:")]
        expected = {LOCAL_PREFIX + a.path: a for a in assets()}
        assert sorted(urls) == sorted(expected)
        for path, asset in expected.items():
            served = httpx.get(f"{url}{path}", timeout=30)
            assert served.status_code == 200, path
            kind = "text/css" if path.endswith(".css") else "text/javascript"
            assert served.headers["content-type"].startswith(kind)
            # The page keeps the integrity hashes: the browser checks the files as unpkg's.
            assert f'integrity="{asset.integrity}"' in page.text
            assert sri(served.content, asset.integrity), path
        # Only the page's files are served from the cache.
        for other in ("react@18.2.0/package.json", "../graphiql-3.8.3/x", "nothing.js"):
            assert httpx.get(f"{url}{LOCAL_PREFIX}{other}", timeout=30).status_code == 404
