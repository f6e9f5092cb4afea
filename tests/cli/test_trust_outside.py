"""Nothing outside the corpus is written, deleted or taken for the corpus's own.

A README beside the corpus that is not its dataset card is left as it is; a
corpus folder that is a symlink to an outside folder is refused by every
command before anything is read or written there; a build deletes only the
temporary folders its own kind made. Each case checks the outside files byte
for byte afterwards.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest
from reliability_helpers import synthetic_corpus

import paratopics
from paratopics import cli
from paratopics import codebook as codebook_module
from paratopics.corpus.config import MARKER, render_marker
from paratopics.corpus.store import Corpus
from paratopics.errors import ParatopicsError
from paratopics.release import build as release_build
from paratopics.release import folders as release_folders
from paratopics.release import verify as release_verify

BOOK = codebook_module.load()


def run(*args: str | Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in args])
    return code, out.getvalue() + err.getvalue()


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry under `folder`: file bytes, or None for a folder."""
    return {p.relative_to(folder).as_posix(): (None if p.is_dir() else p.read_bytes())
            for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return synthetic_corpus(tmp_path_factory.mktemp("outside") / "corpus", 8, seed=21)


@pytest.fixture
def project(valid: Corpus, tmp_path: Path) -> Corpus:
    """A copy of the valid corpus at project/corpus, with no marker and no README."""
    corpus = Corpus(tmp_path / "project" / "corpus")
    shutil.copytree(valid.root, corpus.root)
    return corpus


# -- item 9: a README that is not the corpus's card ------------------------------

BLOG = "---\nlayout: post\ntitle: Notes on the corpus\ntags: [news]\n---\n# Notes\n\nMine.\n"
OTHER_CARD = ("---\npretty_name: Another dataset\nlicense: mit\nconfigs:\n- config_name: default\n"
              "  data_files:\n  - split: train\n    path: data/train-*.parquet\n---\n# Other\n")


@pytest.mark.parametrize(("readme", "marker", "says"), [
    (BLOG, False, "it has no configs, and"),
    (OTHER_CARD, False, "its configs point at 'data/train-*.parquet', not into corpus/releases/"),
    (OTHER_CARD, True, "its configs point at 'data/train-*.parquet', not into corpus/releases/"),
])
def test_build_leaves_a_readme_that_is_not_the_card_alone(project: Corpus, readme: str,
                                                          marker: bool, says: str) -> None:
    path = project.root.parent / "README.md"
    path.write_text(readme, encoding="utf-8")
    if marker:
        (project.root / MARKER).write_text(render_marker("mine"), encoding="utf-8")
    code, text = run("build", "--corpus", project.root, "--version", "1.0.0")
    assert code == 0, text
    assert path.read_text(encoding="utf-8") == readme
    assert f"{path}: warning [card-not-updated] left as it is" in text, text
    assert says in text and "paratopics.toml" in text
    assert "README front matter now points" not in text
    # nor does the published card take that README's name or licence
    code, text = run("publish", "--corpus", project.root, "--out", project.root.parent / "hub")
    assert code == 0, text
    card = (project.root.parent / "hub" / "README.md").read_text(encoding="utf-8")
    assert "Another dataset" not in card and "Notes on the corpus" not in card


def test_the_corpus_card_is_still_followed(project: Corpus) -> None:
    """A card the marker names gets its configs; later builds move them along."""
    path = project.root.parent / "README.md"
    path.write_text("---\npretty_name: Mine\nlicense: other\n---\n# Mine\n", encoding="utf-8")
    (project.root / MARKER).write_text(render_marker("mine"), encoding="utf-8")
    code, text = run("build", "--corpus", project.root, "--version", "1.0.0")
    assert code == 0 and "README front matter now points at v1.0.0" in text, text
    assert "corpus/releases/v1.0.0/paragraphs/" in path.read_text(encoding="utf-8")
    (project.root / MARKER).unlink()  # its configs alone now say whose card it is
    (project.annotations / "extra.jsonl").write_text("", encoding="utf-8")
    code, text = run("build", "--corpus", project.root, "--version", "1.0.1")
    assert code == 0 and "README front matter now points at v1.0.1" in text, text


# -- item 10: symlinked corpus folders, and temporary folders that are not ours -----


def _link_out(corpus: Corpus, name: str, outside: Path) -> None:
    folder = corpus.root / name
    if folder.exists():
        shutil.copytree(folder, outside, dirs_exist_ok=True)
        shutil.rmtree(folder)
    else:
        outside.mkdir(parents=True)
    folder.symlink_to(outside, target_is_directory=True)


COMMANDS = {
    "build": ["build", "--version", "1.0.0"],
    "validate": ["validate"],
    "verify": ["verify", "--all"],
    "stats": ["stats"],
    "ingest": ["ingest", "IGNORED"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("name", ["releases", "annotations", "articles", "sources", "history"])
def test_a_symlinked_corpus_folder_is_refused(project: Corpus, tmp_path: Path, name: str,
                                              command: str) -> None:
    outside = tmp_path / f"elsewhere-{name}"
    _link_out(project, name, outside)
    (outside / "CHANGELOG.md").write_text("# someone else's changelog\n", encoding="utf-8")
    (outside / ".tmp-keep").mkdir()
    (outside / ".tmp-keep" / "work.txt").write_text("not yours", encoding="utf-8")
    (outside / ".notes.1.tmp").write_text("not yours either", encoding="utf-8")
    before = snapshot(outside)
    article = tmp_path / "story.json"
    article.write_text('{"title": "Drill", "published": "2021-05-02", "url": "https://e.org/a",'
                       ' "source": "example.org", "body": "One."}', encoding="utf-8")
    args = [a if a != "IGNORED" else str(article) for a in COMMANDS[command]]
    code, text = run(*args, "--corpus", project.root)
    assert code == 1, text
    assert "Traceback" not in text
    assert f"{project.root / name}: error [unsafe-path]" in text and "is a symlink" in text
    assert snapshot(outside) == before


def test_load_refuses_a_symlinked_releases_folder(project: Corpus, tmp_path: Path) -> None:
    release_build.build(project, "1.0.0", BOOK)
    _link_out(project, "releases", tmp_path / "elsewhere")
    with pytest.raises(ParatopicsError, match="is a symlink"):
        paratopics.load(corpus=project.root, cache_dir=str(tmp_path / "hf"))


def test_a_symlinked_release_folder_fails_verification(project: Corpus, tmp_path: Path) -> None:
    release_build.build(project, "1.0.0", BOOK)
    _link_out(project, "releases/v1.0.0", tmp_path / "v1.0.0")
    code, text = run("verify", "--corpus", project.root, "--all")
    assert code == 1 and "Traceback" not in text
    assert "v1.0.0: error [unsafe-path]" in text and "is a symlink" in text


def test_build_deletes_only_its_own_leftovers(project: Corpus) -> None:
    project.releases.mkdir(exist_ok=True)
    foreign = project.releases / ".tmp-v1.0.0-4242"
    foreign.mkdir()
    (foreign / "draft.txt").write_text("someone's", encoding="utf-8")
    killed = project.releases / ".tmp-v0.9.0-abcd"  # a killed build's folder: marked
    (killed / "paragraphs").mkdir(parents=True)
    release_folders.build_marker(killed).write_text("paratopics build", encoding="utf-8")
    orphan = release_folders.build_marker(project.releases / ".tmp-v0.9.0-efgh")
    orphan.write_text("paratopics build", encoding="utf-8")  # killed before its mkdir
    release_build.build(project, "1.0.0", BOOK)
    assert (foreign / "draft.txt").read_text(encoding="utf-8") == "someone's"
    assert not killed.exists() and not release_folders.build_marker(killed).exists()
    assert not orphan.exists()
    assert sorted(p.name for p in project.releases.iterdir()) == [
        ".tmp-v1.0.0-4242", "CHANGELOG.md", "v1.0.0"]
    assert release_verify.verify(project, "1.0.0", BOOK) == []
