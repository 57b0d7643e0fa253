"""Text -> AST for search filters and order_by clauses (a lark LALR grammar).

The grammar is MLflow's (``mlflow/utils/search_utils.py``) plus ``OR`` and parentheses, with
``AND`` binding tighter than ``OR``. Keywords are case-insensitive. String literals are
SQL-style (``'it''s'``: a doubled quote stands for itself); backslashes are kept verbatim (they
only mean something inside LIKE/ILIKE patterns). Numbers may be signed, fractional, in exponent
notation, or ``inf``/``infinity``/``nan``.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from trainlab.exceptions import InvalidFilter
from trainlab.store.search._ast import And, Comparison, Kind, Node, Or, OrderBy, Value, quote

# What a filter's SQL stays within: SQLite nests a statement's conditions at most 1,000 deep
# (1,000 comparisons joined by AND exceed it) and takes at most 500 SELECTs in one compound
# statement (lists of matches are intersected). 100 is far above what people write, and keeps
# PostgreSQL's planning of the intersected lists well under a second.
MAX_FILTER_COMPARISONS = 100

_GRAMMAR = r"""
filter: or_expr
order: identifier DIRECTION?

?or_expr: and_expr (_OR and_expr)*
?and_expr: _atom (_AND _atom)*
_atom: comparison
     | _LPAR or_expr _RPAR

comparison: identifier OP _value
          | identifier LIKE _value
          | identifier ILIKE _value
          | identifier IN value_list
          | identifier NOT IN value_list
          | identifier IS NULL
          | identifier IS NOT NULL

value_list: _LPAR (_value (_COMMA _value)* _COMMA?)? _RPAR
_value: SQ_STRING | DQ_STRING | NUMBER | SPECIAL_NUMBER

identifier: _name                -> bare
          | _name _DOT _key      -> prefixed
_name: WORD | BACKTICK | DQ_STRING
_key: KEY | BACKTICK | DQ_STRING

WORD: /[A-Za-z_][A-Za-z0-9_]*/
KEY: /[^\s`"'=!<>(),]+/
BACKTICK: /`(?:[^`]|``)*`/
DQ_STRING: /"(?:[^"]|"")*"/
SQ_STRING: /'(?:[^']|'')*'/
NUMBER: /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/
SPECIAL_NUMBER: /[+-]?(?:infinity|inf|nan)\b/i
OP: /<=|>=|!=|=|<|>/
LIKE: /like\b/i
ILIKE: /ilike\b/i
IN: /in\b/i
NOT: /not\b/i
IS: /is\b/i
NULL: /null\b/i
DIRECTION: /asc\b|desc\b/i
_AND: /and\b/i
_OR: /or\b/i
_LPAR: "("
_RPAR: ")"
_COMMA: ","
_DOT: "."

