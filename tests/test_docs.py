"""The user-facing documentation: README is the entry point, every relative link lands, no foreign references."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def without_code(text: str) -> str:
    """The text outside fenced code blocks and inline code (links there are not links)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for line in re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M).splitlines():
        match = re.match(r"#{1,6} (.+)", line)
        if match:
            slug = anchor(match[1])
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def relative_links(page: Path) -> list[str]:
    return [target for target in LINK.findall(without_code(page.read_text()))
            if not re.match(r"[a-z]+:", target)]


def test_anchor_follows_github():
    assert anchor("Budget policy `stack-monthly-budget`") == "budget-policy-stack-monthly-budget"
    assert anchor("CI/CD") == "cicd"
    assert anchor("What each choice costs (us-east-1, on-demand, per month)") == \
        "what-each-choice-costs-us-east-1-on-demand-per-month"


def test_the_link_check_catches_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[ok](#title) [bad](#nowhere) `[code](#ignored)`\n")
    assert relative_links(page) == ["#title", "#nowhere"]
    assert anchors(page) == {"title"}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_resolves(page):
    broken = []
    for target in relative_links(page):
        path, _, fragment = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists():
            broken.append(f"{target}: no file {destination.relative_to(ROOT)}")
        elif fragment and destination.suffix == ".md" and fragment not in anchors(destination):
            broken.append(f"{target}: no heading #{fragment} in {destination.relative_to(ROOT)}")
    assert broken == [], f"{page.relative_to(ROOT)}: broken links"


def test_readme_is_an_entry_point():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 400


def test_readme_links_every_docs_page():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in relative_links(ROOT / "README.md")}
    assert [page.name for page in PAGES[1:] if page.resolve() not in linked] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_no_references_to_documents_users_do_not_have(page):
    """The design's source documents are not in this repository; the docs state the facts themselves."""
    hits = [line for line in page.read_text().splitlines() if re.search(r"seed", line, re.I)]
    assert hits == []


@pytest.mark.parametrize("stack_file", sorted(ROOT.glob("Pulumi.*.yaml")), ids=lambda path: path.name)
def test_shipped_stack_files_say_nothing_of_documents_users_do_not_have(stack_file):
    """Users copy these files and read their comments as documentation."""
    hits = [line for line in stack_file.read_text().splitlines() if re.search(r"seed", line, re.I)]
    assert hits == []
