"""The SPL reader on hand-written searches: one test per construct."""

from __future__ import annotations

import re

import pytest

from loaders.regex_groups import fill_group
from loaders.spl import SplParse, parse_spl, unescape
from loaders.spl_eval import like_to_wildcard

Check = tuple[str | None, str, str, bool]


def checks(search: str) -> list[Check]:
    """(field, operator, value, negated) of every comparison, in order."""
    return [(c.field, c.operator, c.value, c.negated) for c in parse_spl(search).comparisons]


def parsed(search: str) -> SplParse:
    result = parse_spl(search)
    assert not result.errors, result.errors
    return result


# --- search language ---------------------------------------------------------------------


def test_field_equals_value_and_implicit_and() -> None:
    assert checks("EventCode=4688 NewProcessName=*\\\\cmd.exe") == [
        ("EventCode", "eq", "4688", False),
        ("NewProcessName", "wildcard", "*\\cmd.exe", False),
    ]


def test_not_equal_and_not_keep_the_parity_of_negations() -> None:
    assert checks("a!=1 NOT b=2 NOT c!=3 NOT (NOT d=4)") == [
        ("a", "eq", "1", True),
        ("b", "eq", "2", True),
        ("c", "eq", "3", False),
        ("d", "eq", "4", False),
    ]


def test_in_list_gives_one_check_per_value() -> None:
    assert checks('process_name IN ("cmd.exe", powershell.exe,"pwsh.exe")') == [
        ("process_name", "eq", "cmd.exe", False),
        ("process_name", "eq", "powershell.exe", False),
        ("process_name", "eq", "pwsh.exe", False),
    ]


def test_in_list_tolerates_stray_commas() -> None:
    assert checks('x IN (,"*a *",, "*b *",)') == [
        ("x", "wildcard", "*a *", False),
        ("x", "wildcard", "*b *", False),
    ]


def test_an_empty_string_in_a_list_is_a_value_as_outside_one() -> None:
    assert checks('NOT user IN ("","unknown") dest=""') == [
        ("user", "eq", "", True),
        ("user", "eq", "unknown", True),
        ("dest", "eq", "", False),
    ]


def test_quotes_glued_to_a_list_item_belong_to_it() -> None:
    # Splunk reads `""*textbin*""` as one term: the quotes around it are no empty values.
    assert checks('q IN ("*paste*",""*textbin*"", "")') == [
        ("q", "wildcard", "*paste*", False),
        ("q", "wildcard", "*textbin*", False),
        ("q", "eq", "", False),
    ]


def test_or_binds_tighter_than_implicit_and_as_in_splunk() -> None:
    result = parsed("a=1 OR b=2 c=3")
    assert [c.field for c in result.comparisons] == ["a", "b", "c"]
    assert all(not c.negated for c in result.comparisons)


def test_parentheses_group_and_negate_together() -> None:
    assert checks("x=1 NOT (y=2 OR z=*abc*)") == [
        ("x", "eq", "1", False),
        ("y", "eq", "2", True),
        ("z", "wildcard", "*abc*", True),
    ]


def test_star_alone_is_an_existence_check() -> None:
    assert checks("dest_ip=* NOT user=*") == [
        ("dest_ip", "exists", "true", False),
        ("user", "exists", "true", True),
    ]


def test_numeric_comparisons() -> None:
    assert checks("count>5 a<=2 b>=3 c<1") == [
        ("count", "gt", "5", False),
        ("a", "lte", "2", False),
        ("b", "gte", "3", False),
        ("c", "lt", "1", False),
    ]


def test_keyword_terms_match_any_field() -> None:
    assert checks('"A shell was spawned" segfault TERM(sudoedit) NOT benign') == [
        (None, "match", "A shell was spawned", False),
        (None, "match", "segfault", False),
        (None, "match", "sudoedit", False),
        (None, "match", "benign", True),
    ]


def test_bare_values_may_hold_equals_signs_and_parentheses() -> None:
    assert checks("process=*--token=* p=*GetCurrent()*") == [
        ("process", "wildcard", "*--token=*", False),
        ("p", "wildcard", "*GetCurrent()*", False),
    ]


