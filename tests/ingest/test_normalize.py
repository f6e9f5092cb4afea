"""normalize.py: each documented rule on its own, then the properties over arbitrary text."""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paratopics.ingest.normalize import (
    is_normalized,
    normalize_document,
    normalize_paragraph,
    sha256_text,
)

# -- the rules, one by one ---------------------------------------------------------

PARAGRAPH_RULES = [
    # 1. line endings and the byte-order mark
    ("crlf", "first line\r\nsecond line", "first line second line"),
    ("cr", "first line\rsecond line", "first line second line"),
    ("bom", "\ufeffRussia reaffirmed", "Russia reaffirmed"),
    # 2. mojibake (UTF-8 read as cp1252), repaired by ftfy
    ("mojibake-em-dash", "gas pipeline â€” the flagship", "gas pipeline — the flagship"),
    ("mojibake-accents", "Ã©tÃ© Ã  Paris", "été à Paris"),
    ("mojibake-curly-apostrophe", "Moscow\u00e2\u20ac\u2122s", "Moscow\u2019s"),
    ("terminal-escape", "\x1b[31mred\x1b[0m alert", "red alert"),
    # 3. invisible characters removed, joiners kept
    ("zero-width-space", "anti\u200bterror", "antiterror"),
    ("word-joiner", "anti\u2060terror", "antiterror"),
    ("stray-bom-inside", "anti\ufeffterror", "antiterror"),
    ("soft-hyphen", "co\u00adoperation", "cooperation"),
    ("zwj-kept", "\U0001f469\u200d\U0001f52c", "\U0001f469\u200d\U0001f52c"),
    ("zwnj-kept", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
     "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"),
    # 4. other spaces become an ASCII space, controls go
    ("no-break-space", "12.4\u00a0billion", "12.4 billion"),
    ("narrow-no-break-space", "$2\u202fbillion", "$2 billion"),
    ("thin-space", "a\u2009b", "a b"),
    ("ideographic-space", "a\u3000b", "a b"),
    ("tab", "a\tb", "a b"),
    ("nul", "a\x00b", "ab"),
    ("bell", "a\x07b", "ab"),
    ("delete", "a\x7fb", "ab"),
    # 5. NFC
    ("nfc-e-acute", "e\u0301", "\u00e9"),
    ("nfc-a-ring", "A\u030a", "\u00c5"),
    ("nfc-in-word", "Qure\u0301shi", "Qur\u00e9shi"),
    # 6. whitespace collapsed, ends trimmed
    ("collapse", "  Lavrov   said\n\n Wednesday \t ", "Lavrov said Wednesday"),
    ("only-space", " \u00a0\t\r\n\u200b ", ""),
    ("empty", "", ""),
    # kept as written
    ("curly-quotes-kept", "\u201cWe\u201d \u2018this\u2019", "\u201cWe\u201d \u2018this\u2019"),
    ("dashes-kept", "2020\u20132021 \u2014 a pause", "2020\u20132021 \u2014 a pause"),
    ("straight-quotes-kept", "\"potential\" 'relevant'", "\"potential\" 'relevant'"),
    ("ellipsis-kept", "and so\u2026", "and so\u2026"),
    ("ligature-kept", "\ufb01nal", "\ufb01nal"),
    ("amp-entity-kept", "AT&amp;T", "AT&amp;T"),
    ("lt-entity-kept", "&lt;b&gt;", "&lt;b&gt;"),
    ("double-entity-kept", "&amp;lt;", "&amp;lt;"),
    ("plain-ampersand-kept", "US & Pakistan", "US & Pakistan"),
]


@pytest.mark.parametrize(("raw", "expected"), [(r, e) for _, r, e in PARAGRAPH_RULES],
                         ids=[name for name, _, _ in PARAGRAPH_RULES])
def test_paragraph_rule(raw: str, expected: str) -> None:
    assert normalize_paragraph(raw) == expected
    assert is_normalized(expected)


