"""Techniques ranked by Jaccard similarity of their non-negated indicator sets, in memory.

One query reads every current rule's techniques and indicators (`overlap.INDICATOR_SETS`), united
here into each technique's indicator set; an inverted index (indicator -> techniques) then finds,
for one technique, every technique sharing at least one indicator and the size of the
intersection without comparing against all the others.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Similar:
    """One technique's similarity to the one asked about."""

    technique: str
    jaccard: float
    shared: int


class SimilarityIndex:
    """Indicator sets per technique and the inverted index over them."""

    def __init__(self, sets: Mapping[str, Iterable[str]], retired: Iterable[str] = ()) -> None:
        numbers: dict[str, int] = {}
        self._sets: dict[str, frozenset[int]] = {
            tid: frozenset(numbers.setdefault(key, len(numbers)) for key in keys)
            for tid, keys in sets.items()
        }
        retired_ids = set(retired)
        postings: dict[int, list[str]] = {}
        for tid, values in self._sets.items():
            if tid in retired_ids:
                continue  # revoked or deprecated techniques are never offered as similar
            for value in values:
                postings.setdefault(value, []).append(tid)
        self._postings = postings
        self._sizes = {tid: len(values) for tid, values in self._sets.items()}

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[Mapping[str, Any]],
        drop: Callable[[str], bool] | None = None,
        parents: Mapping[str, str] | None = None,
    ) -> SimilarityIndex:
        """From INDICATOR_SETS rows, one per rule: {techniques: [[id, retired]], values}.

        `drop` leaves out the Value keys it is true for (the API's event selectors). `parents`
        (current sub-technique -> its technique) rolls each sub-technique's indicators up into
        its parent's set as well; sub-techniques keep their own sets.
        """
        sets: dict[str, set[str]] = {}
        retired: set[str] = set()
        parents = parents or {}
        for row in rows:
            values = [str(v) for v in row["values"] if drop is None or not drop(str(v))]
            for technique, is_retired in row["techniques"]:
                tid = str(technique)
                sets.setdefault(tid, set()).update(values)
                if is_retired:
                    retired.add(tid)
                if tid in parents:
                    sets.setdefault(parents[tid], set()).update(values)
        return cls(sets, retired)

    def size(self, technique: str) -> int:
        """How many distinct non-negated indicators the technique's rules check."""
        return len(self._sets.get(technique, ()))

    def similar(self, technique: str, first: int, leave_out: Iterable[str] = ()) -> list[Similar]:
        """The `first` techniques most similar to `technique`: Jaccard, then shared, then id.

        Techniques in `leave_out` are not offered (with roll-up, the technique's own family).
        """
        mine = self._sets.get(technique)
        if not mine:
            return []
        shared: Counter[str] = Counter()
        for value in mine:
            shared.update(self._postings.get(value, ()))
        shared.pop(technique, None)
        for other in leave_out:
            shared.pop(other, None)
        size = len(mine)
        sizes = self._sizes
        # Plain tuples ordered as the answer is; objects only for the `first` kept.
        best = heapq.nsmallest(
            first,
            ((-n / (size + sizes[other] - n), -n, other) for other, n in shared.items()),
        )
        return [Similar(other, -jaccard, -n) for jaccard, n, other in best]