def test_quoted_field_names_and_escaped_quotes() -> None:
    assert checks('"additionalEventData.MFAUsed"=No cmd="*\\"privileged\\":true*"') == [
        ("additionalEventData.MFAUsed", "eq", "No", False),
        ("cmd", "wildcard", '*"privileged":true*', False),
    ]


def test_selection_fields_are_no_indicators_but_are_kept_as_selections() -> None:
    result = parsed("index=main sourcetype=aws:cloudtrail eventName=ConsoleLogin")
    assert [(c.field, c.value) for c in result.comparisons] == [("eventName", "ConsoleLogin")]
    assert result.selections == [("index", "main"), ("sourcetype", "aws:cloudtrail")]


def test_unescape_reads_spl_backslashes() -> None:
    assert unescape('"*\\\\AppData\\\\*"') == "*\\AppData\\*"
    assert unescape("a\\\\b\\d") == "a\\b\\d"


# --- pipeline, tstats, renames -------------------------------------------------------------


def test_tstats_where_clause_carries_its_data_model() -> None:
    result = parsed(
        "| tstats summariesonly=true count min(_time) as firstTime from "
        "datamodel=Endpoint.Processes where Processes.process_name=wmic.exe "
        "Processes.process=*shadowcopy* by Processes.dest Processes.user"
    )
    assert result.datamodels == ["Endpoint.Processes"]
    assert [(c.field, c.value, c.datamodel, c.command) for c in result.comparisons] == [
        ("Processes.process_name", "wmic.exe", "Endpoint.Processes", "tstats"),
        ("Processes.process", "*shadowcopy*", "Endpoint.Processes", "tstats"),
    ]


def test_tstats_by_clause_and_nodename_are_not_checks() -> None:
    result = parsed(
        '| tstats count FROM datamodel=Network_Resolution where nodename=DNS "DNS.query"="*.x" '
        'by "DNS.src"'
    )
    assert [(c.field, c.value) for c in result.comparisons] == [("DNS.query", "*.x")]


def test_drop_dm_object_name_rename_restores_the_data_model_field() -> None:
    result = parsed(
        "| tstats count from datamodel=Endpoint.Registry by Registry.registry_value_data "
        "| rename Registry.* AS * | where isnotnull(registry_value_data)"
    )
    assert [(c.field, c.operator, c.datamodel) for c in result.comparisons] == [
        ("Registry.registry_value_data", "exists", "Endpoint.Registry")
    ]


def test_simple_rename_before_search() -> None:
    result = parsed(
        "`x` a=1 | rename Identity AS dest_user, src as source_ip | search dest_user=bob"
    )
    assert result.comparisons[-1].field == "Identity"


def test_fields_the_search_creates_are_no_indicators() -> None:
    result = parsed(
        "x=1 | stats count values(process) as procs dc(user) as users by host "
        "| eval ratio=count/users | where count > 5 AND ratio > 2 | search procs=cmd.exe"
    )
    assert [(c.field, c.value) for c in result.comparisons] == [
        ("x", "1"),
        ("process", "cmd.exe"),  # values(process) AS procs keeps process's values
    ]
    assert "check on a field the search creates (count)" in result.skipped


def test_eval_alias_keeps_the_events_name() -> None:
    result = parsed('x=1 | eval dest = SChannelName, p=lower(process) | where dest=="DC01"')
    assert result.comparisons[-1].field == "SChannelName"


def test_eval_if_condition_is_read_where_the_flag_is_checked() -> None:
    result = parsed(
        'x=1 | eval puny=if(like(domain, "%xn--%"), 1, 0) | where puny=1 | search puny!=1'
    )
    assert [(c.field, c.operator, c.value, c.negated) for c in result.comparisons][1:] == [
        ("domain", "wildcard", "*xn--*", False),
        ("domain", "wildcard", "*xn--*", True),
    ]


def test_regex_command() -> None:
    assert checks('x=1 | regex process="(?i)\\\\temp\\\\" | regex user!="^svc_"')[1:] == [
        ("process", "regex_match", "(?i)\\temp\\", False),
        ("user", "regex_match", "^svc_", True),
    ]
    # Spaces around the sign: still the field's, not _raw's.
    assert checks('x=1 | regex file_name =  "\\x{202E}" | regex user != "^svc_"')[1:] == [
        ("file_name", "regex_match", "\\x{202E}", False),
        ("user", "regex_match", "^svc_", True),
    ]


