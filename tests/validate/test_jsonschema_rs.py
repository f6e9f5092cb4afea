"""jsonschema-rs as the fast path: on records near each of the project's schemas it
answers valid/invalid exactly as the reference (jsonschema through
schema_check.validator_for, with the project's format checks) does.

The records are valid ones with one to three things changed: a field removed or
added, a value of the wrong type, a string with a line break, a control character,
a non-ASCII space or digit, a lone surrogate or an emoji inserted, strings cut or
grown around each length bound, numbers at and past each bound (huge integers, 1.0
for 1, NaN), date-times and dates built from near-valid parts (leap seconds, year
0000, day 30 of February, hour 24, lower-case `t` and `z`, offsets up to +24:00),
and URIs built from near-valid parts. Runs are derandomized: the same examples in
every run.

Unconfigured, jsonschema-rs disagrees with the reference in the four ways
fastschema's docstring lists; test_what_plain_jsonschema_rs_reads_otherwise shows
each, so that a jsonschema-rs release that changes one of them is noticed.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Callable
from typing import Any

import jsonschema_rs
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paratopics.codebook import load_json_resource, schema_dir
from paratopics.schema_check import FORMAT_CHECKER
from paratopics.validate.fastschema import PY_SPACE, compile_schema, rust_pattern
from paratopics.validate.schema import fast_path, make_validator

RECORD_SCHEMAS = ("annotation.schema.json", "article.schema.json", "article-1.0.0.schema.json")


def examples(count: int) -> settings:
    """The same `count` examples in every run, none remembered between runs."""
    return settings(max_examples=count, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


SHA = "0123456789abcdef" * 4
ANNOTATION: dict[str, Any] = {
    "article_id": "talks-resume-0123456789", "paragraph_index": 1, "paragraph_sha256": SHA,
    "labels": ["medtop:16000000", "paratopics:missile-test"], "annotator": "team-a.01",
    "role": "adjudicator", "created": "2024-02-29T23:59:59.25+05:30", "confidence": 0.5,
    "note": "Tabs\tand lines\nare fine here."}
ARTICLE: dict[str, Any] = {
    "schema_version": "1.1.0", "article_id": "talks-resume-0123456789",
    "source": "globalsecurity.org", "url": "https://www.globalsecurity.org/news/2024/x.htm",
    "title": "Talks resume", "authors": ["A. Writer", "B. Writer"], "published": "2024-02-29",
    "section": None, "language": "en-GB", "license": "LicenseRef-US-Government-Work",
    "attribution": "U.S. Department of State, https://www.state.gov/",
    "ingested_from": {"path": "sources/globalsecurity.org/000_x.txt", "sha256": SHA,
                      "format": "jsonl", "record": 3},
    "paragraphs": [
        {"index": 0, "heading": None, "text": "The talks resumed.", "sha256": SHA,
         "start": 0, "end": 18},
        {"index": 1, "heading": "Reactions", "text": "Both sides spoke.", "sha256": SHA,
         "start": 20, "end": 37}]}
ARTICLE_1_0_0 = {**{k: v for k, v in ARTICLE.items() if k not in ("license", "attribution")},
                 "schema_version": "1.0.0"}
BASES = {"annotation.schema.json": ANNOTATION, "article.schema.json": ARTICLE,
         "article-1.0.0.schema.json": ARTICLE_1_0_0}

# -- near values ----------------------------------------------------------------

#: Characters where Python, ECMA 262 and RFCs read strings differently.
TRICKY = ["\n", "\r", "\t", "\x00", "\x0b", "\x1b", "\x1c", "\x1f", "\x7f", "\x85", "\xa0",
          "\u1680", "\u180e", "\u200b", "\u2028", "\u3000", "\ufeff", "\u0663", "\uff12",
          "\ud800", "\udfff", "\U0001f600", "\u0301", "\u0131", "\u017f", " ", "/", "\\",
          "%", "-", ".", ":", "+", "T", "t", "Z", "z", "0", "9", "a", "A", "_", "#", "?",
          "[", "]", "@"]
CHARS = st.sampled_from(TRICKY) | st.sampled_from(TRICKY) | st.characters(codec=None)
#: Every length bound of the schemas, and one either side.
LENGTHS = sorted({n + d for n in (1, 20, 64, 80, 100, 200, 1000, 2000) for d in (-1, 0, 1)})
NUMBERS = st.sampled_from([
    0, 1, -1, 2, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -2**63 - 1, 10**30, -10**30,
    10**400, 0.0, -0.0, 1.0, 3.0, 0.5, 1e-320, 1e300, -1e300, float("nan"), float("inf"),
    float("-inf"), 1.0000000000000002, 0.9999999999999999, True, False, None,
]) | st.integers() | st.floats()
JSON = st.recursive(
    st.none() | st.booleans() | NUMBERS | st.text(CHARS, max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(CHARS, max_size=4),
                                                                inner, max_size=3),
    max_leaves=6)


def _two(n: int) -> str:
    return f"{n:02d}"


DATE = st.tuples(st.sampled_from([0, 1, 4, 1900, 1999, 2000, 2016, 2021, 2024, 9999]),
                 st.integers(0, 13), st.integers(0, 32)).map(
    lambda t: f"{t[0]:04d}-{_two(t[1])}-{_two(t[2])}")
TIME = st.tuples(st.integers(0, 24), st.integers(0, 60), st.integers(0, 61),
                 st.sampled_from(["", ".0", ".25", ".123456789012", ".", ".5x"]),
                 st.sampled_from(["Z", "z", "+00:00", "-00:00", "+05:30", "-23:59", "+24:00",
                                  "+23:60", "+0530", "", " Z"])).map(
    lambda t: f"{_two(t[0])}:{_two(t[1])}:{_two(t[2])}{t[3]}{t[4]}")
DATE_TIME = st.tuples(DATE, st.sampled_from(["T", "t", " ", "_"]), TIME).map("".join)
URI = st.tuples(
    st.sampled_from(["https", "http", "mailto", "urn", "a", "a+b-c.d", "1a", "", "h t", "é"]),
    st.sampled_from(["://", ":", ":/", "//", ""]),
    st.sampled_from(["example.org", "www.state.gov", "[::1]", "[::1", "[v1.x]", "ex ample.org",
                     "é.org", "a%41b", "a%zz", "", "user@host", "u:p@host", "host:80",
                     "host:99999", "host:", "127.0.0.1", "isbn:0451450523"]),
    st.sampled_from(["", "/", "/a/b.htm", "/a b", "/%zz", "/%41", "/é", "/<>", "/a?b=c#d",
                     "/a#b#c", "\n", "/\\", "/a|b", "?q", "#f", "/{x}", "/`", "/\x7f"])).map(
    "".join)
FORMATTED = {"created": DATE_TIME, "published": DATE, "first": DATE, "last": DATE, "url": URI}


@st.composite
def near_string(draw: st.DrawFn, value: str) -> str:
    """`value` with a character put in, swapped or taken out, or cut or grown to a bound."""
    how = draw(st.sampled_from(["insert", "replace", "delete", "length", "other"]))
    at = draw(st.sampled_from([0, len(value)]) | st.integers(0, len(value)))
    if how == "insert":
        return value[:at] + draw(CHARS) + value[at:]
    if how == "replace" and value:
        at = min(at, len(value) - 1)
        return value[:at] + draw(CHARS) + value[at + 1:]
    if how == "delete" and value:
        return value[:at] + value[at + 1:]
    if how == "length":
        n = draw(st.sampled_from(LENGTHS))
        fill = draw(st.sampled_from(["x", "é", "\U0001f600", "ab ", value or "x"]))
        return (value + fill * n)[:n] if draw(st.booleans()) else (fill * n)[:n]
    return draw(st.text(CHARS, max_size=8))


def near_value(key: str, value: object) -> st.SearchStrategy[object]:
    """Values near `value` for the field `key`: its format's near misses, nearby
    strings, numbers at bounds, lists grown past their bounds, anything JSON."""
    options: list[st.SearchStrategy[object]] = [NUMBERS, JSON]
    if key in FORMATTED:
        options += [FORMATTED[key]] * 3
    if isinstance(value, str):
        options += [near_string(value)] * 3
    if isinstance(value, list):
        options.append(st.lists(st.sampled_from([*value, "x", "", 1, 1.0, True, None])
                                if value else JSON, min_size=0, max_size=22))
        options.append(st.just([*value, *value[:1]]))
    return st.one_of(options)


def places(record: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path of every value in `record`."""
    found = [path] if path else []
    if isinstance(record, dict):
        for key, value in record.items():
            found += places(value, (*path, key))
    elif isinstance(record, list):
        for i, value in enumerate(record):
            found += places(value, (*path, i))
    return found


