"""Reading the checks out of a Splunk SPL search (macros already expanded).

No maintained SPL parser exists on PyPI, so the language is read with a lark grammar
(grammars/spl.lark): the pipeline is split into commands, and the commands that filter events are
parsed: the base search and ``search`` (search language), the ``tstats ... from datamodel=X
where ...`` clause (search language, under the data model it names), ``where`` (eval language)
and ``regex``. Other commands are skipped, but those that change field names are followed so that
a later check names the field the events carry: ``rename`` (and ``drop_dm_object_name``, which
expands to ``rename Processes.* AS *``), and the commands that create fields (eval, stats,
lookup, iplocation, rex and spath run on one field), whose fields are no log fields and are not
read as indicators. Fields ``rex`` and ``spath`` extract from the event itself (_raw) are parts
of the log and stay readable; a check that a group ``rex`` extracted from a field is set is a
check that the field matches the pattern, and a check of the group's value one that it matches
with the value in the group's place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from loaders.predicates import is_cidr
from loaders.spl_eval import WhereReader, read_eval
from loaders.spl_fields import (
    SUMMARY_FIELDS,
    TRANSACTION_FIELDS,
    FieldNames,
    read_addtotals,
    read_aggregates,
    read_fillnull,
    read_iplocation,
    read_lookup,
    read_model,
    read_rex,
    read_spath,
)
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

__all__ = ["Comparison", "SplError", "SplParse", "parse_spl", "unescape"]


#: Fields of the search language that choose where events are read from (index, source type,
#: time range), not what they contain: they name no indicator.
SELECTION_FIELDS = frozenset(
    {
        "index",
        "source",
        "sourcetype",
        "eventtype",
        "splunk_server",
        "earliest",
        "latest",
        "_index_earliest",
        "_index_latest",
        "starthoursago",
        "endhoursago",
        "startdaysago",
        "enddaysago",
        "nodename",
        "tag",
        # The Windows channel, written beside the source in many input macros.
        "Channel",
    }
)

# Commands whose aggregations create fields (named by "as", or by the function call itself).
_AGGREGATING = frozenset(
    {"stats", "eventstats", "streamstats", "tstats", "chart", "timechart", "sistats", "geostats"}
)
# Commands that may open a search or subsearch without a leading "|".
_LEADING = frozenset(
    {"search", "tstats", "inputlookup", "from", "datamodel", "mstats", "rest", "summary"}
)
# Commands whose [brackets] hold a template, not a search.
_TEMPLATE_SUBSEARCHES = frozenset({"foreach", "map"})
# Generating commands whose results hold no checks covgraph reads (lookups, metrics, REST).
_GENERATING = frozenset(
    {"inputlookup", "makeresults", "rest", "mstats", "metadata", "dbinspect", "summary"}
)
# Generating commands whose rows are a table, not events (mstats reads metrics, which are).
_TABLES = frozenset({"inputlookup", "makeresults", "rest"})
# MLTK commands whose results are a model's output.
_MODELS = frozenset({"apply", "fit"})
_CIM_FIELD = re.compile(r"\b([A-Z][A-Za-z_]*)\.(\w+)")
_DATAMODEL = re.compile(r"^datamodel\s*[=:]\s*\"?([\w.]+)\"?$", re.IGNORECASE)


@dataclass(slots=True)
class _Command:
    name: str
    tokens: list[Token]
    subsearches: list[Tree[Token]]
    start: int
    end: int


def parse_spl(text: str) -> SplParse:
    """Every check of a search (its macros expanded), with errors and skipped constructs."""
    result = SplParse()
    try:
        tree = parser().parse(text, start="pipeline")
    except UnexpectedInput as exc:
        result.errors.append(SplError(describe_error(exc, text), error_position(exc)))
        return result
    except LarkError as exc:  # pragma: no cover - grammar errors surface in tests
        result.errors.append(SplError(str(exc), 0))
        return result
    _Reader(text, result).pipeline(tree, FieldNames(), None)
    return result


class _Reader:
    """Walks a parsed pipeline, command by command, collecting comparisons into a SplParse."""

    def __init__(self, text: str, result: SplParse) -> None:
        self.text = text
        self.result = result

    def pipeline(
        self,
        tree: Tree[Token],
        names: FieldNames,
        datamodel: str | None,
        *,
        base: bool = True,
    ) -> None:
        commands = _commands(tree)
        for index, command in enumerate(commands):
            leading = base and index == 0 and not _starts_with_pipe(tree)
            datamodel = self.command(command, names, datamodel, base=leading)

    def command(
        self, command: _Command, names: FieldNames, datamodel: str | None, *, base: bool
    ) -> str | None:
        name = command.name
        if base and name not in _LEADING:
            self.search(command.start, command.end, names, datamodel, "search")
        elif name == "search":
            self.search(command.tokens[0].end_pos or 0, command.end, names, datamodel, name)
        elif name == "where":
            start = command.tokens[0].end_pos or 0
            WhereReader(self.text, self.result, names, datamodel).read(start, command.end)
        elif name == "tstats":
            datamodel = self.tstats(command, names)
        elif name in {"from", "datamodel"}:
            datamodel = _datamodel_command(command) or datamodel
        elif name == "rename":
            self.rename(command, names)
        elif name == "regex":
            self.regex(command, names, datamodel)
        elif name in _AGGREGATING:
            read_aggregates(command.tokens, names)
        elif name == "eval":
            read_eval(self.text, command.tokens[0].end_pos or 0, command.end, self.result, names)
        elif name == "rex":
            read_rex(command.tokens, names)
        elif name == "spath":
            read_spath(command.tokens, names)
        elif name == "lookup":
            read_lookup(command.tokens, names)
        elif name == "fillnull":
            read_fillnull(command.tokens, names)
        elif name in _MODELS:
            read_model(command.tokens, names)
        elif name == "addtotals":
            read_addtotals(command.tokens, names)
        elif name == "transaction":
            for created in TRANSACTION_FIELDS:
                names.create(created)
        elif name == "iplocation":
            read_iplocation(command.tokens, names)
        elif name == "map":
            self.result.skipped.append("map command (a search run per result)")
        elif name in _GENERATING:
            self.result.skipped.append(f"{name} command")
            if name == "summary":
                for created in SUMMARY_FIELDS:
                    names.create(created)
            elif name in _TABLES:
                # A lookup's rows or a REST answer: nothing after it is a log field.
                names.generated = True
        if name not in _TEMPLATE_SUBSEARCHES:
            for subsearch in command.subsearches:
                inner = subsearch.children[0]
                if isinstance(inner, Tree):
                    scope = names.copy()
                    # appendpipe runs its commands on the current results: no base search.
                    self.pipeline(inner, scope, datamodel, base=name != "appendpipe")
                    names.merge_subsearch(scope)
        return datamodel

    def search(
        self, start: int, end: int, names: FieldNames, datamodel: str | None, command: str
    ) -> None:
        """Read the search language between two offsets, subsearches blanked."""
        text = _blank_subsearches(self.text, start, end)
        if not text.strip():
            return
        try:
            tree = parser().parse(text, start="search_expr")
        except UnexpectedInput as exc:
            self.result.errors.append(
                SplError(f"{command}: {describe_error(exc, text)}", start + error_position(exc))
            )
            return
        _SearchWalker(self.result, names, datamodel, start, command).walk(tree)

    def tstats(self, command: _Command, names: FieldNames) -> str | None:
        """Read ``tstats ... from datamodel=X where <search> by ...``; return the data model."""
        names.reset()  # tstats generates new results: a fresh scope
        datamodel: str | None = None
        where: int | None = None
        stop = command.end
        depth = 0
        tokens = command.tokens
        for index, token in enumerate(tokens):
            word = token.value.lower()
            if token.type == "RAW":
                if depth == 0 and word == "datamodel" and index + 1 < len(tokens):
                    # "from datamodel = X" split by spaces
                    joined = "".join(t.value for t in tokens[index : index + 3])
                    found = _DATAMODEL.match(joined)
                    datamodel = found.group(1) if found else datamodel
                found = _DATAMODEL.match(token.value)
                if depth == 0 and found:
                    datamodel = found.group(1)
                elif depth == 0 and word == "where" and where is None:
                    where = token.end_pos or 0
                elif depth == 0 and word in {"by", "groupby"} and where is not None:
                    stop = token.start_pos or stop
                    break
                depth += token.value.count("(") - token.value.count(")")
        read_aggregates(command.tokens, names)
        for token in tokens:
            names.model_fields.update(f"{o}.{a}" for o, a in _CIM_FIELD.findall(token.value))
        if datamodel:
            self.result.datamodels.append(datamodel)
        if where is not None:
            self.search(where, stop, names, datamodel, "tstats")
        return datamodel

    def rename(self, command: _Command, names: FieldNames) -> None:
        words = [unescape(t.value) for t in command.tokens[1:]]
        words = [w for part in words for w in part.split(",") if w] if words else []
        index = 0
        while index + 2 < len(words):
            source, keyword, target = words[index : index + 3]
            if keyword.lower() != "as":
                index += 1
                continue
            if not names.rename(source, target):
                self.result.skipped.append(f"rename {source} AS {target}")
            index += 3

    def regex(self, command: _Command, names: FieldNames, datamodel: str | None) -> None:
        """``regex field="re"`` / ``regex field!="re"`` (spaces around the sign or not) /
        ``regex "re"`` (on _raw)."""
        tokens = command.tokens[1:]
        if not tokens:
            return
        negated = False
        target = "_raw"
        pattern = tokens[-1]
        if len(tokens) >= 3 and tokens[-2].value in ("=", "!=") and tokens[-3].type == "RAW":
            # `regex file_name = "re"`: the field, the sign and the pattern apart.
            negated = tokens[-2].value == "!=" or tokens[-3].value.endswith("!")
            target = tokens[-3].value.rstrip("!")
        elif len(tokens) >= 2 and tokens[0].type == "RAW" and tokens[0].value.endswith("="):
            head = tokens[0].value
            negated = head.endswith("!=")
            target = head[: -2 if negated else -1]
        elif pattern.type == "RAW" and "=" in pattern.value:
            head, _, value = pattern.value.partition("=")
            negated = head.endswith("!")
            target = head.rstrip("!")
            pattern = Token("RAW", value, start_pos=pattern.start_pos)
        resolved = names.resolve(target)
        if resolved is None:
            return
        self.result.comparisons.append(
            Comparison(
                field=resolved,
                operator="regex_match",
                value=unescape(pattern.value),
                negated=negated,
                case_insensitive=False,
                datamodel=datamodel,
                position=pattern.start_pos or 0,
                command="regex",
            )
        )


class _SearchWalker:
    """Turns a parsed search expression into comparisons, tracking the parity of NOTs."""

    def __init__(
        self,
        result: SplParse,
        names: FieldNames,
        datamodel: str | None,
        offset: int,
        command: str,
    ) -> None:
        self.result = result
        self.names = names
        self.datamodel = datamodel
        self.offset = offset
        self.command = command

    def walk(self, node: Tree[Token] | Token, negated: bool = False) -> None:
        if not isinstance(node, Tree):
            return
        kind = node.data
        if kind == "s_negation":
            self.walk(node.children[0], not negated)
        elif kind == "s_comparison":
            field_node, operator, value = node.children
            self.compare(_text(field_node), str(operator), value, negated)
        elif kind == "s_in":
            field_node = node.children[0]
            values = children(node, 1)
            for index, value in enumerate(values):
                if not _text(value) and _glued(values, index):
                    continue  # `""*textbin*""` is one term to Splunk: the quotes are no value
                self.compare(_text(field_node), "=", value, negated)
        elif kind == "s_term":
            self.term(node.children[0], negated)
        else:
            for child in node.children:
                self.walk(child, negated)

    def compare(
        self, field_name: str, operator: str, value_node: Tree[Token] | Token, negated: bool
    ) -> None:
        token = _token(value_node)
        value = unescape(token.value)
        if field_name in SELECTION_FIELDS and not (self.datamodel and field_name == "source"):
            # In a data model, "source" is what wrote the event: the Risk data model's source
            # is the name of the detection that raised the risk, which correlations check.
            if operator in {"=", "=="} and not negated:
                self.result.selections.append((field_name, value))
            return
        resolved = self.names.resolve(field_name)
        if resolved is None:
            position = self.offset + (token.start_pos or 0)
            reader = WhereReader("", self.result, self.names, self.datamodel, position)
            if operator in {"=", "==", "!="} and value == "*":
                reader.is_set(field_name, negated == (operator == "!="))
            elif operator in {"=", "==", "!="}:
                reader.condition(
                    field_name, value, negated != (operator == "!="), folded=True, search=True
                )
            else:
                self.result.skipped.append(f"check on a field the search creates ({field_name})")
            return
        if operator in {"=", "==", "!="}:
            negated = negated != (operator == "!=")
            if value == "*":
                kind, value = "exists", "true"
            elif is_cidr(value):
                # The search language matches an address field against a CIDR value as a range.
                kind = "cidr"
            else:
                kind = "wildcard" if "*" in value else "eq"
        else:
            kind = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}[operator]
        self.add(resolved, kind, value, negated, token)

    def term(self, node: Tree[Token] | Token, negated: bool) -> None:
        token = _token(node)
        value = unescape(token.value)
        if value.strip("*") == "":
            return  # "search *" lets everything through
        self.add(None, "match", value, negated, token)

    def add(self, name: str | None, kind: str, value: str, negated: bool, token: Token) -> None:
        self.result.comparisons.append(
            Comparison(
                field=name,
                operator=kind,
                value=value,
                negated=negated,
                case_insensitive=True,
                datamodel=self.datamodel,
                position=self.offset + (token.start_pos or 0),
                command=self.command,
            )
        )


def _token(node: Tree[Token] | Token) -> Token:
    while isinstance(node, Tree):
        node = node.children[0]
    return node


def _text(node: Tree[Token] | Token) -> str:
    return unescape(_token(node).value)


def _glued(values: list[Tree[Token] | Token], index: int) -> bool:
    """True when a list item touches its neighbour, with no space or comma in between."""
    token = _token(values[index])
    before = _token(values[index - 1]) if index else None
    after = _token(values[index + 1]) if index + 1 < len(values) else None
    return (before is not None and before.end_pos == token.start_pos) or (
        after is not None and token.end_pos == after.start_pos
    )


def _commands(tree: Tree[Token]) -> list[_Command]:
    """Group a pipeline's pieces into commands at each "|"."""
    commands: list[_Command] = []
    tokens: list[Token] = []
    subsearches: list[Tree[Token]] = []
    bounds: list[int] = []

    def close() -> None:
        if tokens:
            name = tokens[0].value.lower() if tokens[0].type == "RAW" else ""
            commands.append(
                _Command(name, list(tokens), list(subsearches), min(bounds), max(bounds))
            )
        tokens.clear()
        subsearches.clear()
        bounds.clear()

    for piece in tree.children:
        if isinstance(piece, Token) and piece.type == "PIPE":
            close()
        elif isinstance(piece, Token):
            tokens.append(piece)
            bounds.extend((piece.start_pos or 0, piece.end_pos or 0))
        else:
            subsearches.append(piece)
            bounds.extend((piece.meta.start_pos, piece.meta.end_pos))
            if not tokens:
                tokens.append(Token("RAW", "", start_pos=piece.meta.start_pos))
    close()
    return commands


