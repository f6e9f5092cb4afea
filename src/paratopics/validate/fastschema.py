"""The fast path of schema validation: jsonschema-rs, set up to accept exactly what
`schema_check.validator_for` (jsonschema, the reference) accepts.

jsonschema walks the schema anew for every instance; over a million annotation
lines that is most of what `validate` does, although nearly every line is valid.
jsonschema-rs compiles the schema once, in Rust. It follows the JSON Schema spec,
and the reference differs from the spec in four places that the differential test
(tests/validate/test_jsonschema_rs.py) finds on records near each of the project's schemas:

- integers: the spec, and so jsonschema-rs, counts 1.0 as an integer; the reference
  refuses it (see schema_check). A float where the schema may want an integer makes
  the fast path unsure.
- `\\s` in a pattern: the reference runs patterns on Python's `re`, whose whitespace
  includes U+001C-U+001F and U+0085 but not U+FEFF; ECMA 262's, jsonschema-rs's, is
  the reverse. Patterns reach jsonschema-rs with `\\s` and `\\S` spelt out as Python
  reads them (and `.` and `\\d` as ECMA 262 reads them, which the reference does too).
- formats: jsonschema-rs accepts leap seconds and year 0000 in `date-time`, and year
  0000 in `date`; the reference's checks (rfc3339-validator, `date.fromisoformat`)
  refuse both. Those two formats get a guard pattern beside them with the shape the
  reference accepts (jsonschema-rs still checks the calendar). `uri` is read alike
  (rfc3986-validator's grammar); any other format calls the reference's own check.
- a string with a lone surrogate (JSON allows "\\ud800") cannot cross into Rust:
  unsure.

Unsure means False: the caller then runs jsonschema, which decides and words the
errors. So every result is jsonschema's; only valid records get faster.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs

from paratopics.schema_check import FORMAT_CHECKER, pattern_pieces

Check = Callable[[Any], bool]

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

#: Python's `\s` in a str pattern, as the body of an ECMA 262 character class
#: (tests/validate/test_jsonschema_rs.py compares it with `re` on every code point).
PY_SPACE = ("\\t-\\r\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029"
            "\\u202f\\u205f\\u3000")
#: ECMA 262's `.` (no `s` flag), which the reference's patterns mean too (schema_check).
ECMA_DOT = "[^\\n\\r\\u2028\\u2029]"

#: The shape each format's reference check accepts, where jsonschema-rs's own check is
#: looser: rfc3339-validator (on the upper-cased string: `t` and `z` pass) has no leap
#: second and no year 0; `date` is `date.fromisoformat` of YYYY-MM-DD, from year 1.
#: Both refuse a line break (schema_check). The calendar (days of the month, leap
#: years) is left to jsonschema-rs.
GUARDS = {
    "date-time": "^(?!0000)[0-9]{4}-(0[1-9]|1[0-2])-[0-9]{2}[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:"
                 "[0-5][0-9](\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$",
    "date": "^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}$",
}

#: Formats jsonschema-rs reads as the reference does: no guard, no call back into Python.
NATIVE = frozenset({"uri"})

#: Keywords whose subschemas apply to the instance itself or to named parts of it:
#: where an integer may be asked for is followed through these.
_SAME_INSTANCE = ("allOf", "anyOf", "oneOf")
#: Keywords with subschemas this module does not follow: an integer under one of them
#: leaves the schema uncompiled.
_OTHER_SUBSCHEMAS = ("patternProperties", "prefixItems", "contains",
                     "not", "if", "then", "else", "dependentSchemas", "propertyNames",
                     "unevaluatedItems", "unevaluatedProperties")
#: Escapes whose meaning differs between Python's `re` and ECMA 262 (word characters
#: and boundaries are Unicode in one, ASCII in the other; digits are backreferences or
#: octal) or exists in one only.
_REFUSED_ESCAPES = frozenset("SwWbBpPkc0123456789AZ")
#: Python-only or differently read: `{,n}`, group flags and named groups, `[]` and `[^]`.
_READ_DIFFERENTLY = re.compile(r"\{,|\(\?[^:=!<]|\[\^?\]")


class Unsupported(Exception):
    """The schema uses something whose meaning this module cannot carry over."""


def rust_pattern(pattern: str) -> str:
    """`pattern` as the reference reads it, written for jsonschema-rs (ECMA 262).

    Raises Unsupported for constructs whose two readings differ and that this
    does not rewrite; the schema is then left to jsonschema alone.
    """
    if _READ_DIFFERENTLY.search(pattern):
        raise Unsupported(f"pattern {pattern!r}")
    out: list[str] = []
    for piece, in_class in pattern_pieces(pattern):
        if piece == "\\s":
            out.append(PY_SPACE if in_class else f"[{PY_SPACE}]")
        elif piece == "\\S" and not in_class:
            out.append(f"[^{PY_SPACE}]")
        elif piece == "\\d":
            out.append("0-9" if in_class else "[0-9]")
        elif piece[0] == "\\" and (piece[1:] in _REFUSED_ESCAPES or (piece == "\\D" and in_class)):
            raise Unsupported(f"{piece} in pattern {pattern!r}")
        elif piece == "." and not in_class:
            out.append(ECMA_DOT)
        else:
            out.append(piece)
    return "".join(out)


def rust_schema(node: object) -> object:
    """`node` with patterns rewritten (rust_pattern) and a guard beside each format
    that jsonschema-rs reads more loosely than the reference (GUARDS)."""
    if isinstance(node, list):
        return [rust_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {
        key: value if key in ("enum", "const", "default", "examples") else rust_schema(value)
        for key, value in node.items()}
    if isinstance(node.get("pattern"), str):
        out["pattern"] = rust_pattern(node["pattern"])
    guard = GUARDS.get(node["format"]) if isinstance(node.get("format"), str) else None
    if guard is not None:
        out["allOf"] = [*out.get("allOf", []), {"pattern": guard}]
    return out


def _formats_in(node: object) -> set[str]:
    if isinstance(node, list):
        return {name for item in node for name in _formats_in(item)}
    if not isinstance(node, dict):
        return set()
    found = {node["format"]} if isinstance(node.get("format"), str) else set()
    return found | {name for key, value in node.items() if key not in ("enum", "const")
                    for name in _formats_in(value)}


def _reference_format(name: str) -> Callable[[str], bool]:
    return functools.partial(FORMAT_CHECKER.conforms, format=name)


@dataclass
class Places:
    """Where in an instance the schema may ask for an integer: the instance itself
    (`here`), under some of its properties, under the others (`rest`, those outside
    `declared`), or in each of its items."""

    here: bool = False
    props: dict[str, Places] = field(default_factory=dict)
    items: Places | None = None
    rest: Places | None = None
    declared: frozenset[str] = frozenset()

    def empty(self) -> bool:
        return not self.here and not self.props and self.items is None and self.rest is None


def _resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> object:
    ref = node["$ref"]
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        raise Unsupported(f"$ref {ref!r}")
    return root["$defs"][ref.removeprefix("#/$defs/")]


def integer_places(node: object, root: Mapping[str, Any], depth: int = 0) -> Places:
    """The places of `node` (a schema) where an integer may be asked for, pruned of
    branches without one; raises Unsupported where it cannot tell."""
    places = Places()
    if not isinstance(node, dict):
        return places
    if depth > 64:
        raise Unsupported("recursive schema")
    kinds = node.get("type")
    places.here = kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds)
    parts: list[Places] = []
    if "$ref" in node:
        parts.append(integer_places(_resolve(node, root), root, depth + 1))
    for key in _SAME_INSTANCE:
        parts += [integer_places(sub, root, depth + 1) for sub in node.get(key, [])]
    for part in parts:
        _merge(places, part)
    for name, sub in (node.get("properties") or {}).items():
        found = integer_places(sub, root, depth + 1)
        if name in places.props:
            _merge(places.props[name], found)
        elif not found.empty():
            places.props[name] = found
    if "items" in node:
        found = integer_places(node["items"], root, depth + 1)
        places.items = None if found.empty() else found
    if "additionalProperties" in node:
        found = integer_places(node["additionalProperties"], root, depth + 1)
        if not found.empty():
            if "patternProperties" in node or places.rest is not None:
                raise Unsupported("an integer under additionalProperties")
            places.rest, places.declared = found, frozenset(node.get("properties") or ())
    for key in _OTHER_SUBSCHEMAS:
        subs = node.get(key)
        subs = list(subs.values()) if isinstance(subs, dict) and key in (
            "patternProperties", "dependentSchemas") else subs
        for sub in subs if isinstance(subs, list) else [subs]:
            if not integer_places(sub, root, depth + 1).empty():
                raise Unsupported(f"an integer under {key}")
    return places


def _merge(into: Places, other: Places) -> None:
    if other.rest is not None:
        if into.rest is not None:
            raise Unsupported("integers under two additionalProperties of one instance")
        into.rest, into.declared = other.rest, other.declared
    into.here = into.here or other.here
    for name, sub in other.props.items():
        _merge(into.props.setdefault(name, Places()), sub)
    if other.items is not None:
        into.items = into.items or Places()
        _merge(into.items, other.items)


def float_where_integer(value: object, places: Places) -> bool:
    """Whether a float sits at one of `places`: a loop, no generator, as it runs on
    every paragraph of every article."""
    if places.here and type(value) is float:
        return True
    if places.props and type(value) is dict:
        for name, sub in places.props.items():
            if name in value and float_where_integer(value[name], sub):
                return True
    if places.items is not None and type(value) is list:
        for item in value:
            if float_where_integer(item, places.items):
                return True
    if places.rest is not None and type(value) is dict:
        for name, item in value.items():
            if name not in places.declared and float_where_integer(item, places.rest):
                return True
    return False


def compile_schema(schema: Mapping[str, Any]) -> Check | None:
    """A predicate that is True exactly for the instances `validator_for(schema)` finds
    valid, but False (unsure) for one holding a lone surrogate; None if the schema
    uses something whose meaning this module cannot carry over to jsonschema-rs."""
    if schema.get("$schema", DRAFT_2020_12) != DRAFT_2020_12:
        return None
    try:
        places = integer_places(schema, schema)
        validator = jsonschema_rs.Draft202012Validator(
            rust_schema(dict(schema)), validate_formats=True,  # type: ignore[arg-type]
            formats={name: _reference_format(name) for name in sorted(_formats_in(schema))
                     if name not in GUARDS and name not in NATIVE})
    except (Unsupported, ValueError, KeyError, TypeError):
        return None
    return _checker(validator.is_valid, None if places.empty() else places)


def surely_valid(schema: Mapping[str, Any], instance: object) -> bool:
    """True when the fast path finds `instance` valid against `schema`; False when it
    is invalid or the fast path is unsure, and the reference must say why. For the
    one-off documents read on every command (a release's manifest, the codebook):
    jsonschema's walk of the manifest schema took longer than the rest of a cached
    `paratopics.load` (docs/bench-load.md), compiling it takes about 3 ms."""
    check = compile_schema(schema)
    return check is not None and check(instance)


def _checker(is_valid: Check, places: Places | None) -> Check:
    def check(instance: Any) -> bool:
        try:
            valid = is_valid(instance)
        except ValueError:  # UnicodeEncodeError: a lone surrogate is no Rust string
            return False
        return valid and (places is None or not float_where_integer(instance, places))
    return check
