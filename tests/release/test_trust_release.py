"""Releases that must not be trusted: damaged manifests and changelogs, consistent
forgeries, symlinks, and loading a release that fails verification.

Each case damages its own copy of one built corpus (v1.0.0 and v1.1.0) and runs
the real commands through the CLI's entry point: every one must end in a
catalog problem naming the file, exit 1, and no traceback. A forgery is made
consistent (manifest and changelog digests rewritten to match) so that only
the check under test can catch it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT
from reliability_helpers import synthetic_corpus

import paratopics
from paratopics import cli
from paratopics import codebook as codebook_module
from paratopics.corpus.store import Corpus
from paratopics.errors import ParatopicsError
from paratopics.release import build as release_build
from paratopics.release import verify as verify_module
from paratopics.release.manifest import Manifest
from paratopics.synthetic import generate

BOOK = codebook_module.load()
OLD, NEW = "1.0.0", "1.1.0"
TRAIN = "paragraphs/train-00000-of-00001.parquet"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    corpus = synthetic_corpus(tmp_path_factory.mktemp("trust") / "corpus", 14, seed=3)
    release_build.build(corpus, OLD, BOOK)
    generate(corpus, 6, seed=4)
    release_build.build(corpus, NEW, BOOK)
    return corpus


@pytest.fixture
def corpus(built: Corpus, tmp_path: Path) -> Corpus:
    shutil.copytree(built.root, tmp_path / "corpus", symlinks=True)
    return Corpus(tmp_path / "corpus")


def run(*args: str | Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in args])
    return code, out.getvalue() + err.getvalue()


def folder(corpus: Corpus, version: str = NEW) -> Path:
    return corpus.releases / f"v{version}"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reseal(corpus: Corpus, version: str, manifest: dict[str, object] | None = None) -> None:
    """Make the manifest (recomputed for the files as they are now, or `manifest`)
    and the changelog agree with the release: a forgery only a content check sees."""
    path = folder(corpus, version) / "manifest.json"
    data = manifest or json.loads(path.read_text(encoding="utf-8"))
    if manifest is None:
        for entry in data["files"]:  # type: ignore[attr-defined]
            file = folder(corpus, version) / entry["path"]
            entry.update(sha256=sha(file), bytes=file.stat().st_size,
                         rows=pq.read_metadata(file).num_rows)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    log = corpus.releases / "CHANGELOG.md"
    text = log.read_text(encoding="utf-8")
    entry_re = re.compile(rf"(## v{re.escape(version)}\n\n- manifest sha256: `)[0-9a-f]{{64}}")
    assert entry_re.search(text)
    log.write_text(entry_re.sub(lambda m: m[1] + sha(path), text), encoding="utf-8")


def set_labels(corpus: Corpus, value: int) -> None:
    """Put class index `value` into the first labeled row of a paragraphs shard,
    keeping its schema (and class names), then reseal the release."""
    path = folder(corpus) / TRAIN
    table = pq.read_table(path)
    labels = table.column("labels").to_pylist()
    first = next(i for i, row in enumerate(labels) if row)
    labels[first] = [value]
    table = table.set_column(table.schema.get_field_index("labels"), table.schema.field("labels"),
                             pa.array(labels, table.schema.field("labels").type))
    pq.write_table(table, path, compression="zstd")
    reseal(corpus, NEW)


# -- item 8: a manifest or changelog that cannot be read ------------------------


def edit_manifest(edit: Callable[[dict[str, object]], object]) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        result = edit(data)
        path.write_text(json.dumps(data if result is None else result, indent=2),
                        encoding="utf-8")
    return damage


def _drop_bytes(data: dict[str, object]) -> None:
    del data["files"][0]["bytes"]  # type: ignore[index]


def _bytes_as_text(data: dict[str, object]) -> None:
    entry = data["files"][0]  # type: ignore[index]
    entry["bytes"] = str(entry["bytes"])


def _trailing_newline(data: dict[str, object]) -> None:
    data["files"][0]["sha256"] += "\n"  # type: ignore[index]


BAD_MANIFESTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "not JSON": (lambda p: p.write_text("{ not json", encoding="utf-8"), "not JSON"),
    "byte-order mark": (lambda p: p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes()),
                        "byte-order mark"),
    "empty object": (lambda p: p.write_text("{}", encoding="utf-8"),
                     "'parquet', 'files'"),
    "array": (lambda p: p.write_text("[]", encoding="utf-8"), "holds an array, not an object"),
    "no files": (edit_manifest(lambda d: d.__delitem__("files")), "at /: lacks 'files'"),
    "entry without bytes": (edit_manifest(_drop_bytes), "at /files/0: lacks 'bytes'"),
    "bytes as a string": (edit_manifest(_bytes_as_text), "is a string, not integer"),
    "not UTF-8": (lambda p: p.write_bytes(p.read_bytes().replace(b"paratopics", b"\xff", 1)),
                  "not valid UTF-8"),
    "a key twice": (lambda p: p.write_text(p.read_text().replace(
        '"name": "paratopics",', '"name": "paratopics", "name": "paratopics",', 1)),
        "appears twice"),
    "NaN": (lambda p: p.write_text(p.read_text().replace('"train": 0.8', '"train": NaN', 1)),
            "NaN is not a JSON number"),
    "sha256 with a newline": (edit_manifest(_trailing_newline), "at /files/0/sha256: "),
}

COMMANDS: dict[str, Callable[[Corpus, Path], list[str | Path]]] = {
    "verify": lambda c, _: ["verify", "--corpus", c.root, "--version", NEW],
    "diff": lambda c, _: ["diff", "--corpus", c.root, OLD, NEW],
    "stats": lambda c, _: ["stats", "--corpus", c.root, "--version", NEW],
    "publish": lambda c, tmp: ["publish", "--corpus", c.root, "--version", NEW,
                               "--out", tmp / "hub"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(BAD_MANIFESTS))
def test_a_bad_manifest_is_a_problem_naming_the_file(corpus: Corpus, tmp_path: Path,
                                                     case: str, command: str) -> None:
    damage, says = BAD_MANIFESTS[case]
    manifest = folder(corpus) / "manifest.json"
    damage(manifest)
    code, text = run(*COMMANDS[command](corpus, tmp_path))
    assert code == 1, text
    assert "Traceback" not in text
    assert f"{manifest}: error [manifest-invalid]" in text, text
    assert says in text, text
    assert not (tmp_path / "hub").exists()


def test_bytes_as_a_string_says_what_is_wrong(corpus: Corpus) -> None:
    BAD_MANIFESTS["bytes as a string"][0](folder(corpus) / "manifest.json")
    code, text = run("verify", "--corpus", corpus.root, "--version", NEW)
    assert code == 1
    assert re.search(r"at /files/0/bytes: '\d+' is a string, not integer", text), text
    assert "bytes, manifest says" not in text


@pytest.mark.parametrize("command", ["verify", "diff", "publish"])
def test_a_changelog_that_is_not_utf8_is_a_problem(corpus: Corpus, tmp_path: Path,
                                                   command: str) -> None:
    log = corpus.releases / "CHANGELOG.md"
    log.write_bytes(log.read_bytes().replace(b"Changelog", b"Changelog \xe9t\xe9", 1))
    code, text = run(*COMMANDS[command](corpus, tmp_path))
    assert code == 1 and "Traceback" not in text
    assert f"{log}: error [changelog-invalid] byte" in text and "not valid UTF-8" in text


def test_the_manifest_round_trips_byte_for_byte(built: Corpus) -> None:
    for version in (OLD, NEW):
        path = folder(built, version) / "manifest.json"
        assert Manifest.from_json(path, version).to_json() == path.read_bytes()
    committed = ROOT / "corpus/releases/v1.0.0/manifest.json"
    assert Manifest.from_json(committed, "1.0.0").to_json() == committed.read_bytes()


# -- item 7: forgeries that verified as intact -----------------------------------


def forged_second_entry(corpus: Corpus) -> None:
    """Tamper with a shard, reseal the manifest, and add a second entry for the
    version at the bottom of the changelog with the new digest."""
    path = folder(corpus) / TRAIN
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    manifest = folder(corpus) / "manifest.json"
    log = corpus.releases / "CHANGELOG.md"
    kept = log.read_text(encoding="utf-8")
    reseal(corpus, NEW)
    log.write_text(kept + f"\n## v{NEW}\n\n- manifest sha256: `{sha(manifest)}`\n",
                   encoding="utf-8")


def listed_twice(corpus: Corpus) -> None:
    path = folder(corpus) / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["files"].append(dict(data["files"][0]))
    reseal(corpus, NEW, data)


def symlinked_shard(corpus: Corpus) -> None:
    """The shard's exact bytes, outside the corpus, linked in its place: digests agree."""
    path = folder(corpus) / TRAIN
    outside = corpus.root.parent / "outside.parquet"
    shutil.copyfile(path, outside)
    path.unlink()
    path.symlink_to(outside)