def test_join_subsearch_is_read_with_its_own_data_model() -> None:
    result = parsed(
        "| tstats count from datamodel=Endpoint.Processes where Processes.process_name=a.exe "
        "by Processes.process_id | join process_id [| tstats count from "
        "datamodel=Endpoint.Filesystem where Filesystem.file_name=*.lnk by Filesystem.dest]"
    )
    assert [(c.field, c.datamodel) for c in result.comparisons] == [
        ("Processes.process_name", "Endpoint.Processes"),
        ("Filesystem.file_name", "Endpoint.Filesystem"),
    ]


def test_not_subsearch_leaves_the_rest_readable() -> None:
    result = parsed("a=1 | search NOT [| inputlookup allow | fields user] | search b=2")
    assert [c.field for c in result.comparisons] == ["a", "b"]


def test_pipes_inside_quotes_do_not_split_commands() -> None:
    assert checks('x="a|b" | search y=1') == [("x", "eq", "a|b", False), ("y", "eq", "1", False)]


# --- where ---------------------------------------------------------------------------------


def test_where_equality_is_case_sensitive() -> None:
    result = parsed('x=1 | where user=="Admin" AND status!="ok"')
    assert [(c.field, c.value, c.negated, c.case_insensitive) for c in result.comparisons[1:]] == [
        ("user", "Admin", False, False),
        ("status", "ok", True, False),
    ]


def test_where_lower_is_case_insensitive_and_literal_first_is_flipped() -> None:
    result = parsed('x=1 | where lower(user)="admin" AND 5 < count_field')
    assert [(c.field, c.operator, c.case_insensitive) for c in result.comparisons[1:]] == [
        ("user", "eq", True),
        ("count_field", "gt", False),
    ]


def test_where_like_match_and_null_checks() -> None:
    result = parsed(
        'x=1 | where like(process, "%\\\\Temp\\\\_%") OR match(cmd, "(?i)-enc\\s") '
        "AND isnull(parent) AND NOT isnotnull(hash)"
    )
    assert [(c.field, c.operator, c.value, c.negated) for c in result.comparisons[1:]] == [
        ("process", "wildcard", "*\\Temp_*", False),
        ("cmd", "regex_match", "(?i)-enc\\s", False),
        ("parent", "exists", "true", True),
        ("hash", "exists", "true", True),
    ]


@pytest.mark.parametrize(
    ("pattern", "wildcard"),
    [("%a_b%", "*a?b*"), ("100\\%", "100%"), ("a\\_b", "a_b"), ("C:\\Temp", "C:\\Temp")],
)
def test_like_patterns_become_wildcards(pattern: str, wildcard: str) -> None:
    assert like_to_wildcard(pattern) == wildcard


def test_where_in_and_cidrmatch() -> None:
    result = parsed('x=1 | where app IN ("ssh", "rdp") AND NOT cidrmatch("10.0.0.0/8", src)')
    assert [(c.field, c.operator, c.value, c.negated) for c in result.comparisons[1:]] == [
        ("app", "eq", "ssh", False),
        ("app", "eq", "rdp", False),
        ("src", "cidr", "10.0.0.0/8", True),
    ]


def test_where_comparison_of_two_fields_is_skipped_and_named() -> None:
    result = parsed("x=1 | where src != dest")
    assert len(result.comparisons) == 1
    assert "where: a comparison of two fields or expressions" in result.skipped


# --- errors --------------------------------------------------------------------------------


def test_a_command_that_does_not_parse_is_an_error_with_its_position() -> None:
    search = "a=1 | where (b == 2 | search c=3"
    result = parse_spl(search)
    assert [c.field for c in result.comparisons] == ["a", "c"]
    (error,) = result.errors
    assert error.message.startswith("where: ")
    assert error.position >= search.index("where")


def test_an_unterminated_quote_fails_the_whole_search_with_a_position() -> None:
    result = parse_spl('a=1 | search b="open')
    assert result.comparisons == []
    assert [e.position for e in result.errors] == [len("a=1 | search b=")]


@pytest.mark.parametrize("search", ["", "   ", "| makeresults | eval a=1"])
def test_searches_without_checks_yield_nothing(search: str) -> None:
    assert parse_spl(search).comparisons == []


