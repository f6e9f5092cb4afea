"""Publishing: the dataset card, and Hub-ready folders of a release.

The card header is generated with `huggingface_hub`'s DatasetCardData and
`datasets`' DatasetInfo, the same code the Hub uses, so it validates there;
its `configs` point `load_dataset` at a release's Parquet files.

`publish_folder` lays a release out as a Hub dataset repository (README card,
data/<config>/<split>-*.parquet, manifest.json, croissant.json); `plan_upload`
says what a push would send, and `push` sends it. Only `push` uses the network.
Card and Croissant file depend on the release alone, never on the clock, so
publishing a release twice gives the same bytes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, cast

import yaml
from datasets import Features
from datasets.info import DatasetInfo, DatasetInfosDict
from datasets.splits import SplitDict, SplitInfo
from huggingface_hub import DatasetCard, DatasetCardData

from paratopics import loader as loader_module
from paratopics.codebook import Codebook
from paratopics.corpus.config import read_config
from paratopics.corpus.store import Corpus, atomic_write, sha256_file
from paratopics.errors import ParatopicsError, Problem, UsageError, fail, problem
from paratopics.publish import annotators as annotators_module
from paratopics.publish import croissant as croissant_module
from paratopics.publish import scores as scores_module
from paratopics.publish import skos as skos_module
from paratopics.release import layout as release_layout
from paratopics.release import verify as release_verify
from paratopics.release import yank as yank_module
from paratopics.release.layout import Layout
from paratopics.release.manifest import FileEntry, Manifest
from paratopics.report import markdown_table
from paratopics.validate.summary import display_path

LICENSE = "other"
TAGS = ["news", "iptc-media-topics", "paragraph-classification", "security", "multi-label"]


def size_category(rows: int) -> str:
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
              (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")]
    return next((name for bound, name in bounds if rows < bound), "10M<n<100M")


def card_data(manifest: Manifest, codebook: Codebook, prefix: str) -> DatasetCardData:
    """The card header for a release whose config folders sit under `prefix`."""
    configs = []
    infos = {}
    for config in release_layout.CONFIGS:
        splits = manifest.files_of(config)
        if not splits:
            continue
        order = [s for s in release_layout.split_names() if s in splits]
        base = f"{prefix}/{config}" if prefix else config
        configs.append({
            "config_name": config,
            **({"default": True} if config == release_layout.DEFAULT_CONFIG else {}),
            "data_files": [{"split": s, "path": f"{base}/{s}-*.parquet"} for s in order],
        })
        split_dict = SplitDict()
        for s in order:
            split_dict.add(SplitInfo(name=s, num_bytes=sum(f.bytes for f in splits[s]),
                                     num_examples=sum(f.rows for f in splits[s])))
        infos[config] = DatasetInfo(features=release_layout.features(
                                        config, codebook, Layout.of(manifest)),
                                    splits=split_dict, config_name=config)
    paragraphs = sum(manifest.rows("paragraphs").values())
    data = DatasetCardData(
        pretty_name="paratopics",
        language=["en"],
        license=LICENSE,
        license_name=LICENSE_NAME,
        license_link=LICENSE_LINK,
        task_categories=["text-classification"],
        task_ids=["multi-label-classification", "topic-classification"],
        size_categories=[size_category(paragraphs)],
        source_datasets=["original"],
        annotations_creators=["expert-generated"],
        language_creators=["found"],
        multilinguality=["monolingual"],
        tags=TAGS,
        configs=configs,
    )
    DatasetInfosDict(infos).to_dataset_card_data(data)
    return data


def split_front_matter(text: str) -> tuple[str | None, str]:
    """(YAML header or None, body) of a Markdown file with optional front matter."""
    if not text.startswith("---\n"):
        return None, text
    end = text.find("\n---\n", 4)
    if end < 0:
        return None, text
    return text[4:end + 1], text[end + 5:]


def render_card(data: DatasetCardData, body: str) -> str:
    return f"---\n{data.to_yaml()}\n---\n{body}"


def readme_path(corpus: Corpus) -> Path:
    """The README whose front matter is the corpus's card (its marker's `card`)."""
    return read_config(corpus.root).card_path


def corpus_card_header(corpus: Corpus) -> str | None:
    """The front matter of the corpus's own card (README), if it has one: a README
    that is not this corpus's card (see `not_the_card`) lends the card nothing."""
    path = readme_path(corpus)
    if not path.is_file():
        return None
    header = split_front_matter(path.read_text(encoding="utf-8"))[0]
    if header is None or not_the_card(corpus, path, header) is not None:
        return None
    return header


