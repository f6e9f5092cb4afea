"""Croissant metadata (MLCommons Croissant 1.0 JSON-LD) for a published release.

`croissant.json` lets tools that speak Croissant (mlcroissant, dataset search
engines, TFDS, PyTorch loaders) find the files of each config and read their
records with typed fields, without knowing this package. It is derived from
the manifest and the features alone, so the same release always gives the
same bytes: nothing here reads the clock or the disk.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from datasets import ClassLabel, Features, LargeList, List, Value

from paratopics.codebook import Codebook
from paratopics.publish import skos as skos_module
from paratopics.release import layout as release_layout
from paratopics.release.manifest import Manifest

CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
SPEC_URL = "https://docs.mlcommons.org/croissant/docs/croissant-spec.html"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
IPTC_URL = "https://iptc.org/standards/media-topics/"

#: The standard Croissant 1.0 @context, as the specification's examples write it.
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

#: What each column holds; shared by the Croissant fields and the dataset card.
COLUMNS: dict[str, dict[str, str]] = {
    "paragraphs": {
        "paragraph_id": "Stable paragraph id: `<article_id>/<paragraph_index>`.",
        "article_id": "Stable article id: a slug of the title plus a short hash.",
        "paragraph_index": "Position of the paragraph in its article, from 0.",
        "heading": "The subheading the paragraph falls under, or null.",
        "text": "The normalized paragraph text.",
        "sha256": "sha256 of the text; annotations name the text they judged by it.",
        "title": "Title of the article.",
        "source": "Publisher the article was taken from.",
        "published": "Publication date of the article.",
        "labels": "Gold topics: class indexes into the label classes (IPTC level 2 "
                  "and project nodes).",
        "labels_level1": "The IPTC level-1 parents of the gold topics, as class indexes.",
        "annotators": "How many annotators judged the paragraph (0: unlabeled).",
        "label_names": "The gold topics' codebook ids (the class names of `labels`, item by "
                       "item), for readers that do not decode class indexes.",
        "label_names_level1": "The codebook ids of their IPTC level-1 parents (the class "
                              "names of `labels_level1`, item by item).",
    },
    "articles": {
        "article_id": "Stable article id: a slug of the title plus a short hash.",
        "source": "Publisher the article was taken from.",
        "url": "Where the article was published, when known.",
        "title": "Title of the article.",
        "authors": "Authors as bylined.",
        "published": "Publication date.",
        "section": "Section of the source site, when known.",
        "language": "Language of the text (BCP 47).",
        "license": "Terms the text may be shared under: an SPDX id, or a LicenseRef- id "
                   "defined in docs/sources.md (null: a record of article schema 1.0.0).",
        "attribution": "Whom to credit for the text, with a link to the original.",
        "body": "The paragraphs joined by a blank line.",
        "paragraphs": "The paragraphs: index, heading and text.",
        "judged_paragraphs": "How many of its paragraphs carry a gold judgement.",
        "labels": "Union of its paragraphs' gold topics, as class indexes.",
        "labels_level1": "Their IPTC level-1 parents, as class indexes.",
        "label_names": "The codebook ids of `labels` (its class names, item by item).",
        "label_names_level1": "The codebook ids of `labels_level1` (its class names, item "
                              "by item).",
    },
    "annotations": {
        "paragraph_id": "The judged paragraph: `<article_id>/<paragraph_index>`.",
        "article_id": "The judged paragraph's article.",
        "paragraph_index": "The judged paragraph's position in its article.",
        "paragraph_sha256": "sha256 of the text that was judged.",
        "labels": "Codebook ids chosen (empty: judged, no topic).",
        "annotator": "Who judged.",
        "role": "annotator, or adjudicator (whose judgement is gold).",
        "created": "When the judgement was made (RFC 3339).",
        "confidence": "The annotator's confidence from 0 to 1, when given.",
        "note": "The annotator's note, when given.",
    },
}

CLASS_SETS = {"labels": "label_classes", "labels_level1": "label_classes_level1"}
#: The SKOS export of the codebook in a publish folder.
CODEBOOK_FILE = "codebook.jsonld"
#: The column that identifies a row (annotations have none: one row per judgement).
KEYS = {"paragraphs": "paragraph_id", "articles": "article_id"}


def fileset_id(config: str) -> str:
    return f"{config}-parquet"


def data_type(feature: Any) -> str:
    """The Croissant data type of a leaf feature."""
    if isinstance(feature, ClassLabel):
        return "sc:Integer"
    if isinstance(feature, Value):
        dtype = feature.dtype
        if dtype.startswith(("int", "uint")):
            return "sc:Integer"
        if dtype.startswith("float"):
            return "sc:Float"
        if dtype.startswith("date"):
            return "sc:Date"
        if dtype.startswith("timestamp"):
            return "sc:DateTime"
        if dtype == "bool":
            return "sc:Boolean"
        return "sc:Text"
    raise TypeError(f"no Croissant data type for {feature!r}")


def _source(config: str, column: str, json_path: str | None = None) -> dict[str, Any]:
    source: dict[str, Any] = {"fileSet": {"@id": fileset_id(config)},
                              "extract": {"column": column}}
    if json_path:
        source["transform"] = {"jsonPath": json_path}
    return source


def field(config: str, column: str, feature: Any, description: str) -> dict[str, Any]:
    """One cr:Field reading `column` of the config's Parquet files."""
    out: dict[str, Any] = {"@type": "cr:Field", "@id": f"{config}/{column}", "name": column,
                           "description": description}
    inner = feature.feature if isinstance(feature, List | LargeList) else feature
    if isinstance(feature, List | LargeList):
        out["repeated"] = True
    if isinstance(inner, dict):
        out["subField"] = [
            {"@type": "cr:Field", "@id": f"{config}/{column}/{name}", "name": name,
             "dataType": data_type(sub), "source": _source(config, column, name)}
            for name, sub in inner.items()
        ]
        return out
    if isinstance(inner, ClassLabel) and column in CLASS_SETS:
        # Each item is a class index that references the class record set. The reference
        # sits on a sub-field: Croissant readers join a field's reference as a key, which
        # a list cannot be, while an item of a repeated field is one value.
        classes = CLASS_SETS[column]
        out["description"] += (f" Each item's `index` is a class of the record set "
                               f"`{classes}` (codebook id, name, concept URI).")
        out["subField"] = [{
            "@type": "cr:Field", "@id": f"{config}/{column}/index", "name": "index",
            "description": f"A class index into `{classes}`.",
            "dataType": "sc:Integer", "source": _source(config, column),
            "references": {"field": {"@id": f"{classes}/index"}}}]
        return out
    out["dataType"] = data_type(inner)
    out["source"] = _source(config, column)
    return out


