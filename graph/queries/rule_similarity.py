"""Rules ranked by how much of what they look for they share, weighted by rarity, in memory.

Two rules that both look for `process.name eq powershell.exe` (300 rules do) say little about
each other; two that both look for `process.name eq mofcomp.exe` (a handful do) say a lot. Each
indicator weighs its inverse document frequency, idf = log(N / rules checking it), N being the
current rules that look for at least one indicator, and two rules' similarity is the cosine of
their indicator vectors: the sum, over the indicators both check, of the product of their
weights in each rule, divided by the product of the vectors' lengths. In a rule an indicator
weighs its idf divided by the square root of how many values the rule checks with the same
field and operator: those are mostly alternatives (six parent names OR'd), one condition rather
than six. Event selectors are left out (they say which events a rule reads). An inverted index
(indicator -> current rules) finds every rule sharing at least one indicator without comparing
against all the others.

Chosen on 13 pairs of rules known to be each other's equivalents across the catalogs (mofcomp,
shadow copy deletion, bitsadmin downloads, mshta child processes), ranking the other catalog's
rules for each: this scheme ranked the equivalent first for 8 and in the first three for 12;
the plain Jaccard index 6 and 9, the idf-weighted one 7 and 8, idf cosine without the
alternatives' discount 7 and 9, dividing by their number instead of its root 7 and 11.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graph.queries.runner import Query

#: Every rule with a non-negated check: its uid, vendor, whether it is deprecated, its Value keys.
RULE_INDICATOR_SETS = Query(
    "rule_indicator_sets",
    """
MATCH (r:Rule)
WITH r, [(r)-[c:CHECKS]->(v:Value) WHERE NOT c.negated | v.key] AS values
WHERE size(values) > 0
RETURN r.uid AS uid, r.vendor AS vendor, r.deprecated AS deprecated, values
""",
)


def _group(key: str) -> str:
    """The `field|operator` of a Value key."""
    field, operator, _ = key.split("|", 2)
    return f"{field}|{operator}"


def _folded(key: str) -> str:
    """The Value key with its value lower-cased: a case-sensitive check (EQL `==`, Elastic's
    `event.action == "ConsoleLogin"`) looks for the same thing as a case-insensitive one of the
    same text (Sigma's `eventName: ConsoleLogin`, stored `consolelogin`), which is what rules
    equivalent across catalogs share; the graph keeps them apart as checks."""
    field, operator, value = key.split("|", 2)  # fields and operators never hold `|`
    return f"{field}|{operator}|{value.lower()}"


@dataclass(frozen=True, slots=True)
class SimilarRule:
    """One rule's similarity to the one asked about."""

    uid: str
    #: Cosine of the two idf-weighted indicator vectors.
    score: float
    #: Plain Jaccard index of the two sets.
    jaccard: float
    #: The Value keys both check, rarest first.
    shared: tuple[str, ...]


class RuleSimilarityIndex:
    """Indicator sets per rule, their weights, and the inverted index of current rules."""

    def __init__(self, rows: Iterable[Mapping[str, Any]], drop: Callable[[str], bool]) -> None:
        self._keys: list[str] = []
        #: Per value number, its `field|operator`.
        self._group: list[str] = []
        numbers: dict[str, int] = {}
        self._sets: dict[str, frozenset[int]] = {}
        self._vendor: dict[str, str] = {}
        postings: dict[int, list[str]] = {}
        for row in rows:
            uid = str(row["uid"])
            values = set()
            for raw in row["values"]:
                key = str(raw)
                if drop(key):
                    continue
                folded = _folded(key)
                if folded not in numbers:
                    numbers[folded] = len(self._keys)
                    self._keys.append(key)  # the first spelling seen stands for the others
                    self._group.append(_group(key))
                values.add(numbers[folded])
            if not values:
                continue
            self._sets[uid] = frozenset(values)
            self._vendor[uid] = str(row["vendor"])
            if not row["deprecated"]:  # deprecated rules are never offered as similar
                for value in values:
                    postings.setdefault(value, []).append(uid)
        self._postings = postings
        current = len({uid for uids in postings.values() for uid in uids}) or 1
        # A value only deprecated rules check weighs as one current rule's would.
        self._weights = [
            math.log(current / max(1, len(postings.get(n, ())))) for n in range(len(self._keys))
        ]
        # A rule's values on one field and operator are mostly alternatives (six parent names
        # OR'd): each weighs its idf over the square root of their number, so a list of common
        # parents does not outweigh the one rare process name beside it.
        self._vectors: dict[str, dict[int, float]] = {}
        for uid, checked in self._sets.items():
            alternatives = Counter(self._group[v] for v in checked)
            self._vectors[uid] = {
                v: self._weights[v] / math.sqrt(alternatives[self._group[v]]) for v in checked
            }
        self._norm = {
            uid: math.sqrt(sum(w * w for w in vector.values()))
            for uid, vector in self._vectors.items()
        }

    def size(self, uid: str) -> int:
        """How many distinct non-negated indicators (event selectors aside) the rule checks."""
        return len(self._sets.get(uid, ()))

    def similar(
        self, uid: str, first: int, vendors: Iterable[str] | None = None
    ) -> list[SimilarRule]:
        """The `first` current rules most similar to `uid` (of `vendors` when given): by
        cosine, then plain Jaccard, then uid."""
        mine = self._sets.get(uid)
        if not mine or first <= 0:
            return []
        allowed = None if vendors is None else set(vendors)
        shared: dict[str, list[int]] = {}
        for value in mine:
            for other in self._postings.get(value, ()):
                if other != uid and (allowed is None or self._vendor[other] in allowed):
                    shared.setdefault(other, []).append(value)
        norm = self._norm[uid]
        vector = self._vectors[uid]
        size = len(mine)
        ranked = []
        for other, values in shared.items():
            lengths = norm * self._norm[other]
            theirs = self._vectors[other]
            common = sum(vector[v] * theirs[v] for v in values)
            score = common / lengths if lengths > 0 else 0.0
            jaccard = len(values) / (size + len(self._sets[other]) - len(values))
            ranked.append((-score, -jaccard, other))
        best = heapq.nsmallest(first, ranked)
        return [
            SimilarRule(
                uid=other,
                score=-score,
                jaccard=-jaccard,
                shared=tuple(
                    self._keys[v]
                    for v in sorted(shared[other], key=lambda v: (-self._weights[v], self._keys[v]))
                ),
            )
            for score, jaccard, other in best
        ]