def _data_file_paths(configs: list[Any]) -> list[object]:
    """Every `path` the `configs` of a card's front matter name (strings, lists of
    strings, or {split, path} entries, as the Hub accepts)."""
    found: list[object] = []
    for config in configs:
        files = config.get("data_files") if isinstance(config, dict) else None
        for item in files if isinstance(files, list) else [files]:
            path = item.get("path") if isinstance(item, dict) else item
            found += path if isinstance(path, list) else [path]
    return found


def not_the_card(corpus: Corpus, path: Path, header: str) -> str | None:
    """Why the README at `path` is not this corpus's dataset card; None when it is.

    It is when its `configs` point into this corpus's releases folder, or when it
    has none yet and the corpus's paratopics.toml names it (the card `paratopics
    init` writes). Any other README with front matter (a web page, another
    dataset's card) is not this corpus's to rewrite.
    """
    releases = Path(os.path.relpath(corpus.releases, path.parent)).as_posix() + "/"
    try:
        data = yaml.safe_load(header)
    except yaml.YAMLError:
        data = None  # ours if the marker names it: then its YAML error is reported
    configs = data.get("configs") if isinstance(data, dict) else None
    if configs is None:
        if read_config(corpus.root).marker is not None:
            return None
        return (f"it has no configs, and {corpus.root} has no paratopics.toml naming it as "
                "the card")
    paths = _data_file_paths(configs) if isinstance(configs, list) else [configs]
    strays = [p for p in paths if not (isinstance(p, str) and p.startswith(releases))]
    if paths and not strays:
        return None
    shown = repr(strays[0]) if strays else "no data files"
    return f"its configs point at {shown}, not into {releases}"


@dataclass(frozen=True)
class CardUpdate:
    """What `update_readme` did: changed the card, or left a README that is not
    this corpus's card alone (`refused` says why and what to do)."""

    changed: bool
    refused: Problem | None = None


#: Card keys a release decides; every other key is the card author's to set.
RELEASE_KEYS = ("configs", "dataset_info", "size_categories")


def merged_card_data(header: str, generated: DatasetCardData, where: str = "README.md",
                     ) -> DatasetCardData:
    """`generated`, with the keys the card's author set (pretty_name, license, tags, ...)
    kept as they are: a corpus of one's own is not paratopics and has its own licence."""
    try:
        theirs = DatasetCard(f"---\n{header}---\n").data.to_dict()
    except (ValueError, yaml.YAMLError) as exc:  # YAML that does not parse, or no mapping
        detail = " ".join(str(exc).split())
        raise fail("corpus-config", file=where,
                   detail=f"the dataset card's front matter cannot be read "
                   f"({detail}); fix the YAML between the --- lines of the README") from None
    kept = {key: value for key, value in theirs.items() if key not in RELEASE_KEYS}
    base = generated.to_dict()
    if "license" in kept:  # their licence, with their details, never paratopics'
        base = {k: v for k, v in base.items() if k not in ("license_name", "license_link")}
    return DatasetCardData(**{**base, **kept})


def update_readme(corpus: Corpus, codebook: Codebook) -> CardUpdate:
    """Point the corpus's dataset card (its marker's `card`) at the latest release
    not yanked (none yanked: the latest), so that `load_dataset` on the checkout skips
    a yanked one as `paratopics.load()` does.

    Only a README with front matter that is this corpus's card is touched (see
    `not_the_card`); the body and the author's keys are kept as written.
    """
    path = readme_path(corpus)
    latest = yank_module.default_version(corpus)
    if not path.is_file() or latest is None:
        return CardUpdate(False)
    text = path.read_text(encoding="utf-8")
    header, body = split_front_matter(text)
    if header is None:
        return CardUpdate(False)
    reason = not_the_card(corpus, path, header)
    if reason is not None:
        card = os.path.relpath(path, corpus.root)
        where = Path(os.path.relpath(release_layout.release_dir(corpus, latest), path.parent))
        return CardUpdate(False, replace(problem(
            "card-not-updated", file=str(path),
            detail=f"left as it is: not this corpus's dataset card ({reason}); to make it "
            f"the card, name it in {corpus.root / 'paratopics.toml'} ([corpus] card = "
            f"{card!r}) and give it no configs, or point its configs at "
            f"{where.as_posix()}/<config>/<split>-*.parquet yourself"), severity="warning"))
    manifest = release_layout.read_manifest(corpus, latest)
    prefix = Path(os.path.relpath(release_layout.release_dir(corpus, latest), path.parent))
    data = merged_card_data(header, card_data(manifest, codebook, prefix.as_posix()),
                            str(path))
    new = render_card(data, body)
    if new == text:
        return CardUpdate(False)
    atomic_write(path, new.encode("utf-8"))
    return CardUpdate(True)


# -- the full card of a published release --------------------------------------

