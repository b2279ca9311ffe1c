"""Detection rules, their predicates, and the rule connection."""

from functools import partial
from typing import Any, cast
from urllib.parse import quote

import strawberry
from strawberry.scalars import JSON

from api.context import Info, resolver
from api.pagination import capped, encode_cursor
from api.types.connection import PageInfo
from api.types.event import Event, load_events
from api.types.field import Field
from api.types.technique import Technique, load_techniques
from api.types.vendor import Vendor

# Rule node properties shown as their own GraphQL fields; the rest are vendor extras.
_CORE = frozenset(
    {
        "uid", "vendor", "native_id", "title", "description", "level", "status", "deprecated",
        "collection", "path", "author", "date", "modified", "references", "falsepositives",
        "tags", "rule_type", "language", "query", "parse_status", "predicate_count",
    }
)  # fmt: skip


def source_url(repository: str | None, commit: str | None, path: str | None) -> str | None:
    """Link to the rule file upstream at the loaded commit, when the source says where."""
    if not repository or not commit or not path:
        return None
    repo = repository.strip().removesuffix("/").removesuffix(".git")
    if repo.startswith(("https://", "http://")):
        base = repo
    elif repo.count("/") == 1:
        base = f"https://github.com/{repo}"
    else:
        return None
    return f"{base}/blob/{quote(commit)}/{quote(path.removeprefix('./'))}"


@strawberry.type(description="One check a rule makes.")
class Predicate:
    field: Field = strawberry.field(
        description="Canonical field; `*` for a keyword search that names no field (as in the "
        "authoring guide)."
    )
    vendor_field: str | None = strawberry.field(description="The field as the rule wrote it.")
    operator: str
    value: str | None = strawberry.field(description="Normalised value (the Value node's).")
    raw_value: str | None = strawberry.field(description="The value as the rule wrote it.")
    negated: bool = strawberry.field(description="True when the rule excludes what matches.")
    case_sensitive: bool = strawberry.field(
        description="True when the rule compares with case (EQL `==`, Sigma `|cased`...): "
        "`value` then keeps the case written; case-insensitive values are lower-cased."
    )


@strawberry.type(description="A detection rule from Sigma, Elastic or Splunk.")
class Rule:
    uid: str = strawberry.field(description="`<vendor>:<native id>`.")
    vendor: Vendor
    native_id: str
    title: str
    description: str | None
    severity: str | None
    status: str | None
    deprecated: bool
    rule_type: str | None
    language: str | None
    query: str | None
    source_path: str = strawberry.field(description="Path of the rule file in its repository.")
    source_url: str | None = strawberry.field(
        description="The rule file upstream, at the loaded commit."
    )
    collection: str | None = strawberry.field(description="Top folder the rule was read from.")
    author: str | None
    date: str | None
    modified: str | None
    references: list[str]
    false_positives: list[str]
    tags: list[str]
    parse_status: str | None = strawberry.field(
        description="ok, partial, failed or no_query: how much of the detection was read."
    )
    vendor_properties: JSON = strawberry.field(
        description="Vendor-specific properties (log source, risk score, index...)."
    )
    technique_ids: strawberry.Private[list[str]]
    event_ids: strawberry.Private[list[str]]
    #: Checks the loader read (before duplicates were merged): what `predicates` will cost.
    predicate_count: strawberry.Private[int] = 0

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Rule":
        r = row["rule"]
        return cls(
            uid=r["uid"],
            vendor=Vendor(r["vendor"]),
            native_id=str(r.get("native_id") or r["uid"]),
            title=r.get("title") or r["uid"],
            description=r.get("description"),
            severity=r.get("level"),
            status=r.get("status"),
            deprecated=bool(r.get("deprecated")),
            rule_type=r.get("rule_type"),
            language=r.get("language"),
            query=r.get("query"),
            source_path=r.get("path") or "",
            source_url=source_url(row.get("repository"), row.get("commit"), r.get("path")),
            collection=r.get("collection"),
            author=r.get("author"),
            date=r.get("date"),
            modified=r.get("modified"),
            references=list(r.get("references") or []),
            false_positives=list(r.get("falsepositives") or []),
            tags=list(r.get("tags") or []),
            parse_status=r.get("parse_status"),
            vendor_properties=cast(JSON, {k: v for k, v in sorted(r.items()) if k not in _CORE}),
            technique_ids=sorted(row.get("techniques") or []),
            event_ids=sorted(row.get("events") or []),
            predicate_count=int(r.get("predicate_count") or 0),
        )

    @resolver("The techniques it is tagged with.")
    async def techniques(self, info: Info) -> list[Technique]:
        return await load_techniques(info, self.technique_ids)

    @resolver("The catalog events it needs (any one of them suffices).")
    async def events(self, info: Info) -> list[Event]:
        return await load_events(info, self.event_ids)

    @resolver(
        "Current rules that look for the most of what this one looks for, rarest indicators "
        "weighing most (see RuleSimilarity.score), best first; only rules of `vendors` when "
        "given (the other vendors' rules: its equivalents elsewhere). Rules that share no "
        "indicator are not listed; a rule that only checks event selectors has none."
    )
    async def similar_rules(
        self, info: Info, first: int | None = 10, vendors: list[Vendor] | None = None
    ) -> list["RuleSimilarity"]:
        index = await info.context.loaders.rule_similarity()
        chosen = None if vendors is None else [v.value for v in vendors]
        found = index.similar(self.uid, capped(first, 10), chosen)
        info.context.spend(len(found))
        return [
            RuleSimilarity(uid=s.uid, score=s.score, jaccard=s.jaccard, shared_keys=s.shared)
            for s in found
        ]

    @resolver("Every check it makes, exclusions last.")
    async def predicates(self, info: Info) -> list[Predicate]:
        # Counted before the read, so an answer past the budget stops before its largest part.
        info.context.spend(self.predicate_count)
        rows = await info.context.loaders.predicates.load(self.uid)
        return [
            Predicate(
                field=Field(name=p["field"]),
                vendor_field=p.get("vendor_field"),
                operator=p["operator"],
                value=p.get("value"),
                raw_value=p.get("raw_value"),
                negated=bool(p.get("negated")),
                case_sensitive=bool(p.get("case_sensitive")),
            )
            for p in rows
        ]


