"""Splunk macro expansion on hand-written macros, and on the corpus' macros folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from covgraph.errors import ParseError
from loaders.splunk_macros import (
    Macro,
    MacroCatalog,
    expand,
    load_macros,
    macro_from_dict,
    split_arguments,
)


def catalog(*macros: Macro) -> MacroCatalog:
    return MacroCatalog(macros={m.name: m for m in macros})


WMIC = Macro(
    "process_wmic",
    "(Processes.process_name=wmic.exe OR Processes.original_file_name=wmic.exe)",
)
CTIME = Macro("security_content_ctime", "convert ctime($field$)", ("field",))


def test_a_macro_without_arguments_is_replaced_by_its_definition() -> None:
    result = expand("| tstats count where `process_wmic` by x", catalog(WMIC))
    assert "(Processes.process_name=wmic.exe OR Processes.original_file_name=wmic.exe)" in (
        result.text
    )
    assert "`" not in result.text
    assert result.unknown == []


def test_arguments_are_substituted_for_their_placeholders() -> None:
    pair = Macro("pair", "$a$=$b$", ("a", "b"))
    result = expand(
        'x | `security_content_ctime(firstTime)` | search `pair(user, "bob")`', catalog(CTIME, pair)
    )
    assert "convert ctime(firstTime)" in result.text
    assert "user=bob" in result.text


def test_macros_calling_macros_are_expanded_recursively() -> None:
    outer = Macro("outer", "`process_wmic` AND x=1")
    result = expand("`outer`", catalog(outer, WMIC))
    assert "Processes.process_name=wmic.exe" in result.text
    assert "x=1" in result.text


def test_undefined_and_empty_filter_macros_let_everything_through() -> None:
    empty = Macro("defined_filter", "search *")
    result = expand("a=1 | `defined_filter` | `undefined_filter`", catalog(empty))
    assert result.text.split() == ["a=1", "|", "|"]
    assert result.unknown == []


def test_a_non_empty_filter_macro_is_expanded() -> None:
    custom = Macro("x_filter", "search user!=admin")
    assert "search user!=admin" in expand("a=1 | `x_filter`", catalog(custom)).text


def test_an_unknown_macro_is_reported_with_its_position_and_dropped() -> None:
    search = "a=1 | `mystery(x)` | search b=2"
    result = expand(search, catalog())
    assert [(u.name, u.position) for u in result.unknown] == [("mystery", search.index("`"))]
    assert "mystery" not in result.text
    assert result.text == "a=1 |  ( )  | search b=2"


def test_drop_dm_object_name_comes_from_the_cim_app() -> None:
    result = expand('`drop_dm_object_name("Processes")`', catalog())
    assert result.text.strip() == "rename Processes.* AS *"


def test_comments_are_dropped_before_expansion() -> None:
    result = expand("a=1 ```a comment with `process_wmic` in it``` | search b=2", catalog(WMIC))
    assert "comment" not in result.text
    assert "wmic" not in result.text


def test_a_backtick_inside_a_string_is_no_call() -> None:
    result = expand('eval p=replace(process, "`", "") | `process_wmic`', catalog(WMIC))
    assert 'replace(process, "`", "")' in result.text
    assert "wmic.exe" in result.text


def test_original_position_maps_back_through_expansions() -> None:
    search = "`process_wmic` | search bad("
    result = expand(search, catalog(WMIC))
    after = result.text.index("bad(")
    assert result.original_position(after) == search.index("bad(")
    inside = result.text.index("wmic.exe")
    assert result.original_position(inside) == 0


def test_split_arguments_respects_quotes_and_parentheses() -> None:
    assert split_arguments('a, "b,c", f(x, y)') == ["a", "b,c", "f(x, y)"]


def test_macro_from_dict_needs_a_name() -> None:
    with pytest.raises(ParseError, match="no name"):
        macro_from_dict({"definition": "x=1"}, "macros/x.yml")


def test_load_macros_keeps_going_past_a_broken_file(tmp_path: Path) -> None:
    (tmp_path / "good.yml").write_text("name: good\ndefinition: x=1\n")
    (tmp_path / "broken.yml").write_text("name: [unclosed\n")
    loaded = load_macros(tmp_path)
    assert list(loaded.macros) == ["good"]
    (error,) = loaded.errors
    assert error.location is not None
    assert error.location.line == 2  # where libyaml finds the list unclosed
    assert "broken.yml" in str(error)


@pytest.mark.corpus
def test_corpus_process_wmic_expands_as_documented(corpus_dir: Path) -> None:
    loaded = load_macros(corpus_dir / "splunk" / "macros")
    assert loaded.errors == []
    assert len(loaded.macros) == 189
    text = expand("`process_wmic`", loaded).text.strip()
    assert text == "(Processes.process_name=wmic.exe OR Processes.original_file_name=wmic.exe)"


def test_a_macro_calling_itself_is_one_cycle_not_an_explosion() -> None:
    boom = Macro("boom", "`boom` OR `boom` OR `boom` OR `boom` OR x=1")
    result = expand("`boom` | search y=2", catalog(boom))
    assert result.refused == {"boom": ("macro boom calls itself (boom -> boom)", 0)}
    assert result.unknown == []
    assert result.text.count("x=1") == 1  # expanded once, its self-calls left out
    assert len(result.text) < 100


def test_a_mutual_cycle_names_its_path() -> None:
    ping = Macro("ping", "index=x `pong`")
    pong = Macro("pong", "`ping` y=1")
    result = expand("a=1 `ping`", catalog(ping, pong))
    assert result.refused == {"ping": ("macro ping calls itself (ping -> pong -> ping)", 4)}
    assert result.text.count("index=x") == 1


def test_a_macro_fanning_out_deeply_stops_at_a_budget() -> None:
    # No cycle: m0 calls m1 four times, m1 calls m2 four times... 4**9 calls in all.
    chain = [Macro(f"m{i}", " OR ".join([f"`m{i + 1}`"] * 4)) for i in range(9)]
    result = expand("`m0`", catalog(*chain, Macro("m9", "x=1")))
    ((reason, _position),) = result.refused.values()
    assert reason.startswith("the search expands more than 2000 macro calls")
    assert 0 < result.text.count("x=1") <= 2000


def test_a_call_with_another_number_of_arguments_is_refused() -> None:
    result = expand("x | `security_content_ctime(a, b, c, d)`", catalog(CTIME))
    assert result.refused == {
        "security_content_ctime": (
            "macro security_content_ctime takes 1 argument(s), the call gives 4",
            4,
        )
    }
    assert "convert" not in result.text


def test_a_macro_without_arguments_called_with_some_is_refused() -> None:
    result = expand("x | `process_wmic(a)`", catalog(WMIC))
    assert result.refused == {
        "process_wmic": ("macro process_wmic takes 0 argument(s), the call gives 1", 4)
    }
    assert "wmic.exe" not in result.text


def test_a_macro_whose_definition_is_a_map_is_refused() -> None:
    with pytest.raises(ParseError, match="definition is a map, not a text"):
        macro_from_dict({"name": "m", "definition": {"a": 1}}, "macros/m.yml")
