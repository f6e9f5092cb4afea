"""store.load_json must be json.loads(raw.decode("utf-8")) exactly, made strict: the
same value, with the same types and key order, or the same error; and an error where
RFC 8259 leaves the meaning open or forbids the token (a repeated key, NaN,
Infinity, a number too large for a float). It decides what validate reports, so a
difference would change a verdict or a message."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paratopics.corpus.store import load_json, load_validated_json


def outcome(read: Callable[[bytes], object], raw: bytes) -> tuple[str, str]:
    """("ok", repr of the value) or ("error", the exception's type)."""
    try:
        return "ok", repr(read(raw))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        return "error", type(exc).__name__


def _pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    if len({key for key, _ in pairs}) != len(pairs):
        raise ValueError("repeated key")
    return dict(pairs)


def _no_constant(name: str) -> object:
    raise ValueError(name)


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


def strict_loads(data: bytes) -> object:
    """json.loads, refusing repeated keys, NaN, Infinity and overflowing numbers."""
    return json.loads(data.decode("utf-8"), object_pairs_hook=_pairs,
                      parse_constant=_no_constant, parse_float=_float)


def reference(raw: bytes) -> tuple[str, str]:
    return outcome(strict_loads, raw)


def ours(raw: bytes) -> tuple[str, str]:
    return outcome(load_json, raw)


#: Inputs on which orjson alone would differ from json, and ordinary ones.
EDGES = [
    b'{"a": 123456789012345678901234567890}',  # orjson: a float
    b'{"a": -9223372036854775809}',  # orjson: a float
    b'{"a": 18446744073709551616}',  # orjson: a float
    b'{"a": 18446744073709551615}',
    b'{"a": 1e400}',  # orjson: refused; json: inf
    b'{"a": NaN}',  # orjson: refused; json: nan
    b'{"a": -Infinity}',
    b'"\\ud800"',  # a lone surrogate escape: orjson refuses it
    b'"\xed\xa0\x80"',  # an encoded surrogate: not UTF-8 for either
    b'\xef\xbb\xbf{}',  # a byte-order mark
    b'{"a": 1, "b": 2, "a": 3}',  # a repeated key: json keeps the last value; refused
    b'{"a": {"b": 1, "b" : 2}}',  # the same, nested, with a space before the colon
    b'{"a": "\\": x", "b": 1}',  # a key-like string value: no repeated key
    b'"a\x01b"',  # a raw control character
    b'{"a": "\xff"}',  # not UTF-8
    b"",
    b"   ",
    b"[1,]",
    b'{"a":1}\x00',
    b"-0",
    b"1.5e-400",
    b"0.30000000000000004",
    b"2.2250738585072011e-308",
    b'{"\\ud83d\\ude00": [1, 2.5, null, true, false, "x"]}',
    b"[" * 600 + b"]" * 600,  # json's recursion limit
    b"[" * 2000 + b"]" * 2000,
]


@pytest.mark.parametrize("raw", EDGES, ids=range(len(EDGES)))
def test_edges_as_json_reads_them(raw: bytes) -> None:
    assert ours(raw) == reference(raw)


def test_the_edges_include_what_orjson_alone_gets_wrong() -> None:
    """Without its guards load_json would differ here: the edges test something."""
    differs = 0
    for raw in EDGES:
        alone = outcome(orjson.loads, raw)
        if alone[0] == "ok":  # what orjson refuses, load_json gives to json
            differs += alone != reference(raw)
    assert differs >= 3


def refuses_as_too_deep(read: Callable[[bytes], object], raw: bytes) -> bool:
    """Whether reading `raw` raises RecursionError (its value is not repr'd: that
    would raise it too)."""
    try:
        read(raw)
    except RecursionError:
        return True
    return False


def test_deep_nesting_is_refused_exactly_where_json_refuses_it() -> None:
    """json gives up at the recursion limit, orjson only at 1024 levels."""
    limit = sys.getrecursionlimit()
    depths = range(limit - 300, 1100, 7)
    assert any(refuses_as_too_deep(json.loads, b"[" * d + b"]" * d) for d in depths)
    for depth in depths:
        raw = b"[" * depth + b"]" * depth
        assert (refuses_as_too_deep(load_json, raw)
                == refuses_as_too_deep(strict_loads, raw)
                ), depth


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(min_value=-(2**70), max_value=2**70) | st.text(),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=1500, deadline=None)
@given(json_values)
def test_any_json_value_reads_back_identically(value: object) -> None:
    raw = json.dumps(value).encode()
    assert ours(raw) == reference(raw)


#: JSON tokens, digits and bytes that are not UTF-8: mostly near-JSON input.
FRAGMENTS = st.sampled_from([
    b"{", b"}", b"[", b"]", b",", b":", b'"', b'"k"', b"1", b"9" * 19, b"-", b".", b"e",
    b"E+", b"0", b"true", b"null", b"NaN", b"\\u00e9", b"\\ud800", b"\\", b" ", b"\n",
    b"\x00", b"\xff", b"\xc3\xa9", b"\xed\xa0\x80", b"\xef\xbb\xbf",
])


@settings(max_examples=3000, deadline=None)
@given(st.lists(FRAGMENTS | st.binary(max_size=3), max_size=24).map(b"".join))
def test_any_bytes_read_as_json_reads_them(raw: bytes) -> None:
    assert ours(raw) == reference(raw)


@pytest.mark.parametrize("raw", [b'{"a": 1, "a": 1}', b'{"c": NaN}', b'[Infinity]',
                                 b'{"x": -Infinity}', b'[1e400]', b'[{"k": [], "k": {}}]'])
def test_what_json_would_accept_is_refused(raw: bytes) -> None:
    json.loads(raw)  # (the standard library reads each)
    with pytest.raises(ValueError):
        load_json(raw)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(json_values.map(lambda v: json.dumps(v).encode()),
                 st.lists(FRAGMENTS | st.binary(max_size=3), max_size=24).map(b"".join)))
def test_a_validated_read_gives_load_jsons_value_wherever_load_json_gives_one(
        raw: bytes) -> None:
    expected = ours(raw)
    if expected[0] == "ok":
        assert outcome(load_validated_json, raw) == expected


def test_a_validated_read_leaves_repeated_keys_to_validation() -> None:
    raw = b'{"a": 1, "b": [{"k": 2, "k": 3}], "a": 4}'
    with pytest.raises(ValueError, match="appears twice"):
        load_json(raw)
    assert load_validated_json(raw) == json.loads(raw)  # the last value, as json keeps it
