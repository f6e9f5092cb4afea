"""A compiled fast path for JSON Schema: "certainly valid", or "ask jsonschema".

jsonschema walks the schema anew for every instance, about 45 µs per annotation
line; over a million lines that is most of the time `validate` takes, although
nearly every line is valid. `compile_schema` turns the few keywords our record
schemas use into plain Python predicates. A predicate is conservative: it
returns True only when jsonschema would report no error, and False whenever the
instance is invalid *or* it is unsure (a float where an integer is expected, a
non-string enum). The caller then runs jsonschema itself, which finds and words
the errors. Results are therefore identical to jsonschema's; only valid records
get faster. A schema using any keyword not listed here is not compiled at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import FormatChecker

from paratopics.schema_check import ecma_search

Check = Callable[[Any], bool]

#: Keywords with no effect on validity.
ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default",
                         "examples", "version", "deprecated", "readOnly", "writeOnly"})
KEYWORDS = frozenset({"type", "properties", "required", "additionalProperties", "items",
                      "uniqueItems", "minItems", "maxItems", "minLength", "maxLength",
                      "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "pattern",
                      "format", "enum", "const"})
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

#: How each JSON type is tested, as jsonschema's Draft 2020-12 type checker does for
#: the values json.loads makes; jsonschema also takes 1.0 as an integer: the fast path
#: says "unsure" (False) and jsonschema decides.
_TYPE_TESTS = {
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "string": "isinstance({v}, str)",
    "integer": "type({v}) is int",  # not bool; a subclass of int: unsure, as a float is
    # finite only, as schema_check's validator: NaN - NaN and inf - inf are NaN
    "number": "(type({v}) is int or (type({v}) is float and {v} - {v} == 0))",
    "boolean": "isinstance({v}, bool)",
    "null": "{v} is None",
}
_LENGTH = {"minItems": ("array", "<"), "maxItems": ("array", ">"),
           "minLength": ("string", "<"), "maxLength": ("string", ">")}
#: Strings of a shape that jsonschema's format check surely accepts: these skip the
#: FormatChecker's dispatch (1.3 us a line); anything else still goes to it. Days
#: 01-28 exist in every month; rfc3339-validator accepts this shape (year 0 aside).
_SURELY = {
    "date-time": re.compile(
        r"(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
        r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
        r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])").fullmatch,
}
_BOUND = {"minimum": "<", "maximum": ">", "exclusiveMinimum": "<=", "exclusiveMaximum": ">="}


class Unsupported(Exception):
    """The schema uses something this module does not compile."""


def _unique_strings(items: list[Any]) -> bool:
    """uniqueItems for lists of strings; anything else is left to jsonschema (False).

    A loop, not all() over a generator: this runs once a line, mostly on one label.
    """
    if len(items) < 2:  # unique whatever the item, as for jsonschema
        return True
    for item in items:
        if type(item) is not str:
            return False
    return len(set(items)) == len(items)


class _Source:
    """The function being written: lines of code and the constants they refer to."""

    def __init__(self, fc: FormatChecker) -> None:
        self.lines: list[str] = []
        self.env: dict[str, Any] = {"fc": fc, "MISSING": object(),
                                    "unique_strings": _unique_strings}
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def constant(self, value: object, prefix: str = "k") -> str:
        name = self.name(prefix)
        self.env[name] = value
        return name

    def emit(self, depth: int, code: str) -> None:
        self.lines.append("    " * depth + code)


def _guard(kind: str, v: str, known: str | None) -> str:
    """The applicability test of a keyword for type `kind` ('' when already known)."""
    if known == kind or (kind == "number" and known == "integer"):
        return ""
    return _TYPE_TESTS[kind].format(v=v) + " and "


def _emit_node(src: _Source, node: object, v: str, depth: int) -> None:
    """Code that returns False from the function when `v` fails `node`."""
    if node is True:
        return
    if node is False:
        src.emit(depth, "return False")
        return
    if not isinstance(node, dict):
        raise Unsupported(f"schema {node!r}")
    unknown = set(node) - KEYWORDS - ANNOTATIONS
    if unknown:
        raise Unsupported(", ".join(sorted(unknown)))
    known = _emit_type(src, node.get("type"), v, depth) if "type" in node else None
    # the object's keys first: then the properties it requires are surely there
    keys = ("required", "additionalProperties")
    ordered = [k for k in keys if k in node] + [k for k in node if k not in keys]
    if _exact_keys(node):
        names = src.constant(frozenset(node["required"]), "keys")
        src.emit(depth, f"if {_guard('object', v, known)}{v}.keys() != {names}: return False")
        ordered = ordered[2:]
    for keyword in ordered:
        if keyword in KEYWORDS and keyword != "type":
            _emit_keyword(src, keyword, node[keyword], node, v, depth, known)


def _exact_keys(node: dict[str, Any]) -> bool:
    """Whether an object must have exactly the keys it lists (one test instead of two)."""
    required, properties = node.get("required"), node.get("properties")
    return (node.get("additionalProperties") is False and "patternProperties" not in node
            and isinstance(required, list) and isinstance(properties, dict)
            and set(required) == set(properties))


def _emit_type(src: _Source, value: object, v: str, depth: int) -> str | None:
    given = value if isinstance(value, list) else [value]
    names = [n for n in given if isinstance(n, str) and n in _TYPE_TESTS]
    if not names or len(names) != len(given):
        raise Unsupported(f"type {value!r}")
    tests = " or ".join(_TYPE_TESTS[n].format(v=v) for n in names)
    src.emit(depth, f"if not ({tests}): return False")
    return str(names[0]) if len(names) == 1 else None


def _emit_keyword(src: _Source, keyword: str, value: Any, node: dict[str, Any], v: str,
                  depth: int, known: str | None) -> None:
    if keyword == "properties":
        required = node.get("required")
        _emit_properties(src, value, v, depth, known,
                         frozenset(required) if isinstance(required, list) else frozenset())
    elif keyword == "required":
        if not isinstance(value, list):
            raise Unsupported("required")
        names = src.constant(frozenset(value), "req")
        src.emit(depth, f"if {_guard('object', v, known)}not ({v}.keys() >= {names}): "
                 "return False")
    elif keyword == "additionalProperties":
        _emit_additional(src, value, node, v, depth, known)
    elif keyword == "items":
        if "prefixItems" in node:
            raise Unsupported("prefixItems")
        item = src.name("i")
        src.emit(depth, f"if {_guard('array', v, known)}True:")
        src.emit(depth + 1, f"for {item} in {v}:")
        src.emit(depth + 2, "pass")
        _emit_node(src, value, item, depth + 2)
    elif keyword == "uniqueItems":
        if value is True:
            src.emit(depth, f"if {_guard('array', v, known)}not unique_strings({v}): "
                     "return False")
    elif keyword in _LENGTH:
        kind, op = _LENGTH[keyword]
        if not isinstance(value, int) or isinstance(value, bool):
            raise Unsupported(keyword)
        src.emit(depth, f"if {_guard(kind, v, known)}len({v}) {op} {value}: return False")
    elif keyword in _BOUND:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise Unsupported(keyword)
        src.emit(depth, f"if {_guard('number', v, known)}{v} {_BOUND[keyword]} {value!r}: "
                 "return False")
    elif keyword == "pattern":
        if not isinstance(value, str):
            raise Unsupported("pattern")
        # the validator's own ECMA 262 meaning (schema_check): `$` is the end of input
        search = src.constant(ecma_search(value), "search")
        # the last string that matched: consecutive lines mostly repeat ids and names
        last = src.constant([None], "last")
        src.emit(depth, f"if {_guard('string', v, known)}{v} != {last}[0]:")
        src.emit(depth + 1, f"if {search}({v}) is None: return False")
        src.emit(depth + 1, f"{last}[0] = {v}")
    elif keyword == "format":
        if not isinstance(value, str):
            raise Unsupported("format")
        # the very checker jsonschema is given, so a format means the same to both
        check = f"fc.conforms({v}, {value!r})"
        if value in _SURELY:
            surely = src.constant(_SURELY[value], "surely")
            check = f"{_guard('string', v, known)}{surely}({v}) or {check}"
        src.emit(depth, f"if not ({check}): return False")
    elif keyword in ("enum", "const"):
        values = value if keyword == "enum" else [value]
        if not isinstance(values, list) or not all(isinstance(x, str) for x in values):
            raise Unsupported(f"{keyword} of non-strings")
        allowed = src.constant(frozenset(values), "allowed")
        src.emit(depth, f"if not (isinstance({v}, str) and {v} in {allowed}): return False")


def _emit_properties(src: _Source, value: object, v: str, depth: int,
                     known: str | None, present: frozenset[str]) -> None:
    """Each property's checks; those in `present` (required, and tested before this
    code runs) are read without a test for their absence."""
    if not isinstance(value, dict):
        raise Unsupported("properties")
    src.emit(depth, f"if {_guard('object', v, known)}True:")
    src.emit(depth + 1, "pass")
    for prop, sub in value.items():
        item = src.name("p")
        if prop in present:
            src.emit(depth + 1, f"{item} = {v}[{prop!r}]")
            _emit_node(src, sub, item, depth + 1)
            continue
        src.emit(depth + 1, f"{item} = {v}.get({prop!r}, MISSING)")
        src.emit(depth + 1, f"if {item} is not MISSING:")
        src.emit(depth + 2, "pass")
        _emit_node(src, sub, item, depth + 2)


def _emit_additional(src: _Source, value: object, node: dict[str, Any], v: str, depth: int,
                     known: str | None) -> None:
    if "patternProperties" in node:
        raise Unsupported("patternProperties")
    names = src.constant(frozenset(node.get("properties", {})), "props")
    if value is False:
        src.emit(depth, f"if {_guard('object', v, known)}not ({v}.keys() <= {names}): "
                 "return False")
    elif value is not True:
        key, item = src.name("key"), src.name("extra")
        src.emit(depth, f"if {_guard('object', v, known)}True:")
        src.emit(depth + 1, f"for {key}, {item} in {v}.items():")
        src.emit(depth + 2, f"if {key} not in {names}:")
        src.emit(depth + 3, "pass")
        _emit_node(src, value, item, depth + 3)


def compile_source(schema: Mapping[str, Any], fc: FormatChecker) -> tuple[str, dict[str, Any]]:
    """The predicate's source and the names it uses; raises Unsupported."""
    src = _Source(fc)
    src.emit(0, "def check(x):")
    _emit_node(src, dict(schema), "x", 1)
    src.emit(1, "return True")
    return "\n".join(src.lines) + "\n", src.env


def compile_schema(schema: Mapping[str, Any], fc: FormatChecker) -> Check | None:
    """A predicate that is True only for instances jsonschema finds valid; None if the
    schema uses anything this module does not compile (then always use jsonschema)."""
    if schema.get("$schema", DRAFT_2020_12) != DRAFT_2020_12:
        return None
    try:
        code, env = compile_source(schema, fc)
    except Unsupported:
        return None
    exec(compile(code, "<fastschema>", "exec"), env)
    check: Check = env["check"]
    return check
