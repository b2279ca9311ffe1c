"""The in-memory Jaccard ranking behind similarTechniques, on hand-made rule rows."""

from __future__ import annotations

import pytest

from graph.queries.similarity import SimilarityIndex


def _rows() -> list[dict[str, object]]:
    # One row per rule, as INDICATOR_SETS returns them: [technique id, retired] pairs and keys.
    return [
        {"techniques": [["T1", False]], "values": ["a", "b", "c"]},
        {"techniques": [["T1", False], ["T2", False]], "values": ["d"]},
        {"techniques": [["T2", False]], "values": ["a", "e"]},
        {"techniques": [["T3", False]], "values": ["a", "b", "c", "d", "x", "y"]},
        {"techniques": [["T4", True]], "values": ["a", "b", "c", "d"]},
        {"techniques": [["T5", False]], "values": ["z"]},
    ]


def test_rules_are_united_per_technique() -> None:
    index = SimilarityIndex.from_rows(_rows())
    assert (index.size("T1"), index.size("T2"), index.size("T3")) == (4, 3, 6)
    assert index.size("T9") == 0


def test_ranked_by_jaccard_then_shared_and_retired_never_offered() -> None:
    index = SimilarityIndex.from_rows(_rows())
    ranked = index.similar("T1", 10)
    # T1 = {a,b,c,d}; T3 shares 4 of 6 (4/6), T2 shares a and d of {a,d,e} (2/5); T4 is
    # identical but revoked or deprecated; T5 shares nothing.
    assert [(s.technique, s.shared) for s in ranked] == [("T3", 4), ("T2", 2)]
    assert ranked[0].jaccard == pytest.approx(4 / 6)
    assert ranked[1].jaccard == pytest.approx(2 / 5)
    assert [s.technique for s in index.similar("T1", 1)] == ["T3"]


def test_a_retired_technique_is_still_compared_with_current_ones() -> None:
    index = SimilarityIndex.from_rows(_rows())
    assert [s.technique for s in index.similar("T4", 10)] == ["T1", "T3", "T2"]
    assert index.similar("T9", 10) == []


def test_sub_techniques_rolled_up_into_their_parent() -> None:
    rows = [
        {"techniques": [["T1.001", False]], "values": ["a", "b"]},
        {"techniques": [["T1.002", False]], "values": ["c"]},
        {"techniques": [["T1.003", True]], "values": ["z"]},  # retired: never rolled up
        {"techniques": [["T2", False]], "values": ["a", "b", "c"]},
    ]
    flat = SimilarityIndex.from_rows(rows)
    assert flat.size("T1") == 0
    assert flat.similar("T1", 10) == []
    rolled = SimilarityIndex.from_rows(rows, parents={"T1.001": "T1", "T1.002": "T1"})
    assert (rolled.size("T1"), rolled.size("T1.001"), rolled.size("T1.002")) == (3, 2, 1)
    # T1's own sub-techniques are subsets of it: left out when asked, T2 (identical) stays.
    ranked = rolled.similar("T1", 10, leave_out=["T1.001", "T1.002"])
    assert [(s.technique, s.shared, s.jaccard) for s in ranked] == [("T2", 3, 1.0)]
    assert [s.technique for s in rolled.similar("T1", 10)] == ["T2", "T1.001", "T1.002"]
