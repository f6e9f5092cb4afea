"""releases/CHANGELOG.md: one entry per release, newest first, each recording the
sha256 of the release's manifest.json.

The recorded digest is what lets `verify` catch a release whose files and
manifest were edited together, so the changelog is read strictly: UTF-8 only,
each entry's digest taken from its own lines (never from the entry below it),
and two entries for one version reported rather than one of them believed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from paratopics.corpus.store import Corpus, atomic_write, sha256_file
from paratopics.errors import fail
from paratopics.release.layout import (
    CONFIGS,
    list_versions,
    parse_version,
    read_manifest,
    release_dir,
)
from paratopics.release.manifest import Manifest

PENDING = " (pending)"
#: A yanked release's heading ends so, as Keep a Changelog marks one; a line of its
#: entry (YANK_LINE) says when and why.
YANKED = " [YANKED]"
YANK_LINE = "- yanked: {when}, because: {reason}"
PREAMBLE = (
    "# Changelog\n\nOne entry per release, newest first. Each records the sha256 of the "
    "release's manifest.json, which `paratopics verify` checks, so that a release and "
    "its manifest edited together are still caught.\n\n")
_HEADING = re.compile(r"## v(\S+?)(" + re.escape(PENDING) + r"|" + re.escape(YANKED) + r")?")
_DIGEST = re.compile(r"^- manifest sha256: `([0-9a-f]{64})`$", re.M)
_YANK = re.compile(r"^- yanked: (\S+), because: (.*)$", re.M)
#: Lines of release notes escaped so that they never read as an entry's own lines.
_RESERVED = ("## ", "- manifest sha256:", "- yanked:")


@dataclass(frozen=True)
class Yank:
    """A release withdrawn by `paratopics yank`: when (UTC, RFC 3339) and why."""

    version: str
    when: str
    reason: str


@dataclass(frozen=True)
class Entry:
    """One release's entry: its version, whether it is pending, the digests it records,
    and its yank, if it was yanked."""

    version: str
    pending: bool
    digests: tuple[str, ...]
    text: str
    yank: Yank | None = None


def changelog_path(corpus: Corpus) -> Path:
    return corpus.releases / "CHANGELOG.md"


def manifest_digest(corpus: Corpus, version: str) -> str:
    return sha256_file(release_dir(corpus, version) / "manifest.json")


def read_text(corpus: Corpus) -> str | None:
    """The changelog's text; None when there is none. Refuses a symlink (whose
    target is not the corpus's to vouch for or to rewrite) and bytes that are
    not UTF-8, naming the file."""
    path = changelog_path(corpus)
    if path.is_symlink():
        raise fail("changelog-invalid", file=str(path),
                   detail=f"{path.name} is a symlink; the changelog must be a file of the "
                   "corpus")
    if not path.exists():
        return None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise fail("changelog-invalid", file=str(path),
                   detail=f"cannot be read: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail("changelog-invalid", file=str(path),
                   detail=f"byte {exc.start} is not valid UTF-8") from None


def split_entries(text: str) -> tuple[str, list[str]]:
    """The changelog's preamble and its entries, each starting with '## v'."""
    head, *rest = re.split(r"(?m)^(?=## v)", text)
    return head, rest


def parse_entry(text: str) -> Entry:
    heading = text.split("\n", 1)[0]
    match = _HEADING.fullmatch(heading)
    version = match[1] if match else heading[len("## v"):]
    yank = None
    if match and match[2] == YANKED:  # the heading decides; the line tells when and why
        line = _YANK.search(text)
        yank = Yank(version, *(line.groups() if line else ("(not recorded)",
                                                            "(not recorded)")))
    return Entry(version, bool(match and match[2] == PENDING), tuple(_DIGEST.findall(text)),
                 text, yank)


def entries(corpus: Corpus) -> list[Entry]:
    """Every entry, in file order (newest first)."""
    text = read_text(corpus)
    return [] if text is None else [parse_entry(e) for e in split_entries(text)[1]]


def changelog_digests(corpus: Corpus) -> dict[str, str]:
    """version -> manifest sha256, as recorded when each release was built (the
    newest entry's, where a forged second one exists: `verify` reports it)."""
    found: dict[str, str] = {}
    for entry in entries(corpus):
        if entry.digests and entry.version not in found:
            found[entry.version] = entry.digests[0]
    return found


def entry_problems(corpus: Corpus, version: str) -> tuple[str | None, list[str]]:
    """(the one digest recorded for `version`, or None; what is wrong with its entries)."""
    mine = [entry for entry in entries(corpus) if entry.version == version]
    if not mine:
        return None, [f"no entry records v{version}'s manifest"]
    problems = []
    if len(mine) > 1:
        problems.append(f"{len(mine)} entries for v{version}; a release has one (the others "
                        "were added by hand)")
    digests = [digest for entry in mine for digest in entry.digests]
    if len(digests) != 1:
        problems.append(f"the entry for v{version} records {len(digests)} manifest digests, "
                        "not one")
    return (digests[0] if len(set(digests)) == 1 else None), problems