DATA_DIR = "data"
HUB_DATASETS = "https://huggingface.co/datasets/"
#: What a pushed repository may hold that a new version replaces or removes.
MANAGED_PATTERNS = (f"{DATA_DIR}/**", "README.md", "manifest.json", "croissant.json",
                    "codebook.jsonld")
REQUIRED_CARD_KEYS = ("license", "language", "pretty_name", "task_categories", "task_ids",
                      "size_categories", "configs", "dataset_info")


def hub_url(repo_id: str) -> str:
    return HUB_DATASETS + repo_id


def _md_table(header: list[str], rows: Sequence[Sequence[object]]) -> str:
    """report.markdown_table with every cell as `str` gives it: counts in the card
    stay without thousands separators, as cards of earlier releases have them."""
    return markdown_table(header, [[str(cell) for cell in row] for row in rows])


def _feature_type(feature: Any) -> str:
    """A short, human name of a feature's type for the card's column tables."""
    inner = getattr(feature, "feature", None)
    if inner is not None:
        return f"list of {_feature_type(inner)}"
    if isinstance(feature, dict):
        return "{" + ", ".join(feature) + "}"
    names = getattr(feature, "names", None)
    if names is not None:
        return f"ClassLabel ({len(names)} classes)"
    return str(getattr(feature, "dtype", feature))


def _counts_section(manifest: Manifest) -> str:
    splits = release_layout.split_names()
    rows = [[f"`{config}`", *(info.rows.get(s, 0) for s in splits),
             sum(info.rows.values())] for config, info in manifest.configs.items()]
    return _md_table(["config", *splits, "total"], rows)


def _columns_section(codebook: Codebook, layout: Layout) -> str:
    parts = []
    for config in release_layout.CONFIGS:
        feats = release_layout.features(config, codebook, layout)
        docs = croissant_module.COLUMNS[config]
        rows = [[f"`{name}`", _feature_type(f), docs.get(name, "")] for name, f in feats.items()]
        default = " (default)" if config == release_layout.DEFAULT_CONFIG else ""
        parts.append(f"### `{config}`{default}\n\n" + _md_table(["column", "type", "meaning"],
                                                               rows))
    return "\n\n".join(parts)


def licences_section(manifest: Manifest) -> str:
    """Per source, under which terms its articles' texts may be shared (manifest 1.2.0)."""
    table = manifest.licences
    if table is None:
        return ("This release predates licence fields (article schema "
                f"{manifest.versions.article_schema}): each source's terms are in the "
                "project's docs/sources.md.")
    terms = table.get("terms", {})
    rows = []
    for source, counts in table.get("by_source", {}).items():
        for lid, n in counts.items():
            term = terms.get(lid, {})
            name = f"[{term['name']}]({term['url']})" if term.get("url") else term.get("name", "")
            rows.append([f"`{source}`", f"`{lid}`", name or "no licence recorded", n])
    return "Article texts by source and licence:\n\n" + _md_table(
        ["source", "license", "terms", "articles"], rows)


def _labels_section(manifest: Manifest, limit: int = 40) -> str:
    splits = [s for s in release_layout.split_names() if s != release_layout.UNLABELED]
    ranked = sorted(manifest.distribution.items(),
                    key=lambda kv: (-sum(kv[1].paragraphs.values()), kv[0]))
    rows = [[f"[`{code}`]({skos_module.concept_uri(code)})", info.name,
             *(info.paragraphs.get(s, 0) for s in splits),
             sum(info.paragraphs.values())] for code, info in ranked[:limit]]
    table = _md_table(["label", "name", *splits, "total"], rows) if rows else "(no gold labels)"
    more = (f"\n\n…and {len(ranked) - limit} more labels; `manifest.json` lists them all."
            if len(ranked) > limit else "")
    return table + more


#: The card's `license`: the parts of a release are under different terms (annotations
#: and definitions CC BY 4.0, IPTC names CC BY 4.0, article text its source's), which the
#: Hub's metadata says as `other` with a name and a link to the details.
LICENSE_NAME = "cc-by-4.0-annotations-and-source-terms-text"
LICENSE_LINK = croissant_module.PROJECT_URL + "#licence"
CC_BY_URL = "https://creativecommons.org/licenses/by/4.0/"

