"""ICD-10-CM tabular list XML (icd10cm_tabular_YYYY.xml): chapters, sections, codes and their notes.

Read with expat so every fault names its line and column. Codes taking a 7th character are not `diag`
elements: `seventh_character_code` builds them from the nearest `sevenChrDef` above, as the tabular list
defines them ("T85.610" + "A" initial encounter -> T85.610A, placeholder X filling to six characters).
"""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass, field

from codes.catalog import cited_codes
from codes.importers.base import ImportFailure, SourceFile
from codes.models.catalog import normalize_code

FILE_NAME = re.compile(r"icd10cm[-_]tabular[-_](?:(?P<month>[a-z]+)[-_])?(?P<year>\d{4})", re.IGNORECASE)
CODE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?$")
NOTE_KINDS = {
    "includes": "includes",
    "inclusionTerm": "inclusion_terms",
    "excludes1": "excludes1",
    "excludes2": "excludes2",
    "codeFirst": "code_first",
    "useAdditionalCode": "use_additional_code",
    "codeAlso": "code_also",
    "sevenChrNote": "seventh_character_note",
    "notes": "notes",
}
ROOT = "ICD10CM.tabular"


@dataclass
class Owner:
    """A chapter, section or code of the tabular list, with its notes ({kind: [{"text", "cited"}]})."""

    kind: str
    line: int
    code: str = ""  # dotless code, section range id or chapter number
    description: str = ""
    parent: str | None = None
    section: str = ""
    chapter: int = 0
    notes: dict[str, list[dict]] = field(default_factory=dict)
    seventh: dict[str, str] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)

    def add_note(self, kind: str, text: str) -> None:
        self.notes.setdefault(kind, []).append({"text": text, "cited": cited_codes(text)})


@dataclass
class Tabular:
    version: str
    chapters: dict[int, Owner]
    sections: dict[str, Owner]
    codes: dict[str, Owner]  # dotless code -> node, in tabular order

    def seventh_characters_for(self, code: str) -> dict[str, str]:
        """Return the 7th-character definitions in force for a code (nearest sevenChrDef above it)."""
        node = self.nearest(code)
        while node is not None:
            if node.seventh:
                return node.seventh
            node = self.codes.get(node.parent) if node.parent else None
        return {}

    def nearest(self, code: str) -> Owner | None:
        """Return the node of a code, or of its nearest listed ancestor (placeholder X dropped)."""
        for length in range(len(code), 2, -1):
            node = self.codes.get(code[:length].rstrip("X") if length > 3 else code[:length])
            if node is not None:
                return node
        return None

    def seventh_character_description(self, code: str) -> str | None:
        """Return the description of a 7-character code built from its parent and the sevenChrDef."""
        if len(code) != 7:
            return None
        meaning = self.seventh_characters_for(code[:6]).get(code[6])
        base = self.nearest(code[:6])
        if meaning is None or base is None:
            return None
        return f"{base.description}, {meaning}"

    def all_codes(self) -> list[tuple[str, bool]]:
        """Return every (code, billable) of the tabular list alone, 7th-character codes included."""
        found: list[tuple[str, bool]] = []
        for code, node in self.codes.items():
            sevenths = self.seventh_characters_for(code) if not node.children else {}
            found.append((code, not node.children and not sevenths))
            for char in sevenths:
                found.append((code.ljust(6, "X") + char, True))
        return found


def looks_like(source: SourceFile) -> bool:
    """Return whether a file is the tabular list XML: by its root element."""
    return ROOT.encode() in source.head(4096) and source.basename.lower().endswith(".xml")


def parse(source: SourceFile) -> Tabular:
    """Return the tabular list; raise ImportFailure naming line and column at the first fault."""
    parser = xml.parsers.expat.ParserCreate("utf-8")
    tags: list[str] = []
    owners: list[Owner] = []
    chapters: dict[int, Owner] = {}
    sections: dict[str, Owner] = {}
    codes: dict[str, Owner] = {}
    text: list[str] = []
    state = {"version": "", "chapter": 0, "section": ""}

    def fail(message: str, column: int | None = None) -> ImportFailure:
        return ImportFailure(
            message, file=source.name, line=parser.CurrentLineNumber, column=str(column or parser.CurrentColumnNumber + 1)
        )

    def start(tag: str, attrs: dict) -> None:
        if not tags and tag != ROOT:
            raise fail(f"unknown layout: root element <{tag}> is not <{ROOT}>")
        tags.append(tag)
        text.clear()
        line = parser.CurrentLineNumber
        if tag == "chapter":
            owners.append(Owner("chapter", line))
        elif tag == "section":
            range_id = attrs.get("id", "")
            owners.append(Owner("section", line, code=range_id, chapter=state["chapter"]))
            state["section"] = range_id
        elif tag == "diag":
            parent = owners[-1].code if owners and owners[-1].kind == "diag" else None
            owners.append(Owner("diag", line, parent=parent, section=state["section"], chapter=state["chapter"]))
        elif tag == "extension" and owners:
            state["char"] = attrs.get("char", "")

    def end(tag: str) -> None:
        content = " ".join("".join(text).split())
        text.clear()
        tags.pop()
        container = tags[-1] if tags else ""
        owner = owners[-1] if owners else None
        if tag == "version" and container == ROOT:
            state["version"] = content
        elif tag == "name" and owner is not None and container in ("chapter", "diag"):
            if owner.kind == "chapter":
                if not content.isdecimal():
                    raise fail(f"chapter number {content!r} is not a number", 1)
                owner.code = content
                owner.chapter = state["chapter"] = int(content)
            else:
                if not CODE.match(content):
                    raise fail(f"{content!r} is not an ICD-10-CM code", 1)
                owner.code = normalize_code(content)
                if owner.code in codes:
                    raise fail(f"{content} is listed twice", 1)
                if owner.parent:
                    codes[owner.parent].children.append(owner.code)
                codes[owner.code] = owner
        elif tag == "desc" and owner is not None and container == owner.kind:
            owner.description = content
        elif tag == "note" and owner is not None and container in NOTE_KINDS:
            owner.add_note(NOTE_KINDS[container], content)
        elif tag == "extension" and owner is not None and container == "sevenChrDef":
            owner.seventh[state.pop("char", "")] = content
        elif tag in ("chapter", "section", "diag"):
            done = owners.pop()
            if tag == "chapter":
                chapters[done.chapter] = done
            elif tag == "section":
                sections[done.code] = done
            elif not done.code:
                raise fail("a <diag> element has no <name>")
            if not done.description and tag != "section":
                raise fail(f"{done.code or tag} has no <desc>")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text.append
    with source.open_binary() as handle:
        data = handle.read()
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        reason = xml.parsers.expat.ErrorString(exc.code)
        hint = " (the file looks truncated)" if "no element found" in reason or "unclosed token" in reason else ""
        raise ImportFailure(
            f"not well-formed XML: {reason}{hint}", file=source.name, line=exc.lineno, column=str(exc.offset + 1)
        ) from exc
    if not codes:
        raise ImportFailure("unknown layout: no <diag> codes found", file=source.name, line=1)
    return Tabular(version=state["version"], chapters=chapters, sections=sections, codes=codes)