def pending_versions(corpus: Corpus) -> set[str]:
    """Entries written just before a release's rename and not yet confirmed after it.

    With its folder present, a pending entry is a finished release whose build
    was stopped before confirming it (its digest still guards it); without, a
    build that never finished, and no release at all.
    """
    return {entry.version for entry in entries(corpus) if entry.pending}


def confirm_pending(corpus: Corpus) -> None:
    """Mark pending entries of releases that exist as final; drop those that do not."""
    text = read_text(corpus)
    if text is None:
        return
    head, parts = split_entries(text)
    if not any(parse_entry(part).pending for part in parts):
        return
    kept = []
    for part in parts:
        entry = parse_entry(part)
        if entry.pending:
            if not release_dir(corpus, entry.version).is_dir():
                continue
            part = part.replace(f"## v{entry.version}{PENDING}", f"## v{entry.version}", 1)
        kept.append(part)
    atomic_write(changelog_path(corpus), (head + "".join(kept)).encode("utf-8"))


def _quoted_notes(notes: str) -> str:
    """Release notes as written, except that a line that would read as an entry's
    heading or digest is escaped (Markdown shows it the same)."""
    lines = notes.strip().split("\n")
    return "\n".join("\\" + line if line.startswith(_RESERVED) else line for line in lines)


def changelog_entry(manifest: Manifest, digest: str, notes: str | None,
                    previous: Manifest | None) -> str:
    rows = manifest.rows("paragraphs")
    inputs = manifest.inputs
    lines = [
        f"## v{manifest.version}",
        "",
        f"- manifest sha256: `{digest}`",
        f"- inputs fingerprint: `{inputs.fingerprint}`",
        f"- articles: {inputs.articles}, judgements: {inputs.judgements}",
        "- paragraphs by split: " + ", ".join(f"{s} {n}" for s, n in rows.items()),
        f"- codebook: {manifest.versions.codebook}",
    ]
    if previous is not None:
        lines.append(f"- compared with v{previous.version}: "
                     + ", ".join(f"{k} {v:+d}" for k, v in count_changes(previous, manifest)))
    if notes:
        lines += ["", _quoted_notes(notes)]
    return "\n".join(lines) + "\n"


def count_changes(old: Manifest, new: Manifest) -> list[tuple[str, int]]:
    def flat(m: Manifest) -> Counter[str]:
        return Counter({config: sum(info.rows.values()) for config, info in m.configs.items()})
    a, b = flat(old), flat(new)
    return [(k, b[k] - a[k]) for k in CONFIGS]


def append_changelog(corpus: Corpus, manifest: Manifest, notes: str | None,
                     only_if_missing: bool = False, digest: str | None = None,
                     pending: bool = False) -> None:
    """Add the entry of `manifest`'s release, newest first.

    `build` writes it `pending`, with the digest of the manifest still in the
    temporary folder, before the rename; then confirms it. A kill at any point
    leaves either no release, or a release whose digest is recorded.
    """
    version = manifest.version
    if only_if_missing and version in changelog_digests(corpus):
        return
    text = read_text(corpus)
    head, parts = split_entries(PREAMBLE if text is None else text)
    parts = [p for p in parts if parse_entry(p).version != version]  # a stale pending one
    earlier = [v for v in list_versions(corpus) if parse_version(v) < parse_version(version)]
    previous = read_manifest(corpus, earlier[-1]) if earlier else None
    entry = changelog_entry(manifest, digest or manifest_digest(corpus, version), notes,
                            previous)
    if pending:
        entry = entry.replace(f"## v{version}\n", f"## v{version}{PENDING}\n", 1)
    body = "".join([entry + "\n", *parts])
    atomic_write(changelog_path(corpus),
                 (head.rstrip("\n") + "\n\n" + body.rstrip("\n") + "\n").encode("utf-8"))


def yanks(corpus: Corpus) -> dict[str, Yank]:
    """version -> its yank, for every yanked release the changelog records."""
    return {entry.version: entry.yank for entry in entries(corpus)
            if entry.yank is not None and not entry.pending}


def one_line(text: str) -> str:
    """`text` with its whitespace runs (newlines included) made one space: a reason is
    one line of its entry, so that it can never read as another line of it."""
    return " ".join(text.split())


def mark_yanked(corpus: Corpus, version: str, when: str, reason: str) -> Yank:
    """Mark release `version`'s entry as yanked, `when` and because of `reason`.

    Only its heading and one added line change: the digest it records, and so
    `verify`, are untouched. The caller has checked that `version` has exactly one
    entry, not yet yanked.
    """
    text = read_text(corpus)
    if text is None:
        raise ValueError("no changelog")
    head, parts = split_entries(text)
    yank = Yank(version, when, one_line(reason))
    marked = []
    for part in parts:
        entry = parse_entry(part)
        if entry.version == version and not entry.pending and entry.yank is None:
            heading, _, rest = part.partition("\n")
            line = YANK_LINE.format(when=yank.when, reason=yank.reason)
            part = f"{heading}{YANKED}\n\n{line}\n{rest.lstrip(chr(10))}"
        marked.append(part)
    atomic_write(changelog_path(corpus), (head + "".join(marked)).encode("utf-8"))
    return yank