#: Who may use what, part by part: the card's licensing section for this corpus.
LICENCE_TEXT = f"""The parts of this dataset are under different terms (`license: other`):

- **Annotations** (`labels`, `labels_level1`, `annotators`, the `annotations` config) and the
  codebook's **definitions, notes and examples**: [CC BY 4.0]({CC_BY_URL}), by the paratopics
  maintainers.
- **Codebook codes and names** of IPTC nodes: IPTC Media Topics, (c) IPTC (International
  Press Telecommunications Council), [CC BY 4.0]({CC_BY_URL}).
- **Article text and metadata** (`text`, `heading`, `title`, `body`, `paragraphs`,
  `authors`, `url`): as published by each source (the `source` column), under that
  source's own terms, which this dataset does not change. Each article names them in
  the `articles` config: `license` (an SPDX id, or a `LicenseRef-` id defined in the
  project's docs/sources.md) and `attribution` (whom to credit, with a link); the table
  below counts them per source. Reports of U.S. government bodies (State Department, White
  House, Voice of America) are U.S. government works; Wikinews text is CC BY 2.5. Credit
  the attribution when you share the text.
- The `paratopics` software that builds the dataset: MIT."""


#: What the card says of how and why paratopics was made; a corpus of one's own gets
#: marked gaps instead (OWN_TEXT), for its maintainers to fill.
PROJECT_TEXT: dict[str, str] = {
    "rationale": (
        "Topic labels of news usually sit on whole articles, while one article mixes topics "
        "paragraph by paragraph (a defence-cooperation report turns to a gas pipeline, then "
        "to a vaccine). This corpus labels each paragraph against a public, versioned "
        "codebook, so that classifiers can be trained and compared at that grain, with IPTC "
        "Media Topics as the backbone that news organisations already use and a few project "
        "nodes where security news needs finer topics."),
    # the card computes this from the release (publish.annotators); this is the fallback
    "annotation_process": ("Who judged each paragraph is in the `annotator` column of the "
                           "`annotations` config; `paratopics agreement` measures their "
                           "agreement."),
    "curators": (f"{croissant_module.AUTHORS} "
                 f"([{croissant_module.PROJECT_URL}]({croissant_module.PROJECT_URL}))"),
    "maintainers": (f"{croissant_module.AUTHORS}: [{croissant_module.PROJECT_URL}]"
                    f"({croissant_module.PROJECT_URL}) (issues and pull requests)."),
    **{key.removeprefix("rai:"): text for key, text in croissant_module.RAI.items()},
}
_GAP = "_Not written yet: {what} (the card's author fills this in)._"
OWN_TEXT: dict[str, str] = {
    "rationale": _GAP.format(what="why these articles were collected and labelled"),
    "annotation_process": _GAP.format(
        what="who judged the paragraphs, how (guide, tools), and their agreement"),
    "curators": "the maintainers of this corpus",
    "maintainers": _GAP.format(what="who maintains this corpus and where to reach them"),
    "dataCollection": _GAP.format(what="where and how the articles were collected"),
    "dataPreprocessingProtocol": ("paratopics normalization of every title, heading and "
                                  "paragraph (line endings, mojibake, invisible characters, "
                                  "Unicode spaces, NFC, whitespace)."),
    "dataAnnotationProtocol": ("each paragraph is judged against the codebook: the topics "
                               "it is about, or none."),
    "personalSensitiveInformation": _GAP.format(
        what="which people the texts name and what sensitive matters they touch"),
    "dataLimitations": _GAP.format(what="the corpus's limitations"),
    "dataBiases": _GAP.format(what="its known biases (sources, topics, annotators)"),
    "dataUseCases": _GAP.format(what="the uses it is meant for, and not meant for"),
}


def _package_text(name: str) -> str:
    """A text file shipped inside the package (the card template)."""
    from importlib import resources

    return (resources.files("paratopics.publish") / name).read_text(encoding="utf-8")


def _sources_text(sources: Mapping[str, int] | None, articles: int) -> str:
    if not sources:
        return f"{articles} news articles; the `source` column names each one's publisher."
    listed = ", ".join(f"{name} ({n})" for name, n in sorted(
        sources.items(), key=lambda kv: (-kv[1], kv[0])))
    return (f"{articles} news articles from {len(sources)} source(s), articles per source: "
            f"{listed}. The `source` column names each one's publisher and `url` where it "
            "was published.")


def _annotation_process(text: Mapping[str, str],
                        annotators: annotators_module.Annotators | None,
                        codebook: Codebook, ours: bool) -> str:
    if annotators is None:
        return text["annotation_process"]
    computed = annotators_module.process_text(annotators, codebook, ours)
    return computed if ours else f"{text['annotation_process']}\n\n{computed}"


