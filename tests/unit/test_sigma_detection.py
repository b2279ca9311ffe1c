"""Sigma detections to predicates: every modifier, value kind and condition form."""

from __future__ import annotations

from textwrap import dedent, indent

from sigma.rule import SigmaRule

from loaders.records import Predicate
from loaders.sigma import Origin, SigmaRead, rule_from_sigma

HEADER = """\
title: Test rule
id: 5f0b4b5e-0c4e-4c8e-9d3a-1b2c3d4e5f60
logsource:
    product: {product}
    category: {category}
detection:
"""


def read(detection: str, product: str = "windows", category: str = "process_creation") -> SigmaRead:
    text = HEADER.format(product=product, category=category) + indent(dedent(detection), "    ")
    rule = SigmaRule.from_yaml(text, collect_errors=True)
    return rule_from_sigma(rule, Origin("rules/test.yml", "rules"))


def predicates(detection: str, **logsource: str) -> list[Predicate]:
    result = read(detection, **logsource)
    assert result.rule is not None
    return list(result.rule.predicates)


def triples(found: list[Predicate]) -> set[tuple[str, str, str, bool]]:
    return {(p.field, p.operator, p.value, p.negated) for p in found}


def test_endswith_on_a_path_field_becomes_the_name_field() -> None:
    found = predicates(
        """
            selection:
                Image|endswith: '\\WMIC.exe'
            condition: selection
        """
    )
    assert found == [
        Predicate("process.name", "eq", "wmic.exe", False, "Image", "\\WMIC.exe"),
    ]


def test_contains_startswith_endswith_give_wildcards() -> None:
    found = predicates(
        """
            selection:
                CommandLine|contains: 'Create'
                ParentCommandLine|startswith: 'C:\\Tools'
                CurrentDirectory|endswith: 'Temp'
            condition: selection
        """
    )
    assert triples(found) == {
        ("process.command_line", "wildcard", "*create*", False),
        ("process.parent.command_line", "wildcard", "c:\\tools*", False),
        ("process.working_directory", "wildcard", "*temp", False),
    }


def test_plain_values_are_eq_and_sigma_wildcards_make_wildcards() -> None:
    found = predicates(
        """
            selection:
                CommandLine:
                    - 'whoami /all'
                    - 'net* user ?'
                    - 'literal \\* star'
            condition: selection
        """
    )
    assert triples(found) == {
        ("process.command_line", "eq", "whoami /all", False),
        ("process.command_line", "wildcard", "net* user ?", False),
        ("process.command_line", "eq", "literal * star", False),
    }


def test_all_modifier_gives_one_predicate_per_value() -> None:
    found = predicates(
        """
            selection:
                CommandLine|contains|all:
                    - 'a'
                    - 'b'
            condition: selection
        """
    )
    assert [p.value for p in found] == ["*a*", "*b*"]
    assert [p.raw_value for p in found] == ["a", "b"]


def test_cased_keeps_the_case_and_says_so() -> None:
    (found,) = predicates(
        """
            selection:
                CommandLine|cased|contains: 'MiXeD'
            condition: selection
        """
    )
    assert (found.operator, found.value) == ("wildcard", "*MiXeD*")
    assert found.case_sensitive


def test_regular_expressions_keep_case_and_flags() -> None:
    found = predicates(
        """
            selection:
                CommandLine|re: '\\s+-[eE]nc\\s'
                ParentCommandLine|re|i: 'AbC.*'
            condition: selection
        """
    )
    assert triples(found) == {
        ("process.command_line", "regex_match", "\\s+-[eE]nc\\s", False),
        ("process.parent.command_line", "regex_match", "(?i)AbC.*", False),
    }


def test_cidr_exists_null_and_comparisons() -> None:
    found = predicates(
        """
            selection:
                DestinationIp|cidr: '10.0.0.0/8'
                DestinationPort|gte: 1024
                SourcePort|lt: 10
                Initiated|exists: true
            filter:
                DestinationHostname|exists: false
            filter_null:
                SourceHostname: null
            condition: selection and not filter and filter_null
        """,
        category="network_connection",
    )
    assert triples(found) == {
        ("destination.ip", "cidr", "10.0.0.0/8", False),
        ("destination.port", "gte", "1024", False),
        ("source.port", "lt", "10", False),
        ("network.direction", "exists", "true", False),
        # exists: false under a NOT: exists, not excluded (two negations)
        ("destination.domain", "exists", "true", False),
        # null: the field is absent, i.e. exists excluded
        ("source.domain", "exists", "true", True),
    }


