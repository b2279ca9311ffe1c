"""The SPL eval language: the checks of a ``where`` command, and what ``eval`` assigns.

String comparisons in ``where`` are case-sensitive (``=`` and ``==`` alike), so are ``like()``
and ``match()``; ``lower(f) == "x"`` compares case-insensitively. ``like`` patterns become
wildcards (``%`` -> ``*``, ``_`` -> ``?``), ``match`` a regular expression, ``isnull`` /
``isnotnull`` an existence check, ``cidrmatch`` a CIDR check, ``IN`` / ``in()`` one equality
per value. Anything else (a field compared with another, ``len(x) > 8``) is passed over and
named in SplParse.skipped.

``eval`` assignments tell which fields are still log fields under another name (``x=y``,
``x=lower(y)``), which are new values, and which stand for a condition
(``x=if(like(y, "%a%"), 1, 0)``, later checked as ``where x=1``).
"""

from __future__ import annotations

import re

from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from loaders.regex_groups import fill_group
from loaders.spl_fields import Condition, FieldNames, Lookup
from loaders.spl_syntax import (
    Comparison,
    SplError,
    SplParse,
    children,
    describe_error,
    error_position,
    parser,
    unescape,
)

_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "==": "==", "!=": "!="}
_ORDER = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
_CASE_FOLDING = frozenset({"lower", "upper"})
_ASSIGNED = re.compile(r"(?:^|,)\s*([\w.{}]+|'[^']+')\s*=(?!=)")
_BOOLEAN = frozenset({"e_or", "e_and", "e_xor", "eval_expr"})

#: Values of a lookup's output that say the input matched no row.
_UNSET = frozenset({"false", "f", "no", "0", "", "null"})

_ALIASING = frozenset({"lower", "upper", "trim", "ltrim", "rtrim", "urldecode"})