def _starts_with_pipe(tree: Tree[Token]) -> bool:
    first = tree.children[0] if tree.children else None
    return isinstance(first, Token) and first.type == "PIPE"


def _blank_subsearches(text: str, start: int, end: int) -> str:
    """The slice with every [subsearch] replaced by spaces, so offsets stay the same."""
    chunk = list(text[start:end])
    depth = 0
    quoted = False
    escaped = False
    for index, char in enumerate(chunk):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif char == "[" and not quoted:
            depth += 1
        if depth:
            if char == "]" and not quoted and not escaped:
                depth -= 1
            # "( )" keeps "NOT [subsearch]" readable: a group the walker finds nothing in.
            chunk[index] = "(" if char == "[" and depth == 1 else ")" if not depth else " "
    return "".join(chunk)


def _datamodel_command(command: _Command) -> str | None:
    """The data set of ``from datamodel:X`` / ``from datamodel X`` / ``datamodel X Y``."""
    words = [t.value for t in command.tokens[1:] if t.type == "RAW"]
    if command.name == "from" and words:
        joined = " ".join(words[:2])
        found = re.match(r"datamodel\s*[:= ]\s*\"?([\w.]+)", joined, re.IGNORECASE)
        return found.group(1) if found else None
    if command.name == "datamodel" and len(words) >= 2 and words[1].lower() != "search":
        return f"{words[0]}.{words[1]}"
    return words[0] if command.name == "datamodel" and words else None
