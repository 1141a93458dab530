"""Index-like synonyms: the words office staff type for what the code sets abbreviate or name otherwise.

The public CMS files carry CPT and HCPCS Level II codes with 28-character short descriptors only
("Implant spinal canal cath", "Inj morphine pf epid ithc", "Anal sp inf pmp w/reprg&fill"); the AMA's
long CPT descriptors are licensed and not in them. A search for "intrathecal catheter" would miss 62350
and 62362, so the search text of these codes adds the spelled-out words of each abbreviation and the
terms an index would list for a few phrases. Nothing here is shown to users: it only feeds word search
(`search_text`).

ICD-10-CM long descriptors are complete; their search text adds the tabular list's inclusion terms and
"Includes" notes ("shingles" under B02 Zoster), and a few index terms of the therapy the tabular text lacks
(ICD_TERMS, ICD_DEVICE_PHRASES).

Only abbreviations that mean one thing in CMS short descriptors are listed ("drg" is dressing, drainage
or during; "dev" device or development; "fx" fracture, function or fixed; "anal" both analysis and
the anus, so it and "anl" are expanded only before the spinal-pump words that make them an analysis; "inf" is infusion,
inferior or infection, so only "sp inf pmp" reads as a spinal pump).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Abbreviation (lower case, as a whole word) -> the words it stands for.
ABBREVIATIONS = {
    "addl": "additional",
    "admn": "administration",
    "anes": "anesthesia",
    "anesth": "anesthesia",
    "alys": "analysis",
    "arthrd": "arthrodesis",
    "bx": "biopsy",
    "cath": "catheter catheterization",
    "cathet": "catheter",
    "caths": "catheters",
    "crv": "cervical",
    "cntrst": "contrast",
    "dx": "diagnostic diagnosis",
    "epid": "epidural",
    "eval": "evaluation",
    "exc": "excision",
    "grft": "graft",
    "img": "imaging",
    "impl": "implantable implant",
    "implt": "implant",
    "infus": "infusion",
    "inj": "injection",
    "insj": "insertion",
    "intrath": "intrathecal",
    "ithc": "intrathecal",
    "lmbr": "lumbar",
    "mgmt": "management",
    "mntr": "monitoring",
    "ndl": "needle",
    "njx": "injection",
    "nrv": "nerve",
    "perq": "percutaneous",
    "pf": "preservative free",
    "pmp": "pump",
    "prgrmg": "programming",
    "refil": "refill",
    "reprg": "reprogramming",
    "reprog": "reprogramming",
    "mdreprg": "reprogramming",
    "rmvl": "removal",
    "rpr": "repair",
    "stim": "stimulator stimulation",
    "surg": "surgery surgical",
    "thrc": "thoracic",
    "ther": "therapeutic therapy",
    "thxpy": "therapy",
    "tx": "treatment",
}

# Phrases of spinal drug delivery that an index lists under "intrathecal" and "epidural": the CPT long
# descriptors of 62350-62370 and 95990/95991 all say "intrathecal or epidural".
PHRASES = [
    (
        re.compile(r"\bspinal canal cath|\b(?:spine|spinal|spin|sp)\b(?:[ /]\w+)?[ /](?:infus\w*|inf pmp|pump|pmp)\b"),
        "intrathecal epidural",
    ),
    (re.compile(r"\bimpl\w* pump cath"), "intraspinal intrathecal epidural"),
    (re.compile(r"\ban(?:a)?l\b(?= (?:sp|spine|spinal)\b)"), "analysis"),
    # The guide's "catheter dye study": 75809 shuntogram (of an indwelling infusion pump among others) and
    # 61070 puncture of shunt tubing or reservoir for aspiration or injection.
    (re.compile(r"\bnonvascular shunt x-?ray"), "shuntogram indwelling infusion pump catheter dye study"),
    (re.compile(r"\bbrain canal shunt procedure"), "puncture shunt tubing reservoir aspiration injection catheter dye study"),
]
# ICD-10-CM codes and the everyday or index terms for them that no tabular note carries.
ICD_TERMS = {
    "G905": "RSD",  # its inclusion term is "Reflex sympathetic dystrophy"
    "M961": "failed back surgery syndrome FBSS",
}
# Complications of devices (T82-T85): the words used for a broken or moved catheter or pump.
DEVICE_CATEGORIES = {"T82", "T83", "T84", "T85"}
ICD_DEVICE_PHRASES = [
    (re.compile(r"\bbreakdown \(mechanical\)"), "malfunction"),
    (re.compile(r"\bdisplacement of\b"), "malposition migration"),
]
# Tabular "Includes" notes that point at other codes instead of naming a condition.
REFERENCE_NOTE = re.compile(r"classifiable|\bsee\b", re.IGNORECASE)
WORD = re.compile(r"[a-z0-9]+")  # "pmp22" (a gene) is one token, not the abbreviation "pmp"


def expand(text: str) -> str:
    """Return the spelled-out words for the abbreviations and phrases in `text` (empty when there are none)."""
    lowered = text.lower()
    tokens = WORD.findall(lowered)
    words = set(tokens)
    added: list[str] = []
    for index, word in enumerate(tokens):
        full = ABBREVIATIONS.get(word)
        # Gene names read like abbreviations: "Mgmt gene prmtr" is the MGMT gene, not management.
        if full and full not in added and tokens[index + 1 : index + 2] != ["gene"]:
            added.append(full)
    for pattern, terms in PHRASES:
        if pattern.search(lowered) and terms not in added:
            added.append(terms)
    return " ".join(term for term in added if not set(term.split()) <= words)


def index_terms(notes: dict | None) -> list[str]:
    """Return the terms of a code's tabular notes that name it: inclusion terms and "Includes" notes."""
    notes = notes or {}
    terms = [note["text"] for note in notes.get("inclusion_terms", [])]
    return terms + [note["text"] for note in notes.get("includes", []) if not REFERENCE_NOTE.search(note["text"])]


def search_text(system: str, short: str, long: str, terms: Sequence[str] = (), *, code: str = "") -> str:
    """Return the text word search matches: descriptors, index terms (index_terms) and synonyms.

    CPT/HCPCS add the spelled-out abbreviations; ICD-10-CM adds ICD_TERMS for `code` and, for device
    complications, the words of ICD_DEVICE_PHRASES.
    """
    parts = [long]
    if short and short.lower() not in long.lower():
        parts.append(short)
    parts += list(terms)
    if system != "icd10cm":
        parts.append(expand(f"{short} {long}"))
    else:
        parts.append(ICD_TERMS.get(code, ""))
        if code[:3] in DEVICE_CATEGORIES:
            parts += [words for pattern, words in ICD_DEVICE_PHRASES if pattern.search(long.lower())]
    # PostgreSQL's text search parser reads "Revise/replace" and "lmbr/sac" as one file-path token: split them.
    return " | ".join(p for p in parts if p).replace("/", " ")