def split_field(config: str) -> dict[str, Any]:
    """The split, read from the file name as the Hub reads it."""
    return {
        "@type": "cr:Field", "@id": f"{config}/split", "name": "split",
        "description": "The split: train, validation, test, or unlabeled (not judged).",
        "dataType": "sc:Text",
        "source": {"fileSet": {"@id": fileset_id(config)},
                   "extract": {"fileProperty": "fullpath"},
                   "transform": {"regex": r"^(?:.*/)?([a-z]+)-\d+-of-\d+\.parquet$"}},
    }


def record_set(config: str, features: Features) -> dict[str, Any]:
    docs = COLUMNS.get(config, {})
    fields = [field(config, name, feature, docs.get(name, name))
              for name, feature in features.items()]
    key = KEYS.get(config)
    out: dict[str, Any] = {"@type": "cr:RecordSet", "@id": config, "name": config,
                           "description": f"One row per {config[:-1]} of the release."}
    if key in features:
        out["key"] = {"@id": f"{config}/{key}"}
    out["field"] = [*fields, split_field(config)]
    return out


def class_record_set(set_id: str, ids: list[str], codebook: Codebook,
                     description: str) -> dict[str, Any]:
    """An enumeration of one label column's classes: index, codebook id, name, and the
    concept's URI (IPTC's for IPTC nodes), as in the SKOS export of the codebook."""
    columns = ("index", "id", "name", "uri")
    types = ("sc:Integer", "sc:Text", "sc:Text", "sc:URL")
    return {
        "@type": "cr:RecordSet", "@id": set_id, "name": set_id,
        "description": description, "dataType": "sc:Enumeration",
        "key": {"@id": f"{set_id}/index"},
        "field": [{"@type": "cr:Field", "@id": f"{set_id}/{c}", "name": c, "dataType": t}
                  for c, t in zip(columns, types, strict=True)],
        "data": [{f"{set_id}/index": i, f"{set_id}/id": code,
                  f"{set_id}/name": codebook.name(code) if code in codebook else code,
                  f"{set_id}/uri": skos_module.concept_uri(code)}
                 for i, code in enumerate(ids)],
    }


