"""Publishing: the dataset card's front matter, and Hub-ready folders of a release.

The card header is generated with `huggingface_hub`'s DatasetCardData and
`datasets`' DatasetInfo, the same code the Hub uses, so it validates there;
its `configs` point `load_dataset` at a release's Parquet files.
"""

from __future__ import annotations

from pathlib import Path

from datasets.info import DatasetInfo, DatasetInfosDict
from datasets.splits import SplitDict, SplitInfo
from huggingface_hub import DatasetCardData

from . import release as release_module
from .codebook import Codebook
from .store import Corpus, atomic_write

LICENSE = "cc-by-4.0"
TAGS = ["news", "iptc-media-topics", "paragraph-classification", "security", "multi-label"]


def size_category(rows: int) -> str:
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
              (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")]
    return next((name for bound, name in bounds if rows < bound), "10M<n<100M")


def _files_by_split(manifest: dict[str, object], config: str) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {}
    for entry in manifest["files"]:  # type: ignore[attr-defined]
        folder, name = entry["path"].split("/")
        if folder == config:
            out.setdefault(name.split("-")[0], []).append(entry)
    return out


def card_data(manifest: dict[str, object], codebook: Codebook, prefix: str) -> DatasetCardData:
    """The card header for a release whose config folders sit under `prefix`."""
    configs = []
    infos = {}
    for config in release_module.CONFIGS:
        splits = _files_by_split(manifest, config)
        if not splits:
            continue
        order = [s for s in release_module.split_names() if s in splits]
        base = f"{prefix}/{config}" if prefix else config
        configs.append({
            "config_name": config,
            **({"default": True} if config == release_module.DEFAULT_CONFIG else {}),
            "data_files": [{"split": s, "path": f"{base}/{s}-*.parquet"} for s in order],
        })
        split_dict = SplitDict()
        for s in order:
            split_dict.add(SplitInfo(name=s, num_bytes=sum(f["bytes"] for f in splits[s]),
                                     num_examples=sum(f["rows"] for f in splits[s])))
        infos[config] = DatasetInfo(features=release_module.features(config, codebook),
                                    splits=split_dict, config_name=config)
    paragraphs = sum(manifest["configs"]["paragraphs"]["rows"].values())  # type: ignore[index]
    data = DatasetCardData(
        pretty_name="paratopics",
        language=["en"],
        license=LICENSE,
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
    return corpus.root.parent / "README.md"


def update_readme(corpus: Corpus, codebook: Codebook) -> bool:
    """Point the checkout README's front matter at the latest release.

    Only a README with front matter beside the corpus folder is touched (the
    checkout's own); the body is kept as written. Returns whether it changed.
    """
    path = readme_path(corpus)
    versions = release_module.list_versions(corpus)
    if not path.is_file() or not versions:
        return False
    text = path.read_text(encoding="utf-8")
    header, body = split_front_matter(text)
    if header is None:
        return False
    latest = versions[-1]
    manifest = release_module.read_manifest(corpus, latest)
    prefix = f"{corpus.root.name}/releases/v{latest}"
    new = render_card(card_data(manifest, codebook, prefix), body)
    if new == text:
        return False
    atomic_write(path, new.encode("utf-8"))
    return True
