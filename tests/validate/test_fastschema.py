"""fastschema on object shapes other than the corpus schemas': keyword order, no
declared type, some properties required, all of them required."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from paratopics.schema_check import validator_for
from paratopics.validate.fastschema import compile_schema

#: "properties" before "required" and no "type": the required names must still be
#: tested before a property is read as surely present.
SOME_REQUIRED = {"properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
                 "required": ["a"]}
#: Exactly these keys.
EXACT = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
         "required": ["b", "a"], "additionalProperties": False}
#: The same inside an array, as a record's paragraphs are.
NESTED = {"type": "array", "items": EXACT}

VALUES = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=2) | st.just(1.0)
OBJECTS = st.dictionaries(st.sampled_from(["a", "b", "c"]), VALUES, max_size=3)
INSTANCES = OBJECTS | st.lists(OBJECTS, max_size=3) | VALUES


@pytest.mark.parametrize("schema", [SOME_REQUIRED, EXACT, NESTED],
                         ids=["some-required", "exact", "nested"])
@settings(max_examples=400, deadline=None)
@given(instance=INSTANCES)
def test_the_fast_path_accepts_only_what_jsonschema_accepts(schema: dict[str, Any],
                                                            instance: object) -> None:
    check = compile_schema(schema)
    assert check is not None
    if check(instance):
        assert Draft202012Validator(schema).is_valid(instance)
    # against the validator paratopics uses (1.0 is no integer there): exactly the same
    assert check(instance) == validator_for(schema).is_valid(instance)


def test_the_shapes_are_told_apart() -> None:
    exact = compile_schema(EXACT)
    some = compile_schema(SOME_REQUIRED)
    assert exact is not None and some is not None
    assert exact({"a": 1, "b": "x"})
    assert not exact({"a": 1})
    assert not exact({"a": 1, "b": "x", "c": None})
    assert some({"a": 1}) and some({"a": 1, "c": None}) and some("not an object")
    assert not some({"b": "x"})