@st.composite
def near_records(draw: st.DrawFn, base: dict[str, Any]) -> object:
    """`base` with one to three changes, or (rarely) something else entirely."""
    if draw(st.integers(0, 30)) == 0:
        return draw(JSON)
    record = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(places(record) or [("x",)]))
        parent: Any = record
        for step in path[:-1]:
            parent = parent[step]
        if not isinstance(parent, dict | list):
            continue
        last = path[-1]
        action = draw(st.sampled_from(["set", "set", "set", "delete", "add"]))
        if action == "delete":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "Title", "index2", ""]) |
                        st.text(CHARS, max_size=3))] = draw(JSON)
        else:
            key = last if isinstance(last, str) else str(path[-2]) if len(path) > 1 else ""
            parent[last] = draw(near_value(key, parent[last]))
    return record


def _surrogate_in(value: object) -> bool:
    text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def agree(reference: Callable[[object], bool], fast: Callable[[object], bool],
          record: object) -> None:
    """The fast path says what the reference says; a lone surrogate may leave it
    unsure (False), never wrong."""
    expected, said = reference(record), fast(record)
    if said is False and expected and _surrogate_in(record):
        return
    assert said is expected, (record, expected)


# -- the differential tests -----------------------------------------------------

REFERENCE = {name: make_validator(name) for name in RECORD_SCHEMAS}
FAST = {name: fast_path(REFERENCE[name]) for name in RECORD_SCHEMAS}


