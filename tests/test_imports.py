"""No import cycles among mflab's modules, imports inside functions included.

A cycle hidden by an import inside a function still couples the two modules both ways (neither can
be read, tested or moved without the other) and breaks when someone lifts the import to the top.
This parses every module under ``mflab/`` (course tooling included), resolves each ``import`` and
``from ... import`` (at any depth) to the mflab modules it loads, and fails on any cycle. No
exceptions are listed.
"""
import ast
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "mflab"


def module_name(path: Path) -> str:
    parts = ("mflab",) + path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in ROOT.rglob("*.py") if "templates" not in p.parts}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The mflab modules that ``name`` imports anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # "from pkg import x" loads pkg.x when x is a module, else takes a name from pkg
            targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in known else source for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # "import mflab.a.b as c": the deepest known module
                target = target.rpartition(".")[0]
            if target.startswith("mflab") and target != name:
                found.add(target)
    return found


@lru_cache(maxsize=1)
def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(_one_cycle(v, component, edges))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _one_cycle(start, component, edges):
    """A shortest path from ``start`` back to itself inside ``component`` (breadth first)."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(edges[v] & component):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    return sorted(component)


def test_the_parser_sees_imports_inside_functions_and_relative_ones(tmp_path):
    known = {"mflab", "mflab.a", "mflab.b", "mflab.c", "mflab.sub", "mflab.sub.d"}
    src = tmp_path / "a.py"
    src.write_text("import numpy\nfrom . import b\ndef f():\n    from .c import thing\n"
                   "    from .sub import d\n    import mflab.sub.d as e\n")
    assert imports_of("mflab.a", src, known) == {"mflab.b", "mflab.c", "mflab.sub.d"}
    up = tmp_path / "d.py"
    up.write_text("from .. import a\nfrom ..b import x\nfrom . import nothing_here\n")
    assert imports_of("mflab.sub.d", up, known) == {"mflab.a", "mflab.b", "mflab.sub"}


def test_cycle_finder_finds_a_cycle_hidden_in_a_longer_chain():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert cycles(edges) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_every_module_is_parsed():
    names = set(graph())
    assert {"mflab", "mflab.factorization", "mflab.recommend", "mflab.ridge", "mflab.metrics",
            "mflab.datasets.fetch", "mflab.datasets.movielens"} <= names
    assert len(names) > 25


def test_no_import_cycles():
    found = cycles(graph())
    assert not found, "import cycles (cut one edge of each):\n" + "\n".join(" -> ".join(c) for c in found)


@pytest.mark.parametrize("low, high", [("mflab.ridge", None), ("mflab._checks", None),
                                        ("mflab.recommend", "mflab.factorization")])
def test_bottom_layers_stay_at_the_bottom(low, high):
    """ridge and _checks import nothing of mflab's; recommend does not import factorization."""
    edges = graph()
    if high is None:
        assert not edges[low], f"{low} imports {sorted(edges[low])}"
    else:
        assert high not in edges[low]