DOCUMENT_RULES = [
    ("crlf-to-lf", "a\r\nb\r\n", "a\nb\n"),
    ("cr-to-lf", "a\rb\r", "a\nb\n"),
    ("blank-lines-kept", "title\r\n\r\nbody", "title\n\nbody"),
    ("leading-bom", "\ufeffUNITED24\n", "UNITED24\n"),
    ("mojibake", "pipeline â€” the", "pipeline — the"),
    ("no-break-space", "a\u00a0b\n", "a b\n"),
    ("nfc", "caf\u0065\u0301\n", "caf\u00e9\n"),
    ("invisible", "x\u200by\u00adz\n", "xyz\n"),
    ("controls", "a\x01b\x1fc\n", "abc\n"),
]


@pytest.mark.parametrize(("raw", "expected"), [(r, e) for _, r, e in DOCUMENT_RULES],
                         ids=[name for name, _, _ in DOCUMENT_RULES])
def test_document_rule_keeps_lines(raw: str, expected: str) -> None:
    assert normalize_document(raw) == expected


def test_is_normalized_tells_apart() -> None:
    assert is_normalized("Lavrov said Wednesday")
    assert not is_normalized(" Lavrov said")
    assert not is_normalized("e\u0301")
    assert not is_normalized("a\u00a0b")