@pytest.mark.parametrize("name", RECORD_SCHEMAS)
def test_the_bases_are_valid_and_compiled(name: str) -> None:
    assert compile_schema(REFERENCE[name].schema) is not None
    assert REFERENCE[name].is_valid(BASES[name]) and FAST[name](BASES[name])


@examples(300)
@given(near_records(ANNOTATION))
def test_annotations_are_judged_alike(record: object) -> None:
    agree(REFERENCE["annotation.schema.json"].is_valid, FAST["annotation.schema.json"], record)


@examples(200)
@given(near_records(ARTICLE))
def test_articles_are_judged_alike(record: object) -> None:
    agree(REFERENCE["article.schema.json"].is_valid, FAST["article.schema.json"], record)


@examples(100)
@given(near_records(ARTICLE_1_0_0))
def test_articles_of_the_earlier_schema_are_judged_alike(record: object) -> None:
    agree(REFERENCE["article-1.0.0.schema.json"].is_valid, FAST["article-1.0.0.schema.json"],
          record)


@examples(400)
@given(st.one_of(DATE_TIME, DATE_TIME.flatmap(near_string)))
def test_date_times_are_judged_alike(created: str) -> None:
    record = {**ANNOTATION, "created": created}
    agree(REFERENCE["annotation.schema.json"].is_valid, FAST["annotation.schema.json"], record)


@examples(200)
@given(st.one_of(DATE, DATE.flatmap(near_string)), st.one_of(URI, URI.flatmap(near_string)))
def test_dates_and_uris_are_judged_alike(published: str, url: str) -> None:
    record = {**ARTICLE, "published": published, "url": url}
    agree(REFERENCE["article.schema.json"].is_valid, FAST["article.schema.json"], record)


URI_PARTS = ["http", "https", "a", "A", "1", "+", "-", ".", ":", "/", "//", "?", "#", "[", "]",
             "@", "%", "%4", "%41", "%zz", "::1", "v1.", "!", "$", "&", "'", "(", ")", "*", ",",
             ";", "=", "~", "_", " ", "\u00e9", "\x7f", "\\", "<", ">", "{", "}", "|", "^",
             "`", '"', "\n", "example.org", "127.0.0.1", "80", "99999", "mailto:", "urn:x:"]


def test_uris_are_read_alike_natively() -> None:
    """jsonschema-rs's own `uri` (NATIVE: no call back into Python) against the
    reference's rfc3986-validator, on 20,000 strings made of URI parts."""
    rng = random.Random(1)
    fast = compile_schema({"format": "uri"})
    assert fast is not None
    for _ in range(20_000):
        uri = rng.choice(["http://", "https://", "a:", "urn:", ""]) + "".join(
            rng.choice(URI_PARTS) for _ in range(rng.randint(0, 6)))
        assert fast(uri) is FORMAT_CHECKER.conforms(uri, "uri"), uri


def test_every_format_of_the_schemas_is_carried_over() -> None:
    """A new format in a schema needs its examples in this file: is it read alike?"""
    used = {match for name in (*RECORD_SCHEMAS, "codebook.schema.json", "manifest.schema.json",
                               "scores.schema.json")
            for match in re.findall(r'"format": "([^"]+)"',
                                    (schema_dir() / name).read_text(encoding="utf-8"))}
    assert used == {"date-time", "date", "uri"}  # each with its near values above