# --- CIDR values, created fields, subsearches, eval flags ----------------------------------


def test_cidr_value_in_the_search_language_is_a_cidr_check() -> None:
    assert checks("index=x dest_ip!=10.0.0.0/8 src_ip=FE80::/10 path=a/8") == [
        ("dest_ip", "cidr", "10.0.0.0/8", True),
        ("src_ip", "cidr", "FE80::/10", False),
        ("path", "eq", "a/8", False),
    ]


@pytest.mark.parametrize(
    "pipeline",
    [
        "| addtotals fieldname=Score | where Score >= 3",
        "| addtotals | where Total > 2",
        "| transaction dest maxpause=5m | where eventcount>=5",
        "| apply model | where 'IsOutlier(processlen)' > 0",
        "| apply dsdl_model | search pred_dga_proba > 0.5",
        "| fit DensityFunction count into m | where 'IsOutlier(count)'=1",
        "| lookup ut_shannon_lookup word AS user | where ut_shannon>3",
        "| lookup notes n AS file_name | search notes_status=1",
        '| eval v=mvindex(x, 4) | rex field=v "(?<part>\\w+)" | search part=abc',
        "| join user [ summary cloud_model_v1 ] | where cardinality >= 16",
        "| join user [| inputlookup seen_users | stats min(firstTime) as earliest_seen by user]"
        " | where isnull(earliest_seen)",
    ],
)
def test_fields_the_pipeline_creates_are_no_checks(pipeline: str) -> None:
    assert checks("index=x EventCode=1 " + pipeline) == [("EventCode", "eq", "1", False)]


# --- lookups: a check on a lookup's output is membership in the lookup -------------------

_NOTES = 'index=x | lookup notes n as file_name OUTPUT status as "Known Notes" '


@pytest.mark.parametrize(
    ("check", "negated"),
    [
        ('| search "Known Notes"=True', False),
        ('| search "Known Notes"=1', False),
        ('| search "Known Notes"=*', False),
        ('| search "Known Notes"!=False', False),
        ("| where isnotnull('Known Notes')", False),
        ("| where 'Known Notes'=\"yes\"", False),
        ('| search "Known Notes"=false', True),
        ('| search NOT "Known Notes"=*', True),
        ('| search "Known Notes"!=true', True),
        ("| where isnull('Known Notes')", True),
        # fillnull writes its value where the lookup found no row: that value is "not in it".
        ('| fillnull value=NotDA "Known Notes" | search "Known Notes"="NotDA"', True),
        ('| fillnull value=NotDA | search "Known Notes"!="NotDA"', False),
        ('| fillnull "Known Notes" | search "Known Notes"=0', True),
    ],
)
def test_a_check_on_a_lookup_output_is_membership_of_its_input(check: str, negated: bool) -> None:
    assert checks(_NOTES + check) == [("file_name", "lookup", "notes", negated)]


def test_fillnull_fills_the_outputs_it_names_only() -> None:
    search = (
        'index=x | lookup notes n as file_name OUTPUT status as "Known Notes"'
        " | lookup other m as user OUTPUT flag"
        ' | fillnull value=NotDA "Known Notes" | search flag="NotDA" "Known Notes"="NotDA"'
    )
    # flag was not filled: "NotDA" is a value of it, membership; "Known Notes" was: not in it.
    assert checks(search) == [
        ("user", "lookup", "other", False),
        ("file_name", "lookup", "notes", True),
    ]


def test_lookup_input_is_the_events_field_through_renames() -> None:
    search = (
        "| tstats count from datamodel=Endpoint.Processes by Processes.process_name"
        " | rename Processes.* AS *"
        " | lookup update=true is_nirsoft_software filename as process_name OUTPUT nirsoftFile"
        " | search nirsoftFile=true"
    )
    assert checks(search) == [("Processes.process_name", "lookup", "is_nirsoft_software", False)]
    assert parse_spl(search).comparisons[0].datamodel == "Endpoint.Processes"


def test_outputs_listed_with_commas_and_renamed_outputs_carry_the_lookup() -> None:
    search = (
        "index=x | lookup t process_name OUTPUTNEW a_default,b_default"
        " | rename b_default AS b | search b=true"
    )
    assert checks(search) == [("process_name", "lookup", "t", False)]


