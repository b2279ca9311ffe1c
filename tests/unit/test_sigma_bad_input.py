"""The Sigma loader on bad input: each case is one file beside a valid rule, its problem placed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sigma_files import only, read, write

from loaders.records import Problem
from loaders.sigma import load_sigma, read_sigma_file

BASE = """\
title: Base
id: 00000000-0000-4000-8000-0000000000{n:02d}
tags: [attack.t1059.001]
logsource: {{product: windows, category: process_creation}}
detection:
    selection:
        Image|endswith: '\\cmd.exe'
    condition: selection
"""


def with_line(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


def load_one_bad(tmp_path: Path, bad: str) -> tuple[list[str], list[Problem]]:
    """Load a valid rule and ``bad``; the uids loaded and the bad file's problems."""
    write(tmp_path, "rules/a_good.yml", BASE.format(n=1))
    write(tmp_path, "rules/b_bad.yml", bad)
    load = load_sigma(tmp_path)
    assert load.files_seen == 2
    uids = [rule.uid for rule in load.rules]
    assert "sigma:00000000-0000-4000-8000-000000000001" in uids
    return uids, [p for p in load.problems if p.location.path == "rules/b_bad.yml"]


@pytest.mark.parametrize("condition", ["", "''", "5", "true", "1.5", "{a: b}", "[selection, 5]"])
def test_a_condition_that_is_not_text_is_reported_and_the_rule_kept(
    tmp_path: Path, condition: str
) -> None:
    bad = with_line(BASE.format(n=2), "condition: selection", f"condition: {condition}")
    uids, problems = load_one_bad(tmp_path, bad)
    assert "sigma:00000000-0000-4000-8000-000000000002" in uids
    problem = only(problems, "partial-rule")
    assert problem.location.line == 8
    if condition == "''":
        assert problem.reason == "condition is empty; it is not read"
    elif condition:
        assert "is not a text" in problem.reason
    else:
        assert problem.reason == "the detection has no condition"
    # a list keeps its readable condition: the rule still yields its predicate
    expected = "partial" if condition.startswith("[") else "failed"
    (rule,) = read(tmp_path, bad).rules
    assert rule.parse_status == expected


@pytest.mark.parametrize(
    ("key", "value", "loaded", "reason"),
    [
        ("references", "http://example.com", ("http://example.com",), "is a text, not a list"),
        ("references", "5", ("5",), "is a number, not a list; read as a list of one"),
        ("falsepositives", "true", ("True",), "is true/false, not a list"),
        ("falsepositives", "{a: b}", (), "is a map, not a list; dropped"),
    ],
)
def test_references_and_falsepositives_not_a_list(
    tmp_path: Path, key: str, value: str, loaded: tuple[str, ...], reason: str
) -> None:
    result = read(tmp_path, BASE.format(n=3) + f"{key}: {value}\n")
    (rule,) = result.rules
    assert getattr(rule, key) == loaded  # never letter by letter
    problem = only(result.problems, "invalid-metadata")
    assert reason in problem.reason
    assert problem.location.line == 9


def test_a_non_string_regex_is_read_as_written(tmp_path: Path) -> None:
    text = with_line(
        BASE.format(n=4), "Image|endswith: '\\cmd.exe'", "CommandLine|re:\n            - 1"
    )
    result = read(tmp_path, text)
    (rule,) = result.rules
    assert [(p.operator, p.value) for p in rule.predicates] == [("regex_match", "1")]


def test_tags_as_one_string_is_one_tag(tmp_path: Path) -> None:
    text = with_line(BASE.format(n=5), "tags: [attack.t1059.001]", "tags: attack.t1059.001")
    result = read(tmp_path, text)
    (rule,) = result.rules
    assert (rule.tags, rule.techniques) == (("attack.t1059.001",), ("T1059.001",))
    problem = only(result.problems, "invalid-metadata")
    assert (problem.location.line, problem.severity) == (3, "warning")


def test_a_title_list_is_joined_and_reported_once(tmp_path: Path) -> None:
    text = with_line(BASE.format(n=6), "title: Base", "title: [a, b]")
    result = read(tmp_path, text)
    (rule,) = result.rules
    assert rule.title == "a, b"
    problem = only(result.problems, "invalid-metadata")
    assert problem.reason == "title is a list, not a text; read as 'a, b'"
    assert problem.location.line == 1


