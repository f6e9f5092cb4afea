"""Yanked releases: withdrawn as mistakes, never deleted, skipped unless asked for.

A release folder is immutable and its manifest's bytes are vouched for by the
changelog, so the yank marker lives in neither: it is the release's changelog
entry, whose heading gets ` [YANKED]` and one line saying when and why (as Keep a
Changelog marks a yanked release). The entry's manifest digest is left as it
was, so `verify` checks a yanked release exactly as before.

Everything that picks a release by itself (`paratopics.load()` and
`loader.resolve_version` without a version, the commands' defaults, the README's
configs) takes `default_version`: the latest release not yanked (release.versions
decides it, for the commands and the API alike). A yanked release asked for by
version is used, with a `release-yanked` warning. Its
version stays taken: a new build may not reuse it or go below it unasked.
"""

from __future__ import annotations

import re

from paratopics.corpus.store import Corpus
from paratopics.errors import fail, misuse
from paratopics.release import changelog
from paratopics.release.changelog import Yank
from paratopics.release.layout import list_versions, release_dir
from paratopics.release.versions import described, latest_not_yanked, no_default_in
from paratopics.validate.summary import display_path

#: A yank's time, as recorded: UTC to the second.
_WHEN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
#: Longest reason kept (it is one line of the changelog).
MAX_REASON = 500


def yanked(corpus: Corpus) -> dict[str, Yank]:
    """version -> yank, for every yanked release of `corpus`."""
    return changelog.yanks(corpus)


def default_version(corpus: Corpus) -> str | None:
    """The latest release that is not yanked; None when there is none (no release, or
    every one yanked)."""
    return latest_not_yanked(list_versions(corpus), yanked(corpus))


def no_default(corpus: Corpus) -> str:
    """Why there is no release to pick, and what to do."""
    return no_default_in(corpus.releases, list_versions(corpus))


def yank(corpus: Corpus, version: str, reason: str, when: str) -> Yank:
    """Mark release `version` yanked, `when` (UTC, YYYY-MM-DDTHH:MM:SSZ), because of `reason`.

    Refused as misuse (`MisuseError`): a version that is not a release
    (`release-missing`), one yanked already or a blank reason (`yank-refused`).
    A release without its changelog entry is a damaged one (`release-corrupt`).
    Nothing of the release folder is touched. The caller holds the corpus lock.
    """
    wanted = version.removeprefix("v")
    text = changelog.one_line(reason)
    if not text:
        raise misuse("yank-refused", file=display_path(changelog.changelog_path(corpus)),
                     detail=f"no reason given: say in --reason why v{wanted} is withdrawn "
                     "(it is recorded in the changelog for everyone who used it)")
    if len(text) > MAX_REASON:
        raise misuse("yank-refused", file=display_path(changelog.changelog_path(corpus)),
                     detail=f"the reason is {len(text)} characters, over {MAX_REASON}: say it "
                     "in one sentence, and put details in the next release's notes")
    if not _WHEN.fullmatch(when):
        raise ValueError(f"when={when!r} is not YYYY-MM-DDTHH:MM:SSZ")
    changelog.confirm_pending(corpus)  # a release whose build was stopped before confirming
    versions = list_versions(corpus)
    folder = release_dir(corpus, wanted)
    if wanted not in versions:
        raise misuse("release-missing", file=display_path(folder),
                     detail=f"no such release v{wanted} (available: "
                     f"{', '.join(versions) or 'none'})")
    already = yanked(corpus).get(wanted)
    if already is not None:
        raise misuse("yank-refused", file=display_path(changelog.changelog_path(corpus)),
                     detail=f"{described(already)}; a release is yanked once (there is no "
                     "unyank)")
    recorded, problems = changelog.entry_problems(corpus, wanted)
    if recorded is None or problems:
        found = "; ".join(problems) or f"the entry for v{wanted} records no manifest digest"
        raise fail("release-corrupt", file=display_path(changelog.changelog_path(corpus)),
                   detail=f"{found}: the yank is recorded in that entry, so it was not "
                   "made; run `paratopics verify --version " + wanted + "`")
    return changelog.mark_yanked(corpus, wanted, when, text)