def like_to_wildcard(pattern: str) -> str:
    """A LIKE pattern as a wildcard: ``%`` -> ``*``, ``_`` -> ``?``; ``\\%``, ``\\_`` literal."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        following = pattern[index + 1] if index + 1 < len(pattern) else ""
        if char == "\\" and following in {"%", "_", "\\"}:
            out.append(following)
            index += 2
            continue
        out.append({"%": "*", "_": "?"}.get(char, char))
        index += 1
    return "".join(out)


class WhereReader:
    """Adds the checks of one ``where`` command to a SplParse."""

    def __init__(
        self,
        text: str,
        result: SplParse,
        names: FieldNames,
        datamodel: str | None,
        offset: int = 0,
    ) -> None:
        self.text = text
        self.result = result
        self.names = names
        self.datamodel = datamodel
        self.offset = offset

    def read(self, start: int, end: int) -> None:
        """Parse ``text[start:end]`` as an eval expression and collect its checks."""
        body = self.text[start:end]
        if not body.strip():
            return
        self.offset = start
        try:
            tree = parser().parse(body, start="eval_expr")
        except UnexpectedInput as exc:
            self.result.errors.append(
                SplError(f"where: {describe_error(exc, body)}", start + error_position(exc))
            )
            return
        self.walk(tree, negated=False)

    def walk(self, node: Tree[Token] | Token, negated: bool) -> None:
        if not isinstance(node, Tree):
            self.result.skipped.append("where: a bare value as a condition")
            return
        kind = node.data
        if kind in _BOOLEAN:
            # AND, OR and XOR alike: every operand is a check the rule makes.
            for child in node.children:
                self.walk(child, negated)
        elif kind == "e_negation":
            self.walk(node.children[0], not negated)
        elif kind == "e_comparison":
            self.comparison(node, negated)
        elif kind in {"e_like", "e_not_like"}:
            self.like(node.children[0], node.children[1], negated != (kind == "e_not_like"))
        elif kind in {"e_in", "e_not_in"}:
            self.members(node.children[0], children(node, 1), negated != (kind == "e_not_in"))
        elif kind == "e_call":
            self.call(node, negated)
        else:
            self.result.skipped.append(f"where: {kind.removeprefix('e_')} as a condition")

    def call(self, node: Tree[Token], negated: bool) -> None:
        name = str(node.children[0]).lower()
        args = children(node, 1)
        if name == "not" and len(args) == 1:
            self.walk(args[0], not negated)
        elif name == "like" and len(args) == 2:
            self.like(args[0], args[1], negated)
        elif name == "match" and len(args) == 2:
            self.check(args[0], "regex_match", args[1], negated, node)
        elif name in {"isnull", "isnotnull"} and len(args) == 1:
            self.exists(args[0], (name == "isnotnull") != negated, node)
        elif name == "cidrmatch" and len(args) == 2:
            self.check(args[1], "cidr", args[0], negated, node)
        elif name == "in" and args:
            self.members(args[0], args[1:], negated)
        else:
            self.result.skipped.append(f"where: {name}() as a condition")

    def comparison(self, node: Tree[Token], negated: bool) -> None:
        left, operator, right = node.children
        op = str(operator)
        if _literal(left) is not None and _literal(right) is None:
            left, right, op = right, left, _FLIPPED[op]
        if _literal(right) is None:
            self.result.skipped.append("where: a comparison of two fields or expressions")
            return
        if op in {"=", "==", "!="}:
            self.check(left, "eq", right, negated != (op == "!="), node)
        else:
            self.check(left, _ORDER[op], right, negated, node)

    def like(
        self, subject: Tree[Token] | Token, pattern: Tree[Token] | Token, negated: bool
    ) -> None:
        text = _literal(pattern)
        if text is None:
            self.result.skipped.append("where: like() with a computed pattern")
            return
        self.check(subject, "wildcard", like_to_wildcard(text), negated, pattern)

    def members(
        self, subject: Tree[Token] | Token, values: list[Tree[Token] | Token], negated: bool
    ) -> None:
        for value in values:
            self.check(subject, "eq", value, negated, value)

    def exists(self, subject: Tree[Token] | Token, present: bool, node: Tree[Token]) -> None:
        self.check(subject, "exists", "true", not present, node)

    def check(
        self,
        subject: Tree[Token] | Token,
        operator: str,
        value: Tree[Token] | Token | str,
        negated: bool,
        where: Tree[Token] | Token,
    ) -> None:
        """Record ``subject operator value`` when subject is a field (or lower/upper of one)."""
        text = value if isinstance(value, str) else _literal(value)
        field_name, folded = _field_of(subject)
        if field_name is None or text is None:
            self.result.skipped.append(f"where: {operator} on an expression")
            return
        resolved = self.names.resolve(field_name)
        if resolved is None:
            if operator == "eq":
                self.condition(field_name, text, negated, folded=folded)
            elif operator == "exists":
                self.is_set(field_name, not negated)
            else:
                self.result.skipped.append(f"check on a field the search creates ({field_name})")
            return
        if operator == "wildcard" and "*" not in text and "?" not in text:
            operator = "eq"
        self.result.comparisons.append(
            Comparison(
                field=resolved,
                operator=operator,
                value=text,
                negated=negated,
                case_insensitive=folded or operator == "exists",
                datamodel=self.datamodel,
                position=self.offset + _start(where),
                command="where",
            )
        )

    def condition(
        self, name: str, value: str, negated: bool, *, folded: bool = False, search: bool = False
    ) -> None:
        """Read ``x = value`` for an ``x`` set by ``eval x=if(...)`` as the if's condition,
        for an ``x`` a lookup output as membership in the lookup (`membership`), and for a
        rex group as its field matching the rex with the value in the group's place.

        ``folded``: the comparison ignores case (the search language's ``=``, ``lower(x)``);
        ``search``: it is the search language's, where ``*`` in a value is any text.
        """
        if name in self.names.lookups:
            # A lookup's output is set (true, a name, "*") for the events whose input is a row
            # of the table; false, no, 0, an empty value or what fillnull wrote say it is not.
            unset = (
                value.strip().lower() in _UNSET
                or value.strip().lower() == self.names.filled.get(name)
            )
            self.membership(name, unset == negated)
            return
        capture = self.names.captures.get(name)
        if capture is not None:
            filled = fill_group(capture.pattern, name, value, folded=folded, wildcards=search)
            if filled is None:
                self.result.skipped.append(f"check on a field the search creates ({name})")
                return
            self.result.comparisons.append(
                Comparison(
                    field=capture.source,
                    operator="regex_match",
                    value=filled,
                    negated=negated,
                    case_insensitive=False,
                    datamodel=self.datamodel,
                    position=self.offset,
                    command="rex",
                )
            )
            return
        found = self.names.conditions.get(name)
        if found is None or value not in {found.when_true, found.when_false} - {None}:
            self.result.skipped.append(f"check on a field the search creates ({name})")
            return
        inner = WhereReader(self.text, self.result, self.names, self.datamodel, found.offset)
        inner.walk(found.tree, negated != (value == found.when_false))

    def is_set(self, name: str, present: bool) -> None:
        """Read a check that a field the search created is set (``isnotnull(x)``, ``x=*``).

        Set, a lookup's output says its input is a row of the table, a rex group that its field
        matches the pattern, and ``if(c, "v", null())`` that c holds. Other computed fields are
        set or not for reasons no event field tells.
        """
        capture = self.names.captures.get(name)
        found = self.names.conditions.get(name)
        if name in self.names.lookups:
            self.membership(name, present)
        elif capture is not None:
            self.result.comparisons.append(
                Comparison(
                    field=capture.source,
                    operator="regex_match",
                    value=capture.pattern,
                    negated=not present,
                    case_insensitive=False,
                    datamodel=self.datamodel,
                    position=self.offset,
                    command="rex",
                )
            )
        elif found is not None and found.unset_when is not None:
            inner = WhereReader(self.text, self.result, self.names, self.datamodel, found.offset)
            inner.walk(found.tree, present == found.unset_when)
        else:
            self.result.skipped.append(f"check on a field the search creates ({name})")

    def membership(self, name: str, present: bool) -> None:
        """The lookup behind output ``name``: its input fields are (or are not) a row of it.

        A row of one field not in the table says that field's value is not in it; a row of
        several fields not in it says nothing of each field alone, so it is passed over.
        """
        tables = self.names.lookups[name].tables
        for table, inputs in tables:
            if not present and len(inputs) > 1:
                self.result.skipped.append(f"check that several fields are no row of {table}")
                continue
            for field_name in inputs:
                self.result.comparisons.append(
                    Comparison(
                        field=field_name,
                        operator="lookup",
                        value=table,
                        negated=not present,
                        case_insensitive=False,
                        datamodel=self.datamodel,
                        position=self.offset,
                        command="lookup",
                    )
                )
        if not any(inputs for _, inputs in tables):
            self.result.skipped.append(f"check on a lookup of fields the search creates ({name})")


def read_eval(text: str, start: int, end: int, result: SplParse, names: FieldNames) -> None:
    """Record what an ``eval`` command (``text[start:end]``, after the word) assigns."""
    body = text[start:end]
    try:
        tree = parser().parse(body, start="eval_assignments")
    except UnexpectedInput:
        # An eval the grammar cannot read still creates its fields: take their names.
        for found in _ASSIGNED.finditer(body):
            names.create(found.group(1).strip("'"))
        result.skipped.append("eval the grammar does not read")
        return
    for assignment in tree.children:
        if not isinstance(assignment, Tree):
            continue
        target_token, operator, expression = assignment.children
        target = _field_name(target_token)
        if str(operator) != "=":
            names.create(target)
            continue
        source, _ = _field_of(expression, _ALIASING)
        if source is not None:
            names.derive_or_alias(target, names.resolve(source))
            continue
        lookup = _coalesced_lookup(expression, names)
        names.create(target)
        if lookup is not None:
            names.lookups[target] = lookup
            continue
        condition = _if_condition(expression, start)
        if condition is not None:
            names.conditions[target] = condition


def _coalesced_lookup(node: Tree[Token] | Token, names: FieldNames) -> Lookup | None:
    """``coalesce(a, b...)`` of lookups' outputs: set when any of the lookups matched."""
    if not (isinstance(node, Tree) and node.data == "e_call" and len(node.children) > 1):
        return None
    args = node.children[1]
    if str(node.children[0]).lower() != "coalesce" or not isinstance(args, Tree):
        return None
    found: list[Lookup] = []
    for arg in args.children:
        name, _ = _field_of(arg, frozenset())
        if name is None or name not in names.lookups:
            return None
        found.append(names.lookups[name])
    if not found:
        return None
    merged = found[0]
    for other in found[1:]:
        merged = merged.merged(other)
    return merged


def _if_condition(node: Tree[Token] | Token, offset: int) -> Condition | None:
    """The Condition of ``if(condition, literal, literal)`` or of a two-valued case(), else None."""
    if not (isinstance(node, Tree) and node.data == "e_call"):
        return None
    if str(node.children[0]).lower() == "case" and len(node.children) > 1:
        return _case_condition(node.children[1], offset)
    if str(node.children[0]).lower() != "if" or len(node.children) < 2:
        return None
    args = node.children[1]
    if not isinstance(args, Tree) or len(args.children) != 3:
        return None
    condition, when_true, when_false = args.children
    true_text, false_text = _literal(when_true), _literal(when_false)
    if not isinstance(condition, Tree) or true_text == false_text:
        return None  # two expressions (or one value twice) say nothing about the condition
    unset_when: bool | None = None
    if true_text is not None and _is_null(when_false):
        unset_when = False
    elif false_text is not None and _is_null(when_true):
        unset_when = True
    return Condition(condition, true_text, false_text, offset, unset_when)


def _is_null(node: Tree[Token] | Token) -> bool:
    """``null()``, or a bare ``null``: a field no event has, which eval reads as null too."""
    if isinstance(node, Tree) and node.data == "e_call":
        return str(node.children[0]).lower() == "null" and len(node.children) == 1
    return isinstance(node, Tree) and node.data == "e_field" and str(node.children[0]) == "null"


def _case_condition(args: Tree[Token] | Token, offset: int) -> Condition | None:
    """``case(c1, "1", c2, "1", 1=1, "0")``: x="1" is c1 OR c2, x="0" is neither.

    Read only when every branch but a final catch-all (``1=1``, ``true()``) gives one value and
    the catch-all another, so that checking x for either value is a condition on c1, c2...
    """
    if not isinstance(args, Tree) or len(args.children) < 4 or len(args.children) % 2:
        return None
    pairs = list(zip(args.children[::2], args.children[1::2], strict=True))
    *branches, (last_condition, last_value) = pairs
    values = {_literal(value) for _, value in branches}
    default = _literal(last_value)
    if not _always(last_condition) or len(values) != 1 or default is None:
        return None
    when_true = values.pop()
    conditions = [condition for condition, _ in branches]
    if when_true is None or when_true == default:
        return None
    if not all(isinstance(condition, Tree) for condition in conditions):
        return None
    tree: Tree[Token] = Tree("e_or", list(conditions))
    return Condition(tree, when_true, default, offset)


def _always(node: Tree[Token] | Token) -> bool:
    """True for a catch-all case() condition: ``1=1``, ``true()``."""
    if isinstance(node, Tree) and node.data == "e_call":
        return str(node.children[0]).lower() == "true"
    if isinstance(node, Tree) and node.data == "e_comparison":
        left, operator, right = node.children
        both = _literal(left), _literal(right)
        return None not in both and str(operator) in {"=", "=="} and both[0] == both[1]
    return False


def _field_of(
    node: Tree[Token] | Token, wrappers: frozenset[str] = _CASE_FOLDING
) -> tuple[str | None, bool]:
    """The field an operand reads, and whether it is case-folded (``lower(f)``)."""
    if isinstance(node, Tree) and node.data == "e_field":
        return _field_name(node.children[0]), False
    if isinstance(node, Tree) and node.data == "e_call" and len(node.children) > 1:
        name = str(node.children[0]).lower()
        args = node.children[1]
        if name in wrappers and isinstance(args, Tree) and len(args.children) == 1:
            inner, _ = _field_of(args.children[0], wrappers)
            return inner, name in _CASE_FOLDING
    return None, False


def _field_name(token: Tree[Token] | Token) -> str:
    text = str(token)
    return text[1:-1] if text.startswith("'") and text.endswith("'") else text


def _literal(node: Tree[Token] | Token) -> str | None:
    """The text of a string or number literal, else None."""
    if isinstance(node, Tree) and node.data == "e_string":
        return unescape(str(node.children[0]))
    if isinstance(node, Tree) and node.data == "e_number":
        return str(node.children[0])
    if isinstance(node, Tree) and node.data == "e_minus":
        inner = _literal(node.children[0])
        return f"-{inner}" if inner is not None else None
    return None


def _start(node: Tree[Token] | Token) -> int:
    if isinstance(node, Token):
        return node.start_pos or 0
    return node.meta.start_pos if not node.meta.empty else 0
