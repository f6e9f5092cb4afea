"""JSON Schema checking with the regular expressions of the JSON Schema spec (ECMA 262).

jsonschema runs a schema's `pattern` with Python's `re.search`, where `$` also
matches before a final newline and `\\d` matches any Unicode digit: an annotator
of "annotator-01\\n" or a version of "1.٣.0" then passes `^...$`, which every
ECMA-conforming validator (and the spec) refuses. `ecma_regex` rewrites a pattern
into the Python regex that means what ECMA 262 means, and `validator_for` builds a
Draft 2020-12 validator that uses it, with format checks that refuse a line break
anywhere (rfc3339-validator, too, matches with `$`). The schemas stay portable:
what they say is what every tool, and this one, enforces. One rule is stricter
than the spec: an `integer` must be written as one (1.0 and 1e0 are refused).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError

#: ECMA's `.` matches anything but these line terminators (no `s` flag).
_ECMA_DOT = "[^\\n\\r\\u2028\\u2029]"


def pattern_pieces(pattern: str) -> Iterator[tuple[str, bool]]:
    """The pieces of a pattern, each an escape with its character or one character
    (`[^` is one piece), and whether it stands inside a character class (the
    brackets themselves do not)."""
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            yield pattern[i:i + 2], in_class
            i += 2
            continue
        if in_class and ch == "]":
            in_class = False
        elif in_class:
            yield ch, True
            i += 1
            continue
        elif ch == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "^":  # (a ']' right after '[^' is literal in Python)
                ch = "[^"
        yield ch, False
        i += len(ch)


def ecma_regex(pattern: str) -> str:
    """`pattern` (ECMA 262, no flags) as a Python regex with the same matches.

    `$` becomes `\\Z` (end of input only), `.` stops at every ECMA line terminator,
    and `\\d` / `\\D` are ASCII digits as in ECMA; the rest means the same in both.
    """
    out: list[str] = []
    for piece, in_class in pattern_pieces(pattern):
        if piece == "\\d":
            out.append("0-9" if in_class else "[0-9]")
        elif piece == "\\D" and not in_class:
            out.append("[^0-9]")
        elif piece == "$" and not in_class:
            out.append("\\Z")
        elif piece == "." and not in_class:
            out.append(_ECMA_DOT)
        else:
            out.append(piece)
    return "".join(out)


@functools.lru_cache(maxsize=256)
def ecma_search(pattern: str) -> Callable[[str], re.Match[str] | None]:
    """The compiled `search` of a schema pattern, with ECMA 262 meaning."""
    return re.compile(ecma_regex(pattern)).search


def _pattern(validator: Any, pattern: str, instance: object,
             schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if isinstance(instance, str) and ecma_search(pattern)(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _no_line_break(check: Callable[[object], object]) -> Callable[[object], object]:
    def checked(instance: object) -> object:
        if isinstance(instance, str) and ("\n" in instance or "\r" in instance):
            return False
        return check(instance)
    return checked


def _format_checker() -> FormatChecker:
    """jsonschema's format checks, each refusing a string with a line break: no format
    our schemas use (date, date-time, uri) admits one, yet some checks match with `$`."""
    base = Draft202012Validator.FORMAT_CHECKER
    checker = FormatChecker(formats=())
    for name, (check, raises) in base.checkers.items():
        checker.checks(name, raises)(_no_line_break(check))
    return checker


def _is_integer(checker: object, instance: object) -> bool:
    """An `int` only. The spec counts 1.0 as an integer, but every record here is
    written with integers, every reader indexes lists with them, and a 1.0 (or 1e0)
    is a hand edit or a faulty tool: refused, rather than crashing what reads it."""
    return type(instance) is int


def _is_number(checker: object, instance: object) -> bool:
    """A finite int or float: NaN and Infinity are no JSON numbers (RFC 8259), and a
    NaN passes every `minimum` and `maximum` (each comparison is False)."""
    return type(instance) is int or (type(instance) is float and math.isfinite(instance))


#: Draft 2020-12 with ECMA 262 `pattern` semantics, integers that are ints and
#: numbers that are finite.
EcmaValidator = validators.extend(
    Draft202012Validator, {"pattern": _pattern},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"integer": _is_integer, "number": _is_number}))

FORMAT_CHECKER = _format_checker()


def validator_for(schema: Mapping[str, Any], *, formats: bool = True) -> Draft202012Validator:
    """A validator of `schema` with ECMA patterns and, unless `formats` is False, the
    format checks. `schema` is one of the project's own, which
    tests/validate/test_schemas.py checks against the meta-schema: checking it
    again here cost every command 3 to 21 ms per schema."""
    made: Draft202012Validator = EcmaValidator(
        schema, format_checker=FORMAT_CHECKER if formats else None)
    return made