def test_sha256_text_is_utf8_sha256() -> None:
    text = "pipeline \u2014 the flagship"
    assert sha256_text(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", sha256_text(""))
    # composed and decomposed forms hash differently: which is why text is normalized first
    assert sha256_text("e\u0301") != sha256_text("\u00e9")
    assert sha256_text(normalize_paragraph("e\u0301")) == sha256_text("\u00e9")


# -- properties -----------------------------------------------------------------------

SPECIALS = [
    "\r", "\n", "\r\n", "\t", " ", "\u00a0", "\u202f", "\u2009", "\u3000", "\u2028", "\u0085",
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\x00", "\x1b", "\x7f",
    "\x9d", "\u0301", "\u0308", "\u0327", "e", "A", "â€”", "â€™", "Ã©", "Ã", "\u00e2",
    "\u20ac", "\u201d", "\u2014", "\u2013", "&amp;", "&lt;", "&", ";", "\ufb01",
    "\ud800", "\udfff", "\udc80", "\U0001f469",
]

_char = st.one_of(
    st.characters(),  # any code point outside the surrogate block
    st.characters(categories=["Cs"]),  # lone surrogates, as a broken decoder leaves them
    st.sampled_from(SPECIALS),
)
TEXT = st.one_of(
    st.text(st.characters()),
    st.text(st.characters(categories=["Cs", "Cc", "Cf", "Zs", "Mn"])),
    st.lists(_char, max_size=40).map("".join),
    st.lists(st.sampled_from(SPECIALS), max_size=30).map("".join),
)
PROPERTY = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

_SURROGATE = re.compile("[\ud800-\udfff]")
_INVISIBLE = re.compile("[\u200b\u2060\ufeff\u00ad]")
_CONTROL_EXCEPT_LF = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


@PROPERTY
@given(TEXT)
def test_paragraph_idempotent_and_clean(text: str) -> None:
    once = normalize_paragraph(text)
    assert normalize_paragraph(once) == once
    assert is_normalized(once)
    assert "\r" not in once and "\n" not in once
    assert not _SURROGATE.search(once)
    assert not _INVISIBLE.search(once)
    assert not _CONTROL_EXCEPT_LF.search(once)
    assert once == once.strip()
    assert "  " not in once
    assert unicodedata.is_normalized("NFC", once)
    once.encode("utf-8")  # raises on anything unencodable


@PROPERTY
@given(TEXT)
def test_document_idempotent_and_clean(text: str) -> None:
    once = normalize_document(text)
    assert normalize_document(once) == once
    assert "\r" not in once
    assert not _SURROGATE.search(once)
    assert not _INVISIBLE.search(once)
    assert not _CONTROL_EXCEPT_LF.search(once)
    assert unicodedata.is_normalized("NFC", once)
    once.encode("utf-8")


@PROPERTY
@given(TEXT)
def test_paragraph_of_document_is_paragraph(text: str) -> None:
    """The text door normalizes the document, then each block; the JSON door a paragraph
    directly. Both must reach the same canonical text, or hashes would depend on the door."""
    assert normalize_paragraph(normalize_document(text)) == normalize_paragraph(text)


@PROPERTY
@given(st.lists(st.text(st.characters(exclude_categories=["Cs"]), max_size=20), max_size=6))
def test_line_ending_style_does_not_matter(lines: list[str]) -> None:
    lf = "\n".join(lines)
    assert normalize_paragraph(lf.replace("\n", "\r\n")) == normalize_paragraph(lf)
    assert normalize_paragraph("\ufeff" + lf) == normalize_paragraph(lf)


# -- the shortcut in is_normalized -------------------------------------------------------


def _pattern_parts() -> tuple[object, object]:
    try:
        import re._constants as constants  # type: ignore[import-not-found]
        import re._parser as parser  # type: ignore[import-not-found]
    except ImportError:  # Python 3.10
        import sre_constants as constants
        import sre_parse as parser
    return constants, parser


def _needs_non_ascii(items: list, c: object, also: frozenset[int] = frozenset()) -> bool:  # type: ignore[type-arg]
    """Whether every match of the sequence `items` must hold a non-ASCII character
    that is not in `also`; a construct it does not know counts as "not surely"."""
    def wanted(code: int) -> bool:
        return code > 0x7F and code not in also

    for op, av in items:
        if op is c.LITERAL and wanted(av):  # type: ignore[attr-defined]
            return True
        if op is c.IN and all(  # type: ignore[attr-defined]
                (o is c.LITERAL and wanted(a)) or (o is c.RANGE and a[0] > 0x7F and not any(  # type: ignore[attr-defined]
                    a[0] <= x <= a[1] for x in also))
                for o, a in av):
            return True
        if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1 and _needs_non_ascii(av[2], c, also):  # type: ignore[attr-defined]
            return True
        if op is c.SUBPATTERN and _needs_non_ascii(av[-1], c, also):  # type: ignore[attr-defined]
            return True
        if op is c.BRANCH and all(_needs_non_ascii(b, c, also) for b in av[1]):  # type: ignore[attr-defined]
            return True
    return False


def test_badness_pattern_fits_the_windowed_search() -> None:
    """looks_bad searches ftfy's pattern only near non-ASCII characters. That is
    exact while the installed ftfy's pattern keeps the three properties checked
    here; an ftfy upgrade that breaks one fails this test, not a user's data."""
    from ftfy.badness import BADNESS_RE

    from paratopics.ingest.normalize import BADNESS_WIDTH

    c, parser = _pattern_parts()
    tree = parser.parse(BADNESS_RE.pattern, BADNESS_RE.flags)  # type: ignore[attr-defined]
    assert tree.getwidth()[1] <= BADNESS_WIDTH
    assert not BADNESS_RE.flags & re.MULTILINE
    text = str(list(tree))
    for construct in ("AT_END", "ASSERT", "ASSERT_NOT", "AT_BOUNDARY", "GROUPREF"):
        assert construct not in text.upper()
    assert _needs_non_ascii(list(tree), c)


def test_typographic_characters_alone_never_look_bad() -> None:
    """looks_bad answers False at once for text whose only non-ASCII characters are
    curly quotes, dashes and the ellipsis: exact while every match of the installed
    ftfy's pattern also needs some other non-ASCII character, checked here."""
    from ftfy.badness import BADNESS_RE, is_bad

    from paratopics.ingest.normalize import TYPOGRAPHIC, looks_bad

    c, parser = _pattern_parts()
    tree = parser.parse(BADNESS_RE.pattern, BADNESS_RE.flags)  # type: ignore[attr-defined]
    assert _needs_non_ascii(list(tree), c, frozenset(map(ord, TYPOGRAPHIC)))
    # the check can fail: the pattern's "common" characters include two of them
    assert not _needs_non_ascii(list(tree), c, frozenset(map(ord, TYPOGRAPHIC + "ÂÃÎÐ")))
    rng = random.Random(5)
    pieces = [*TYPOGRAPHIC, "a", "Z", " ", "1", ".", "Ã", "Â", "©", "\u00a0", "â€"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(10)))
        assert looks_bad(text) == is_bad(text), repr(text)


