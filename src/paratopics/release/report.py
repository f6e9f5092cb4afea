"""A release described for people: its counts and labels as text tables, and
the label distribution as a chart for the dataset card.
"""

from __future__ import annotations

from pathlib import Path

from paratopics.release.layout import UNLABELED, split_names
from paratopics.release.manifest import Manifest


def stats_text(manifest: Manifest) -> str:
    from paratopics.report import table

    counts = [[config, split, n] for config, info in manifest.configs.items()
              for split, n in info.rows.items()]
    split_cols = [s for s in split_names() if s != UNLABELED]
    label_rows: list[list[object]] = sorted(
        ([code, info.name, *(info.paragraphs.get(s, 0) for s in split_cols),
          sum(info.paragraphs.values())] for code, info in manifest.distribution.items()),
        key=lambda r: (-int(r[-1]), str(r[0])))  # type: ignore[call-overload]
    return "\n".join([
        f"paratopics v{manifest.version} (codebook {manifest.versions.codebook})",
        "", table(["config", "split", "rows"], counts), "",
        "gold labels (paragraphs per split)",
        table(["label", "name", *split_cols, "total"], label_rows),
    ])


def plot_labels(manifest: Manifest, out: Path) -> Path:
    """A horizontal bar chart of the label distribution, for the dataset card."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = sorted(((info.name, sum(info.paragraphs.values()))
                    for info in manifest.distribution.values()), key=lambda x: x[1])
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(items) + 1.2), dpi=110)
    ax.barh([name for name, _ in items], [n for _, n in items], color="#3b6ea8")
    ax.set_xlabel("paragraphs with the label (gold, all splits)")
    ax.set_title(f"paratopics v{manifest.version}: label distribution")
    for i, (_, n) in enumerate(items):
        ax.text(n, i, f" {n}", va="center", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, metadata={"Software": None, "Creation Time": None})
    plt.close(fig)
    return out