@pytest.mark.parametrize("keyword", ["OUTPUT", "OUTPUTNEW"])
def test_two_lookups_into_one_output_check_both_inputs(keyword: str) -> None:
    search = (
        "index=x | lookup update=true net filename AS process_name OUTPUT netFile"
        f" | lookup update=true net originalFileName AS original_file_name {keyword} netFile"
        " | search netFile=true"
    )
    assert checks(search) == [
        ("process_name", "lookup", "net", False),
        ("original_file_name", "lookup", "net", False),
    ]
    assert checks(search.replace("netFile=true", "netFile=false")) == [
        ("process_name", "lookup", "net", True),
        ("original_file_name", "lookup", "net", True),
    ]


def test_outputnew_keeps_a_value_the_search_computed() -> None:
    result = parsed(
        'index=x | eval owner=if(user="root", "system", null())'
        " | lookup owners host OUTPUTNEW owner | search owner=alice"
    )
    assert result.comparisons == []
    assert result.skipped == ["check on a field the search creates (owner)"]


def test_coalesce_of_two_lookups_checks_both_tables() -> None:
    search = (
        "index=x | lookup dyn_default d AS query OUTPUTNEW isDyn_default"
        " | lookup dyn_local d AS query OUTPUTNEW isDyn_local"
        " | eval isDyn=coalesce(isDyn_local, isDyn_default) | search isDyn=True"
    )
    assert checks(search) == [
        ("query", "lookup", "dyn_local", False),
        ("query", "lookup", "dyn_default", False),
    ]


def test_a_lookup_of_several_fields_is_read_per_field_only_when_matched() -> None:
    base = "index=x | lookup lol n AS process_name p AS process_path OUTPUT desc "
    assert checks(base + "| search desc=*") == [
        ("process_name", "lookup", "lol", False),
        ("process_path", "lookup", "lol", False),
    ]
    # No row of (name, path) says nothing of the name alone, nor of the path.
    unmatched = parsed(base + "| where isnull(desc)")
    assert unmatched.comparisons == []
    assert unmatched.skipped == ["check that several fields are no row of lol"]


@pytest.mark.parametrize(
    "pipeline",
    [
        # The output is never checked: the lookup only adds context.
        "index=x | lookup assets ip AS src OUTPUT owner | stats count by owner",
        # The input is computed: no log field is looked up.
        'index=x | eval d=mvindex(split(user, "@"), 1) | lookup brands d OUTPUT abuse'
        " | search abuse=true",
        # A score the table gives is compared, not a membership.
        "index=x | lookup scores d AS query OUTPUT score | where score > 3",
    ],
)
def test_lookups_that_check_no_log_field_membership(pipeline: str) -> None:
    assert checks(pipeline) == []


# --- rex and spath: fields extracted from the event, or from one of its fields ------------


def test_rex_on_raw_extracts_parts_of_the_event() -> None:
    assert checks(
        'index=x | rex "user=(?<account>\\w+)" | rex field=_raw "(?<verb>GET|POST) "'
        " | search account=bob verb=*"
    ) == [("account", "eq", "bob", False), ("verb", "exists", "true", False)]


_DECODE = (
    "| tstats count from datamodel=Endpoint.Processes by Processes.process"
    " | rename Processes.* AS *"
    ' | rex field=process "base64\\s+(?<decode_flag>-{1,2}d\\w*)" '
)


@pytest.mark.parametrize(
    ("check", "negated"),
    [
        ("| where isnotnull(decode_flag)", False),
        ("| search decode_flag=*", False),
        ("| where NOT isnotnull(decode_flag)", True),
        ("| where isnull(decode_flag)", True),
        ("| search NOT decode_flag=*", True),
    ],
)
def test_a_set_group_of_rex_on_a_field_is_the_field_matching_the_pattern(
    check: str, negated: bool
) -> None:
    result = parsed(_DECODE + check)
    (found,) = result.comparisons
    assert (found.field, found.operator, found.value, found.negated) == (
        "Processes.process",
        "regex_match",
        "base64\\s+(?<decode_flag>-{1,2}d\\w*)",
        negated,
    )
    assert not found.case_insensitive
    assert found.datamodel == "Endpoint.Processes"


