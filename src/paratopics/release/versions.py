"""Which release a caller means, decided once for the command line and the Python API.

`paratopics.load()` and every command that takes `--version` resolve it here, so
that both pick the same release by themselves (the latest one not yanked), refuse
the same versions in the same words and flag the same yanked ones. Only the
telling differs: a command prints the warning as a line, the API raises it as a
`YankedReleaseWarning`, which a caller can filter or turn into an error.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from paratopics.corpus.store import Corpus
from paratopics.errors import Problem, fail, problem
from paratopics.release import changelog
from paratopics.release.changelog import Yank
from paratopics.release.layout import list_versions


@dataclass(frozen=True)
class Resolved:
    """The release to use, and the warning to give about it, if any."""

    version: str
    #: `release-yanked`, when a yanked release was asked for by its version
    warning: Problem | None = None


def latest_not_yanked(versions: Sequence[str], yanked: Collection[str]) -> str | None:
    """The last of `versions` (in version order) that is not yanked; None if none is."""
    chosen = [v for v in versions if v not in yanked]
    return chosen[-1] if chosen else None


def described(yank: Yank) -> str:
    return f"v{yank.version} was yanked on {yank.when}, because: {yank.reason}"


def no_default_in(releases: Path | str, versions: Sequence[str]) -> str:
    """Why there is no release to pick in `releases`, and what to do."""
    if not versions:
        return f"no release in {releases}: build one with `paratopics build --version X.Y.Z`"
    return (f"every release in {releases} is yanked ({', '.join(versions)}): give a "
            "version to use one anyway, or build a new release")


def resolve(requested: str | None, versions: Sequence[str], yanks: Mapping[str, Yank],
            releases: Path) -> Resolved:
    """The version `requested` (a leading "v" allowed), else the latest release not
    yanked, out of `versions` (sorted) of the releases folder `releases`, as it is
    to be shown.

    A version that was never built, or no version when there is none to pick,
    raises `release-missing`, naming the ones that exist, so a typo is answered
    with the list to choose from. A yanked one asked for is used, with its warning.
    """
    default = latest_not_yanked(versions, yanks)
    if requested is None:
        if default is None:
            raise fail("release-missing", file=str(releases),
                       detail=no_default_in(releases, versions))
        return Resolved(default)
    wanted = requested.removeprefix("v")
    folder = releases / f"v{wanted}"
    if wanted not in versions:
        raise fail("release-missing", file=str(folder),
                   detail=f"no release v{wanted} (available: {', '.join(versions) or 'none'})")
    yank = yanks.get(wanted)
    if yank is None:
        return Resolved(wanted)
    instead = (f"without a version, v{default} is used" if default is not None
               else "every release is yanked")
    found = problem("release-yanked", file=str(folder),
                    detail=f"{described(yank)}; used as asked ({instead})")
    return Resolved(wanted, replace(found, severity="warning", hint=""))


def resolve_in(corpus: Corpus, requested: str | None, releases: Path | None = None
               ) -> Resolved:
    """`resolve` over the releases and yanks of `corpus`; `releases` is its releases
    folder as messages show it (default: as the corpus names it)."""
    return resolve(requested, list_versions(corpus), changelog.yanks(corpus),
                   corpus.releases if releases is None else releases)
