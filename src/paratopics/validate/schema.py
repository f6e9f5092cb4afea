"""The schema step: compiled validators (with the fast path that accepts valid records
without jsonschema) and schema errors turned into catalog problems that point at
the field.

jsonschema stays the reference: the fast path only ever says "valid"; anything
it rejects is checked again by jsonschema for the message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from dataclasses import dataclass, field

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from paratopics.codebook import Codebook, load_json_resource
from paratopics.corpus.records import LEGACY_ARTICLE_SCHEMAS
from paratopics.errors import Problem, problem
from paratopics.schema_check import validator_for
from paratopics.validate.fastschema import Check, compile_schema
from paratopics.validate.index import ArticleIndex, suggest_article


def make_validator(schema_name: str) -> Draft202012Validator:
    """A validator with the spec's (ECMA 262) pattern semantics: see schema_check."""
    return validator_for(load_json_resource(schema_name))


def fast_path(validator: Draft202012Validator) -> Check:
    """True only for records jsonschema finds valid (see fastschema); else ask jsonschema."""
    assert validator.format_checker is not None
    compiled = compile_schema(validator.schema, validator.format_checker)
    return compiled if compiled is not None else (lambda record: False)


#: Schema keywords that do not affect validity.
_NOTES = frozenset({"description", "title", "$comment", "examples", "default"})


def inline_schema(node: object, root: dict[str, object] | None = None) -> object:
    """`node` with local `$ref`s replaced by their targets and `oneOf: [S, null]` by S
    admitting null: the same valid records, in keywords fastschema compiles.

    The rewrite is sound because S's own keywords (pattern, length, format) never
    reject null and the two branches of the oneOf never both hold. Any other
    shape raises ValueError, and jsonschema then checks every record as before.
    """
    root = root if root is not None else node  # type: ignore[assignment]
    if isinstance(node, list):
        return [inline_schema(item, root) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if set(node) - {"$ref", "description"} or not str(ref).startswith("#/$defs/"):
            raise ValueError(f"$ref {ref!r} next to other keywords or not local")
        target = root["$defs"][str(ref).removeprefix("#/$defs/")]  # type: ignore[index]
        return inline_schema(target, root)
    out = {k: inline_schema(v, root) for k, v in node.items() if k not in ("$defs", "oneOf")}
    if "oneOf" in node:
        branches = [inline_schema(b, root) for b in node["oneOf"]]
        nulls = [b for b in branches if b == {"type": "null"}]
        others = [b for b in branches if b != {"type": "null"}]
        if len(nulls) != 1 or len(others) != 1 or not isinstance(others[0], dict) or (
                others[0].get("type") not in ("string", "integer", "number", "object",
                                              "array", "boolean")) or (
                set(out) & set(others[0])) - _NOTES:
            raise ValueError("oneOf other than [schema of one non-null type, null]")
        out.update(others[0])
        out["type"] = [others[0]["type"], "null"]
    return out


def article_fast_path(validator: Draft202012Validator) -> Check:
    """fast_path for the article schema, which uses $ref and a nullable oneOf."""
    assert validator.format_checker is not None
    try:
        schema = inline_schema(validator.schema)
    except (ValueError, KeyError, TypeError):
        return lambda record: False
    compiled = compile_schema(schema, validator.format_checker)  # type: ignore[arg-type]
    return compiled if compiled is not None else (lambda record: False)


@dataclass
class Checker:
    """What validation needs to know, built once per run."""

    codebook: Codebook
    article_schema: Draft202012Validator = field(
        default_factory=lambda: make_validator("article.schema.json"))
    annotation_schema: Draft202012Validator = field(
        default_factory=lambda: make_validator("annotation.schema.json"))
    #: answers "certainly valid" for most lines at a tenth of jsonschema's cost
    annotation_valid: Check = field(init=False)
    #: the same for article records (whose schema is first inlined, see article_fast_path)
    article_valid: Check = field(init=False)
    #: earlier article schema versions still read: version -> (validator, fast path)
    legacy_articles: dict[str, tuple[Draft202012Validator, Check]] = field(init=False)
    #: per raw source file of this run: "outside", "missing" or its sha256 (source_problems)
    source_states: dict[str, str] = field(default_factory=dict)
    #: article record files parsed as JSON this run (the cache spares the others)
    records_parsed: int = 0
    #: the latest judgement date accepted (tomorrow, UTC), fixed for the run
    latest_day: str = field(default_factory=lambda: (
        dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=1)).isoformat())

    #: ids a label may be: a class of the paragraphs config (level 2 or a project
    #: node) that is not retired; level-1 topics are derived, never labelled
    active_labels: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.annotation_valid = fast_path(self.annotation_schema)
        self.article_valid = article_fast_path(self.article_schema)
        self.legacy_articles = {}
        for version, name in LEGACY_ARTICLE_SCHEMAS.items():
            validator = make_validator(name)
            self.legacy_articles[version] = (validator, article_fast_path(validator))
        self.active_labels = frozenset(
            code for code in self.codebook.label_ids if not self.codebook.is_retired(code))


def _pointer(error: ValidationError) -> str:
    return "".join(f"/{part}" for part in error.absolute_path) or "/"


def _short(value: object, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_REQUIRED = re.compile(r"^'(.+)' is a required property$")


def schema_problems(validator: Draft202012Validator, record: object, file: str,
                    line: int | None = None) -> list[Problem]:
    found = []
    for error in sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path)):
        detail = error.message
        pointer = _pointer(error)
        missing = _REQUIRED.match(detail) if error.validator == "required" else None
        if missing:  # point at where the field belongs, and name it
            where = "the record" if pointer == "/" else f"the object at {pointer}"
            detail = f"{where} has no '{missing[1]}', a required field"
            pointer = pointer.rstrip("/") + "/" + missing[1]
        elif len(detail) > 300:
            detail = f"{_short(error.instance)} does not match the schema ({error.validator})"
        found.append(problem("schema", file=file, line=line, pointer=pointer, detail=detail))
    return found


def _with_article_guess(found: list[Problem], record: object,
                        index: ArticleIndex) -> list[Problem]:
    """A malformed article_id (cut short, say) gets the id it most likely meant."""
    wanted = record.get("article_id") if isinstance(record, dict) else None
    if not isinstance(wanted, str):
        return found
    out = []
    for p in found:
        guess = suggest_article(wanted, index.digests) if p.pointer == "/article_id" else None
        out.append(dataclasses.replace(p, hint=f"Did you mean '{guess}'? {p.hint}")
                   if guess else p)
    return out
