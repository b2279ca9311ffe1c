"""The Navigator layer's description names the vendors its scores count."""

from __future__ import annotations

from api.navigator import build_layer


def _description(vendors: list[str] | None) -> str:
    layer = build_layer(
        [], {}, attack_version="18", platform=None, vendors=vendors, links_per_technique=1
    )
    description: str = layer["description"]
    return description


def test_an_empty_vendor_list_is_no_vendor_not_all() -> None:
    assert "(all vendors)" in _description(None)
    assert "(no vendor)" in _description([])
    assert "(sigma, elastic)" in _description(["sigma", "elastic"])