def test_base64_records_the_encoded_values_with_their_case() -> None:
    found = predicates(
        """
            selection:
                CommandLine|base64: 'abc'
                ParentCommandLine|base64offset|contains: 'abc'
            condition: selection
        """
    )
    assert triples(found) == {
        ("process.command_line", "eq", "YWJj", False),
        ("process.parent.command_line", "wildcard", "*YWJj*", False),
        ("process.parent.command_line", "wildcard", "*FiY*", False),
        ("process.parent.command_line", "wildcard", "*hYm*", False),
    }
    assert {p.raw_value for p in found} == {"abc"}
    # base64 text keeps its case: folded, it would name other bytes
    assert all(p.case_sensitive for p in found)


def test_windash_keeps_the_dash_spelling_only() -> None:
    found = predicates(
        """
            selection:
                CommandLine|windash|contains: ' -s '
            condition: selection
        """
    )
    assert triples(found) == {("process.command_line", "wildcard", "* -s *", False)}


def test_fieldref_names_the_other_field_canonically() -> None:
    (found,) = predicates(
        """
            selection:
                ParentImage|fieldref: Image
            condition: selection
        """
    )
    assert (found.field, found.operator, found.value) == (
        "process.parent.executable",
        "eq",
        "field:process.executable",
    )
    assert found.raw_value == "Image"
    assert not found.case_sensitive


def test_fieldref_keeps_the_case_of_an_unmapped_field_name() -> None:
    (found,) = predicates(
        """
            selection:
                User|fieldref: TargetUserNameUnmapped
            condition: selection
        """
    )
    # A field name is no literal: it keeps its case and is not flagged case-sensitive.
    assert found.value == "field:winlog.event_data.TargetUserNameUnmapped"
    assert not found.case_sensitive


def test_keywords_are_match_on_any_field() -> None:
    found = predicates(
        """
            keywords:
                - 'CommandLineEventConsumer'
                - '*evil*'
            condition: keywords
        """
    )
    assert triples(found) == {
        ("*", "match", "commandlineeventconsumer", False),
        ("*", "match", "evil", False),
    }
    assert all(p.vendor_field is None for p in found)


def test_lists_of_maps_give_every_item() -> None:
    found = predicates(
        """
            selection:
                - Image|endswith: '\\a.exe'
                - OriginalFileName: 'a.exe'
                  CommandLine|contains: 'x'
            condition: selection
        """
    )
    assert triples(found) == {
        ("process.name", "eq", "a.exe", False),
        ("process.pe.original_file_name", "eq", "a.exe", False),
        ("process.command_line", "wildcard", "*x*", False),
    }


def test_negation_follows_the_condition_tree() -> None:
    found = predicates(
        """
            selection_a:
                CommandLine|contains: 'a'
            selection_b:
                CommandLine|contains: 'b'
            filter_one:
                User: 'one'
            filter_two:
                User: 'two'
            other:
                User: 'three'
            unused:
                User: 'four'
            condition: all of selection_* and not 1 of filter_* and not (not other)
        """
    )
    assert triples(found) == {
        ("process.command_line", "wildcard", "*a*", False),
        ("process.command_line", "wildcard", "*b*", False),
        ("user.name", "eq", "one", True),
        ("user.name", "eq", "two", True),
        ("user.name", "eq", "three", False),  # two NOTs
    }


def test_an_identifier_used_both_ways_yields_both() -> None:
    found = predicates(
        """
            a:
                CommandLine: 'x'
            b:
                User: 'y'
            condition: (a and not b) or (b and not a)
        """
    )
    assert triples(found) == {
        ("process.command_line", "eq", "x", False),
        ("process.command_line", "eq", "x", True),
        ("user.name", "eq", "y", False),
        ("user.name", "eq", "y", True),
    }


def test_all_of_them_reads_every_detection() -> None:
    found = predicates(
        """
            a:
                CommandLine: 'x'
            b:
                User: 'y'
            condition: all of them
        """
    )
    assert {p.value for p in found} == {"x", "y"}


def test_neq_negates_the_item() -> None:
    (found,) = predicates(
        """
            selection:
                User|neq: 'SYSTEM'
            condition: selection
        """
    )
    assert (found.field, found.value, found.negated) == ("user.name", "system", True)


def test_unmapped_fields_keep_pysigma_names_and_are_counted() -> None:
    result = read(
        """
            selection:
                IntegrityLevel: 'High'
            condition: selection
        """
    )
    assert result.rule is not None
    assert result.rule.predicates[0].field == "winlog.event_data.IntegrityLevel"
    assert result.unmapped_fields == {"IntegrityLevel"}


