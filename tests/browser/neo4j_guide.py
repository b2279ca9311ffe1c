"""The Neo4j Browser guide's Cypher blocks and the GraSS file, read as Browser reads them."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDE = DOCS / "neo4j-browser.md"
GRASS = DOCS / "covgraph.grass"


def guide_blocks() -> list[tuple[str, str]]:
    """(section heading, code) for every ```cypher block of the guide, in order."""
    blocks: list[tuple[str, str]] = []
    heading, code, inside = "", [], False
    for line in GUIDE.read_text().splitlines():
        if inside:
            if line.startswith("```"):
                blocks.append((heading, "\n".join(code)))
                inside = False
            else:
                code.append(line)
        elif line.startswith("```cypher"):
            code, inside = [], True
        elif line.startswith("## "):
            heading = line[3:].strip()
    return blocks


def section(number: int) -> list[str]:
    """The Cypher blocks under the heading `## <number>. ...`."""
    found = [code for heading, code in guide_blocks() if heading.startswith(f"{number}. ")]
    assert found, f"no section {number} in {GUIDE.name}"
    return found


def read_grass(text: str) -> dict[str, dict[str, str]]:
    """GraSS as Neo4j Browser's GraphStyleModel.parse reads it (a character scan).

    Written out here, not imported, because Browser's reader is TypeScript; it is small: braces
    outside single quotes open and close a rule, whitespace outside rules is dropped, and props
    split on `;` then `:` (so a quoted caption must hold neither).
    """
    rules: dict[str, str] = {}
    keyword, props, inside_string, inside_props = "", "", False, False
    for char in text:
        if char == "'":
            inside_string = not inside_string
            continue
        if char == "{" and not inside_string:
            inside_props = True
            continue
        if char == "}" and not inside_string:
            inside_props = False
            rules[keyword], keyword, props = props, "", ""
            continue
        if inside_props:
            props += char
        elif not char.isspace():
            keyword += char
    parsed: dict[str, dict[str, str]] = {}
    for selector, body in rules.items():
        parsed[selector] = {}
        for prop in body.split(";"):
            parts = prop.split(":")
            if len(parts) >= 2 and parts[0].strip() and parts[1].strip():
                parsed[selector][parts[0].strip()] = parts[1].strip()
    return parsed