@strawberry.type(description="A rule and how much of what it looks for another rule shares.")
class RuleSimilarity:
    uid: strawberry.Private[str]
    score: float = strawberry.field(
        description="Cosine similarity of the two rules' non-negated indicators (event "
        "selectors aside), each indicator weighing its idf, log(N / current rules checking it), "
        "N the current rules that look for at least one indicator, over the square root of how "
        "many values the rule checks with the same field and operator (alternatives): shared "
        "rare indicators count, shared common ones hardly. 1 is the same set, 0 nothing shared."
    )
    jaccard: float = strawberry.field(description="Plain Jaccard index of the same sets.")
    shared_keys: strawberry.Private[tuple[str, ...]]

    @resolver()
    async def rule(self, info: Info) -> Rule:
        (found,) = await load_rules(info, [self.uid])
        return found

    @resolver("How many indicators both rules look for.")
    def shared_indicators(self) -> int:
        return len(self.shared_keys)

    @resolver("The indicators both rules look for, rarest (most telling) first.")
    def shared(self, info: Info, first: int | None = 10) -> list[Predicate]:
        keys = self.shared_keys[: capped(first, 10)]
        info.context.spend(len(keys))
        return [_check(key) for key in keys]


def _check(key: str) -> Predicate:
    """A Value key as a check of no rule in particular (no vendor field, not negated).

    Case-insensitive checks store their values lower-cased, so a value with a capital letter
    comes from case-sensitive checks; an all-lower-case one is taken as insensitive.
    """
    field, operator, value = key.split("|", 2)  # fields and operators never hold `|`
    return Predicate(
        field=Field(name=field),
        vendor_field=None,
        operator=operator,
        value=value,
        raw_value=None,
        negated=False,
        case_sensitive=value != value.lower(),
    )


@strawberry.type
class RuleEdge:
    node: Rule
    cursor: str


@strawberry.type(description="A page of rules (Relay connection).")
class RuleConnection:
    edges: list[RuleEdge]
    page_info: PageInfo
    total_count: int

    @resolver("The page's rules without their edges.")
    def nodes(self) -> list[Rule]:
        return [edge.node for edge in self.edges]


def rule_edges(rules: list[Rule], skip: int) -> list[RuleEdge]:
    """Edges with the cursors of their offsets."""
    return [RuleEdge(node=r, cursor=encode_cursor(skip + i)) for i, r in enumerate(rules)]


async def load_rules(info: Info, uids: list[str]) -> list[Rule]:
    """Rules by uid through the request's loader, in the given order, unknown uids skipped.

    Each rule object is built once per graph version and shared (see RequestRunner.memo).
    """
    rows = await info.context.loaders.rule.load_many(uids)
    memo = info.context.runner.memo
    return [
        memo(("rule", row["rule"]["uid"]), partial(Rule.from_row, row))
        for row in rows
        if row is not None
    ]