%ignore /\s+/
"""

# entity-type prefix (lower-cased, as written) -> canonical kind
PREFIXES: dict[str, Kind] = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
    "dataset": "dataset",
    "datasets": "dataset",
}
VALID_PREFIXES = "metrics, params, tags, attributes, datasets"

# What a terminal means to a person reading an error message, in the order messages list them.
_OPERATOR_WORDS = (
    "a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS [NOT] NULL)"
)
_EXPECTED_WORDS: dict[str, str] = {
    "WORD": "a key (e.g. metrics.loss)",
    "KEY": "a key name after the '.'",
    "SQ_STRING": "a value (a quoted string or a number)",
    "NUMBER": "a value (a quoted string or a number)",
    "OP": _OPERATOR_WORDS,
    "NULL": "NULL",
    "NOT": "NOT NULL",
    "IN": "IN",
    "DIRECTION": "ASC or DESC",
    "_AND": "AND",
    "_OR": "OR",
    "_LPAR": "'('",
    "_COMMA": "','",
    "_RPAR": "')'",
    "_DOT": "'.'",
    "$END": "the end of the input",
}
_QUOTES = {"'": "string", '"': "quoted string or key", "`": "backtick-quoted key"}
_OP_TOKENS = frozenset({"OP", "LIKE", "ILIKE", "IN", "NOT", "IS", "NULL"})
_INT = re.compile(r"[+-]?\d+")
_INT64 = 2**63


@functools.cache
def _lark() -> Lark:
    return Lark(
        _GRAMMAR,
        start=["filter", "order"],
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
    )


def named_keys(text: str | None) -> list[tuple[str, str]]:
    """The (kind, key) of each metric, param and tag a filter names, in order, each once: what
    to check when nothing matches (a key no run has: a typo, or a name logged under another)."""
    named: dict[tuple[str, str], None] = {}
    stack = [parse_filter(text)]
    while stack:
        node = stack.pop()
        if isinstance(node, (And, Or)):
            stack.extend(reversed(node.items))
        elif node is not None and node.kind in ("metric", "param", "tag"):
            named[(node.kind, node.key)] = None
    return list(named)


# The trees are immutable; the UI and scripts send the same few filters again and again.
@functools.lru_cache(maxsize=256)
def parse_filter(text: str | None) -> Node | None:
    """Parse a filter string into an AST (AND and OR flattened: an And holds no And); None for
    an empty filter. Raises InvalidFilter."""
    if text is None or not text.strip():
        return None
    tree = _parse(text, "filter", "filter")
    node = _node(tree.children[0], text)
    comparisons = _count_comparisons(node)
    if comparisons > MAX_FILTER_COMPARISONS:
        raise InvalidFilter(
            f"The filter has {comparisons} comparisons; the limit is {MAX_FILTER_COMPARISONS}. "
            "Use IN ('a', 'b', ...) for a list of values."
        )
    return node


def _count_comparisons(node: Node) -> int:
    if isinstance(node, Comparison):
        return 1
    return sum(_count_comparisons(item) for item in node.items)


@functools.lru_cache(maxsize=256)
def parse_order_by(clause: str) -> OrderBy:
    """Parse one ``order_by`` clause. Raises InvalidFilter."""
    tree = _parse(clause, "order", "order_by clause")
    ident = tree.children[0]
    assert isinstance(ident, Tree)
    kind, key = _identifier(ident, clause.strip())
    ascending = True
    if len(tree.children) > 1:
        direction = tree.children[1]
        assert isinstance(direction, Token)
        ascending = direction.value.lower() == "asc"
    return OrderBy(kind, key, ascending, clause.strip())


def _parse(text: str, start: str, what: str) -> Tree[Token]:
    try:
        return _lark().parse(text, start=start)
    except UnexpectedInput as exc:
        raise InvalidFilter(_syntax_message(text, exc, what)) from None


def _syntax_message(text: str, exc: UnexpectedInput, what: str) -> str:
    prefix = f"Invalid {what} {quote(text)}"
    if isinstance(exc, UnexpectedToken):
        expected = _describe(exc.accepts or exc.expected)
        token = exc.token
        if token.type == "$END":
            return f"{prefix}: unexpected end of input; expected {expected}."
        pos = (token.start_pos or 0) + 1
        found = quote(str(token.value))
        message = f"{prefix}: unexpected {found} at position {pos}; expected {expected}."
        if "SQ_STRING" in exc.expected and token.type in ("WORD", "KEY"):
            message += f" String values must be quoted, e.g. '{token.value}'."
        return message
    if isinstance(exc, UnexpectedCharacters):
        pos = (exc.pos_in_stream or 0) + 1
        if exc.char in _QUOTES:
            return f"{prefix}: unterminated {_QUOTES[exc.char]} starting at position {pos}."
        expected = _describe(exc.allowed or ())
        found = quote(exc.char)
        return f"{prefix}: unexpected character {found} at position {pos}; expected {expected}."
    return f"{prefix}: could not be parsed."  # pragma: no cover - lalr raises only the above


def _describe(terminals: Iterable[str]) -> str:
    names = set(terminals)
    if "OP" in names:  # the other operator keywords are covered by the operator phrase
        names -= {"LIKE", "ILIKE", "IN", "NOT", "IS"}
    words: list[str] = []
    for name, word in _EXPECTED_WORDS.items():
        if name in names and word not in words:
            words.append(word)
    if not words:
        return "something else"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _node(item: Tree[Token] | Token, text: str) -> Node:
    assert isinstance(item, Tree)
    if item.data == "or_expr":
        return Or(_flatten(Or, (_node(c, text) for c in item.children)))
    if item.data == "and_expr":
        return And(_flatten(And, (_node(c, text) for c in item.children)))
    assert item.data == "comparison", item.data
    return _comparison(item, text)


def _flatten(cls: type[And] | type[Or], nodes: Iterable[Node]) -> tuple[Node, ...]:
    flat: list[Node] = []
    for node in nodes:
        flat.extend(node.items if isinstance(node, cls) else (node,))
    return tuple(flat)


def _comparison(tree: Tree[Token], text: str) -> Comparison:
    clause = text[tree.meta.start_pos : tree.meta.end_pos]
    ident, *rest = tree.children
    assert isinstance(ident, Tree)
    kind, key = _identifier(ident, clause)
    op = " ".join(t.value.upper() for t in rest if isinstance(t, Token) and t.type in _OP_TOKENS)
    value: Value | tuple[Value, ...] | None = None
    last = rest[-1]
    if isinstance(last, Tree):  # value_list
        value = tuple(_value(t) for t in last.children if isinstance(t, Token))
    elif last.type not in _OP_TOKENS:
        value = _value(last)
    return Comparison(kind, key, op, value, clause)


def _identifier(tree: Tree[Token], clause: str) -> tuple[Kind, str]:
    tokens = [t for t in tree.children if isinstance(t, Token)]
    if tree.data == "bare":
        return "attribute", _unquote(tokens[0])
    prefix = _unquote(tokens[0])
    kind = PREFIXES.get(prefix.lower())
    if kind is None:
        raise InvalidFilter(
            f"Invalid entity type {quote(prefix)} in clause {quote(clause)}. "
            f"Valid types are: {VALID_PREFIXES}."
        )
    return kind, _unquote(tokens[1])


def _unquote(token: Token) -> str:
    text = str(token.value)
    if token.type in ("BACKTICK", "DQ_STRING", "SQ_STRING"):
        quote = text[0]
        return text[1:-1].replace(quote * 2, quote)
    return text


def _value(token: Token) -> Value:
    if token.type == "NUMBER":
        if _INT.fullmatch(token.value):
            number = int(token.value)
            # Integers SQLite cannot bind are compared as floats.
            return number if -_INT64 <= number < _INT64 else float(number)
        return float(token.value)
    if token.type == "SPECIAL_NUMBER":
        lowered = token.value.lower()
        return math.nan if lowered.lstrip("+-") == "nan" else float(lowered)
    return _unquote(token)
