"""The catalog of every problem paratopics reports, and how problems are printed.

Each kind of problem is an `ErrorType` with a stable code, a message template,
a description and a hint. Text, JSON and GitHub output, the exit codes and
docs/errors.md are all derived from this one catalog, so that a code seen in CI
can be looked up in the docs and means the same thing everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorType:
    code: str
    title: str
    template: str
    description: str
    hint: str


def _catalog(*types: ErrorType) -> dict[str, ErrorType]:
    return {t.code: t for t in types}


CATALOG: dict[str, ErrorType] = _catalog(
    # -- reading files --------------------------------------------------------
    ErrorType(
        "file-missing",
        "File not found",
        "no such file: {path}",
        "A path given on the command line does not exist.",
        "Check the path; paths are relative to the current directory.",
    ),
    ErrorType(
        "not-a-file",
        "Not a regular file",
        "{path} is not a regular file (a folder, device, socket or pipe)",
        "Inputs are read whole and hashed, which only makes sense for regular files; a "
        "device or pipe could also be endless.",
        "Pass the files themselves (a shell glob like folder/*.json names them).",
    ),
    ErrorType(
        "read-failed",
        "Read failed",
        "could not read the file: {detail}",
        "The operating system refused to read an input (permission denied, I/O error).",
        "Check the file's permissions and the disk, then run the command again.",
    ),
    ErrorType(
        "file-empty",
        "Empty file",
        "the file is empty",
        "An input file has no content at all (or only whitespace).",
        "Remove the file or fill it with an article.",
    ),
    ErrorType(
        "file-too-large",
        "File too large",
        "the file is {size} bytes, over the limit of {limit} bytes",
        "Inputs are capped so that a stray dump or archive cannot exhaust memory.",
        "Split the file into smaller ones, or raise the limit with --max-bytes.",
    ),
    ErrorType(
        "line-too-long",
        "Line too long",
        "the line is {size} bytes, over the limit of {limit} bytes",
        "A single JSON Lines record is capped so that one bad line cannot exhaust memory.",
        "Check the line: it is probably not one record. `ingest` raises its limit with "
        "--max-line-bytes; `validate`'s limit for a judgement line (1 MB) is fixed, as one "
        "judgement is far smaller.",
    ),
    ErrorType(
        "utf16-file",
        "UTF-16 or UTF-32 text",
        "the file is {encoding} text, not UTF-8",
        "Inputs and corpus files are UTF-8; some editors and Windows tools save UTF-16 "
        "(a byte-order mark FF FE or FE FF, or a NUL byte beside every ASCII letter).",
        "Convert it to UTF-8, e.g. `iconv -f {encoding} -t UTF-8 FILE > FILE.utf8`, or "
        "save it as UTF-8 from the editor.",
    ),
    ErrorType(
        "binary-file",
        "Binary file",
        "the file looks binary ({reason}), not text",
        "Inputs must be text; a NUL byte or a known binary signature (zip, image, PDF) "
        "means the file is something else renamed.",
        "Pass the article's text, exported as UTF-8, instead of this file.",
    ),
    ErrorType(
        "not-utf8",
        "Not UTF-8",
        "byte {offset} is not valid UTF-8: {detail}",
        "Every input must be UTF-8 so that the text is read the same way everywhere.",
        "Re-encode the file as UTF-8 (for example `iconv -f cp1252 -t utf-8`).",
    ),
    ErrorType(
        "html-page",
        "HTML page given as text",
        "the file is an HTML page, not a text dump",
        "The text door expects the page's text as a reader sees it, not its markup.",
        "Save the page as .html (the HTML page door reads it), or as text, and ingest that.",
    ),
    ErrorType(
        "html-no-article",
        "No article in the page",
        "the page holds no article: {detail}",
        "The HTML page door keeps a page's main text only when it finds an article: a "
        "title, a date and a body of some length; index pages, teasers and error pages "
        "are refused whole.",
        "Save the article's own page (not a listing or a consent screen), or convert it to "
        "a JSON record with the fields by hand.",
    ),
    ErrorType(
        "not-a-feed",
        "Not a feed",
        "the file is not an RSS or Atom feed: {detail}",
        "The feed door reads RSS 2.0 and Atom files (`.rss`, `.atom`, `.xml`); nothing of "
        "this file was stored.",
        "Check that the file is the feed as fetched (XML with <rss> or <feed>), not an error "
        "page or a truncated download; fetch it again if so.",
    ),
    ErrorType(
        "feed-item",
        "Feed item not usable",
        "item {item}: {detail}",
        "Each feed item becomes one article and needs a link or guid, a title, a date and a "
        "body; this item was skipped and the rest of the file was read.",
        "Fix the item in a copy of the feed, or leave it out; the other items are stored.",
    ),
    ErrorType(
        "feed-name-taken",
        "Snapshot name taken",
        "{other} already holds a different file of this name",
        "Raw snapshots are kept under their own file name and never overwritten.",
        "Rename the snapshot (e.g. with its fetch time) and ingest it again.",
    ),
    ErrorType(
        "raw-name-taken",
        "Raw copy name taken",
        "{other} and {hashed} already hold other files",
        "Raw copies are never overwritten: a file whose plain name is taken by other bytes "
        "is kept under its name with its content hash added, and that name is taken too "
        "(a raw copy was edited by hand).",
        "Restore the raw copies from version control, or rename the input and ingest it again.",
    ),
    ErrorType(
        "unsafe-path",
        "Unsafe path",
        "{detail}",
        "A name or id would place a file outside the corpus, or a path is a "
        "symlink leading out of it.",
        "Use plain names without '/', '..', NUL bytes or absolute paths.",
    ),
    # -- parsing articles -----------------------------------------------------
    ErrorType(
        "json-syntax",
        "Invalid JSON",
        "invalid JSON: {detail}",
        "The text could not be parsed as JSON.",
        "Fix the syntax at the position given (a JSON linter points at it exactly).",
    ),
    ErrorType(
        "no-byline",
        "No byline with a date",
        "no byline with a date was found ({detail})",
        "A GlobalSecurity.org page dump names its authors and date in a line like "
        "'By Ayaz Gul April 07, 2021', between the title and the body.",
        "Check that the file is a complete page dump, or supply the fields as a JSON record.",
    ),
    ErrorType(
        "no-body",
        "No body text",
        "the article has no body paragraphs",
        "An article needs at least one paragraph of text to be annotated.",
        "Check that the file holds the article's body, not only its title.",
    ),
    ErrorType(
        "missing-field",
        "Missing field",
        "the record has no '{field}'",
        "A JSON article record lacks a field the corpus needs.",
        "Add '{field}' to the record.",
    ),
    ErrorType(
        "licence",
        "Licence missing or invalid",
        "{detail} (the article was not written)",
        "Every article record says under which terms its text may be shared ('license': an "
        "SPDX licence id such as CC-BY-2.5, or a LicenseRef- id documented in "
        "docs/sources.md) and whom to credit, with a link ('attribution'). The input "
        "stated none and none is known for its source, or the value is malformed.",
        "Give the record '{field}' (JSON door), or pass `paratopics ingest --license ID "
        "--attribution TEXT` for the whole batch; see docs/sources.md for the ids in use.",
    ),
    ErrorType(
        "legacy-record",
        "Record of an earlier schema",
        "the record follows article schema {version}, which has no licence or attribution",
        "Records written for article schema 1.0.0 stay valid, but carry no 'license' or "
        "'attribution'; a release gives them nulls and the card counts them as "
        "unlicensed.",
        "Ingest the record's source again (`paratopics ingest --replace FILE`, with "
        "--license and --attribution where its door knows no default) to rewrite it "
        "in the current schema.",
    ),
    ErrorType(
        "bad-field",
        "Bad field value",
        "'{field}' {detail}",
        "A JSON article record has a field of the wrong type or form.",
        "Fix the value as described.",
    ),
    ErrorType(
        "duplicate-article",
        "Same article twice",
        "this is the same article ({article_id}) as {other}",
        "Two different files resolve to one article id: the same source and URL, or the "
        "same source, date and title.",
        "Ingest only one of them; if this file is a corrected version, pass --replace.",
    ),
    # -- validating records ---------------------------------------------------
    ErrorType(
        "schema",
        "Schema violation",
        "{detail}",
        "The record does not match its JSON Schema.",
        "Fix the field at the JSON pointer given; the schema is in schema/.",
    ),
    ErrorType(
        "article-id-mismatch",
        "Article id does not match",
        "{detail}",
        "An article record's id must match its file name.",
        "Rename the file to '<article_id>.json', or re-ingest the source.",
    ),
    ErrorType(
        "paragraph-hash",
        "Paragraph hash does not match",
        "paragraph {index}: sha256 is {stored} but the text hashes to {actual}",
        "Each paragraph stores the sha256 of its text, which annotations refer to.",
        "Do not edit article records by hand: fix the source and re-ingest it.",
    ),
    ErrorType(
        "paragraph-offsets",
        "Paragraph offsets do not match",
        "paragraph {index}: {detail}",
        "start/end index into the body, which is the paragraphs joined by a blank line.",
        "Do not edit article records by hand: fix the source and re-ingest it.",
    ),
    ErrorType(
        "hidden-characters",
        "Hidden characters",
        "'{field}' holds {detail}",
        "A title, source, author or section holding a bidirectional override or a stray "
        "zero-width character can look like another value than it is (a source made "
        "only of U+200C looks empty).",
        "Remove the character from the input and ingest it again.",
    ),
    ErrorType(
        "date-out-of-range",
        "Date out of range",
        "'{field}' is {value}, {detail}",
        "Dates must lie between 1800-01-01 and tomorrow (UTC): a publication date of "
        "9999-12-31 or a judgement made next year is a typo or a placeholder.",
        "Correct the date.",
    ),
    ErrorType(
        "not-normalized",
        "Text not normalized",
        "{where} is not in normalized form",
        "Stored text must be a fixed point of the normalizer, so that hashes are stable.",
        "Re-ingest the source instead of editing records by hand.",
    ),
    ErrorType(
        "source-missing",
        "Raw source missing or changed",
        "{detail}",
        "Every article keeps the raw file it came from, with its sha256.",
        "Restore the file under corpus/sources/ from version control, or re-ingest it.",
    ),
    ErrorType(
        "codebook",
        "Codebook problem",
        "{detail}",
        "The codebook must be a tree of known, unique ids with IPTC parents.",
        "Fix schema/codebook.json; see the codebook section of the README.",
    ),
    ErrorType(
        "corpus-config",
        "Corpus marker problem",
        "{detail}",
        "A corpus is marked by paratopics.toml at its root (name, codebook, schema version, "
        "dataset card); a marker, or the card it names, that cannot be read would leave "
        "commands guessing.",
        "Fix what is named: a key of paratopics.toml or the README's front matter "
        "(docs/own-corpus.md shows both; `paratopics init` in an empty folder writes fresh "
        "ones to copy from).",
    ),
    # -- annotations ----------------------------------------------------------
    ErrorType(
        "unknown-article",
        "Unknown article",
        "no article '{article_id}' in the corpus{suggestion}",
        "An annotation refers to an article id that has no record in corpus/articles/.",
        "Check the id for typos, or ingest the article first.",
    ),
    ErrorType(
        "unknown-paragraph",
        "Unknown paragraph",
        "article '{article_id}' has no paragraph {index} (it has {count}: indexes {indexes})",
        "An annotation refers to a paragraph index outside the article.",
        "Paragraph indexes start at 0; check the article record for the right one.",
    ),
    ErrorType(
        "wrong-paragraph",
        "Hash of another paragraph",
        "paragraph_sha256 is the hash of paragraph {other} of '{article_id}', not of "
        "paragraph {index}",
        "The judged text is another paragraph of the same article: the index or the hash was "
        "copied from the wrong line.",
        "If the judgement is of paragraph {other}, set paragraph_index to {other}; else take "
        "the sha256 of paragraph {index} from the article record.",
    ),
    ErrorType(
        "stale-annotation",
        "Stale annotation",
        "paragraph {index} of '{article_id}' has changed since it was judged: "
        "judged text {judged} is now {current}",
        "The paragraph's text no longer has the hash the annotator judged, so the "
        "judgement may no longer apply.",
        "Re-judge the paragraph and update paragraph_sha256, or drop the line.",
    ),
    ErrorType(
        "unknown-label",
        "Unknown label",
        "'{label}' is not a codebook id{suggestion}",
        "Labels must be codebook ids exactly as written in schema/codebook.json.",
        "Use the id from the codebook (see docs/guide.md).",
    ),
    ErrorType(
        "retired-label",
        "Retired label",
        "'{label}' ({name}) is retired; use {replacement}",
        "IPTC retired this topic; old labels still resolve but new ones are refused.",
        "Replace the label with the one suggested.",
    ),
    ErrorType(
        "level1-label",
        "Level-1 topic used as a label",
        "'{label}' ({name}) is a level-1 topic",
        "Paragraphs are labelled with level-2 IPTC nodes and project nodes; the level-1 "
        "topics are derived from them, so releases have no class for a level-1 id.",
        "Replace it with the level-2 or project node under it that fits (see docs/guide.md).",
    ),
    ErrorType(
        "duplicate-judgement",
        "Paragraph judged twice by one annotator",
        "{annotator} already judged paragraph {index} of '{article_id}' at {other}",
        "Each annotator gives one judgement per paragraph, so that votes are counted once.",
        "Keep one of the two lines (the later one, if it is a correction).",
    ),
    # -- labeling tools -------------------------------------------------------
    ErrorType(
        "not-label-studio",
        "Not a Label Studio export",
        "not a Label Studio export: {detail}",
        "`annotations import --tool label-studio` reads a project's JSON export (a list of "
        "tasks) or the files its target storage writes (one task or annotation per file).",
        "Export the project from Label Studio as JSON (Export, then JSON), or pass the target "
        "storage's folder.",
    ),
    ErrorType(
        "task-fields",
        "Task without its paragraph",
        "the task's data has no valid '{field}'",
        "Every task made by `paratopics tasks export` carries article_id, paragraph_index "
        "and paragraph_sha256, which tie a judgement to the text that was judged.",
        "Label tasks made by `paratopics tasks export --tool label-studio`; tasks added to "
        "the project by hand cannot be imported.",
    ),
    ErrorType(
        "wrong-control",
        "Result from another control",
        "a result from the control {control!r}, which the paratopics labeling config does "
        "not have (it has 'topics' and 'note')",
        "Judgements are read from the Taxonomy named 'topics' and the TextArea named 'note'; "
        "a project with another config records something else.",
        "Set the project's labeling config to the output of `paratopics tasks config --tool "
        "label-studio`, then label and export again.",
    ),
    ErrorType(
        "unmapped-annotator",
        "Annotator not in the map",
        "{count} Label Studio user(s) have no public annotator id: {who}",
        "Label Studio names people by user id and e-mail; the corpus names annotators by a "
        "public id, so that no e-mail address is ever published.",
        "Add a line per person to the map given with --annotators: the Label Studio user id "
        "or e-mail, a tab, then the public annotator id.",
    ),
    ErrorType(
        "encoding-marks",
        "Byte-order mark or CRLF",
        "{detail}",
        "Annotation files are UTF-8 without a byte-order mark, with LF line endings, so "
        "that diffs and line numbers agree on every platform. The line was still checked.",
        "Save the file as UTF-8 without BOM and with LF endings (`dos2unix` does both).",
    ),
    ErrorType(
        "annotation-misplaced",
        "Annotation file not read",
        "{detail}",
        "Only files named *.jsonl directly in corpus/annotations/ are read by validate "
        "and build; a judgement file in a subfolder or named .JSONL or .json would be "
        "skipped without a word.",
        "Move the file to corpus/annotations/ and name it <something>.jsonl (one JSON "
        "object per line).",
    ),
    ErrorType(
        "annotation-outside",
        "Annotation file outside the corpus",
        "{detail}",
        "Annotation files live in corpus/annotations/*.jsonl so that builds find them.",
        "Move the file into corpus/annotations/.",
    ),
    # -- releases -------------------------------------------------------------
    ErrorType(
        "release-exists",
        "Release exists with other content",
        "{detail}",
        "Releases are immutable: a version, once built, always means the same data.",
        "Bump the version (patch for corrections, minor for additions, major for breaking "
        "changes) and build again.",
    ),
    ErrorType(
        "version-invalid",
        "Version is not X.Y.Z",
        "version {version!r} is not X.Y.Z (semantic versioning: three numbers{zeros}, "
        "like 1.2.0)",
        "A release is named by three numbers without leading zeros, so that versions "
        "compare as numbers and one version names one release.",
        "Give --version X.Y.Z: bump the major number for breaking schema or codebook "
        "changes, the minor for added articles or labels, the patch for corrections.",
    ),
    ErrorType(
        "release-missing",
        "No such release",
        "{detail}",
        "The version asked for has not been built.",
        "Build it with `paratopics build --version X.Y.Z`, or pick one listed.",
    ),
    ErrorType(
        "release-corrupt",
        "Release differs from its manifest",
        "{detail}",
        "A release file's checksum, size, rows or schema differs from manifest.json, or a "
        "file is missing or extra.",
        "Restore the release from version control; never edit release files.",
    ),
    ErrorType(
        "release-yanked",
        "Release yanked",
        "{detail}",
        "A yanked release was withdrawn by `paratopics yank` as a mistake: it is kept on disk "
        "and still verifies, but whatever picks a release by itself (`paratopics.load()`, "
        "`stats`, `train`, `predict`, `evaluate`, `publish`, the README's configs) skips it. "
        "Asked for by version, it is used, with this warning.",
        "Use a release that is not yanked (the default picks the latest of them); keep this "
        "one to reproduce earlier work only. releases/CHANGELOG.md says why it was yanked.",
    ),
    ErrorType(
        "yank-refused",
        "Yank refused",
        "{detail}",
        "`paratopics yank VERSION --reason TEXT` marks one existing release, once, with the "
        "reason in its changelog entry; a release is never deleted, and a yank is not undone.",
        "Give a version that exists and is not yanked yet (`paratopics verify --all` lists "
        "them) and say why with --reason; to replace a yanked release, build a new version.",
    ),
    ErrorType(
        "manifest-invalid",
        "Release manifest unreadable",
        "{detail}",
        "A release's manifest.json must be UTF-8 JSON without a byte-order mark that "
        "matches schema/manifest.schema.json, lists each file once, and whose counts add up; "
        "nothing of the release is trusted without it.",
        "Restore the release folder, manifest.json included, from version control; never "
        "edit release files.",
    ),
    ErrorType(
        "changelog-invalid",
        "Release changelog unreadable",
        "{detail}",
        "releases/CHANGELOG.md records each release's manifest digest in one entry per "
        "version; a changelog that is not UTF-8, or that has two entries (or two digests) "
        "for one version, cannot vouch for any release.",
        "Restore releases/CHANGELOG.md from version control; never edit its entries by hand.",
    ),
    ErrorType(
        "card-not-updated",
        "README is not the corpus's card",
        "{detail}",
        "`build` points the dataset card's `configs` at the latest release, and only touches "
        "a README that is this corpus's card: the one its paratopics.toml names, whose "
        "front matter has no `configs` yet or configs pointing at this corpus's releases.",
        "Name the card in the corpus's paratopics.toml (`card = \"../README.md\"` under "
        "[corpus]; `paratopics init` writes the marker), or leave this README alone and "
        "point a card at the release yourself.",
    ),
    ErrorType(
        "card-invalid",
        "Dataset card would be refused",
        "the dataset card `publish` made would be refused by the Hub: {detail}",
        "`publish` checks the card before it writes anything: its YAML front matter, the "
        "keys the Hub requires, the values `datasets` knows (language, size and creator "
        "categories) and that every config's data files exist. The card's front matter "
        "starts from the corpus's own card (its README), so a value there can fail it.",
        "Fix the named key in the front matter of the corpus's README and publish again; "
        "nothing was written. If the README has no such key, report it as a bug.",
    ),
    ErrorType(
        "nothing-to-score",
        "Nothing to score or learn",
        "{detail}",
        "The split asked for has no labeled paragraphs (or no label with both positive and "
        "negative examples), so any score would be meaningless.",
        "Pick a split that has labeled paragraphs (--split), or use a larger release.",
    ),
    # -- predictions (evaluate) ------------------------------------------------
    ErrorType(
        "prediction-unknown-id",
        "Not a paragraph of the split",
        "{what} is not a paragraph of the {split} split of v{version}",
        "Each line of a predictions file names one paragraph of the split being scored by "
        "its paragraph_id.",
        "Predict the paragraphs of the split you score (--split, --version); ids are "
        "<article_id>/<index>, as in the release's paragraph_id column.",
    ),
    ErrorType(
        "prediction-duplicate",
        "Paragraph predicted twice",
        "'{paragraph_id}' is predicted twice (first on line {first})",
        "A predictions file holds one line per paragraph; a second one would silently "
        "replace or be replaced by the first.",
        "Keep one line per paragraph_id.",
    ),
    ErrorType(
        "prediction-labels",
        "Unknown predicted label",
        "{detail}",
        "`labels` is a list of codebook ids, class indexes of the `labels` column, or "
        "node names.",
        "Use the ids of features['labels'].feature.names or of schema/codebook.json.",
    ),
    ErrorType(
        "prediction-level",
        "Level-1 topic in a level-2 file",
        "'{label}' ({name}) is a level-1 topic; level-2 predictions hold level-2 and "
        "project labels",
        "At level 2, predictions are scored against level-2 and project labels; a level-1 "
        "topic would count as a wrong label for every paragraph.",
        "Predict level-2 labels, or score level-1 topics with --level 1.",
    ),
    ErrorType(
        "prediction-score",
        "Score that is not a number",
        "the score of '{label}' is {value}, not a finite number",
        "Scores rank paragraphs for average precision; they must be finite numbers.",
        "Give a number (for example a probability from 0 to 1), or leave the label out of "
        "`scores`.",
    ),
    ErrorType(
        "prediction-missing",
        "Paragraphs without a prediction",
        "no prediction for {count} paragraph(s) of the {split} split, the first "
        "'{paragraph_id}'",
        "Every paragraph of the split is scored; one without a line in the file has no "
        "prediction.",
        "Predict every paragraph of the split, or pass --lenient to count the missing ones "
        "as predicting no label.",
    ),
    ErrorType(
        "more-problems",
        "More problems not shown",
        "{count} more [{kind}] problem(s) in this file are not listed",
        "Each kind of problem is listed at most a fixed number of times per file, so that a "
        "file of millions of bad lines is checked in bounded memory and the report stays "
        "readable. They are all counted.",
        "Fix the problems listed (they usually share one cause), then validate again.",
    ),
    ErrorType(
        "locked",
        "Corpus is locked",
        "{detail}",
        "Another paratopics process is writing to this corpus.",
        "Wait for it to finish; if it died, the lock is reclaimed automatically once stale.",
    ),
    ErrorType(
        "partly-written",
        "Written in part",
        "{detail}",
        "A command that writes several files had a write refused after some of them were "
        "in place. The message says what is in place and what is not; what is in place "
        "is complete.",
        "Free space or fix permissions, then run the same command again: it finds what is "
        "in place and completes the rest.",
    ),
    ErrorType(
        "write-failed",
        "Write failed",
        "{detail}",
        "The operating system refused a write (disk full, permission denied). Nothing "
        "was changed: writes go to a temporary file that is renamed into place.",
        "Free space or fix permissions, then run the command again.",
    ),
    ErrorType(
        "engine-failed",
        "Engine failed",
        "the {engine} engine could not finish: {detail}",
        "A task of a distributed engine failed for a reason that is not the data's: its "
        "worker or node was lost more often than a task is retried, or the task hit an "
        "error of its own. Nothing was published: a release is written into a temporary "
        "folder and renamed into place only when every shard is written.",
        "Check the cluster (`ray status`: every node alive, the same paratopics installed "
        "on each, the corpus at the same path on each), then run the same command again; "
        "a shard's bytes do not depend on where it is built.",
    ),
)


@dataclass(frozen=True)
class Problem:
    """One finding, located as precisely as is known."""

    code: str
    message: str
    file: str = ""
    line: int | None = None
    pointer: str = ""
    hint: str = ""
    severity: str = "error"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def problem(code: str, *, file: str = "", line: int | None = None, pointer: str = "",
            **fields: object) -> Problem:
    """Build a Problem from the catalog, filling the templates with `fields`."""
    kind = CATALOG[code]
    return Problem(
        code=code,
        message=kind.template.format(**fields),
        file=file,
        line=line,
        pointer=pointer,
        hint=kind.hint.format(**fields),
    )


class ParatopicsError(Exception):
    """A problem that stops one unit of work (one file, one release)."""

    def __init__(self, found: Problem) -> None:
        super().__init__(format_text(found))
        self.problem = found


class MisuseError(ParatopicsError):
    """A catalog problem that is the caller's mistake, not the data's (a version that
    does not exist, a release yanked twice): the command exits 2, as for misuse."""


class YankedReleaseWarning(UserWarning):
    """A yanked release was loaded because it was asked for by version."""


class UsageError(Exception):
    """The command was called wrongly; exit code 2."""


class MissingExtra(UsageError):
    """A command needs an optional dependency this install lacks; exit code 2.

    Said in one line naming the extra to install, without the usage text: the
    command was called right, the installation is what is short."""

    def __init__(self, command: str, package: str, extra: str) -> None:
        super().__init__(f"paratopics {command} needs {package}, which this installation "
                         f'lacks: pip install "paratopics[{extra}]"')
        self.extra = extra


def index_range(count: int) -> str:
    """The valid indexes of `count` items as a message gives them: "0-6", "0", "none"."""
    return "none" if count <= 0 else "0" if count == 1 else f"0-{count - 1}"


#: Codes that are always the caller's mistake, whoever raises them (a release asked
#: for that was never built, a version that is not X.Y.Z): a command that stops on one
#: exits 2, as for misuse.
CALLER_CODES = frozenset({"release-missing", "version-invalid"})


def fail(code: str, **fields: Any) -> ParatopicsError:
    return ParatopicsError(problem(code, **fields))


def misuse(code: str, **fields: Any) -> MisuseError:
    return MisuseError(problem(code, **fields))


# -- output -------------------------------------------------------------------


def _location(p: Problem) -> str:
    where = p.file or "<input>"
    if p.line is not None:
        where += f":{p.line}"
    if p.pointer:
        where += f" {p.pointer}"
    return where


def format_text(p: Problem) -> str:
    text = f"{_location(p)}: {p.severity} [{p.code}] {p.message}"
    if p.hint:
        text += f"\n    hint: {p.hint}"
    return text


def _github_escape(value: str, *, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def format_github(p: Problem) -> str:
    """A GitHub Actions workflow command, shown on the pull request's line."""
    props = [f"title={_github_escape(CATALOG[p.code].title + ' [' + p.code + ']', prop=True)}"]
    if p.file:
        props.insert(0, f"file={_github_escape(p.file, prop=True)}")
        if p.line is not None:
            props.insert(1, f"line={p.line}")
    body = p.message + (f" ({p.pointer})" if p.pointer else "") + (
        f" Hint: {p.hint}" if p.hint else "")
    return f"::{p.severity} {','.join(props)}::{_github_escape(body)}"


def format_json(problems: Iterable[Problem]) -> str:
    return json.dumps([p.to_dict() for p in problems], ensure_ascii=False, indent=2)


def catalog_markdown() -> str:
    """docs/errors.md, generated so that the docs never drift from the code."""
    lines = [
        "# Problem codes",
        "",
        "Every problem paratopics reports carries one of these codes, in text, JSON and "
        "GitHub output alike. Generated from `paratopics.errors.CATALOG` by "
        "`python scripts/gen_docs.py`.",
        "",
        "| code | title | what it means | what to do |",
        "|---|---|---|---|",
    ]
    for kind in CATALOG.values():
        hint = kind.hint.replace("{field}", "the field")
        lines.append(f"| `{kind.code}` | {kind.title} | {kind.description} | {hint} |")
    return "\n".join(lines) + "\n"