def _class_ids(features: Mapping[str, Features], column: str) -> list[str] | None:
    for config_features in features.values():
        feature = config_features.get(column)
        inner = getattr(feature, "feature", feature)
        if isinstance(inner, ClassLabel):
            return list(inner.names)
    return None


#: Who the corpus is credited to, where it lives, and the year of its first release:
#: the same as CITATION.cff at the top of the repository.
AUTHORS = "The paratopics maintainers"
PROJECT_URL = "https://github.com/paratopics/paratopics"
FIRST_YEAR = "2026"


def cite_as(version: str, year: str = FIRST_YEAR) -> str:
    """The BibTeX entry of release `version`; `year` is its publication year when known
    (publish --date), else the year of the first release, never the clock's."""
    return ("@misc{paratopics,\n  title = {paratopics: news paragraphs with IPTC Media "
            f"Topics labels}},\n  author = {{{{{AUTHORS}}}}},\n  year = {{{year}}},\n"
            f"  version = {{{version}}},\n  url = {{{PROJECT_URL}}},\n"
            f"  note = {{Dataset, release v{version}}}\n}}")


def description(manifest: Manifest) -> str:
    rows = manifest.rows("paragraphs")
    return (f"paratopics v{manifest.version}: {manifest.inputs.articles} news "
            f"articles split into {sum(rows.values())} paragraphs, each judged against a "
            "topic codebook built on IPTC Media Topics (levels 1 and 2, plus project "
            "nodes for security topics). Multi-label paragraph topic classification.")


#: Responsible-AI properties (Croissant RAI 1.0) that apply to this corpus; the dataset
#: card says the same in its sections.
RAI: dict[str, str] = {
    "rai:dataCollection": (
        "News articles as published by their sources (feeds, saved pages and text dumps of "
        "public web pages), ingested unchanged into corpus/sources and normalized into "
        "paragraphs (Unicode repair, NFC, whitespace); no text is written or rewritten."),
    "rai:dataCollectionType": "Web scraping",
    "rai:dataAnnotationProtocol": (
        "Each paragraph is judged against the codebook following the annotation guide "
        "(docs/guide.md): the level-2 IPTC or project topics it is about, or none. Gold "
        "labels follow the rule in manifest.json (an adjudicator's judgement, else a "
        "strict majority); every raw judgement is kept in the annotations config."),
    "rai:dataAnnotationPlatform": (
        "JSON Lines files reviewed in pull requests, checked by `paratopics validate`; "
        "optionally Label Studio, through `paratopics tasks export` and `annotations "
        "import`."),
    "rai:dataPreprocessingProtocol": (
        "Normalization of every title, heading and paragraph (line endings, mojibake, "
        "invisible characters, Unicode spaces, NFC, whitespace); publisher chrome removed; "
        "feed items that are not the publisher's own work are left out with their reason."),
    "rai:dataUseCases": (
        "Training and evaluating multi-label topic classifiers of news paragraphs at IPTC "
        "level 2 (with project nodes) and level 1. Not validated for judging individuals "
        "or for automated decisions about people."),
    "rai:dataLimitations": (
        "English only; a few sources, most of them U.S. government or security-news "
        "sites, so topics and viewpoints are those of these publishers; label "
        "distribution is skewed towards politics and conflict; small splits make "
        "per-label scores of rare labels unreliable."),
    "rai:dataBiases": (
        "Source selection bias (security and government news); annotation reflects the "
        "codebook's and the guide's reading of topics, and the judges' reading of the "
        "guide."),
    "rai:personalSensitiveInformation": (
        "News text names real people (officials, public figures, sometimes private "
        "persons in the news) and may mention political opinions, religion, health or "
        "criminal matters as published; no further personal data is added."),
    "rai:dataReleaseMaintenancePlan": (
        "Releases are immutable and semantically versioned (major: breaking schema or "
        "codebook changes; minor: added articles or labels; patch: corrections); each is "
        "a tag vX.Y.Z with a manifest of checksums and a changelog entry."),
    "rai:hasSyntheticData": "false",
}


