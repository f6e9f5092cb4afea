"""The codebook as SKOS JSON-LD, read back as an RDF graph by rdflib (a real JSON-LD reader)."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from conftest import run_cli
from rdflib.namespace import OWL, RDF, SKOS

from paratopics import codebook as codebook_module
from paratopics.publish import skos as skos_module

IPTC = "http://cv.iptc.org/newscodes/mediatopic/"
# rdflib's own JSON-LD parser uses a graph class it deprecates: not ours.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated")


def graph(data: bytes) -> rdflib.Graph:
    return rdflib.Graph().parse(data=data.decode("utf-8"), format="json-ld")


def test_every_node_is_a_concept_with_its_uri_name_definition_and_broader() -> None:
    book = codebook_module.load()
    g = graph(skos_module.dumps(skos_module.skos(book)))
    concepts = set(g.subjects(RDF.type, SKOS.Concept))
    assert len(concepts) == len(book.nodes)
    scheme = rdflib.URIRef(skos_module.SCHEME)
    assert (scheme, RDF.type, SKOS.ConceptScheme) in g
    for node in book.nodes:
        uri = rdflib.URIRef(skos_module.concept_uri(node["id"]))
        assert uri in concepts, node["id"]
        if node["origin"] == "iptc":
            assert str(uri) == IPTC + node["id"].split(":", 1)[1]
        assert g.value(uri, SKOS.notation) == rdflib.Literal(node["id"])
        assert g.value(uri, SKOS.prefLabel) == rdflib.Literal(node["name"], lang="en")
        assert g.value(uri, SKOS.definition) == rdflib.Literal(node["definition"], lang="en")
        assert (uri, SKOS.inScheme, scheme) in g
        broader = set(g.objects(uri, SKOS.broader))
        if node.get("parent"):
            parent = rdflib.URIRef(skos_module.concept_uri(str(node["parent"])))
            assert broader == {parent}
            assert (parent, SKOS.narrower, uri) in g
        else:
            assert not broader and (uri, SKOS.topConceptOf, scheme) in g
            assert (scheme, SKOS.hasTopConcept, uri) in g
        retired = node.get("status") == "retired"
        assert (g.value(uri, OWL.deprecated) is not None) == retired, node["id"]


def test_the_command_writes_what_publish_ships(tmp_path: Path) -> None:
    out = tmp_path / "codebook.jsonld"
    run = run_cli("codebook", "--out", out, cwd=tmp_path,
                  env={"PARATOPICS_CORPUS": str(tmp_path / "none")})
    assert run.returncode == 0, run.stderr
    assert out.read_bytes() == skos_module.dumps(skos_module.skos(codebook_module.load()))
    assert "concepts, SKOS JSON-LD" in run.stderr
