"""No import cycles between the modules of one crate.

A module is one source file. `a` imports `b` when `a` names `crate::b::…` or `super::…` that
resolves to the file of `b`; a cycle (a → b → … → a) means neither can be read on its own.
Inline `mod tests` blocks belong to their file and are left out.
"""

import re
from pathlib import Path

import pytest

from infra_support import ROOT

# Every crate of the workspace: the libraries, the functions, the bench driver.
CRATES = sorted(
    src for folder in ("crates", "functions", "benches") for src in (ROOT / folder).glob("*/src")
)
PATH_RE = re.compile(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)")
USE_GROUP_RE = re.compile(r"\buse\s+(crate|super)((?:::[a-z_][a-z0-9_]*)*)::\{([^;]*)\};", re.S)


def module_name(src: Path, file: Path) -> tuple[str, ...]:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts.pop()
    return tuple(parts)


def without_tests(text: str) -> str:
    """The file's text up to its `#[cfg(test)] mod tests` block, which is written last."""
    marker = re.search(r"#\[cfg\(test\)\]\s*mod\s+tests\b", text)
    return text[: marker.start()] if marker else text


def resolve(modules: set, here: tuple, root: str, path: list[str]) -> tuple | None:
    """The longest module prefix `crate::…` or `super::…` names, from module `here`."""
    base: list[str] = []
    if root == "super":
        base = list(here[:-1])
        while path and path[0] == "super":
            base = base[:-1]
            path = path[1:]
    full = base + path
    for end in range(len(full), -1, -1):
        if tuple(full[:end]) in modules:
            return tuple(full[:end])
    return None


def graph(src: Path) -> dict:
    files = {module_name(src, f): f for f in src.rglob("*.rs") if f.name != "main.rs"}
    modules = set(files)
    edges: dict = {name: set() for name in modules}
    for name, file in files.items():
        text = without_tests(file.read_text())
        found = [(m[1], m[2].strip(":").split("::")) for m in PATH_RE.finditer(text)]
        for group in USE_GROUP_RE.finditer(text):
            prefix = group[2].strip(":").split("::") if group[2] else []
            for item in group[3].split(","):
                head = item.strip().split("::")[0].split(" ")[0]
                if re.fullmatch(r"[a-z_][a-z0-9_]*", head) and head != "self":
                    found.append((group[1], prefix + [head]))
        for root, path in found:
            target = resolve(modules, name, root, [p for p in path if p])
            # A module's own submodules and ancestors are structure, not imports.
            if target is None or target[: len(name)] == name or name[: len(target)] == target:
                continue
            edges[name].add(target)
    return edges


def cycles(edges: dict) -> list[list]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append("::".join(top) or "crate")
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_crate_is_checked():
    names = {f"{src.parent.parent.name}/{src.parent.name}" for src in CRATES}
    assert {"crates/jwt-access-token", "crates/timesheets", "crates/testkit"} <= names
    assert {"functions/api", "functions/job"} <= names
    assert {"benches/lambda-bench", "benches/hello"} <= names


@pytest.mark.parametrize("src", CRATES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_no_import_cycle_between_modules(src):
    assert cycles(graph(src)) == []


def test_the_check_sees_a_cycle(tmp_path):
    src = tmp_path / "src"
    (src / "auth").mkdir(parents=True)
    (src / "lib.rs").write_text("pub mod auth;\npub mod response;\n")
    (src / "auth" / "mod.rs").write_text("pub mod jose;\npub mod verifier;\n")
    (src / "auth" / "jose.rs").write_text("use super::verifier::decode;\n")
    (src / "auth" / "verifier.rs").write_text("use super::{jose, scope};\nfn f() { crate::response::ok(); }\n")
    (src / "response.rs").write_text("use crate::auth::verifier::Token;\n")
    assert cycles(graph(src)) == [["auth::jose", "auth::verifier", "response"]]
