"""The README and the documents it links to: every link lands somewhere, every `make` target exists.

A newcomer follows the README's links and runs its commands as written; a renamed heading, a moved
file or a removed target would leave them at a dead end.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from devtools.local_stack.template import load_template
from tests.conftest import ROOT

DOCUMENTS = sorted(
    [
        ROOT / "README.md",
        ROOT / "CHANGELOG.md",
        *(ROOT / "docs").glob("*.md"),
        ROOT / "examples/subscriber/README.md",
        ROOT / "events/README.md",
        ROOT / ".github/aws/README.md",
    ]
)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(document: Path) -> set[str]:
    text = FENCE.sub("", document.read_text(encoding="utf-8"))
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE):
        anchor, n = github_anchor(heading), 1
        while anchor in found:  # GitHub numbers repeated headings
            anchor = f"{github_anchor(heading)}-{n}"
            n += 1
        found.add(anchor)
    return found


def links(document: Path) -> list[str]:
    text = FENCE.sub("", document.read_text(encoding="utf-8"))
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


def test_the_anchor_rule_matches_githubs():
    assert github_anchor("With Docker: `sam local`") == "with-docker-sam-local"
    assert github_anchor("In Lambda's own runtime, without Docker") == "in-lambdas-own-runtime-without-docker"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_reaches_a_file_and_heading_that_exist(document: Path):
    dead = []
    for target in links(document):
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            dead.append(f"{target}: no file {linked.relative_to(ROOT) if linked.is_relative_to(ROOT) else linked}")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            dead.append(f"{target}: no heading #{anchor} in {linked.relative_to(ROOT)}")
    assert not dead, f"{document.relative_to(ROOT)} links nowhere: {dead}"


def commands(document: Path) -> list[str]:
    """The commands a document gives: inline code, and the lines of its code blocks."""
    text = document.read_text(encoding="utf-8")
    blocks = FENCE.findall(text)
    return [
        *re.findall(r"`([^`\n]+)`", FENCE.sub("", text)),
        *(line for block in blocks for line in block.splitlines()),
    ]


def test_every_make_target_the_documents_name_exists():
    def targets(makefile: Path) -> set[str]:
        return set(re.findall(r"^([a-z][\w-]*):", makefile.read_text(encoding="utf-8"), re.MULTILINE))

    ours, example = targets(ROOT / "Makefile"), targets(ROOT / "examples/subscriber/Makefile")
    missing = sorted(
        f"{document.relative_to(ROOT)}: make {target}"
        for document in DOCUMENTS
        for command in commands(document)
        for target in re.findall(r"(?:^|[\s;(&|])make ([a-z][\w-]*)", command)
        if target not in ours | example  # the example's README names both; so do ours, for the example
    )
    assert not missing, missing
    assert {"demo", "serve", "test", "test-deep", "test-e2e", "deploy", "clean"} <= ours


def readme_table(after: str) -> list[str]:
    """The first column of the README's table that follows the line starting with `after`."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(after))
    first = next(i for i in range(start, len(lines)) if lines[i].startswith("|"))
    rows = list(itertools.takewhile(lambda line: line.startswith("|"), lines[first:]))
    return [row.split("|")[1] for row in rows[2:]]  # after the header and its rule


def test_the_readmes_parameters_and_outputs_are_the_templates():
    template = load_template()
    parameters = {name for cell in readme_table("The parameters") for name in re.findall(r"`(\w+)`", cell)}
    outputs = {name for cell in readme_table("The stack's outputs") for name in re.findall(r"`(\w+)`", cell)}

    assert parameters
    assert parameters <= set(template["Parameters"]), parameters - set(template["Parameters"])
    assert outputs == set(template["Outputs"]), outputs ^ set(template["Outputs"])


# The text an operator reads when paged (alarm and parameter descriptions) and the comments beside the
# code: each points at a document by path and heading, so a moved heading fails here, not in an incident.
REFERENCING = sorted(
    [
        ROOT / "template.yaml",
        ROOT / "examples/subscriber/template.yaml",
        ROOT / ".github/aws/deploy-roles.yaml",
        *(ROOT / "src").rglob("*.py"),
        *(ROOT / "ops").rglob("*.py"),
        *(ROOT / "examples/subscriber/src").rglob("*.py"),
    ]
)
REFERENCE = re.compile(r"\b((?:README|docs/[\w-]+)\.md)(?:#([\w-]+))?")


@pytest.mark.parametrize("source", REFERENCING, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_document_a_template_or_the_code_points_to_is_there_with_its_heading(source: Path):
    text = source.read_text(encoding="utf-8")
    # The form used before the docs moved out of the README: a section named in quotes.
    assert not re.findall(r'README, "', text), "name the section as README.md#anchor or docs/<file>.md#anchor"
    base = ROOT / "examples/subscriber" if "examples/subscriber" in str(source) else ROOT
    for document, anchor in REFERENCE.findall(text):
        target = (base if document == "README.md" else ROOT) / document
        assert target.exists(), f"{source.relative_to(ROOT)} points to {document}, which is not there"
        if anchor:
            assert anchor in anchors(target), (
                f"{source.relative_to(ROOT)} points to {document}#{anchor}: no such heading"
            )