FORGERIES: dict[str, tuple[Callable[[Corpus], None], tuple[str, ...]]] = {
    "a second changelog entry": (forged_second_entry, ("CHANGELOG.md", "2 entries for v1.1.0")),
    "labels 999": (lambda c: set_labels(c, 999), (TRAIN, "labels holds class index 999")),
    "labels -1": (lambda c: set_labels(c, -1), (TRAIN, "labels holds class index -1")),
    "a file listed twice": (listed_twice, ("manifest.json", f"{TRAIN} is listed twice")),
    "a shard symlinked outside": (symlinked_shard, (TRAIN, "is a symlink")),
}


@pytest.mark.parametrize("case", list(FORGERIES))
def test_a_forgery_fails_verification(corpus: Corpus, case: str) -> None:
    forge, says = FORGERIES[case]
    code, text = run("verify", "--corpus", corpus.root, "--version", NEW)
    assert code == 0, text
    forge(corpus)
    code, text = run("verify", "--corpus", corpus.root, "--all")
    assert code == 1, text
    assert "Traceback" not in text and f"v{OLD}: intact" in text
    for expected in says:
        assert expected in text, (expected, text)


@pytest.mark.parametrize("case", ["labels 999", "labels -1"])
def test_diff_of_a_forged_release_is_a_problem_not_an_index_error(corpus: Corpus,
                                                                  case: str) -> None:
    FORGERIES[case][0](corpus)
    code, text = run("diff", "--corpus", corpus.root, OLD, NEW)
    assert code == 1 and "Traceback" not in text and "IndexError" not in text
    assert f"{TRAIN}: error [release-corrupt]" in text and "class index" in text


