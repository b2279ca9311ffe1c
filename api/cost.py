"""A static cost limit: documents that may return too many objects are refused before they run.

In the spirit of GitHub's node limit, the estimate is the number of objects (values of object
type) a document can return: every field of object type counts once per parent object, and a
list multiplies what is below it by its size. A list's size is its `first` argument when it has
one (the value asked, or the argument's default, capped at MAX_FIRST as the resolvers cap it); a
connection's `first` sizes its `edges` and `nodes`; `indicatorOverlap`'s `ruleCountByTechnique`
has one entry per id asked; any other list counts as its fixed estimate in LIST_ESTIMATES
(rounded-up corpus averages), else DEFAULT_LIST_ESTIMATE. Scalars cost nothing, except the
Navigator layer (a JSON scalar), which counts its techniques and links. Fields are grouped by
response key as execution groups them: aliases add up, while the same key asked twice (again,
or through two fragments) counts once with its sub-selections merged, and selections @skip or
@include drop are not counted. Introspection (`__schema`, `__type`) is free, being bounded by
the schema. A document over MAX_COST gets QUERY_TOO_COSTLY and no data.

The estimate is checked at execution (after validation, with the request's variables), so a
`first` passed as a variable counts as given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    Undefined,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_variable_values,
)
from strawberry.extensions import SchemaExtension

from api.errors import QueryTooCostly
from api.pagination import MAX_FIRST, MAX_LINKS

#: The most objects a document may be estimated to return. The web's technique page costs about 840,
#: a page of 50 techniques with coverage and rules about 7,700, the coverage matrix about 5,600
#: and the Navigator layer with 25 links per technique about 14,300; fetching every rule's
#: predicates for 200 techniques (12.8 s, 12.7 MB) about 360,000.
MAX_COST = 50_000

#: Size assumed for a list without `first` when no estimate below names it.
DEFAULT_LIST_ESTIMATE = 10

#: Sizes of lists that take no `first`: rounded-up averages over the corpus (ATT&CK v18,
#: SigmaHQ + Elastic + Splunk, about 7,900 rules).
LIST_ESTIMATES: Mapping[str, int] = {
    "Query.tactics": 14,  # ATT&CK enterprise tactics
    "Query.coverageMatrix": 14,
    "Query.detectableWith": 300,  # sysmon:1 alone gives about 320
    "Tactic.techniques": 80,  # 78 on average, 262 at most
    "TacticCoverage.techniques": 80,
    "Technique.tactics": 2,  # 1.3 on average
    "Technique.subtechniques": 2,  # 0.6 on average, 2 at the 90th percentile
    "Coverage.events": 10,  # 9.3 distinct events per covered technique
    "Coverage.eventUsage": 10,
    "Coverage.byVendor": 3,  # always the three vendors
    "Technique.detectionStrategies": 1,  # ATT&CK v18: one per current technique
    "DetectionStrategy.analytics": 3,  # 2.5 on average, 9 at most
    "Analytic.events": 2,  # 1.5 on average
    "Analytic.dataComponents": 3,  # 2.4 on average
    "Technique.attackEvents": 5,  # 4.5 on average, 8 at the 90th percentile
    "VendorRules.rules": 15,  # 12.5 rules per (technique, vendor)
    "Rule.techniques": 2,  # 1.8 on average
    "Rule.events": 2,  # 1.5 on average
    "Rule.predicates": 15,  # 12.7 on average
    "Field.aliases": 5,
    "FieldUsage.operators": 4,
    "FieldUsage.byVendor": 3,  # always the three vendors
    "IndicatorUsage.byVendor": 3,
    "Indicator.byVendor": 3,
    "AuthoringGuide.vendorAgreement": 7,  # every non-empty set of the three vendors
    "Field.byVendor": 3,
    "Field.operators": 4,  # as FieldUsage.operators; 11 operators exist
    "MatrixCell.byVendor": 3,
    "Catalog.sources": 4,
    "Collection.plan": 50,  # `steps`, at most 50 (api.types.collection.MAX_STEPS)
    "Collection.events": 100,  # the ids given, at most 500; inventories are mostly shorter
}

#: Covered techniques a Navigator layer scores (about 530 in the corpus), for its estimate.
LAYER_TECHNIQUES = 550


def _first(field: GraphQLField, args: Mapping[str, Any]) -> int:
    """The size a `first` argument asks for: as given, else its default, capped like the API."""
    value = args.get("first")
    if value is None:
        default = field.args["first"].default_value
        value = DEFAULT_LIST_ESTIMATE if default in (None, Undefined) else default
    return max(0, min(int(value), MAX_FIRST))


def _leaf_cost(key: str, args: Mapping[str, Any]) -> int:
    if key == "Query.navigatorLayer":
        links = args.get("linksPerTechnique")
        links = 25 if links is None else max(0, min(int(links), MAX_LINKS))
        return LAYER_TECHNIQUES * (1 + links)
    return 0


#: Fields by response key: the type they are asked on and every node asking them.
_Groups = dict[str, tuple[GraphQLObjectType | GraphQLInterfaceType, list[FieldNode]]]


class _Estimator:
    """Walks one operation, with its fragments and coerced variables."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selections(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLObjectType | GraphQLInterfaceType,
        multiplier: int,
        sizes: Mapping[str, int],
    ) -> int:
        """Objects the selections return under `multiplier` parents; `sizes` sizes child lists."""
        return self.grouped(self.collect([selection_set], parent), multiplier, sizes)

    def grouped(self, groups: _Groups, multiplier: int, sizes: Mapping[str, int]) -> int:
        return sum(
            self.field(nodes, parent, multiplier, sizes) for parent, nodes in groups.values()
        )

    def collect(
        self,
        selection_sets: list[SelectionSetNode | None],
        parent: GraphQLObjectType | GraphQLInterfaceType,
        seen: frozenset[str] = frozenset(),
    ) -> _Groups:
        """Fields by response key, as execution merges them: fragments spread, the same key
        asked twice counted once (its sub-selections merged), @skip / @include applied."""
        groups: _Groups = {}
        for selection_set in selection_sets:
            if selection_set is None:
                continue
            for node in selection_set.selections:
                if not self.included(node):
                    continue
                if isinstance(node, FieldNode):
                    key = node.alias.value if node.alias else node.name.value
                    groups.setdefault(key, (parent, []))[1].append(node)
                    continue
                if isinstance(node, InlineFragmentNode):
                    condition = node.type_condition
                    kind = self.composite(condition.name.value if condition else None, parent)
                    inner = self.collect([node.selection_set], kind, seen)
                elif isinstance(node, FragmentSpreadNode):
                    name = node.name.value
                    fragment = self.fragments.get(name)
                    if fragment is None or name in seen:  # validation reports both
                        continue
                    kind = self.composite(fragment.type_condition.name.value, parent)
                    inner = self.collect([fragment.selection_set], kind, seen | {name})
                else:
                    continue
                for key, (kind, nodes) in inner.items():
                    groups.setdefault(key, (kind, []))[1].extend(nodes)
        return groups

    def included(self, node: SelectionNode) -> bool:
        """False when @skip(if: true) or @include(if: false) drops the selection."""
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include and include.get("if") is False)

    def composite(
        self, name: str | None, fallback: GraphQLObjectType | GraphQLInterfaceType
    ) -> GraphQLObjectType | GraphQLInterfaceType:
        """The object or interface type a fragment names, else the enclosing type."""
        named = self.schema.get_type(name) if name else None
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            return named
        return fallback

    def field(
        self,
        nodes: list[FieldNode],
        parent: GraphQLObjectType | GraphQLInterfaceType,
        multiplier: int,
        sizes: Mapping[str, int],
    ) -> int:
        node = nodes[0]  # a merged group shares its name and arguments (validation checks it)
        name = node.name.value
        definition = parent.fields.get(name)
        if name.startswith("__") or definition is None:
            return 0
        try:
            args = get_argument_values(definition, node, self.variables)
        except GraphQLError:  # a bad argument: execution reports it
            args = {}
        key = f"{parent.name}.{name}"
        kind = definition.type
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        named = get_named_type(kind)
        if is_leaf_type(named):
            return multiplier * _leaf_cost(key, args)
        if isinstance(kind, GraphQLList):
            if "first" in definition.args:
                size = _first(definition, args)
            else:
                size = sizes.get(name, LIST_ESTIMATES.get(key, DEFAULT_LIST_ESTIMATE))
        else:
            size = 1
        count = multiplier * size
        child_sizes: dict[str, int] = {}
        if not isinstance(kind, GraphQLList) and "first" in definition.args:
            page = _first(definition, args)  # a connection: its page sizes edges and nodes
            child_sizes = {"edges": page, "nodes": page}
        elif key == "Query.indicatorOverlap":
            child_sizes = {"ruleCountByTechnique": len(args.get("techniqueIds") or ())}
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            return count
        children = self.collect([n.selection_set for n in nodes], named)
        return count + self.grouped(children, count, child_sizes)


def estimate_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """How many objects the operation may return (0 when it cannot be told: validation says why)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or schema.query_type is None:
        return 0
    operation = operations[0]
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables or {})
    )
    if isinstance(coerced, list):  # bad variables: execution reports them
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    estimator = _Estimator(schema, fragments, coerced)
    return estimator.selections(operation.selection_set, schema.query_type, 1, {})


class CostLimit(SchemaExtension):
    """Refuses, before execution, an operation estimated over the budget (QUERY_TOO_COSTLY)."""

    def __init__(self, budget: int = MAX_COST) -> None:
        self.budget = budget
        self.estimate: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.result is None:
            self.estimate = estimate_cost(
                context.schema._schema,
                context.graphql_document,
                context.operation_name,
                context.variables,
            )
            if self.estimate > self.budget:
                refusal = QueryTooCostly(self.estimate, self.budget)
                context.result = ExecutionResult(
                    data=None, errors=[GraphQLError(refusal.message, original_error=refusal)]
                )
        yield

    def get_results(self) -> dict[str, Any]:
        if self.estimate is None:
            return {}
        return {"cost": {"estimate": self.estimate, "budget": self.budget}}
