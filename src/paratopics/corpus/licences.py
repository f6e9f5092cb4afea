"""Licences of article texts: the ids records carry, and what each one means.

Every article record (schema 1.1.0 on) says under which terms its text may be
shared (`license`) and whom to credit, with a link (`attribution`). `license`
is an SPDX licence identifier where the terms are an SPDX-listed licence
(`CC-BY-2.5`), otherwise a `LicenseRef-` id that this module documents: SPDX
reserves that prefix for terms defined by the document that uses them. The
release manifest, the dataset card and the Croissant file state them per
source, with the names and links below, so that a user of the data knows what
they may do with each row without reading the records.

Also here: the one rule for turning a language tag found in a feed or page
(`en-US`, `EN`) into the record's `language` (`en`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Licence:
    """What one licence id means: a name, where its terms are, why it applies."""

    id: str
    name: str
    url: str
    basis: str
    #: may the text go into a published release (False: benchmarks and tests only)
    redistributable: bool = True


US_GOVERNMENT_WORK = "LicenseRef-US-Government-Work"
VOA_PUBLIC_DOMAIN = "LicenseRef-VOA-Public-Domain"
REUTERS_21578 = "LicenseRef-Reuters-21578-Research-Only"

#: The ids this project documents. Any other SPDX id is accepted in a record
#: (the schema checks its form); these get a name and a link in the card.
KNOWN: dict[str, Licence] = {licence.id: licence for licence in (
    Licence(US_GOVERNMENT_WORK, "Work of the U.S. federal government",
            "https://www.law.cornell.edu/uscode/text/17/105",
            "Prepared by U.S. federal officers or employees as part of their official duties, "
            "so not protected by copyright in the U.S. (17 U.S.C. §105: \"Copyright "
            "protection under this title is not available for any work of the United "
            "States Government\"). Protection abroad may differ. Text that is not the "
            "government's own (journalists' questions, foreign officials' remarks) is "
            "excluded at ingest."),
    Licence(VOA_PUBLIC_DOMAIN, "Voice of America report, public domain",
            "https://www.voanews.com/",
            "Text produced by Voice of America, a U.S. federal broadcaster, whose terms of "
            "use place the text, audio and video it produces exclusively in the public "
            "domain (a U.S. government work, 17 U.S.C. §105). Material VOA takes from "
            "wire services is not covered; the corpus holds only reports under a VOA "
            "correspondent's byline."),
    Licence(REUTERS_21578, "Reuters-21578, Distribution 1.0: research use only",
            "http://www.research.att.com/~lewis",
            "Copyright Reuters Ltd.; Reuters and Carnegie Group allow free distribution "
            "for research purposes only. For benchmarks and robustness tests: never "
            "copied into a corpus or a release.",
            redistributable=False),
    Licence("CC-BY-2.5", "Creative Commons Attribution 2.5 Generic",
            "https://creativecommons.org/licenses/by/2.5/",
            "Wikinews publishes its articles under CC BY 2.5 (Wikinews:Copyright); credit "
            "Wikinews contributors with the article's URL."),
    Licence("CC-BY-4.0", "Creative Commons Attribution 4.0 International",
            "https://creativecommons.org/licenses/by/4.0/", "As stated by the publisher."),
    Licence("CC-BY-SA-4.0", "Creative Commons Attribution-ShareAlike 4.0 International",
            "https://creativecommons.org/licenses/by-sa/4.0/", "As stated by the publisher."),
    Licence("CC-BY-3.0", "Creative Commons Attribution 3.0 Unported",
            "https://creativecommons.org/licenses/by/3.0/", "As stated by the publisher."),
    Licence("CC-BY-SA-3.0", "Creative Commons Attribution-ShareAlike 3.0 Unported",
            "https://creativecommons.org/licenses/by-sa/3.0/", "As stated by the publisher."),
    Licence("CC0-1.0", "Creative Commons Zero v1.0 Universal",
            "https://creativecommons.org/publicdomain/zero/1.0/", "As stated by the publisher."),
)}

#: The form of a licence id: one SPDX short identifier (letters, digits, `-`, `.`,
#: a trailing `+`) or a `LicenseRef-` id; never an expression or free text.
ID_PATTERN = r"^(LicenseRef-[A-Za-z0-9.-]+|(?!LicenseRef-)[A-Za-z0-9][A-Za-z0-9.-]*\+?)$"
_ID = re.compile(ID_PATTERN)
#: An attribution names someone and links to the work: it holds a URL.
_LINK = re.compile(r"https?://\S")
_CC_URL = re.compile(r"creativecommons\.org/(licenses|publicdomain)/([a-z-]+)/(\d\.\d)", re.I)


def is_licence_id(value: str) -> bool:
    return bool(_ID.match(value))


def has_link(attribution: str) -> bool:
    return bool(_LINK.search(attribution))


def describe(licence_id: str) -> Licence:
    """The documented meaning of an id; an undocumented SPDX id links to its SPDX page."""
    known = KNOWN.get(licence_id)
    if known is not None:
        return known
    if licence_id.startswith("LicenseRef-"):
        return Licence(licence_id, licence_id, "", "Defined by the corpus that uses it.")
    return Licence(licence_id, licence_id, f"https://spdx.org/licenses/{licence_id}.html",
                   "As stated by the publisher.")


def from_url(url: str | None) -> str | None:
    """The SPDX id of a Creative Commons licence URL (a page's or feed's
    `rel="license"` link), or None for anything else: a licence is never guessed."""
    match = _CC_URL.search(url or "")
    if match is None:
        return None
    kind, name, version = match.group(1).lower(), match.group(2).lower(), match.group(3)
    if kind == "publicdomain":
        return f"CC0-{version}" if name == "zero" else None
    spdx = "CC-" + "-".join(part.upper() for part in name.split("-"))
    return f"{spdx}-{version}"


_CC_TEXT = re.compile(r"^\s*(?:cc|creative commons)\s+(by(?:-nc)?(?:-nd|-sa)?|zero)\s*(\d\.\d)\s*$",
                      re.I)


def from_text(text: str | None) -> str | None:
    """The SPDX id of a licence named like "CC BY-SA 4.0" (trafilatura's form), or None."""
    match = _CC_TEXT.match(text or "")
    if match is None:
        return None
    name, version = match.group(1).lower(), match.group(2)
    return f"CC0-{version}" if name == "zero" else f"CC-{name.upper()}-{version}"


_LANGUAGE = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*\s*$")


def language_tag(value: str | None) -> str | None:
    """The primary language subtag, lower case, of a tag found in a feed or page
    (`en-US` -> `en`); None when there is no readable tag. Records keep the
    language only, since the corpus's texts are classified by language, not region."""
    match = _LANGUAGE.match(value or "")
    return match.group(1).lower() if match else None