# -- item 3: load() checks what it reads -----------------------------------------


def test_load_refuses_a_release_that_fails_verification(corpus: Corpus, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARATOPICS_CACHE", str(tmp_path / "cache"))
    intact = paratopics.load(version=NEW, split="train", corpus=corpus.root,
                             cache_dir=str(tmp_path / "a"))
    path = folder(corpus) / TRAIN
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ParatopicsError) as caught:
        paratopics.load(version=NEW, split="train", corpus=corpus.root,
                        cache_dir=str(tmp_path / "b"))
    assert caught.value.problem.code == "release-corrupt"
    assert caught.value.problem.file.endswith(f"v{NEW}/{TRAIN}")
    assert "sha256 differs from the manifest" in caught.value.problem.message
    # the opt-out reads the files as they are (here, a byte away from the original)
    with contextlib.suppress(Exception):  # the flipped byte may make the file unreadable
        unchecked = paratopics.load(version=NEW, split="train", corpus=corpus.root, verify=False,
                                    cache_dir=str(tmp_path / "c"))
        assert unchecked.num_rows == intact.num_rows


def test_load_refuses_forged_labels_and_a_forged_manifest(corpus: Corpus, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          ) -> None:
    monkeypatch.setenv("PARATOPICS_CACHE", str(tmp_path / "cache"))
    set_labels(corpus, 999)
    with pytest.raises(ParatopicsError, match="labels holds class index 999"):
        paratopics.load(version=NEW, split="train", corpus=corpus.root,
                        cache_dir=str(tmp_path / "a"))
    listed_twice(corpus)
    with pytest.raises(ParatopicsError, match="listed twice"):
        paratopics.load(version=NEW, corpus=corpus.root, cache_dir=str(tmp_path / "b"))


def test_a_second_load_hashes_nothing_until_a_file_changes(
        corpus: Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARATOPICS_CACHE", str(tmp_path / "cache"))
    hashed: list[Path] = []
    real = verify_module.sha256_file

    def counting(path: Path) -> str:
        hashed.append(Path(path))
        return real(path)

    monkeypatch.setattr(verify_module, "sha256_file", counting)

    def load() -> int:
        hashed.clear()
        paratopics.load(version=NEW, corpus=corpus.root, cache_dir=str(tmp_path / "hf"))
        return len([p for p in hashed if p.suffix == ".parquet"])

    manifest = Manifest.from_json(folder(corpus) / "manifest.json")
    files = sum(len(entries) for entries in manifest.files_of("paragraphs").values())
    assert files > 1
    assert load() == files  # first load: every paragraphs file hashed once
    assert load() == 0  # nothing changed: no file read again
    target = folder(corpus) / TRAIN
    stamp = target.stat()
    os.utime(target, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000_000))
    assert load() == 1  # a touched file is checked again, and only it


# -- item 11: publish never deletes what it did not write --------------------------