def _string_fields(record: object, path: tuple[str | int, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(record, dict | list):
        items = record.items() if isinstance(record, dict) else enumerate(record)
        return [p for key, value in items for p in _string_fields(value, (*path, key))]
    return [path] if isinstance(record, str) else []


def _with(record: dict[str, Any], path: tuple[Any, ...], value: object) -> dict[str, Any]:
    out = copy.deepcopy(record)
    parent: Any = out
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return out


#: Every character that is whitespace to Python or to ECMA 262, or a line terminator.
SPACES = sorted({chr(c) for c in range(0x3001) if re.match(r"\s", chr(c))} |
                {"\ufeff", "\u180e", "\u200b", "\x1b", "\x00", "\x7f"} | set(TRICKY))


@pytest.mark.parametrize("name", ["annotation.schema.json", "article.schema.json"])
def test_every_string_field_with_every_tricky_character(name: str) -> None:
    """Each string of the base record with each such character put first, in the
    middle and last: every pattern, format and length of the schema meets each."""
    base = BASES[name]
    for path in _string_fields(base):
        if path[0] in ("paragraphs", "authors") and path[1] != 0:
            continue  # the same schema as item 0's
        value = _get(base, path)
        middle = len(value) // 2
        for ch in SPACES:
            for changed in (ch + value, value[:middle] + ch + value[middle:], value + ch):
                agree(REFERENCE[name].is_valid, FAST[name], _with(base, path, changed))


def _get(record: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        record = record[step]
    return record


def _instances() -> dict[str, object]:
    """A committed instance of each schema the validator does not check record by
    record (release manifests, scores, the codebook): the fast path serves them too."""
    return {"codebook.schema.json": json.loads((schema_dir() / "codebook.json").read_text()),
            "manifest.schema.json": json.loads(
                (ROOT / "corpus" / "releases" / "v1.2.0" / "manifest.json").read_text()),
            "scores.schema.json": json.loads(
                (ROOT / "corpus" / "scores" / "v1.2.0.json").read_text())}


@pytest.mark.parametrize("name", ["codebook.schema.json", "manifest.schema.json",
                                  "scores.schema.json"])
def test_the_other_schemas_are_judged_alike(name: str) -> None:
    reference = make_validator(name)
    fast = compile_schema(load_json_resource(name))
    assert fast is not None
    instance = _instances()[name]
    assert reference.is_valid(instance) and fast(instance)

    @examples(25)
    @given(near_records(instance))  # type: ignore[arg-type]
    def judged_alike(record: object) -> None:
        agree(reference.is_valid, fast, record)

    judged_alike()


# -- what jsonschema-rs reads otherwise, unconfigured ---------------------------

PLAIN = {name: jsonschema_rs.Draft202012Validator(REFERENCE[name].schema, validate_formats=True)
         for name in RECORD_SCHEMAS}


@pytest.mark.parametrize("name,field,value", [
    ("annotation.schema.json", "paragraph_index", 1.0),  # the spec's integer
    ("annotation.schema.json", "paragraph_index", 1e300),
    ("article.schema.json", "paragraphs", [{**ARTICLE["paragraphs"][0], "end": 18.0}]),
    ("annotation.schema.json", "created", "2016-12-31T23:59:60Z"),  # a leap second
    ("annotation.schema.json", "created", "0000-01-01T00:00:00Z"),  # year 0
    ("article.schema.json", "published", "0000-01-01"),
    ("article.schema.json", "title", "Talks resume\x1c"),  # whitespace to Python, not ECMA
    ("article.schema.json", "title", "\x85Talks resume"),
    ("article.schema.json", "title", "Talks resume\ufeff"),  # the reverse
    ("article.schema.json", "attribution", "Credit, https://\x1fx.org/"),
])
def test_what_plain_jsonschema_rs_reads_otherwise(name: str, field: str, value: object) -> None:
    record = {**BASES[name], field: value}
    expected = REFERENCE[name].is_valid(record)
    assert PLAIN[name].is_valid(record) is not expected  # the difference fastschema handles
    assert FAST[name](record) is expected


def test_a_lone_surrogate_cannot_reach_jsonschema_rs() -> None:
    record = {**ANNOTATION, "note": "half a pair: \ud800"}
    assert REFERENCE["annotation.schema.json"].is_valid(record)
    with pytest.raises(UnicodeEncodeError):
        PLAIN["annotation.schema.json"].is_valid(record)
    assert FAST["annotation.schema.json"](record) is False  # unsure: jsonschema decides


def test_py_space_is_pythons_whitespace() -> None:
    every = "".join(map(chr, range(0x110000)))
    assert re.findall(f"[{PY_SPACE}]", every) == re.findall(r"\s", every)
    python = re.compile(r"\s")
    rust = jsonschema_rs.Draft202012Validator({"pattern": f"^[{PY_SPACE}]$"})
    for code in [*range(0x3001), 0x202f, 0x205f, 0x3000, 0xfeff, 0x1f600]:
        if not 0xd800 <= code <= 0xdfff:
            assert rust.is_valid(chr(code)) == bool(python.match(chr(code))), hex(code)


@pytest.mark.parametrize("pattern", [r"^\w+$", r"\bx", r"(?i)x", r"x{,3}", r"[]x]", r"(\d)\1",
                                     r"[\S]", r"(?P<n>x)", r"x\Z"])
def test_patterns_read_differently_are_not_carried_over(pattern: str) -> None:
    with pytest.raises(Exception, match="pattern"):
        rust_pattern(pattern)
    assert compile_schema({"type": "string", "pattern": pattern}) is None
