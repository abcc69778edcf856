"""The layer rules of the package, checked on the source of every module (docs/targets.md#layers).

    ir        imports nothing of snnc but ir
    passes    imports ir and passes
    frontend  imports ir, passes and frontend
    backends  each backend (backends/<name>/) imports ir and itself only: never passes, runtime,
              the top-level package or another backend
    runtime   (and the top-level package) may import everything

Imports inside functions count too (a lazy import is still a dependency). No exception list.
Also: no import cycle between modules.
"""

from __future__ import annotations

import ast
import pathlib

import networkx as nx

REPO = pathlib.Path(__file__).resolve().parents[2]
SKIP = {"tests", "examples", "bench", "build", ".venv", ".venv-lava", ".git", ".ci"}


def _modules() -> dict[str, pathlib.Path]:
    out = {}
    for path in sorted(REPO.rglob("*.py")):
        rel = path.relative_to(REPO)
        if rel.parts[0] in SKIP or any(p.startswith(".") for p in rel.parts):
            continue
        parts = ["snnc", *rel.with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(module: str, path: pathlib.Path, is_pkg: bool) -> set[str]:
    """Every snnc module ``module`` imports (absolute names, relative ones resolved)."""
    found = set()
    package = module if is_pkg else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name == "snnc" or a.name.startswith("snnc.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name == "snnc" or name.startswith("snnc."):
                found.add(name)
                # `from snnc.x import y` may import the submodule snnc.x.y
                found |= {f"{name}.{a.name}" for a in node.names}
    return found


def _layer(module: str) -> tuple[str, str | None]:
    parts = module.split(".")
    if len(parts) == 1:
        return "top", None
    if parts[1] == "backends":
        return "backends", parts[2] if len(parts) > 2 else None
    return parts[1], None


def _allowed(src: str, dst: str) -> bool:
    layer, backend = _layer(src)
    d_layer, d_backend = _layer(dst)
    if layer == "ir":
        return d_layer == "ir"
    if layer == "passes":
        return d_layer in ("ir", "passes")
    if layer == "frontend":
        return d_layer in ("ir", "passes", "frontend")
    if layer == "backends":
        if d_layer == "ir":
            return True
        return d_layer == "backends" and (backend is None or d_backend in (backend, None) and dst != "snnc.backends")
    return True  # runtime and the top-level package


def _graph():
    mods = _modules()
    g = nx.DiGraph()
    for name, path in mods.items():
        g.add_node(name)
        for dst in _imports(name, path, path.name == "__init__.py"):
            if dst in mods and dst != name:
                g.add_edge(name, dst)
    return g


def test_every_module_keeps_its_layer_rules():
    g = _graph()
    assert g.number_of_nodes() > 50, "module discovery found too few modules"
    broken = sorted(f"{a} -> {b}" for a, b in g.edges if not _allowed(a, b))
    assert not broken, "layer rule broken:\n" + "\n".join(broken)


def test_no_import_cycle_between_modules():
    g = _graph()
    # a package's __init__ importing its own submodules is not a cycle of design
    g.remove_edges_from([(a, b) for a, b in list(g.edges) if b.startswith(a + ".")])
    cycles = [c for c in nx.simple_cycles(g)]
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles[:10])


def test_the_rules_catch_a_break():
    assert not _allowed("snnc.ir.graph", "snnc.passes.pipeline")
    assert not _allowed("snnc.passes.lower_integer", "snnc.backends.sim.simulator")
    assert not _allowed("snnc.backends.fpga.run", "snnc.backends.sim")
    assert not _allowed("snnc.backends.lava.emit", "snnc.runtime.files")
    assert not _allowed("snnc.backends.lava.emit", "snnc")
    assert not _allowed("snnc.frontend.loader", "snnc.runtime.cli")
    assert _allowed("snnc.backends.lava.emit", "snnc.backends.lava.mapping")
    assert _allowed("snnc.runtime.cli", "snnc.backends.fpga")
