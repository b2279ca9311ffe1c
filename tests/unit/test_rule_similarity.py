"""The idf-weighted cosine ranking behind Rule.similarRules, on hand-made rule rows."""

from __future__ import annotations

import math

import pytest

from graph.queries.rule_similarity import RuleSimilarityIndex


def _row(uid: str, *values: str, deprecated: bool = False) -> dict[str, object]:
    """A rule row as RULE_INDICATOR_SETS gives it; a bare name stands for `f|eq|<name>`."""
    vendor = uid.partition(":")[0]
    keys = [v if "|" in v else f"f|eq|{v}" for v in values]
    return {"uid": uid, "vendor": vendor, "deprecated": deprecated, "values": keys}


ROWS = [
    # "common" is checked by four current rules, "rare" by two, the rest by one each.
    _row("sigma:a", "common", "rare", "only-a", "selector"),
    _row("elastic:b", "common", "rare"),
    _row("splunk:c", "common", "only-c"),
    _row("sigma:d", "common"),
    _row("sigma:old", "common", "rare", "only-a", deprecated=True),
    _row("elastic:e", "selector"),
    _row("splunk:f", "unrelated"),
]


def _index() -> RuleSimilarityIndex:
    return RuleSimilarityIndex(ROWS, drop=lambda key: key == "f|eq|selector")


def test_rare_shared_indicators_weigh_most() -> None:
    index = _index()
    # Five current rules with indicators once the selector is dropped (e has none left), four
    # of them checking "common".
    idf = {"common": math.log(5 / 4), "rare": math.log(5 / 2), "one": math.log(5 / 1)}
    a = math.sqrt(idf["common"] ** 2 + idf["rare"] ** 2 + idf["one"] ** 2)
    b = math.sqrt(idf["common"] ** 2 + idf["rare"] ** 2)
    c = math.sqrt(idf["common"] ** 2 + idf["one"] ** 2)
    ranked = index.similar("sigma:a", 10)
    assert [s.uid for s in ranked] == ["elastic:b", "sigma:d", "splunk:c"]
    assert ranked[0].score == pytest.approx((idf["common"] ** 2 + idf["rare"] ** 2) / (a * b))
    assert ranked[1].score == pytest.approx(idf["common"] ** 2 / (a * idf["common"]))
    assert ranked[2].score == pytest.approx(idf["common"] ** 2 / (a * c))
    # The plain Jaccard index beside it, and the shared keys rarest first.
    assert ranked[0].jaccard == pytest.approx(2 / 3)
    assert ranked[0].shared == ("f|eq|rare", "f|eq|common")
    assert index.size("sigma:a") == 3


def test_vendors_deprecated_rules_and_selectors() -> None:
    index = _index()
    # Only some vendors' rules: the equivalents in other catalogs.
    assert [s.uid for s in index.similar("sigma:a", 10, vendors=["splunk"])] == ["splunk:c"]
    assert index.similar("sigma:a", 10, vendors=[]) == []
    # A deprecated rule is compared with current ones (a checks what it checked) but never
    # offered.
    assert "sigma:old" not in [s.uid for s in index.similar("elastic:b", 10)]
    twin = index.similar("sigma:old", 1)[0]
    assert (twin.uid, twin.score, twin.jaccard) == ("sigma:a", pytest.approx(1), 1)
    # A rule that checks only event selectors has nothing to compare; unknown rules neither.
    assert index.similar("elastic:e", 10) == []
    assert index.similar("sigma:nope", 10) == []
    assert [s.uid for s in index.similar("sigma:a", 1)] == ["elastic:b"]
    assert index.similar("sigma:a", 0) == []


def test_values_differing_only_in_case_are_one_indicator() -> None:
    rows = [
        _row("elastic:cased", "event.action|eq|ConsoleLogin"),
        _row("sigma:folded", "event.action|eq|consolelogin"),
        _row("splunk:other", "event.action|eq|deletebucket"),
    ]
    index = RuleSimilarityIndex(rows, drop=lambda key: False)
    (found,) = index.similar("elastic:cased", 10)
    assert (found.uid, found.score, found.jaccard) == ("sigma:folded", pytest.approx(1), 1)
    assert found.shared == ("event.action|eq|ConsoleLogin",)


def test_a_list_of_alternatives_weighs_as_one_check() -> None:
    # q looks for one rare process name and any of six parent names; x looks for the same six
    # parents (and something of its own), y for the process name alone. The six OR'd parents
    # are one condition of q, not six: y, which shares q's process, is the closer.
    parents = [f"process.parent.name|eq|p{i}.exe" for i in range(6)]
    rows = [
        _row("sigma:q", "process.name|eq|rare.exe", *parents),
        _row("elastic:x", *parents, "process.args|eq|-x"),
        _row("splunk:y", "process.name|eq|rare.exe"),
        *(_row(f"sigma:filler{i}", f"f|eq|u{i}") for i in range(4)),
    ]
    index = RuleSimilarityIndex(rows, drop=lambda key: False)
    ranked = index.similar("sigma:q", 10)
    assert [s.uid for s in ranked] == ["splunk:y", "elastic:x"]
    # Seven current rules: the process name and each parent are checked by two, -x by one.
    rare, own = math.log(7 / 2), math.log(7 / 1)
    q = math.sqrt(rare**2 + 6 * (rare / math.sqrt(6)) ** 2)
    x = math.sqrt(6 * (rare / math.sqrt(6)) ** 2 + own**2)
    assert ranked[0].score == pytest.approx(rare**2 / (q * rare))
    assert ranked[1].score == pytest.approx(6 * (rare / math.sqrt(6)) ** 2 / (q * x))
    # The plain Jaccard index still counts each value: x shares six of q's seven.
    assert ranked[1].jaccard == pytest.approx(6 / 8)
