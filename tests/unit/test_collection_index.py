"""The log collection index: states, next events and the lazy greedy plan, on small cases."""

from __future__ import annotations

import random

from graph.queries.collection import CollectionIndex


def _rule(vendor: str, events: list[str], techniques: list[str]) -> dict[str, object]:
    return {"uid": f"{vendor}:{len(events)}", "vendor": vendor, "events": events,
            "techniques": techniques}  # fmt: skip


ROWS = [
    _rule("sigma", ["sysmon:1", "security:4688"], ["T1047", "T1059"]),
    _rule("sigma", ["sysmon:1"], ["T1059"]),
    _rule("elastic", ["sysmon:13"], ["T1112"]),
    _rule("elastic", ["sysmon:13", "security:4657"], ["T1112", "T1547.001"]),
    _rule("splunk", ["security:4657"], []),  # tagged with nothing current
    _rule("splunk", ["linux:auditd"], ["T1059.004"]),
]
PLATFORMS = {"sysmon:1": "windows", "security:4688": "Windows", "sysmon:13": "windows",
             "security:4657": "windows", "linux:auditd": "linux"}  # fmt: skip


def test_state_counts_rules_that_can_fire_and_their_techniques() -> None:
    index = CollectionIndex(ROWS, platforms=PLATFORMS)
    assert (index.reachable_rules, index.reachable_techniques) == (6, 5)
    assert index.state([]) == (0, 0)
    # One of a rule's events is enough for it to fire.
    assert index.state(["security:4688"]) == (1, 2)
    assert index.state(["sysmon:1", "security:4688"]) == (2, 2)
    assert index.state(["security:4657", "unknown:1"]) == (2, 2)
    assert index.detected(["security:4657"]) == ["T1112", "T1547.001"]


def test_next_ranks_by_new_techniques_then_rules_and_filters_platform() -> None:
    index = CollectionIndex(ROWS, platforms=PLATFORMS)
    gains = index.next_events(["sysmon:1"], 10)
    # security:4688 lets no new rule fire (its rule fires on sysmon:1): left out.
    assert [(g.event, g.new_techniques, g.new_rules) for g in gains] == [
        ("security:4657", ("T1112", "T1547.001"), 2),
        ("sysmon:13", ("T1112", "T1547.001"), 2),
        ("linux:auditd", ("T1059.004",), 1),
    ]
    assert [g.event for g in index.next_events(["sysmon:1"], 10, "WINDOWS")] == [
        "security:4657",
        "sysmon:13",
    ]
    # Three events add two techniques with two rules each: the first id wins.
    assert [g.event for g in index.next_events([], 1)] == ["security:4657"]


def test_plan_takes_the_best_event_each_step_and_stops_when_nothing_adds() -> None:
    index = CollectionIndex(ROWS, platforms=PLATFORMS)
    plan = index.plan([], 10)
    # security:4657, sysmon:1 and sysmon:13 tie (2 techniques, 2 rules): the first id; then
    # sysmon:13 adds no technique (T1112 is detected already) and sysmon:1 two.
    assert [(g.event, len(g.new_techniques), g.technique_count, g.rule_count) for g in plan] == [
        ("security:4657", 2, 2, 2),
        ("sysmon:1", 2, 4, 4),
        ("linux:auditd", 1, 5, 5),
    ]
    assert [g.event for g in index.plan([], 10, "windows")] == ["security:4657", "sysmon:1"]
    assert [g.event for g in index.plan(["sysmon:1"], 1)] == ["security:4657"]


def test_vendor_filter_keeps_only_their_rules() -> None:
    index = CollectionIndex(ROWS, vendors=("elastic",), platforms=PLATFORMS)
    assert (index.reachable_rules, index.reachable_techniques) == (2, 2)
    assert index.state(["sysmon:1"]) == (0, 0)


def _plain_greedy(index: CollectionIndex, steps: int) -> list[str]:
    """Every event re-scored at every step: what the lazy plan must reproduce."""
    chosen: list[str] = []
    for _ in range(steps):
        gains = index.next_events(chosen, 10_000)
        gains = [g for g in gains if g.new_techniques]
        if not gains:
            break
        chosen.append(gains[0].event)
    return chosen


def test_lazy_plan_equals_plain_greedy_on_random_catalogs() -> None:
    rng = random.Random(20261128)
    for _ in range(200):
        events = [f"e{i}" for i in range(rng.randint(1, 12))]
        techniques = [f"T{i}" for i in range(rng.randint(1, 15))]
        rows = [
            _rule(
                "sigma",
                rng.sample(events, rng.randint(1, min(3, len(events)))),
                rng.sample(techniques, rng.randint(0, min(4, len(techniques)))),
            )
            for _ in range(rng.randint(1, 25))
        ]
        index = CollectionIndex(rows)
        steps = rng.randint(1, 8)
        assert [g.event for g in index.plan([], steps)] == _plain_greedy(index, steps)
