"""README.md and docs/: every relative link resolves, each text stands in one place only, and the
README stays a landing page."""

import re
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote

import pytest
from infra_support import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
README_MAX_LINES = 150

FENCE = re.compile(r"^\s{0,3}(```|~~~)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
INLINE_LINK = re.compile(r"!?\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# A paragraph, list item or table row shorter than this is a label, not a text worth comparing.
MIN_COMPARED_CHARS = 60


def lines_outside_code(text: str):
    """(line number, line) for every line outside fenced code blocks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def rendered(markdown: str) -> str:
    """The text GitHub shows for inline Markdown: code, emphasis and links reduced to their text."""
    text = INLINE_CODE.sub(lambda match: match.group(2), markdown)
    text = INLINE_LINK.sub(lambda match: match.group(1), text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"(\*\*|__|\*)", "", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = rendered(heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of a page's headings; a repeated slug gets -1, -2, ... as on GitHub."""
    seen: dict[str, int] = defaultdict(int)
    found = set()
    for _, line in lines_outside_code(page.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        found.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return found


def links(page: Path):
    """(line number, target) of every link and link definition outside code."""
    for number, line in lines_outside_code(page.read_text(encoding="utf-8")):
        definition = REFERENCE_DEFINITION.match(line)
        if definition:
            yield number, definition.group(1)
            continue
        # Code spans are not links, but keep their text: a link's text may be code.
        for match in INLINE_LINK.finditer(INLINE_CODE.sub(lambda m: m.group(2), line)):
            yield number, match.group(2)


def relative_links():
    for page in PAGES:
        for number, target in links(page):
            if not SCHEME.match(target):
                yield pytest.param(page, target, id=f"{page.relative_to(ROOT)}:{number} {target}")


def broken(page: Path, target: str, root: Path = ROOT) -> str | None:
    """Why `target`, linked from `page`, does not resolve inside `root`; None when it does."""
    path, _, anchor = target.partition("#")
    linked = (page.parent / unquote(path)).resolve() if path else page.resolve()
    if not linked.is_relative_to(root):
        return f"{target} is outside the repository"
    name = linked.relative_to(root).as_posix()
    if not linked.exists():
        return f"{name} does not exist"
    if anchor:
        if linked.suffix != ".md":
            return f"#{anchor} points into {name}, which has no headings"
        if unquote(anchor) not in anchors(linked):
            return f"{name} has no heading #{anchor}"
    return None


@pytest.mark.parametrize(("page", "target"), list(relative_links()))
def test_relative_link_resolves(page, target):
    assert broken(page, target) is None


def test_broken_links_are_found(tmp_path):
    root = tmp_path.resolve()
    (root / "docs").mkdir()
    (root / "docs" / "a.md").write_text("# A page\n\n## The issuer's keys\n", encoding="utf-8")
    page = root / "README.md"
    page.write_text("# Readme\n", encoding="utf-8")
    assert broken(page, "docs/a.md", root) is None
    assert broken(page, "docs/a.md#the-issuers-keys", root) is None
    assert broken(page, "#readme", root) is None
    assert broken(page, "docs/missing.md", root) == "docs/missing.md does not exist"
    assert broken(page, "docs/a.md#keys", root) == "docs/a.md has no heading #keys"
    assert broken(page, "#a-page", root) == "README.md has no heading #a-page"
    assert broken(page, "../elsewhere.md", root) == "../elsewhere.md is outside the repository"


def test_slugs_are_githubs():
    assert slug("The issuer's keys") == "the-issuers-keys"
    assert slug("`Idempotency-Key`") == "idempotency-key"
    assert slug("Algorithm (RFC 8725 §2.1, §3.1)") == "algorithm-rfc-8725-21-31"
    assert slug("Run `make_test` **now**") == "run-make_test-now"


def test_a_repeated_heading_gets_a_numbered_anchor(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Logs\n\n```\n# not a heading\n```\n\n## Logs\n", encoding="utf-8")
    assert anchors(page) == {"logs", "logs-1"}


def test_readme_is_a_landing_page():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_MAX_LINES
    assert "make run" in text and "make test" in text


def test_readme_links_every_docs_page():
    linked = {
        (README.parent / target.partition("#")[0]).resolve()
        for _, target in links(README)
        if not SCHEME.match(target)
    }
    assert [page.name for page in PAGES[1:] if page.resolve() not in linked] == []


def texts(page: Path):
    """The page's paragraphs, list items, table rows and code blocks, white space folded."""
    block: list[str] = []
    fenced = False

    def flush():
        if block:
            yield " ".join(" ".join(block).split())
            block.clear()

    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            if not fenced:
                yield from flush()
            block.append(line)
            fenced = not fenced
            if not fenced:
                yield from flush()
            continue
        if fenced:
            block.append(line)
        elif not line.strip() or HEADING.match(line):
            yield from flush()
        elif re.match(r"^\s*([-*+]|\d+\.)\s", line) or line.lstrip().startswith("|"):
            yield from flush()
            block.append(line)
            if line.lstrip().startswith("|"):
                yield from flush()
        else:
            block.append(line)
    yield from flush()


def repeated_texts(pages: list[Path], root: Path = ROOT) -> dict[str, list[str]]:
    """The start of each text long enough to compare that stands in more than one place."""
    places = defaultdict(list)
    for page in pages:
        for text in texts(page):
            if len(text) >= MIN_COMPARED_CHARS:
                places[text].append(page.relative_to(root).as_posix())
    return {text[:80]: where for text, where in places.items() if len(where) > 1}


def test_no_text_stands_in_two_places():
    assert repeated_texts(PAGES) == {}


def test_a_copied_paragraph_or_list_item_is_found(tmp_path):
    paragraph = (
        "The secret is created with placeholders.\n"
        "Put the credentials in it once; later deploys leave it alone."
    )
    item = "- **Never retried:** any other 4xx, such as `400 invalid_body`, `403` or `413`."
    one = tmp_path / "one.md"
    two = tmp_path / "two.md"
    one.write_text(f"# One\n\n{paragraph}\n\n{item}\n- short\n", encoding="utf-8")
    # The same paragraph wrapped otherwise, the same item right after a paragraph.
    rewrapped = " ".join(paragraph.split())
    two.write_text(f"# Two\n\n{rewrapped}\n\nOther text.\n{item}\n", encoding="utf-8")
    assert repeated_texts([one, two], tmp_path) == {
        rewrapped[:80]: ["one.md", "two.md"],
        item[:80]: ["one.md", "two.md"],
    }
    two.write_text("# Two\n\nOnly its own text, long enough to be compared with the texts of one.md.\n", encoding="utf-8")
    assert repeated_texts([one, two], tmp_path) == {}