# Pieces of ftfy's mojibake pattern; the Cyrillic and Greek look-alikes are meant.
MOJIBAKE_BITS = ["Ã", "Â", "â€", "™", "©", "\u00a0", "¡", "Ð", "Ñ", "Ø", "Ù", "à", "²", "√",
                 "±", "≈", "°", "‚Ä", "вЂ", "В", "Г", "Р", "С", "ГўВЂВ", "β€", "Β", "Ο",  # noqa: RUF001
                 "ā€", "é", "ü", "á", "ł", "€", " ", "a", "z", ".", ",", "!", "x", "«", "»",
                 "\ufffc"]
NEAR_MOJIBAKE = st.one_of(
    st.lists(st.sampled_from(MOJIBAKE_BITS), max_size=25).map("".join),
    st.lists(st.one_of(st.sampled_from(MOJIBAKE_BITS), st.characters(max_codepoint=0x2FFF)),
             max_size=40).map("".join),
    TEXT,
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NEAR_MOJIBAKE)
def test_looks_bad_is_ftfys_is_bad(text: str) -> None:
    from ftfy.badness import is_bad

    from paratopics.ingest.normalize import looks_bad

    assert looks_bad(text) == is_bad(text)


def _paragraph_by_the_rules(text: str) -> str:
    """normalize_paragraph without its shortcuts: every rule, to a fixed point."""
    for _ in range(4):
        fixed = re.sub(r"\s+", " ", normalize_document(text)).strip()
        if fixed == text:
            break
        text = fixed
    return text


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NEAR_MOJIBAKE)
def test_shortcuts_agree_with_the_rules(text: str) -> None:
    """is_normalized and normalize_paragraph answer as running every rule would,
    for raw text and for text that is already normal."""
    by_rules = _paragraph_by_the_rules(text)
    assert normalize_paragraph(text) == by_rules
    for candidate in (text, by_rules, " ".join(text.split())):
        assert is_normalized(candidate) == (_paragraph_by_the_rules(candidate) == candidate)


def test_shortcuts_agree_on_short_mixed_text() -> None:
    """Many short texts built from the characters each shortcut has to notice."""
    rng = random.Random(3)
    alphabet = [*" abcXYZ09.,'\"-", " ", "  ", "\t", "\n", "\r", "\x0b", "\x7f", "\x1b",
                "\u00a0", "\u200b", "e\u0301", "\u00e9", "\ufeff", "Ã©", "\ufffc", "Â "]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
             for _ in range(20_000)]
    answers = [is_normalized(t) for t in texts]
    assert answers == [_paragraph_by_the_rules(t) == t for t in texts]
    assert 1000 < sum(answers) < len(texts) - 1000  # both answers occur
    assert [normalize_paragraph(t) for t in texts] == [_paragraph_by_the_rules(t) for t in texts]


def test_collapse_splits_where_the_whitespace_pattern_matches() -> None:
    r"""Rule 6 runs as str.split(): exact only while `\s` and str.isspace() agree on
    every code point, checked here for this Python; then on mixed text."""
    import sys

    from paratopics.ingest.normalize import _collapse

    space = re.compile(r"\s")
    assert [c for c in range(sys.maxunicode + 1)
            if (space.match(chr(c)) is not None) != chr(c).isspace()] == []
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    rng = random.Random(17)
    for _ in range(2000):
        text = "".join(rng.choice([*spaces, "a", "\u2019", "\u200b", "x y"])
                       for _ in range(rng.randrange(12)))
        assert _collapse(text) == re.sub(r"\s+", " ", text).strip(), repr(text)