def card_body(manifest: Manifest, codebook: Codebook, repo: str,
              title: str = "paratopics", licence: str | None = None,
              sources: Mapping[str, int] | None = None, year: str | None = None,
              annotators: annotators_module.Annotators | None = None,
              scores: scores_module.Scores | None = None) -> str:
    """The card's Markdown body, from the packaged template `card.md`: what the data is,
    how it was made, its risks, how to use and cite it.

    `repo` is what `load_dataset` is given in the examples: a Hub id (pinned to
    the release's tag) or a local path. `sources` counts articles per source.
    """
    from string import Template

    version = manifest.version
    versions = manifest.versions
    inputs = manifest.inputs
    adjudication = manifest.adjudication
    splits = manifest.splits
    text = PROJECT_TEXT if licence is None else OWN_TEXT
    credit = codebook.credit or ("IPTC Media Topics, (c) IPTC (International Press "
                                 "Telecommunications Council), licensed under CC BY 4.0. "
                                 "Codes and names are IPTC's; definitions and notes are "
                                 "the project's.")
    licence_text = LICENCE_TEXT if licence is None else (
        f"Annotations: `{licence}` (this card's `license`). Codebook codes and names: IPTC "
        "Media Topics, CC BY 4.0. Article text: as published by its source, under its terms.")
    pin = f', revision="v{version}"' if "/" in repo and not repo.startswith((".", "/")) else ""
    fields = {
        "title": title, "version": version, "description": croissant_module.description(
            manifest),
        "corpus_version": versions.corpus, "article_schema": versions.article_schema,
        "annotation_schema": versions.annotation_schema,
        "codebook_version": versions.codebook, "articles": inputs.articles,
        "first_published": inputs.published["first"],
        "last_published": inputs.published["last"], "judgements": inputs.judgements,
        "curators": text["curators"], "maintainers": text["maintainers"],
        "rationale": text["rationale"],
        "annotation_process": _annotation_process(text, annotators, codebook, licence is None),
        "classes": manifest.classes, "level1_classes": len(codebook.level1_ids),
        "repo": repo, "pin": pin, "croissant_spec": croissant_module.SPEC_URL,
        "counts": _counts_section(manifest), "columns": _columns_section(
            codebook, Layout.of(manifest)),
        "iptc_url": croissant_module.IPTC_URL,
        "project_nodes": sum(1 for n in codebook.nodes if n.get("origin") == "project"),
        "credit": credit, "labels_table": _labels_section(manifest),
        "split_by": splits["by"], "unlabeled": splits["unlabeled"],
        "shares": ", ".join(f"{round(share * 100)}% `{name}`"
                            for name, share in splits["proportions"].items()),
        "sources": _sources_text(sources, inputs.articles),
        "collection": text["dataCollection"],
        "preprocessing": text["dataPreprocessingProtocol"],
        "protocol": text["dataAnnotationProtocol"],
        "rule": adjudication.rule, "rule_text": adjudication.text,
        "methods": ", ".join(f"{method} {n}" for method, n in
                             adjudication.methods.items()) or "none",
        "ties": adjudication.ties, "disputed": adjudication.disputed,
        "personal": text["personalSensitiveInformation"],
        "limitations": text["dataLimitations"], "biases": text["dataBiases"],
        "use_cases": text["dataUseCases"], "data_dir": DATA_DIR,
        "licence": licence_text + "\n\n" + licences_section(manifest),
        "citation": croissant_module.cite_as(version, year or croissant_module.FIRST_YEAR),
        "scores": scores_module.card_section(scores, version),
    }
    return Template(_package_text("card.md")).substitute(fields)


def dataset_card(manifest: Manifest, codebook: Codebook, repo: str,
                 header: str | None = None, sources: Mapping[str, int] | None = None,
                 year: str | None = None,
                 annotators: annotators_module.Annotators | None = None,
                 scores: scores_module.Scores | None = None) -> str:
    """The whole README.md of a published release: front matter and body; `header`
    is the corpus's own card header, whose author's keys (name, licence) it keeps."""
    data = card_data(manifest, codebook, DATA_DIR)
    if header is not None:
        data = merged_card_data(header, data)
    if header is None:
        return render_card(data, card_body(manifest, codebook, repo, sources=sources,
                                           year=year, annotators=annotators,
                                           scores=scores))
    own = data.to_dict()
    licence = str(own.get("license") or "unknown")
    ours = licence == LICENSE and own.get("license_name") == LICENSE_NAME
    return render_card(data, card_body(manifest, codebook, repo,
                                       str(own.get("pretty_name") or "paratopics"),
                                       None if ours else licence,
                                       sources=sources, year=year,
                                       annotators=annotators, scores=scores))


def _resource(name: str) -> Any:
    import datasets.utils

    path = Path(datasets.utils.__file__).parent / "resources" / name
    return json.loads(path.read_text(encoding="utf-8"))


