"""Text normalization: one canonical form, so that hashes and ids are stable.

The rules, in order (README "Normalization" repeats them for users):

1. Line endings: CRLF and CR become LF; a leading byte-order mark is dropped.
2. Mojibake repair with `ftfy` (UTF-8 read as cp1252 and the like), C1 controls,
   terminal escapes and lone surrogates fixed. Quotes, dashes, ellipses and
   ligatures are kept as written (`uncurl_quotes=False`); HTML entities are
   left alone (format converters decode them; decoding here would not be
   idempotent: `&amp;lt;`).
3. Invisible characters removed: zero-width space (U+200B), word joiner
   (U+2060), stray byte-order marks (U+FEFF) and soft hyphens (U+00AD).
   Zero-width (non-)joiners are kept: they change how some scripts render.
4. Every other space character (no-break spaces, thin spaces, tabs, ...) becomes
   an ASCII space; remaining control characters are removed.
5. Unicode NFC.
6. Paragraphs only: runs of whitespace, newlines included, collapse to one
   space, and the ends are trimmed.

`normalize_paragraph` is idempotent (tested with hypothesis): applying it to its
own output changes nothing.

`is_normalized` answers without running the rules for text that no rule can
change; validation asks it of every stored paragraph, and ftfy costs about 80 us
a paragraph where that check costs a few.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import ftfy
from ftfy.badness import BADNESS_RE
from ftfy.chardata import CONTROL_CHARS

_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,
    uncurl_quotes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    explain=False,
)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))
_SPACES = re.compile(r"[^\S\n]")  # any whitespace except newline
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_PLAIN_ASCII = re.compile(r"[\x20-\x7e\n]*")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Characters ftfy removes although Python counts them printable (U+FFFC).
_PRINTABLE_CONTROLS = "".join(chr(c) for c in sorted(CONTROL_CHARS) if chr(c).isprintable())
# The longest text ftfy's mojibake pattern matches. Every match holds a
# non-ASCII character, and the pattern has no lookaround and no `$` (a test
# checks all three against the installed ftfy), so a match lies within
# BADNESS_WIDTH - 1 characters of some non-ASCII character.
BADNESS_WIDTH = 7
#: Non-ASCII characters of ordinary English text (curly quotes, dashes, the ellipsis)
#: that no match of ftfy's mojibake pattern is made of alone: every match also holds
#: a non-ASCII character outside this set (a test checks it against the installed
#: ftfy). Text whose only non-ASCII characters are these never looks bad.
TYPOGRAPHIC = "\u2018\u2019\u201c\u201d\u2013\u2014\u2026"
_UNTYPOGRAPHIC = re.compile(f"[^\\x00-\\x7f{TYPOGRAPHIC}]")


def _one_pass(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SURROGATE.sub("\ufffd", text)
    text = ftfy.fix_text(text, _FTFY)
    text = text.translate(_INVISIBLE)
    text = _CONTROL.sub("", text.replace("\t", " "))
    text = _SPACES.sub(" ", text)
    return unicodedata.normalize("NFC", text)


def normalize_document(text: str) -> str:
    """Rules 1-5: a whole document, its line structure kept for parsing."""
    # ftfy repairs in stages; a second pass only ever finds what the first one
    # exposed, and a third has never been needed. Iterating to a fixed point
    # is what makes the result idempotent.
    for _ in range(4):
        fixed = _one_pass(text)
        if fixed == text:
            break
        text = fixed
    return text


def _collapse(text: str) -> str:
    """Rule 6: runs of whitespace as one space, the ends trimmed.

    `str.split()` splits at exactly the characters that `\\s` matches in a str
    pattern (both use Py_UNICODE_ISSPACE; a test checks every code point), so
    this is `re.sub(r"\\s+", " ", text).strip()` at a fifth of its cost.
    """
    return " ".join(text.split())


def normalize_paragraph(text: str) -> str:
    """Rules 1-6: the canonical form of one paragraph, title or heading."""
    if _PLAIN_ASCII.fullmatch(text):
        # Printable ASCII (with newlines) is a fixed point of rules 1-5, so only
        # rule 6 applies; most news text takes this path, at a fraction of the cost.
        return _collapse(text)
    for _ in range(4):
        document = text if _document_normal(text) else normalize_document(text)
        fixed = _collapse(document)
        if fixed == text:
            break
        text = fixed
    return text


def looks_bad(text: str) -> bool:
    """`ftfy.badness.is_bad`, searching only around the non-ASCII characters.

    Windows that overlap are merged and searched as one span; `^` still only
    matches at the real start because `search(text, pos)` does not anchor at pos.
    """
    if _UNTYPOGRAPHIC.search(text) is None:
        return False
    start = end = -1
    for match in _NON_ASCII.finditer(text):
        lo = max(0, match.start() - BADNESS_WIDTH + 1)
        if lo > end:
            if end >= 0 and BADNESS_RE.search(text, start, end):
                return True
            start = lo
        end = match.start() + BADNESS_WIDTH
    return end >= 0 and BADNESS_RE.search(text, start, end) is not None


def _document_normal(text: str) -> bool:
    """True only if rules 1-5 leave `text` as it is (False: run them to find out).

    Printable text holds no control, format, surrogate, separator or space
    character other than U+0020, so rules 1, 3 and 4 and every ftfy fixer but
    mojibake repair and NFC leave it alone; ftfy repairs mojibake only when
    its pattern matches (`looks_bad`), and rule 5 only when the text is not NFC.
    """
    return (text.isprintable()
            and len(text) < _FTFY.max_decode_length  # ftfy's own segments start fresh
            and not any(c in text for c in _PRINTABLE_CONTROLS)
            and unicodedata.is_normalized("NFC", text)
            and not looks_bad(text))


def is_normalized(text: str) -> bool:
    """`normalize_paragraph(text) == text`, without the rules for the usual case."""
    if (text.isascii() and text.isprintable()) or _document_normal(text):
        return "  " not in text and text[:1] != " " and text[-1:] != " "
    return normalize_paragraph(text) == text


#: Characters that reorder how text is shown (bidirectional embeddings, overrides,
#: isolates and marks): in a title or a source they can make one string look like
#: another, so metadata holding them is refused.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")
#: Zero-width (non-)joiners: meaningful between two letters of some scripts, and
#: nowhere else in metadata.
JOINERS = frozenset("\u200c\u200d")


def hidden_character(text: str, *, joiners: bool) -> str | None:
    """A description of the first character of `text` that hides or reorders what
    is shown, else None. With `joiners`, a zero-width (non-)joiner between two
    letters (Persian, Indic scripts) is allowed; without, every one is refused.
    Other invisible characters are already removed by normalization."""
    for at, ch in enumerate(text):
        if ch in BIDI_CONTROLS:
            return f"U+{ord(ch):04X} ({unicodedata.name(ch, 'bidirectional control')}) " \
                   f"at character {at}"
        if ch in JOINERS:
            between = (joiners and 0 < at < len(text) - 1
                       and unicodedata.category(text[at - 1])[0] in "LM"
                       and unicodedata.category(text[at + 1])[0] in "LM")
            if not between:
                return f"U+{ord(ch):04X} ({unicodedata.name(ch)}) at character {at}"
    return None


def text_blocks(text: str) -> list[str]:
    """Blank-line separated blocks, each normalized to one line."""
    return [b for b in (normalize_paragraph(chunk) for chunk in re.split(r"\n\s*\n", text)) if b]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
