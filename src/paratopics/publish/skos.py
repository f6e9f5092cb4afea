"""The codebook as SKOS (JSON-LD): for thesaurus tools and IPTC-aware systems.

SKOS is the W3C vocabulary thesauri are exchanged in, and the one IPTC publishes
Media Topics in; written as JSON-LD it is plain JSON that RDF tools read as a
graph. IPTC nodes are named by IPTC's own concept URIs, so a system that knows
Media Topics recognises them without a mapping; project nodes get URIs under the
project. Each concept carries its notation (the codebook id), name, definition,
scope notes (include and exclude), example and its parent as `skos:broader`;
retired nodes are marked deprecated and point at their replacement.

Pure: the same codebook gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from paratopics.codebook import Codebook, Node

#: IPTC's namespace for Media Topics concepts: medtop:20000638 is <IPTC_NS>20000638.
IPTC_NS = "http://cv.iptc.org/newscodes/mediatopic/"
#: Where concepts other than IPTC's are named: the codebook file that defines them.
PROJECT_NS = "https://github.com/paratopics/paratopics/blob/main/schema/codebook.json#"
SCHEME = PROJECT_NS + "scheme"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"

CONTEXT: dict[str, Any] = {
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dct": "http://purl.org/dc/terms/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "broader": {"@id": "skos:broader", "@type": "@id"},
    "narrower": {"@id": "skos:narrower", "@type": "@id"},
    "inScheme": {"@id": "skos:inScheme", "@type": "@id"},
    "topConceptOf": {"@id": "skos:topConceptOf", "@type": "@id"},
    "hasTopConcept": {"@id": "skos:hasTopConcept", "@type": "@id"},
    "isReplacedBy": {"@id": "dct:isReplacedBy", "@type": "@id"},
    "license": {"@id": "dct:license", "@type": "@id"},
    "source": {"@id": "dct:source", "@type": "@id"},
    "prefLabel": {"@id": "skos:prefLabel", "@language": "en"},
    "definition": {"@id": "skos:definition", "@language": "en"},
    "scopeNote": {"@id": "skos:scopeNote", "@language": "en"},
    "example": {"@id": "skos:example", "@language": "en"},
    "notation": "skos:notation",
    "title": {"@id": "dct:title", "@language": "en"},
    "description": {"@id": "dct:description", "@language": "en"},
    "rights": {"@id": "dct:rights", "@language": "en"},
    "versionInfo": "owl:versionInfo",
    "deprecated": "owl:deprecated",
}


def concept_uri(code: str) -> str:
    """The URI of codebook id `code`: IPTC's for `medtop:` ids, the project's otherwise."""
    prefix, _, local = code.partition(":")
    if prefix == "medtop" and local.isdigit():
        return IPTC_NS + local
    return PROJECT_NS + quote(code, safe=":")


def _concept(node: Node, top: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"@id": concept_uri(node["id"]), "@type": "skos:Concept",
                           "notation": node["id"], "prefLabel": node["name"],
                           "inScheme": SCHEME}
    if node.get("definition"):
        out["definition"] = node["definition"]
    notes = [f"Include: {text}" for text in node.get("include", [])]
    notes += [f"Exclude: {text}" for text in node.get("exclude", [])]
    if notes:
        out["scopeNote"] = notes
    if node.get("example"):
        out["example"] = node["example"]
    if top:
        out["topConceptOf"] = SCHEME
    else:
        out["broader"] = concept_uri(str(node["parent"]))
    if node.get("status") == "retired":
        out["deprecated"] = True
        if node.get("replaced_by"):
            out["isReplacedBy"] = concept_uri(str(node["replaced_by"]))
    if node.get("origin") == "iptc":
        out["source"] = IPTC_NS
    return out


def skos(codebook: Codebook, description: str = "") -> dict[str, Any]:
    """The JSON-LD document of `codebook`: one concept scheme and a concept per node."""
    tops = [n for n in codebook.nodes if not n.get("parent")]
    children: dict[str, list[str]] = {}
    for node in codebook.nodes:
        if node.get("parent"):
            children.setdefault(str(node["parent"]), []).append(concept_uri(node["id"]))
    scheme: dict[str, Any] = {
        "@id": SCHEME, "@type": "skos:ConceptScheme",
        "title": "paratopics codebook", "versionInfo": codebook.version,
        "hasTopConcept": [concept_uri(n["id"]) for n in tops],
        "license": CC_BY,
        "rights": codebook.credit or ("IPTC Media Topics codes and names (c) IPTC, CC BY "
                                      "4.0; definitions and notes are the project's."),
        "source": IPTC_NS,
    }
    if description:
        scheme["description"] = description
    concepts = []
    for node in codebook.nodes:
        concept = _concept(node, top=not node.get("parent"))
        if node["id"] in children:
            concept["narrower"] = children[node["id"]]
        concepts.append(concept)
    return {"@context": CONTEXT, "@graph": [scheme, *concepts]}


def dumps(doc: Mapping[str, Any]) -> bytes:
    """The one serialization: key order as built, UTF-8, a newline at the end."""
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
