"""The schema step: validators (with the fast path that accepts valid records
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
from paratopics.schema_check import FORMAT_CHECKER, validator_for
from paratopics.validate.fastschema import Check, compile_schema
from paratopics.validate.index import ArticleIndex, suggest_article


def make_validator(schema_name: str) -> Draft202012Validator:
    """A validator with the spec's (ECMA 262) pattern semantics: see schema_check."""
    return validator_for(load_json_resource(schema_name))


def fast_path(validator: Draft202012Validator) -> Check:
    """True only for records jsonschema finds valid (see fastschema); else ask jsonschema."""
    assert validator.format_checker is FORMAT_CHECKER  # the formats fastschema carries over
    compiled = compile_schema(validator.schema)
    return compiled if compiled is not None else (lambda record: False)


@dataclass
class Checker:
    """What validation needs to know, built once per run."""

    codebook: Codebook
    article_schema: Draft202012Validator = field(
        default_factory=lambda: make_validator("article.schema.json"))
    annotation_schema: Draft202012Validator = field(
        default_factory=lambda: make_validator("annotation.schema.json"))
    #: answers "valid" for valid lines at a fraction of jsonschema's cost (fastschema)
    annotation_valid: Check = field(init=False)
    #: the same for article records
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
        self.article_valid = fast_path(self.article_schema)
        self.legacy_articles = {}
        for version, name in LEGACY_ARTICLE_SCHEMAS.items():
            validator = make_validator(name)
            self.legacy_articles[version] = (validator, fast_path(validator))
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