def licence_urls(manifest: Manifest) -> list[str]:
    """The release's licences: CC BY 4.0 (annotations, codebook), the project's licence
    section, then the terms of the article texts (manifest 1.2.0 on), each once."""
    terms = (manifest.licences or {}).get("terms", {})
    urls = [LICENSE_URL, PROJECT_URL + "#licence",
            *(t["url"] for t in terms.values() if t.get("url"))]
    return list(dict.fromkeys(urls))


def croissant(manifest: Manifest, codebook: Codebook,
              features: Mapping[str, Features], manifest_sha256: str,
              data_prefix: str = "data", url: str | None = None,
              date_published: str | None = None,
              codebook_sha256: str | None = None) -> dict[str, Any]:
    """The Croissant document for a release whose configs sit under `data_prefix`.

    `features` maps each config present to its Hugging Face features;
    `manifest_sha256` is the digest of the manifest.json shipped beside it.
    The date is an argument, never the clock, so output stays reproducible.
    """
    version = manifest.version
    configs = [c for c in release_layout.CONFIGS if c in features]
    manifest_file = {
        "@type": "cr:FileObject", "@id": "manifest.json", "name": "manifest.json",
        "description": "Release manifest: versions, counts, adjudication rule, and every "
                       "file's sha256 and row count.",
        "contentUrl": "manifest.json", "encodingFormat": "application/json",
        "sha256": manifest_sha256,
    }
    filesets = [{
        "@type": "cr:FileSet", "@id": fileset_id(c), "name": fileset_id(c),
        "description": f"Parquet files of the {c} config, one or more per split.",
        "encodingFormat": "application/x-parquet",
        "includes": f"{data_prefix}/{c}/*.parquet",
    } for c in configs]
    class_sets = []
    for column, set_id in CLASS_SETS.items():
        ids = _class_ids(features, column)
        if ids is not None:
            what = ("topic classes (IPTC level 2 and project nodes)" if column == "labels"
                    else "IPTC level-1 topic classes")
            class_sets.append(class_record_set(
                set_id, ids, codebook, f"The {what} of `{column}`, in class-index order "
                f"(codebook {manifest.versions.codebook})."))
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "name": "paratopics",
        "conformsTo": CONFORMS_TO,
        "description": description(manifest),
        # annotations and codebook under CC BY 4.0; article text under each source's terms
        "license": licence_urls(manifest),
        "version": version,
        "citeAs": cite_as(version, date_published[:4] if date_published else FIRST_YEAR),
        "keywords": ["news", "topic classification", "multi-label", "IPTC Media Topics"],
        "inLanguage": "en",
        "isBasedOn": IPTC_URL,
        "creator": {"@type": "sc:Organization", "name": AUTHORS, "url": PROJECT_URL},
        **RAI,
    }
    if url:
        doc["url"] = url
    if date_published:
        doc["datePublished"] = date_published
    extra = [{
        "@type": "cr:FileObject", "@id": CODEBOOK_FILE, "name": CODEBOOK_FILE,
        "description": "The codebook as SKOS (JSON-LD): every label's concept URI (IPTC's "
                       "for IPTC nodes), name, definition, scope notes and broader concept.",
        "contentUrl": CODEBOOK_FILE, "encodingFormat": "application/ld+json",
        "sha256": codebook_sha256,
    }] if codebook_sha256 else []
    doc["distribution"] = [manifest_file, *extra, *filesets]
    doc["recordSet"] = [*(record_set(c, features[c]) for c in configs), *class_sets]
    return doc


def dumps(doc: Mapping[str, Any]) -> bytes:
    """The one serialization: stable key order as built, UTF-8, newline at the end."""
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
