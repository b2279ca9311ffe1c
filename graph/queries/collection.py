"""Log collection planning: what the rules can detect given the events collected, and what to
collect next, in memory.

A rule can fire when at least one of the events it observes is collected (as in
`detectableWith`); a technique is detectable when a current rule tagged with it can fire. From
a set of collected events, each other event's gain is what collecting it too would add: the
current techniques no rule could detect before (then the rules that could not fire before).
The plan repeats that choice, each step taking the event with the largest gain given the steps
before it: the greedy answer to "which k events detect the most techniques", which is within
1 - 1/e of the best k-event choice because coverage is submodular. Gains only shrink as the
collected set grows, so the plan re-scores an event only when it reaches the top of the queue
("lazy greedy") instead of re-scoring every event at every step.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graph.queries.runner import Query

#: Every current rule that observes at least one event, with its events and current techniques.
RULE_EVENTS = Query(
    "rule_events",
    """
MATCH (r:Rule)-[:OBSERVES]->(e:Event)
WHERE NOT r.deprecated
WITH r, collect(e.id) AS events
RETURN r.uid AS uid, r.vendor AS vendor, events,
       [(r)-[:DETECTS]->(t:Technique)
        WHERE NOT coalesce(t.revoked, false) AND NOT coalesce(t.deprecated, false) | t.id]
         AS techniques
""",
)


#: Each catalog event's platform (the log source's product: windows, linux, aws, ...).
EVENT_PLATFORMS = Query(
    "event_platforms",
    """
MATCH (e:Event)
RETURN e.id AS id, e.platform AS platform
""",
)


@dataclass(frozen=True, slots=True)
class Gain:
    """What collecting `event` adds: techniques and rules that could not fire before.

    In a plan, `technique_count` and `rule_count` are the totals once this step is collected.
    """

    event: str
    new_techniques: tuple[str, ...]
    new_rules: int
    technique_count: int = 0
    rule_count: int = 0


@dataclass(frozen=True, slots=True)
class _Rule:
    events: frozenset[str]
    techniques: frozenset[str]


class _State:
    """Rules that can fire and techniques detectable, as events are added."""

    def __init__(self, index: CollectionIndex, events: Iterable[str]) -> None:
        self.index = index
        self.events: set[str] = set()
        self.firing: set[int] = set()
        self.detected: set[str] = set()
        for event in events:
            self.add(event)

    def add(self, event: str) -> None:
        self.events.add(event)
        for rule in self.index.by_event.get(event, ()):
            if rule not in self.firing:
                self.firing.add(rule)
                self.detected |= self.index.rules[rule].techniques

    def gain(self, event: str) -> Gain:
        new_rules = [r for r in self.index.by_event.get(event, ()) if r not in self.firing]
        techniques: set[str] = set()
        for rule in new_rules:
            techniques |= self.index.rules[rule].techniques
        return Gain(event, tuple(sorted(techniques - self.detected)), len(new_rules))


class CollectionIndex:
    """Events -> the current rules observing them -> their current techniques, of some vendors."""

    def __init__(
        self,
        rows: Iterable[Mapping[str, Any]],
        vendors: Sequence[str] | None = None,
        platforms: Mapping[str, str | None] | None = None,
    ):
        #: Event id -> its platform, lower-cased (None: none known).
        self.platforms = {e: p.lower() if p else None for e, p in (platforms or {}).items()}
        self.rules: list[_Rule] = []
        self.by_event: dict[str, list[int]] = {}
        for row in rows:
            if vendors is not None and row["vendor"] not in vendors:
                continue
            rule = _Rule(frozenset(row["events"]), frozenset(row["techniques"]))
            index = len(self.rules)
            self.rules.append(rule)
            for event in rule.events:
                self.by_event.setdefault(event, []).append(index)
        everything = _State(self, self.by_event)
        #: With every event collected: the most these rules can detect.
        self.reachable_rules = len(everything.firing)
        self.reachable_techniques = len(everything.detected)

    def state(self, events: Iterable[str]) -> tuple[int, int]:
        """(rules that can fire, techniques detectable) with these events collected."""
        state = _State(self, events)
        return len(state.firing), len(state.detected)

    def platform_events(self, platform: str) -> list[str]:
        """The events of one platform (any case) that some rule observes."""
        wanted = platform.lower()
        return [e for e in self.by_event if self.platforms.get(e) == wanted]

    def detected(self, events: Iterable[str]) -> list[str]:
        """The techniques detectable with these events, by id."""
        return sorted(_State(self, events).detected)

    def _candidates(self, state: _State, platform: str | None) -> list[str]:
        """Events not collected yet that some rule observes, of `platform` when given."""
        wanted = platform.lower() if platform else None
        return [
            e
            for e in self.by_event
            if e not in state.events and (wanted is None or self.platforms.get(e) == wanted)
        ]

    def next_events(
        self, events: Iterable[str], first: int, platform: str | None = None
    ) -> list[Gain]:
        """The events not collected that add most, each on its own (ties: more rules, then id);
        only events of `platform` (any case) when given."""
        state = _State(self, events)
        gains = (state.gain(e) for e in self._candidates(state, platform))
        ranked = sorted(
            (g for g in gains if g.new_rules),
            key=lambda g: (-len(g.new_techniques), -g.new_rules, g.event),
        )
        return ranked[:first]

    def plan(self, events: Iterable[str], steps: int, platform: str | None = None) -> list[Gain]:
        """Up to `steps` events to collect in turn, each adding the most given the ones before,
        chosen among the events of `platform` when given.

        Stops early when no event adds a technique. Each step carries the running totals.
        """
        state = _State(self, events)
        # Max-heap on (techniques, rules) gained, ties by event id; the scores are upper bounds
        # (gains only shrink) re-checked when an event reaches the top.
        heap = [
            (-len(g.new_techniques), -g.new_rules, g.event)
            for g in (state.gain(e) for e in self._candidates(state, platform))
            if g.new_techniques
        ]
        heapq.heapify(heap)
        chosen: list[Gain] = []
        while heap and len(chosen) < steps:
            _, _, event = heapq.heappop(heap)
            gain = state.gain(event)
            if not gain.new_techniques:
                continue
            entry = (-len(gain.new_techniques), -gain.new_rules, event)
            if heap and entry > heap[0]:
                heapq.heappush(heap, entry)  # no longer the best: back with its true score
                continue
            state.add(event)
            chosen.append(
                Gain(
                    event,
                    gain.new_techniques,
                    gain.new_rules,
                    technique_count=len(state.detected),
                    rule_count=len(state.firing),
                )
            )
        return chosen