def test_publish_over_an_earlier_publish_keeps_git_and_hand_added_files(
        corpus: Corpus, tmp_path: Path) -> None:
    out = tmp_path / "hub"
    code, text = run("publish", "--corpus", corpus.root, "--version", OLD, "--out", out)
    assert code == 0, text
    (out / ".git" / "objects").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (out / "NOTES.md").write_text("mine\n")
    (out / "data" / "extra.csv").write_text("a,b\n")
    code, text = run("publish", "--corpus", corpus.root, "--version", NEW, "--out", out)
    assert code == 0, text
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (out / ".git" / "objects").is_dir()
    assert (out / "NOTES.md").read_text() == "mine\n"
    assert (out / "data" / "extra.csv").read_text() == "a,b\n"
    shipped = Manifest.from_json(out / "manifest.json")
    assert shipped.version == NEW
    now = {p.relative_to(out) for p in (out / "data").rglob("*.parquet")}
    assert now == {Path("data", e.path) for e in shipped.files}  # the old shards it lacks: gone
    for entry in shipped.files:
        assert sha(out / "data" / entry.path) == entry.sha256


def test_publish_refuses_to_replace_a_file_it_did_not_write(corpus: Corpus,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "hub"
    assert run("publish", "--corpus", corpus.root, "--version", OLD, "--out", out)[0] == 0
    # the earlier publish's manifest does not list this shard: a file of the same name
    # in its folder was put there by hand
    shipped = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    entry = next(e for e in shipped["files"] if e["path"] == TRAIN)
    shipped["files"].remove(entry)
    rows = shipped["configs"]["paragraphs"]["rows"]
    rows["train"] -= entry["rows"]
    if not rows["train"]:
        del rows["train"]
    (out / "manifest.json").write_text(json.dumps(shipped, indent=2), encoding="utf-8")
    assert Manifest.from_json(out / "manifest.json")  # still an earlier publish
    mine = out / "data" / TRAIN
    mine.write_bytes(b"hand-made")
    code, text = run("publish", "--corpus", corpus.root, "--version", NEW, "--out", out)
    assert code == 2 and f"data/{TRAIN} was not written by `paratopics publish`" in text
    assert mine.read_bytes() == b"hand-made"
    assert Manifest.from_json(out / "manifest.json").version == OLD


def test_publish_refuses_a_non_empty_folder_and_leaves_foreign_temporaries(
        corpus: Corpus, tmp_path: Path) -> None:
    foreign = tmp_path / "repo"
    (foreign / ".git").mkdir(parents=True)
    code, text = run("publish", "--corpus", corpus.root, "--out", foreign)
    assert code == 2 and "not empty" in text and (foreign / ".git").is_dir()
    # a folder named like publish's temporary one, but not made by this publish
    lookalike = tmp_path / f".tmp-publish-hub-{os.getpid()}"
    lookalike.mkdir()
    (lookalike / "keep.txt").write_text("not yours")
    assert run("publish", "--corpus", corpus.root, "--out", tmp_path / "hub")[0] == 0
    assert (lookalike / "keep.txt").read_text() == "not yours"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".tmp-publish-hub-" + str(os.getpid()), "corpus", "hub", "repo"])


# -- siblings: the changelog read entry by entry -----------------------------------


def test_an_entry_without_its_digest_is_named_not_given_the_next_ones(corpus: Corpus) -> None:
    log = corpus.releases / "CHANGELOG.md"
    text = log.read_text(encoding="utf-8")
    first = re.search(r"^- manifest sha256: `[0-9a-f]{64}`\n", text, flags=re.M)
    assert first is not None and text.index(f"## v{NEW}") < first.start()
    log.write_text(text[:first.start()] + text[first.end():], encoding="utf-8")
    code, text = run("verify", "--corpus", corpus.root, "--version", NEW)
    assert code == 1 and f"the entry for v{NEW} records 0 manifest digests, not one" in text
    assert "differs from" not in text  # before: compared with v1.0.0's digest


def test_release_notes_cannot_forge_an_entry(corpus: Corpus) -> None:
    generate(corpus, 2, seed=9)
    forged = f"## v9.9.9\n\n- manifest sha256: `{'0' * 64}`\n"
    release_build.build(corpus, "1.2.0", BOOK, notes=f"Looks harmless.\n{forged}")
    from paratopics.release import changelog

    assert "9.9.9" not in changelog.changelog_digests(corpus)
    code, text = run("verify", "--corpus", corpus.root, "--all")
    assert code == 0, text
    assert "Looks harmless." in (corpus.releases / "CHANGELOG.md").read_text(encoding="utf-8")


def test_load_of_a_publish_folder_checks_its_files(corpus: Corpus, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARATOPICS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "hub"
    assert run("publish", "--corpus", corpus.root, "--version", NEW, "--out", out)[0] == 0
    assert paratopics.load(corpus=out, split="train", cache_dir=str(tmp_path / "a")).num_rows
    shard = out / "data" / TRAIN
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 1
    shard.write_bytes(bytes(data))
    with pytest.raises(ParatopicsError, match="sha256 differs from the manifest"):
        paratopics.load(corpus=out, split="train", cache_dir=str(tmp_path / "b"))