def card_problems(text: str, folder: Path | None = None) -> list[str]:
    """What would make the card fail on the Hub, as far as can be checked offline.

    The Hub's own validator (`DatasetCard.validate`) needs the network; this
    parses the card as `huggingface_hub` and `datasets` do, checks the keys and
    vocabularies that ship with `datasets`, and, given the folder, that every
    config's data files exist.
    """
    from datasets.utils.metadata import MetadataConfigs

    problems: list[str] = []
    try:
        card = DatasetCard(text)
    except ValueError as exc:
        return [f"front matter: {exc}"]
    header, _ = split_front_matter(text)
    if header is None:
        return ["no YAML front matter"]
    data = card.data.to_dict()
    problems += [f"missing key: {key}" for key in REQUIRED_CARD_KEYS if not data.get(key)]
    if DatasetCardData(**data).to_dict() != data:
        problems.append("front matter does not survive a DatasetCardData round trip")
    creators = _resource("creators.json")
    vocabularies = {
        "size_categories": set(_resource("size_categories.json")),
        "multilinguality": set(_resource("multilingualities.json")),
        "language": set(_resource("languages.json")),
        "annotations_creators": set(creators["annotations"]),
        "language_creators": set(creators["language"]),
    }
    for key, allowed in vocabularies.items():
        problems += [f"{key}: {value!r} is not a known value" for value in data.get(key) or []
                     if value not in allowed]
    try:
        configs = MetadataConfigs.from_dataset_card_data(card.data)
        infos = DatasetInfosDict.from_dataset_card_data(card.data)
    except (ValueError, TypeError, KeyError) as exc:
        return [*problems, f"configs or dataset_info: {exc}"]
    problems += [f"dataset_info: no entry for config {name}" for name in configs
                 if name not in infos]
    if folder is not None:
        for name, config in configs.items():
            for entry in config.get("data_files", []):
                if not list(folder.glob(entry["path"])):
                    problems.append(f"config {name}: {entry['path']} matches no file")
    return problems


# -- the publish folder --------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """A publish folder as written: where, which release, and its files."""

    folder: Path
    version: str
    files: tuple[tuple[str, int], ...]  # (path in the folder, bytes)
    notes: tuple[str, ...] = ()  # what the card leaves out, and why


def release_features(corpus: Corpus, version: str,
                     manifest: Manifest) -> dict[str, Features]:
    """Each config's features as its Parquet files carry them."""
    folder = release_layout.release_dir(corpus, version)
    out = {}
    for config in release_layout.CONFIGS:
        by_split = loader_module.data_files(manifest, config)
        if by_split:
            out[config] = loader_module.release_features(
                folder, next(iter(by_split.values())), config, Layout.of(manifest))
    return out


def release_annotators(folder: Path, manifest: Manifest, codebook: Codebook
                       ) -> annotators_module.Annotators:
    """Who judged the release's paragraphs, from its `annotations` files."""
    paths = [p for ps in loader_module.data_files(manifest, "annotations").values() for p in ps]
    return annotators_module.summarize(annotators_module.read_judgements(folder, paths),
                                       codebook)


def source_counts(folder: Path, manifest: Manifest) -> dict[str, int]:
    """Articles per source in a release, read from its `articles` files."""
    import pyarrow.parquet as pq

    counts: dict[str, int] = {}
    for paths in loader_module.data_files(manifest, "articles").values():
        for path in paths:
            for name in pq.read_table(folder / path, columns=["source"]).column(0).to_pylist():
                counts[str(name)] = counts.get(str(name), 0) + 1
    return counts


def check_codebook(manifest: Manifest, codebook: Codebook,
                   features: Mapping[str, Features]) -> None:
    """Refuse to describe a release with a codebook whose label classes are not its own.

    The classes, in order, are the data's contract: every Parquet file stores class
    indexes into them. A codebook version that only adds guidance (hard cases,
    clearer notes) keeps them, and may describe the release; any other may not.
    """
    built = manifest.versions.codebook
    if built == codebook.version:
        return
    paragraphs = features.get("paragraphs")
    names = list(paragraphs["labels"].feature.names) if paragraphs is not None else None
    if names == list(codebook.label_ids):
        return
    raise fail("codebook", detail=f"v{manifest.version} was built with codebook "
               f"{built}, whose label classes differ from those of codebook "
               f"{codebook.version} that this package ships; publish it with a "
               f"paratopics version that ships codebook {built}")


#: The files of a publish folder beside its data (each written by every publish).
FOLDER_FILES = ("README.md", "manifest.json", "croissant.json", croissant_module.CODEBOOK_FILE)


def earlier_publish(folder: Path) -> set[str] | None:
    """The files an earlier publish wrote into `folder` (folder-relative), or None
    when `folder` is not one: its manifest must read as a release manifest, and
    its card and Croissant file must be there."""
    if not all((folder / name).is_file() and not (folder / name).is_symlink()
               for name in ("README.md", "manifest.json", "croissant.json")):
        return None
    try:
        manifest = Manifest.from_json(folder / "manifest.json")
    except ParatopicsError:
        return None
    return {*FOLDER_FILES, *(f"{DATA_DIR}/{entry.path}" for entry in manifest.files)}