@pytest.mark.parametrize(
    ("check", "pattern", "negated"),
    [
        # where's = compares with case, the search language's without; its * is any text.
        ('| where decode_flag="-d"', "base64\\s+(?<decode_flag>\\-d)", False),
        ("| search decode_flag=-d*", "base64\\s+(?<decode_flag>(?i:\\-d.*))", False),
        ("| search decode_flag!=-d", "base64\\s+(?<decode_flag>(?i:\\-d))", True),
    ],
)
def test_a_value_of_a_rex_group_is_the_pattern_with_the_value_in_the_group(
    check: str, pattern: str, negated: bool
) -> None:
    assert checks(_DECODE + check) == [("Processes.process", "regex_match", pattern, negated)]


def test_a_group_value_matches_the_field_as_the_rex_would() -> None:
    (found,) = parse_spl(
        'index=x | rex field=file_name "(?<ext>\\.[^\\.(]+)$" | search ext=.StubBin'
    ).comparisons
    assert found.value == "(?<ext>(?i:\\.StubBin))$"
    python = found.value.replace("(?<", "(?P<")  # PCRE's named group in Python's spelling
    assert re.search(python, "REPORT.stubbin")
    assert not re.search(python, "report.stubbin.txt")


def test_fill_group_keeps_the_rest_of_the_pattern() -> None:
    pattern = r"The (?<svc>[-\(\)\s\w]+) service entered the (?<state>\w+) (?:state)"
    assert fill_group(pattern, "state", "running", folded=False) == (
        r"The (?<svc>[-\(\)\s\w]+) service entered the (?<state>running) (?:state)"
    )
    assert fill_group(pattern, "svc", "a*b", folded=True, wildcards=True) == (
        r"The (?<svc>(?i:a.*b)) service entered the (?<state>\w+) (?:state)"
    )
    assert fill_group(pattern, "missing", "x", folded=False) is None
    assert fill_group("(?<open>[a(]", "open", "x", folded=False) is None


def test_a_renamed_rex_group_still_stands_for_its_pattern() -> None:
    assert checks(
        'index=x | rex field=Message "entered the (?<state>\\w+) state" | rename state AS s'
        " | where isnotnull(s)"
    ) == [("Message", "regex_match", "entered the (?<state>\\w+) state", False)]


def test_a_quoted_rex_field_is_the_field() -> None:
    assert checks('index=x | rex field="file_name" "\\.(?<ext>[^\\.]*$)" | where isnull(ext)') == [
        ("file_name", "regex_match", "\\.(?<ext>[^\\.]*$)", True)
    ]
    # Quoted or not, a computed field gives computed groups.
    computed = parsed(
        'index=x | eval plan=mvindex(split(details, "NewValue"), 1)'
        ' | rex field="plan" "Plans=\\[(?P<Plans>[^\\]]+)\\]" | search Plans IN ("*AUDIT*")'
        " | where isnotnull(Plans)"
    )
    assert computed.comparisons == []
    assert computed.skipped == ["check on a field the search creates (Plans)"] * 2


def test_rex_sed_mode_rewrites_its_field() -> None:
    # The field then holds the rewritten text, not the event's: like eval replace(), computed.
    result = parsed(
        'index=x | rex field=process mode=sed "s/\\"//g" | search process="*a b*"'
        ' | rex mode=sed "s/secret/xxx/g" | search user=bob'
    )
    assert [(c.field, c.value) for c in result.comparisons] == [("user", "bob")]
    assert result.skipped == ["check on a field the search creates (process)"]


def test_spath_over_the_event_reads_its_fields() -> None:
    assert checks(
        "sourcetype=gcp | spath output=member path=data.bindingDeltas{}.member"
        " | spath eventName | spath | search member=allUsers eventName=x other=y"
    ) == [
        ("data.bindingDeltas{}.member", "eq", "allUsers", False),
        ("eventName", "eq", "x", False),
        ("other", "eq", "y", False),
    ]


@pytest.mark.parametrize(
    "pipeline",
    [
        # A JSON document the event holds as one value: its parts are new fields.
        "| spath input=requestParameters.policy output=stmt path=Statement{} | search stmt=*",
        '| spath input=ServerRule path=Actions{}.Value | search "Actions{}.Value"="*@*"',
        # Parts of a computed field are computed.
        '| eval doc=mvindex(values, 1) | spath input=doc output="action" path=Action'
        ' | where action="*"',
    ],
)
def test_spath_on_one_field_creates_its_outputs(pipeline: str) -> None:
    assert checks("index=x EventCode=1 " + pipeline) == [("EventCode", "eq", "1", False)]


