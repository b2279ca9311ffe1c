"""Per-request DataLoaders: every lookup the resolvers make goes through one batched query."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

from api.errors import UnknownTechnique
from graph.queries import attack, catalog, coverage, events, fields, indicator, rules, technique
from graph.queries.collection import EVENT_PLATFORMS, RULE_EVENTS, CollectionIndex
from graph.queries.overlap import INDICATOR_SETS
from graph.queries.rule_similarity import RULE_INDICATOR_SETS, RuleSimilarityIndex
from graph.queries.runner import RequestRunner, Row
from graph.queries.similarity import SimilarityIndex
from graph.selectors import event_selector_params, selector_key

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: (technique id, include sub-techniques, include deprecated rules)
CoverageKey = tuple[str, bool, bool]
#: (technique id, include sub-techniques, vendors or None for all)
AuthoringKey = tuple[str, bool, tuple[str, ...] | None]
#: (Value key, negated)
ReachKey = tuple[str, bool]
#: (field name, operator or None for any, negated)
FieldIndicatorsKey = tuple[str, str | None, bool, int]
#: (Value key, negated, include event selectors)
CheckedWithKey = tuple[str, bool, bool, int]


def _aligned(
    keys: Sequence[K], rows: Iterable[Row], key_of: Callable[[Row], K], value_of: Callable[[Row], V]
) -> dict[K, V]:
    found = {key_of(row): value_of(row) for row in rows}
    return {k: found[k] for k in keys if k in found}


class SharedLoader(DataLoader[K, V]):
    """A DataLoader whose results survive the cancellation of one of the resolvers awaiting them.

    Resolvers asking for the same key share one future. When one field fails (an answer past
    its item budget), graphql-core cancels the fields beside it; a resolver cancelled while
    awaiting the shared future would cancel the future itself, and every other resolver
    awaiting that key, in another part of the answer, would get a CancelledError that is no
    GraphQL error (the request would end in a bare HTTP 500). Each awaiter gets a shield.
    """

    def load(self, key: K) -> Awaitable[V]:
        inner = super().load(key)
        if isinstance(inner, asyncio.Future):
            # Its error is read by the awaiters left; with none left, asyncio would log it.
            inner.add_done_callback(_retrieved)
        return asyncio.shield(inner)


def _retrieved(future: asyncio.Future[object]) -> None:
    if not future.cancelled():
        future.exception()


class Loaders:
    """The DataLoaders of one request, all reading through the request's runner."""

    def __init__(self, runner: RequestRunner) -> None:
        self.runner = runner
        self.technique = SharedLoader(self._techniques)
        self.tactic_techniques = SharedLoader(self._tactic_techniques)
        self.coverage = SharedLoader(self._coverage)
        self.authoring = SharedLoader(self._authoring)
        self.reach = SharedLoader(self._reach)
        self.values_exist = SharedLoader(self._values_exist)
        self.indicator_rules = SharedLoader(self._indicator_rules)
        self.checked_with = SharedLoader(self._checked_with)
        self.rule = SharedLoader(self._rules)
        self.predicates = SharedLoader(self._predicates)
        self.event = SharedLoader(self._events)
        self.event_techniques = SharedLoader(self._event_techniques)
        self.field_exists = SharedLoader(self._field_exists)
        self.field_rule_count = SharedLoader(self._field_rule_counts)
        self.field_aliases = SharedLoader(self._field_aliases)
        self.field_usage = SharedLoader(self._field_usage)
        self.field_indicators = SharedLoader(self._field_indicators)
        self.strategies = SharedLoader(self._strategies)
        self.attack_events = SharedLoader(self._attack_events)
        self.event_attack_techniques = SharedLoader(self._event_attack_techniques)
        self._tactics: asyncio.Task[list[Row]] | None = None
        self._sources: asyncio.Task[list[Row]] | None = None
        self._platforms: asyncio.Task[list[str]] | None = None

    async def _techniques(self, ids: list[str]) -> list[Row | None]:
        if self.runner.access.cache_enabled:
            # Cached per graph version: the whole (small) technique table, read once.
            every = await self.runner.derived("techniques", self._every_technique)
            return [every.get(i) for i in ids]
        rows = await self.runner.read(technique.TECHNIQUES_BY_ID, ids=ids)
        found = _aligned(ids, rows, lambda r: r["technique"]["id"], lambda r: r["technique"])
        return [found.get(i) for i in ids]

    async def _every_technique(self) -> dict[str, Row]:
        rows = await self.runner.read(technique.ALL_TECHNIQUES)
        return {row["technique"]["id"]: row["technique"] for row in rows}

    async def tactics(self) -> list[Row]:
        """Every tactic in kill-chain order (read once per request)."""
        if self._tactics is None:
            self._tactics = asyncio.ensure_future(self._read_tactics())
        return await self._tactics

    async def _read_tactics(self) -> list[Row]:
        return [row["tactic"] for row in await self.runner.read(technique.TACTICS)]

    async def platforms(self) -> list[str]:
        """Every platform ATT&CK's techniques name (read once per request)."""
        if self._platforms is None:
            self._platforms = asyncio.ensure_future(self._read_platforms())
        return await self._platforms

    async def _read_platforms(self) -> list[str]:
        return [str(row["platform"]) for row in await self.runner.read(technique.PLATFORMS)]

    async def _tactic_techniques(self, ids: list[str]) -> list[list[str]]:
        rows = await self.runner.read(technique.TACTIC_TECHNIQUES, ids=ids)
        found = _aligned(ids, rows, lambda r: r["id"], lambda r: list(r["techniques"]))
        return [found.get(i, []) for i in ids]

    async def _coverage(self, keys: list[CoverageKey]) -> list[Row | None]:
        params = [{"id": i, "subs": s, "deprecated": d} for i, s, d in keys]
        rows = await self.runner.read(coverage.COVERAGE, keys=params)
        found = _aligned(keys, rows, lambda r: (r["id"], r["subs"], r["deprecated"]), dict)
        return [found.get(k) for k in keys]

    async def _authoring(self, keys: list[AuthoringKey]) -> list[Row | None]:
        # One statement per vendor selection (a request seldom has more than one).
        by_vendors: dict[tuple[str, ...] | None, list[AuthoringKey]] = {}
        for key in keys:
            by_vendors.setdefault(key[2], []).append(key)
        found: dict[AuthoringKey, Row] = {}
        for vendors, group in by_vendors.items():
            rows = await self.runner.read(
                coverage.AUTHORING,
                keys=[{"id": i, "subs": s} for i, s, _ in group],
                vendors=list(vendors) if vendors is not None else None,
            )
            for row in rows:
                found[(row["id"], row["subs"], vendors)] = row
        return [found.get(k) for k in keys]

    # Rules, events and indicators' reach recur from page to page: each is read once per graph
    # version (RequestRunner.each), so a page reads only what no earlier page did.
    async def _reach(self, keys: list[ReachKey]) -> list[int]:
        return await self.runner.each("reach", keys, self._read_reach)

    async def _read_reach(self, keys: list[ReachKey]) -> list[int]:
        rows = await self.runner.read(
            coverage.CORPUS_REACH, checks=[{"key": k, "negated": n} for k, n in keys]
        )
        found = _aligned(keys, rows, lambda r: (r["key"], r["negated"]), lambda r: int(r["reach"]))
        return [found.get(k, 0) for k in keys]

    async def _values_exist(self, keys: list[str]) -> list[bool]:
        rows = await self.runner.read(indicator.VALUES_EXIST, keys=keys)
        known = {row["key"] for row in rows}
        return [key in known for key in keys]

    async def _indicator_rules(self, keys: list[str]) -> list[list[Row]]:
        rows = await self.runner.read(indicator.INDICATOR_RULES, keys=keys)
        found = _aligned(keys, rows, lambda r: r["key"], lambda r: list(r["rules"]))
        return [found.get(k, []) for k in keys]

    async def _checked_with(self, keys: list[CheckedWithKey]) -> list[tuple[list[Row], int]]:
        # The leading rows the keys' windows need (`rows_needed`), sliced by the resolver;
        # one statement per choice of event selectors.
        found: dict[tuple[str, bool, bool], tuple[list[Row], int]] = {}
        for include in sorted({k[2] for k in keys}):
            group = [k for k in keys if k[2] == include]
            rows = await self.runner.read(
                indicator.CHECKED_WITH,
                checks=[{"key": k, "negated": n} for k, n, _, _ in group],
                include_selectors=include,
                limit=max(k[3] for k in group),
                **event_selector_params(),
            )
            for row in rows:
                found[(row["key"], row["negated"], include)] = (list(row["rows"]), row["total"])
        return [found.get(k[:3], ([], 0)) for k in keys]

    async def _rules(self, uids: list[str]) -> list[Row | None]:
        return await self.runner.each("rule row", uids, self._read_rules)

    async def _read_rules(self, uids: list[str]) -> list[Row | None]:
        rows = await self.runner.read(rules.RULES_BY_UID, uids=uids)
        found = _aligned(uids, rows, lambda r: r["rule"]["uid"], dict)
        return [found.get(u) for u in uids]

    async def _predicates(self, uids: list[str]) -> list[list[Row]]:
        rows = await self.runner.read(rules.PREDICATES_BY_RULE, uids=uids)
        found = _aligned(uids, rows, lambda r: r["uid"], lambda r: list(r["predicates"]))
        return [found.get(u, []) for u in uids]

    async def _events(self, ids: list[str]) -> list[Row | None]:
        return await self.runner.each("event row", ids, self._read_events)

    async def _read_events(self, ids: list[str]) -> list[Row | None]:
        rows = await self.runner.read(events.EVENTS_BY_ID, ids=ids)
        found = _aligned(ids, rows, lambda r: r["event"]["id"], lambda r: r["event"])
        return [found.get(i) for i in ids]

    async def _event_techniques(self, ids: list[str]) -> list[list[Row]]:
        rows = await self.runner.read(events.EVENT_TECHNIQUES, ids=ids)
        found = _aligned(ids, rows, lambda r: r["id"], lambda r: list(r["techniques"]))
        return [found.get(i, []) for i in ids]

    async def _field_exists(self, names: list[str]) -> list[bool]:
        rows = await self.runner.read(fields.FIELDS_EXIST, names=names)
        known = {row["name"] for row in rows}
        return [name in known for name in names]

    async def _field_rule_counts(self, names: list[str]) -> list[int]:
        rows = await self.runner.read(fields.FIELD_RULE_COUNTS, names=names)
        found = _aligned(names, rows, lambda r: r["name"], lambda r: int(r["rules"]))
        return [found.get(n, 0) for n in names]

    async def _field_aliases(self, names: list[str]) -> list[list[Row]]:
        rows = await self.runner.read(fields.FIELD_ALIASES, names=names)
        found = _aligned(names, rows, lambda r: r["name"], lambda r: list(r["aliases"]))
        return [found.get(n, []) for n in names]

    async def _field_usage(self, names: list[str]) -> list[Row]:
        rows = await self.runner.read(fields.FIELD_USAGE, names=names)
        found = _aligned(names, rows, lambda r: r["name"], dict)
        return [found.get(n, {"vendors": [], "operators": []}) for n in names]

    async def _field_indicators(
        self, keys: list[FieldIndicatorsKey]
    ) -> list[tuple[list[Row], int]]:
        # The leading rows the keys' windows need (`rows_needed`), sliced by the resolver, and
        # the whole count.
        rows = await self.runner.read(
            fields.FIELD_INDICATORS,
            keys=[{"name": n, "operator": o, "negated": g} for n, o, g, _ in keys],
            limit=max(k[3] for k in keys),
        )
        found = {
            (r["name"], r["operator"], r["negated"]): (list(r["rows"]), int(r["total"]))
            for r in rows
        }
        return [found.get(k[:3], ([], 0)) for k in keys]

    async def _strategies(self, ids: list[str]) -> list[list[Row]]:
        rows = await self.runner.read(attack.STRATEGIES, ids=ids)
        found = _aligned(ids, rows, lambda r: r["id"], lambda r: list(r["strategies"]))
        return [found.get(i, []) for i in ids]

    async def _attack_events(self, keys: list[tuple[str, bool]]) -> list[list[Row]]:
        rows = await self.runner.read(
            attack.ATTACK_EVENTS, keys=[{"id": i, "subs": s} for i, s in keys]
        )
        found = _aligned(keys, rows, lambda r: (r["id"], r["subs"]), lambda r: list(r["events"]))
        return [found.get(k, []) for k in keys]

    async def _event_attack_techniques(self, ids: list[str]) -> list[list[Row]]:
        rows = await self.runner.read(attack.EVENT_ATTACK_TECHNIQUES, ids=ids)
        found = _aligned(ids, rows, lambda r: r["id"], lambda r: list(r["techniques"]))
        return [found.get(i, []) for i in ids]

    async def sources(self) -> list[Row]:
        """The Source nodes (read once per request)."""
        if self._sources is None:
            self._sources = asyncio.ensure_future(self._read_sources())
        return await self._sources

    async def _read_sources(self) -> list[Row]:
        return [row["source"] for row in await self.runner.read(catalog.SOURCES)]

    async def similarity(
        self, include_event_selectors: bool = True, include_subtechniques: bool = False
    ) -> SimilarityIndex:
        """The in-memory indicator-set index, built once per graph version.

        Both variants, with and without event selectors, come from one read of the sets; the
        rolled-up ones (each technique with its current sub-techniques) are built when first
        asked for.
        """

        async def build() -> dict[bool, SimilarityIndex]:
            rows = await self.runner.read(INDICATOR_SETS)
            parents = await self._current_parents() if include_subtechniques else None
            return {
                True: SimilarityIndex.from_rows(rows, parents=parents),
                False: SimilarityIndex.from_rows(rows, drop=selector_key, parents=parents),
            }

        name = "similarity-rolled-up" if include_subtechniques else "similarity"
        indexes: dict[bool, SimilarityIndex] = await self.runner.derived(name, build)
        return indexes[include_event_selectors]

    async def rule_similarity(self) -> RuleSimilarityIndex:
        """The rules' weighted indicator-set index (event selectors aside), once per version."""

        async def build() -> RuleSimilarityIndex:
            rows = await self.runner.read(RULE_INDICATOR_SETS)
            return RuleSimilarityIndex(rows, drop=selector_key)

        index: RuleSimilarityIndex = await self.runner.derived("rule-similarity", build)
        return index

    async def collection(self, vendors: tuple[str, ...] | None) -> CollectionIndex:
        """Events -> current rules -> current techniques, of these vendors, once per version."""

        async def read() -> tuple[list[Row], dict[str, str | None]]:
            rows = await self.runner.read(RULE_EVENTS)
            platforms = {r["id"]: r["platform"] for r in await self.runner.read(EVENT_PLATFORMS)}
            return rows, platforms

        async def build() -> CollectionIndex:
            rows, platforms = await self.runner.derived("rule-events", read)
            return CollectionIndex(rows, vendors, platforms)

        name = f"collection:{','.join(vendors) if vendors is not None else '*'}"
        index: CollectionIndex = await self.runner.derived(name, build)
        return index

    async def _current_parents(self) -> dict[str, str]:
        """Current sub-technique -> its technique (revoked and deprecated ones never roll up)."""
        every = await self._every_technique()
        return {
            tid: str(row["parent"])
            for tid, row in every.items()
            if row.get("parent") and not row.get("revoked") and not row.get("deprecated")
        }

    async def warm(self) -> None:
        """Build the per-version artefacts (technique table, similarity indexes of techniques and
        of rules, the log collection index) ahead of requests."""
        if self.runner.access.cache_enabled:
            await self.runner.derived("techniques", self._every_technique)
            await self.similarity()
            await self.rule_similarity()
            await self.collection(None)

    async def require_techniques(self, ids: Sequence[str]) -> list[Row]:
        """The techniques with these ids; UnknownTechnique names any that do not exist."""
        found = await self.technique.load_many(list(ids))
        missing = [i for i, row in zip(ids, found, strict=True) if row is None]
        if missing:
            raise UnknownTechnique(missing)
        return [row for row in found if row is not None]