def is_publish_folder(folder: Path) -> bool:
    """A folder this command wrote before (and so may update)."""
    return earlier_publish(folder) is not None


def _copy_checked(source: Path, target: Path, entry: FileEntry) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    if sha256_file(target) != entry.sha256:
        raise fail("release-corrupt", file=str(source),
                   detail=f"{entry.path}: sha256 differs from the manifest (run "
                   "`paratopics verify`)")


def _target(out: Path) -> set[str] | None:
    """What publishing into `out` may replace: None for a new or empty folder, else
    the files an earlier publish wrote there; anything else is refused."""
    if out.is_symlink():
        raise UsageError(f"--out {out}: is a symlink; give the folder itself")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file, not a folder")
    if not out.exists() or not any(out.iterdir()):
        return None
    earlier = earlier_publish(out)
    if earlier is None:
        raise UsageError(f"--out {out}: folder is not empty and was not written by "
                         "`paratopics publish`; choose an empty or new folder")
    return earlier


def _update_in_place(out: Path, tmp: Path, written: set[str], earlier: set[str]) -> None:
    """Replace the files an earlier publish wrote with `tmp`'s, one rename each;
    every other file of `out` (a .git folder, files added by hand) stays."""
    for rel in sorted(written - earlier):  # (the same bytes: an update stopped half-way)
        path = out / rel
        if path.is_symlink() or (path.exists() and (
                not path.is_file() or sha256_file(path) != sha256_file(tmp / rel))):
            raise UsageError(f"--out {out}: {rel} was not written by `paratopics publish` "
                             "but this release would replace it; move it away first")
    for rel in sorted(earlier - written):  # an earlier release's shards this one lacks
        path = out / rel
        if path.is_file() or path.is_symlink():
            path.unlink()
        with contextlib.suppress(OSError):  # only folders it left empty
            path.parent.rmdir()
    # The manifest last: until it is replaced, the folder still reads as the earlier
    # publish, so a run stopped half-way is finished by running it again.
    for rel in sorted(written, key=lambda rel: (rel == "manifest.json", rel)):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / rel, out / rel)


def publish_folder(corpus: Corpus, version: str, out: Path, codebook: Codebook,
                   repo_id: str | None = None, date: str | None = None) -> Published:
    """Write release `version` as a Hub dataset repository folder at `out`.

    The folder is assembled beside `out`. A new or empty `out` receives it by
    one rename; an earlier publish folder gets its files replaced, file by
    file, and keeps everything else (a .git folder, files added by hand);
    any other folder is refused. Every data file is checked against the
    manifest's sha256 as it is copied.
    """
    manifest = release_layout.read_manifest(corpus, version)
    features = release_features(corpus, version, manifest)
    check_codebook(manifest, codebook, features)
    problems = release_verify.verify(corpus, version, codebook)
    if problems:  # never publish a release that differs from its manifest or changelog
        more = (f" (and {len(problems) - 1} more problem(s): run `paratopics verify`)"
                if len(problems) > 1 else "")
        raise ParatopicsError(replace(problems[0], message=problems[0].message + more))
    earlier = _target(out)
    source = release_layout.release_dir(corpus, version)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-publish-{out.name[:100]}-", dir=out.parent))
    try:
        for entry in manifest.files:
            _copy_checked(source / entry.path, tmp / DATA_DIR / entry.path, entry)
        shutil.copyfile(source / "manifest.json", tmp / "manifest.json")
        manifest_sha256 = sha256_file(tmp / "manifest.json")
        repo = repo_id or str(out.resolve())
        scores, why_not = scores_module.read_scores(scores_module.scores_path(corpus, version),
                                                    manifest_sha256)
        header = corpus_card_header(corpus)
        card = dataset_card(manifest, codebook, repo, header,
                            sources=source_counts(source, manifest),
                            year=date[:4] if date else None,
                            annotators=release_annotators(source, manifest, codebook),
                            scores=scores)
        card_faults = card_problems(card, tmp)
        if card_faults:  # nothing is written yet: the folder is removed below
            where = display_path(readme_path(corpus)) if header is not None else ""
            raise fail("card-invalid", file=where, detail="; ".join(card_faults))
        (tmp / "README.md").write_text(card, encoding="utf-8")
        (tmp / croissant_module.CODEBOOK_FILE).write_bytes(skos_module.dumps(
            skos_module.skos(codebook)))
        doc = croissant_module.croissant(
            manifest, codebook, features,
            manifest_sha256=manifest_sha256, data_prefix=DATA_DIR,
            url=hub_url(repo_id) if repo_id else None, date_published=date,
            codebook_sha256=sha256_file(tmp / croissant_module.CODEBOOK_FILE))
        (tmp / "croissant.json").write_bytes(croissant_module.dumps(doc))
        files = folder_files(tmp)
        if earlier is None:
            if out.exists():
                out.rmdir()  # empty, checked above
            os.rename(tmp, out)
        else:
            _update_in_place(out, tmp, {rel for rel, _ in files}, earlier)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Published(out, version, files,
                     (f"card quotes no scores: {why_not}",) if why_not else ())