def test_several_conditions_are_all_read() -> None:
    found = predicates(
        """
            a:
                CommandLine: 'x'
            b:
                User: 'y'
            condition:
                - a
                - not b
        """
    )
    assert triples(found) == {
        ("process.command_line", "eq", "x", False),
        ("user.name", "eq", "y", True),
    }


def test_initiated_is_the_network_direction_pysigma_sets() -> None:
    found = predicates(
        """
        selection:
            Initiated: true
        filter:
            Initiated: 'false'
        condition: selection and not filter
        """,
        category="network_connection",
    )
    assert triples(found) == {
        ("network.direction", "eq", "egress", False),
        ("network.direction", "eq", "ingress", True),
    }


def test_an_unreadable_condition_excludes_every_name_of_a_negated_group() -> None:
    found = predicates(
        """\
        sel1:
            CommandLine: run
        sel2:
            User: alice
        sel3:
            User: bob
        sel4:
            User: carol
        condition: write sel1 and not (sel2 or (sel3)) and sel4 -> alert
        """
    )
    assert {(p.value, p.negated) for p in found} == {
        ("run", False),
        ("alice", True),
        ("bob", True),
        ("carol", False),
    }


def test_a_set_value_named_by_the_end_of_target_object_is_registry_value() -> None:
    detection = """
        selection:
            TargetObject|endswith: '\\Debugger'
            TargetObject|contains: '\\Image File Execution Options\\'
        condition: selection
    """
    found = triples(predicates(detection, category="registry_set"))
    assert found == {
        ("registry.value", "eq", "debugger", False),
        ("registry.path", "wildcard", "*\\image file execution options\\*", False),
    }
    # In key events the last component names a key, not a value: the path check stays.
    found = triples(predicates(detection, category="registry_add"))
    assert ("registry.path", "wildcard", "*\\debugger", False) in found


def test_an_expand_placeholder_is_membership_in_the_named_list() -> None:
    found = predicates(
        """
            selection:
                CommandLine|contains: 'ntdsutil'
            filter:
                User|expand: '%Administrators%'
                ParentCommandLine|contains|expand: '%known_tools%'
            mixed:
                CurrentDirectory|expand: '/home/%user%/tmp'
            condition: selection and not filter and mixed
        """
    )
    assert triples(found) == {
        ("process.command_line", "wildcard", "*ntdsutil*", False),
        # The list's name keeps its case: it is no value compared with the field.
        ("user.name", "lookup", "Administrators", True),
        ("process.parent.command_line", "lookup", "known_tools", True),
        # A placeholder inside literal text keeps the text as written.
        ("process.working_directory", "eq", "/home/%user%/tmp", False),
    }


def test_a_domain_account_is_the_user_name_and_the_user_domain() -> None:
    # Sysmon's User is DOMAIN\name; ECS (and Elastic's rules) split it into two fields.
    found = predicates(
        """
            selection:
                User: 'NT AUTHORITY\\SYSTEM'
            filter:
                User|endswith: '\\LOCAL SERVICE'
            condition: selection and not filter
        """
    )
    assert triples(found) == {
        ("user.name", "eq", "system", False),
        ("user.domain", "eq", "nt authority", False),
        # endswith \name: the name in any domain; a negated check stays negated
        ("user.name", "eq", "local service", True),
    }
    assert {p.raw_value for p in found if not p.negated} == {"NT AUTHORITY\\SYSTEM"}
    assert {p.vendor_field for p in found} == {"User"}


def test_an_account_negated_as_a_whole_negates_both_parts() -> None:
    found = predicates(
        """
            selection:
                Image|endswith: '\\cmd.exe'
            filter:
                User: 'NT AUTHORITY\\SYSTEM'
            condition: selection and not filter
        """
    )
    assert ("user.name", "eq", "system", True) in triples(found)
    assert ("user.domain", "eq", "nt authority", True) in triples(found)


def test_other_account_patterns_are_not_split() -> None:
    found = predicates(
        """
            selection:
                User|contains: 'AUTHORI'
                User|startswith: 'NT AUTHORITY\\'
                ParentUser|endswith: '\\SYSTEM'
            condition: selection
        """
    )
    assert triples(found) == {
        ("user.name", "wildcard", "*authori*", False),
        ("user.name", "wildcard", "nt authority\\*", False),
        # not ECS's user.name: the field keeps the account as written
        ("winlog.event_data.ParentUser", "wildcard", "*\\system", False),
    }