# --- eval flags set or null ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "negated"),
    [
        ("| where isnotnull(hit)", False),
        ("| search hit=*", False),
        ('| where hit="seen"', False),
        ("| where isnull(hit)", True),
        ("| search NOT hit=*", True),
    ],
)
def test_a_flag_set_or_null_is_its_condition(check: str, negated: bool) -> None:
    search = 'index=x | eval hit=if(match(_raw, "(?i)/app"), "seen", null()) ' + check
    assert checks(search) == [("_raw", "regex_match", "(?i)/app", negated)]


def test_a_flag_null_when_its_condition_holds_is_its_negation() -> None:
    assert checks('index=x | eval ok=if(like(p, "%a%"), null, "no") | where isnotnull(ok)') == [
        ("p", "wildcard", "*a*", True)
    ]


def test_a_flag_set_to_a_field_says_nothing_by_being_set() -> None:
    # Set when the condition holds and the field has a value: not the condition alone.
    result = parsed('index=x | eval to=if(match(v, "@"), v, null()) | where isnotnull(to)')
    assert result.comparisons == []
    assert result.skipped == ["check on a field the search creates (to)"]


def test_a_flag_with_two_values_is_always_set() -> None:
    result = parsed('index=x | eval f=if(match(v, "@"), "1", "0") | where isnotnull(f)')
    assert result.comparisons == []
    assert result.skipped == ["check on a field the search creates (f)"]


# --- options written with quotes ------------------------------------------------------------


def test_quoted_options_are_read_like_bare_ones() -> None:
    assert checks(
        'index=x | addtotals fieldname="Score" | iplocation prefix="src_" src_ip'
        ' | lookup update="true" t n AS file_name OUTPUT hit'
        " | where Score > 2 AND src_City=Paris AND isnotnull(hit)"
    ) == [("file_name", "lookup", "t", False)]


def test_joined_subsearch_fields_keep_their_data_model() -> None:
    found = checks(
        "| tstats count from datamodel=Endpoint.Processes by Processes.process_guid"
        " Processes.process_name | rename Processes.* AS *"
        " | join process_guid [| tstats count from datamodel=Endpoint.Registry"
        " by Registry.process_guid Registry.registry_value_data | rename Registry.* AS *]"
        ' | where isnotnull(registry_value_data) AND process_name="a.exe"'
    )
    assert found == [
        ("Registry.registry_value_data", "exists", "true", False),
        ("Processes.process_name", "eq", "a.exe", False),
    ]


def test_escaped_space_belongs_to_the_value() -> None:
    assert checks("index=x file_path=*System\\ Volume\\ Information*") == [
        ("file_path", "wildcard", "*System Volume Information*", False)
    ]


def test_case_flag_with_a_catch_all_reads_its_conditions() -> None:
    found = checks(
        'index=x | eval match=case(cidrmatch("10.0.0.0/8",dest_ip),"1",'
        'cidrmatch("172.16.0.0/12",dest_ip),"1",1=1,"0") | search match=0'
    )
    assert found == [
        ("dest_ip", "cidr", "10.0.0.0/8", True),
        ("dest_ip", "cidr", "172.16.0.0/12", True),
    ]


def test_if_flag_with_one_computed_branch() -> None:
    found = checks(
        'index=x | eval m=if(match(_raw, "INCLUDE"), "seen by " . src_ip, "false")'
        " | search m!=false"
    )
    assert found == [("_raw", "regex_match", "INCLUDE", False)]


@pytest.mark.parametrize(
    ("search", "fields"),
    [
        ("index=x | apply m | search cluster_name=abc", ["cluster_name"]),
        ("index=x | apply m | search probability_note=abc", ["probability_note"]),
        ("index=x | apply m | search cluster=2 predicted_x=1 cluster_name=abc", ["cluster_name"]),
    ],
)
def test_only_the_model_output_names_are_created_by_a_model(search: str, fields: list[str]) -> None:
    assert [c.field for c in parse_spl(search).comparisons] == fields