def folder_files(folder: Path) -> tuple[tuple[str, int], ...]:
    """(relative path, bytes) of every file under `folder`, sorted."""
    return tuple(sorted((p.relative_to(folder).as_posix(), p.stat().st_size)
                        for p in folder.rglob("*") if p.is_file()))


# -- pushing to the Hub --------------------------------------------------------


@dataclass(frozen=True)
class UploadPlan:
    """Everything a push does, decided before any network call."""

    repo_id: str
    tag: str
    files: tuple[tuple[str, int], ...]
    delete_patterns: tuple[str, ...]
    commit_message: str

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.files)


def check_repo_id(repo_id: str) -> str:
    """`repo_id` if it is a valid ORG/NAME Hub id; else a usage error saying why."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise UsageError(f"--repo-id {repo_id!r}: {exc}") from None
    if "/" not in repo_id:
        raise UsageError(f"--repo-id {repo_id!r}: give it as ORG/NAME")
    return repo_id


def plan_upload(published: Published, repo_id: str) -> UploadPlan:
    """The upload of a publish folder to dataset repo `repo_id`, tagged v<version>.

    Files of an earlier version that this one lacks (fewer shards, say) are
    deleted in the same commit, so the card's globs never pick up stale data.
    """
    return UploadPlan(repo_id=check_repo_id(repo_id), tag=f"v{published.version}",
                      files=published.files, delete_patterns=MANAGED_PATTERNS,
                      commit_message=f"paratopics v{published.version}")


def human_size(n: int) -> str:
    """Bytes as a person reads them: 812 B, 14.2 KB, 3.1 GB."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def plan_text(plan: UploadPlan) -> str:
    lines = [f"upload to {hub_url(plan.repo_id)} (dataset repository)", ""]
    width = max((len(path) for path, _ in plan.files), default=0)
    lines += [f"  {path:<{width}}  {human_size(size):>10}" for path, size in plan.files]
    lines += ["", f"{len(plan.files)} file(s), {human_size(plan.total_bytes)}",
              f"replaces remote files matching: {', '.join(plan.delete_patterns)}",
              f"commit: {plan.commit_message}",
              f"tag: {plan.tag} (then load_dataset({plan.repo_id!r}, revision={plan.tag!r}))"]
    return "\n".join(lines)


class HubApi(Protocol):
    """The three calls a push makes; `huggingface_hub.HfApi` provides them."""

    def create_repo(self, repo_id: str, **kwargs: Any) -> Any: ...
    def upload_folder(self, **kwargs: Any) -> Any: ...
    def create_tag(self, repo_id: str, **kwargs: Any) -> Any: ...


def hub_token() -> str:
    """The Hub token as `huggingface_hub` finds it: $HF_TOKEN, else the one `hf auth
    login` stored. Never printed."""
    from huggingface_hub import get_token

    token = (get_token() or "").strip()
    if not token:
        raise UsageError("pushing needs a Hugging Face token with write access: run "
                         "`hf auth login`, or set $HF_TOKEN")
    return token


def push(plan: UploadPlan, folder: Path, token: str, api: HubApi | None = None) -> str:
    """Create the repo if needed, upload the folder in one commit, tag it. Returns its URL.

    The tag is created on the uploaded commit, not on whatever main points to
    by then, and an existing tag is an error: a version is never moved.
    """
    if api is None:
        from huggingface_hub import HfApi

        api = cast(HubApi, HfApi(token=token))
    api.create_repo(plan.repo_id, repo_type="dataset", exist_ok=True, token=token)
    commit = api.upload_folder(repo_id=plan.repo_id, repo_type="dataset", folder_path=str(folder),
                               allow_patterns=[path for path, _ in plan.files],
                               commit_message=plan.commit_message,
                               delete_patterns=list(plan.delete_patterns), token=token)
    api.create_tag(plan.repo_id, tag=plan.tag, revision=getattr(commit, "oid", None),
                   repo_type="dataset", tag_message=plan.commit_message, token=token)
    return f"{hub_url(plan.repo_id)}/tree/{plan.tag}"