def test_an_id_that_is_not_text_is_skipped_at_the_id_line(tmp_path: Path) -> None:
    text = with_line(BASE.format(n=7), "id: 00000000-0000-4000-8000-000000000007", "id: 12345")
    uids, problems = load_one_bad(tmp_path, text)
    assert len(uids) == 1
    problem = only(problems, "skipped-file")
    assert problem.location.line == 2
    assert problem.reason == "id 12345 is a number, not a text (a UUID); the rule is skipped"


def test_a_null_selection_is_reported_not_a_value(tmp_path: Path) -> None:
    text = with_line(BASE.format(n=8), "        Image|endswith: '\\cmd.exe'\n", "")
    result = read(tmp_path, text)
    (rule,) = result.rules
    assert rule.predicates == ()
    assert rule.parse_status == "failed"
    problem = only(result.problems, "partial-rule")
    assert (problem.reason, problem.location.line) == ("detection 'selection' is empty", 6)


def test_a_modifier_on_null_names_the_type_not_an_object_address(tmp_path: Path) -> None:
    text = with_line(BASE.format(n=9), "Image|endswith: '\\cmd.exe'", "Image|endswith:")
    result = read(tmp_path, text)
    problem = only(result.problems, "partial-rule")
    assert "object at 0x" not in problem.reason
    assert "'null'" in problem.reason


def test_a_keyword_regex_is_reported_not_a_value(tmp_path: Path) -> None:
    text = with_line(BASE.format(n=10), "Image|endswith: '\\cmd.exe'", "'|re': 'a.*b'")
    text = with_line(text, "    selection:\n", "    keywords:\n")
    text = with_line(text, "condition: selection", "condition: keywords")
    result = read(tmp_path, text)
    (rule,) = result.rules
    assert rule.predicates == ()
    assert "object at 0x" not in str(result.problems)
    assert any("is not read" in p.reason for p in result.problems)


def test_documents_before_a_yaml_error_are_kept(tmp_path: Path) -> None:
    result = read(tmp_path, BASE.format(n=11) + "---\ntitle: [unclosed\n")
    (rule,) = result.rules
    assert rule.uid == "sigma:00000000-0000-4000-8000-000000000011"
    problem = only(result.problems, "skipped-file")
    assert problem.location.line == 11
    assert "malformed YAML" in problem.reason


def test_one_of_a_missing_pattern_is_written_with_of(tmp_path: Path) -> None:
    text = with_line(BASE.format(n=12), "condition: selection", "condition: 1 of filter_*")
    result = read(tmp_path, text)
    assert only(result.problems, "partial-rule").reason == "'1 of filter_*' selects no detection"


def test_a_file_that_breaks_the_reader_is_reported_and_the_load_goes_on(tmp_path: Path) -> None:
    # 600 nested lists overflow pySigma's recursion: no error the reader expects.
    deep = "[" * 600 + "{a: b}" + "]" * 600
    text = with_line(BASE.format(n=13), "\n        Image|endswith: '\\cmd.exe'", f" {deep}")
    uids, problems = load_one_bad(tmp_path, text)
    assert len(uids) == 1
    problem = only(problems, "internal-error")
    assert "RecursionError" in problem.reason
    assert problem.reason.endswith("it is skipped")


def test_a_non_utf8_byte_costs_one_character_and_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "rules" / "latin1.yml"
    path.parent.mkdir(parents=True)
    path.write_bytes(BASE.format(n=14).replace("title: Base", "title: Ren\xe9").encode("latin-1"))
    result = read_sigma_file(path, tmp_path)
    (rule,) = result.rules
    assert rule.title == "Ren\ufffd"
    problem = only(result.problems, "invalid-encoding")
    assert (problem.location.line, problem.location.column) == (1, 11)
    assert "0xe9" in problem.reason


def test_a_symlinked_folder_is_reported(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "x.yml", BASE.format(n=15))
    write(tmp_path, "sigma/rules/a.yml", BASE.format(n=1))
    (tmp_path / "sigma" / "rules" / "linked").symlink_to(outside, target_is_directory=True)
    load = load_sigma(tmp_path / "sigma")
    assert load.files_seen == 1
    problem = only(load.problems, "skipped-folder")
    assert problem.location.path == "rules/linked"
    assert "symlinked folder is not followed" in problem.reason


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a folder whatever its mode")
def test_an_unreadable_folder_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "rules/a.yml", BASE.format(n=1))
    write(tmp_path, "rules/locked/b.yml", BASE.format(n=2))
    (tmp_path / "rules" / "locked").chmod(0)
    try:
        load = load_sigma(tmp_path)
    finally:
        (tmp_path / "rules" / "locked").chmod(0o755)
    assert load.files_seen == 1
    assert only(load.problems, "skipped-folder").location.path == "rules/locked"
