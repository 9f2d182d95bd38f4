"""The package layout: which package may import which, no import cycles, size limits.

The allowed arrows (each package may also import itself)::

    poreflux   <- meshes <- pnp
    poreflux   <- stochastic
    pnp -> stochastic  only from pnp.hierarchy

``poreflux`` imports numpy and scipy only; ``stochastic`` never imports meshes, pnp, DOLFINx, UFL,
basix, gmsh or PETSc, and imports mpi4py only inside functions (replicas across ranks), so that
importing it never initialises MPI. Imports are read with :mod:`ast`, at module level and inside
functions; cycles are looked for among module-level imports.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("poreflux", "meshes", "pnp", "stochastic")
FE_STACK = ("dolfinx", "ufl", "basix", "ffcx", "gmsh", "petsc4py", "slepc4py", "dolfinx_solver")

#: first-party packages each package may import (anywhere in its modules)
ALLOWED: dict[str, set[str]] = {
    "poreflux": {"poreflux"},
    "meshes": {"poreflux", "meshes"},
    "pnp": {"poreflux", "meshes", "pnp"},
    "stochastic": {"poreflux", "stochastic"},
}
JOINT = "pnp.hierarchy"  # the one place pnp may import stochastic
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 100


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name of the importing file
    target: str  # dotted name imported (module, or module.attribute)
    line: int
    module_level: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def source_files(roots: tuple[str, ...] = PACKAGES) -> list[Path]:
    return sorted(p for root in roots for p in (ROOT / root).rglob("*.py"))


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, module_level: bool) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            continue  # annotations only, never executed
        inner = module_level and not isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        )
        yield child, inner
        yield from _walk(child, inner)


def imports_of(path: Path) -> list[Import]:
    """Every import statement of a file, with absolute target names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node, module_level in _walk(ast.parse(path.read_text()), True):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [Import(name, t, node.lineno, module_level) for t in targets]
    return found


def all_imports() -> list[Import]:
    return [imp for path in source_files() for imp in imports_of(path)]


def layout_violations(imports: list[Import]) -> list[str]:
    """Every import that breaks the allowed graph, as readable lines."""
    bad = []
    for imp in imports:
        src = imp.importer.split(".")[0]
        dst = imp.target.split(".")[0]
        where = f"{imp.importer}:{imp.line} imports {imp.target}"
        if dst in PACKAGES and dst not in ALLOWED[src]:
            joint = src == "pnp" and dst == "stochastic"
            if not (joint and (imp.importer == JOINT or imp.importer.startswith(JOINT + "."))):
                bad.append(f"{where} (arrow {src} -> {dst} not allowed)")
        if src in ("poreflux", "stochastic") and dst in FE_STACK:
            bad.append(f"{where} ({src} must not use the finite-element stack)")
        if src == "poreflux" and dst == "mpi4py":
            bad.append(f"{where} (poreflux is numpy/scipy only)")
        if src == "stochastic" and dst == "mpi4py" and imp.module_level:
            bad.append(f"{where} (import mpi4py inside the function that needs it)")
    return bad


def _modules() -> set[str]:
    return {module_name(p) for p in source_files()}


def _resolve(target: str, modules: set[str]) -> str | None:
    """The first-party module an import target executes (``a.b.name`` -> ``a.b``)."""
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target or None


def module_graph(imports: list[Import]) -> dict[str, set[str]]:
    """Module-level import edges between first-party modules (packages' __init__ included).

    Importing ``a.b.c`` runs ``a``, ``a.b`` and ``a.b.c``; edges to the importer's own ancestor
    packages are left out (a package is being initialised when its submodules load).
    """
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for imp in imports:
        if not imp.module_level:
            continue
        target = _resolve(imp.target, modules)
        if target is None:
            continue
        parts = target.split(".")
        for k in range(1, len(parts) + 1):
            node = ".".join(parts[:k])
            ancestor = imp.importer == node or imp.importer.startswith(node + ".")
            if node in modules and node != imp.importer and not ancestor:
                graph[imp.importer].add(node)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# --- the tests -----------------------------------------------------------------------------------
def test_every_import_follows_the_layout():
    bad = layout_violations(all_imports())
    assert not bad, "imports against the layout:\n" + "\n".join(bad)


def test_no_module_level_import_cycles():
    found = cycles(module_graph(all_imports()))
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize(
    ("importer", "target", "allowed"),
    [
        ("stochastic.smoluchowski", "pnp.results.currents", False),
        ("stochastic.md.model_pore", "meshes.channel", False),
        ("meshes.channel", "pnp.problems", False),
        ("poreflux.units", "meshes.names", False),
        ("pnp.diagnostics.checks", "stochastic.smoluchowski", False),
        ("pnp.hierarchy.pmf_coupling", "stochastic.chain", True),
        ("stochastic.langevin", "dolfinx", False),
        ("poreflux.species", "numpy", True),
    ],
)
def test_the_checker_catches_forbidden_arrows(importer, target, allowed):
    """The checker itself: a forbidden import injected into the graph is reported."""
    assert (not layout_violations([Import(importer, target, 1, True)])) == allowed


def test_the_cycle_finder_finds_a_planted_cycle():
    imports = [
        *all_imports(),
        Import("pnp.forms.poisson", "pnp.solvers.pb", 1, True),  # solvers.pb imports forms
    ]
    assert any("pnp.forms.poisson" in c for c in cycles(module_graph(imports)))


@pytest.mark.parametrize(
    "statement",
    [
        "import stochastic, stochastic.md, stochastic.pmf, stochastic.cg, "
        "stochastic.smoluchowski, stochastic.langevin, stochastic.chain, stochastic.profiles, "
        "stochastic.bd, stochastic.memory",
        "import poreflux, poreflux.units, poreflux.species, poreflux.water, poreflux.validation",
    ],
)
def test_light_packages_load_no_finite_element_stack_or_mpi(statement):
    heavy = ("dolfinx", "gmsh", "petsc4py", "mpi4py", "ufl", "meshes", "pnp")
    code = f"import sys; {statement}; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_poreflux_works_without_dolfinx():
    """``import poreflux`` and its basics work where DOLFINx cannot be imported at all."""
    code = (
        "import sys\n"
        "for name in ('dolfinx', 'dolfinx_solver', 'petsc4py', 'gmsh', 'mpi4py'):\n"
        "    sys.modules[name] = None  # makes any import of it fail\n"
        "import poreflux\n"
        "kcl = poreflux.salt('KCl', 150)\n"
        "print(poreflux.__version__, kcl.concentrations['K+'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    version, conc = out.stdout.split()
    assert version.count(".") == 2 and float(conc) == 150.0


def test_no_module_over_the_size_limit():
    long = [
        f"{p.relative_to(ROOT)}: {n} lines"
        for p in source_files()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    ]
    assert not long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(long)


def test_no_function_over_the_size_limit():
    long = []
    for path in source_files((*PACKAGES, "examples", "bench")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {n} lines")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


def test_the_repository_is_self_contained():
    """No file cites design notes that live outside the repository."""
    # the design notes' names, spelled so that this file does not cite them itself
    outside = (*(name + ".md" for name in ("DESIGN", "STACK")), "../" + "shared")
    cited = [
        f"{p.relative_to(ROOT)}"
        for pattern in ("*.py", "*.md", "*.toml")
        for p in ROOT.rglob(pattern)
        if ".venv" not in p.parts and any(s in p.read_text(errors="ignore") for s in outside)
    ]
    assert not cited, "files citing documents outside the repository:\n" + "\n".join(cited)


def test_pnp_says_clearly_when_dolfinx_is_missing():
    code = (
        "import sys\n"
        "sys.modules['dolfinx'] = None\n"
        "try:\n"
        "    import pnp\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert "DOLFINx" in out.stdout and "poreflux[fem]" in out.stdout, out.stdout + out.stderr


def _lazy_packages() -> Iterator[Path]:
    """``__init__.py`` files that export names lazily (a ``_LAZY`` table and ``__getattr__``)."""
    for package in PACKAGES:
        for init in sorted((ROOT / package).rglob("__init__.py")):
            if "_LAZY = {" in init.read_text():
                yield init


@pytest.mark.parametrize("init", list(_lazy_packages()), ids=lambda p: p.parent.name)
def test_lazy_names_are_not_also_submodules(init):
    """A lazily exported name equal to a submodule's name is shadowed by the module as soon as
    anything imports that submodule (``from pkg import f`` then gives the module: a
    ``pnp.hierarchy.time_scales`` function and module did exactly that)."""
    tree = ast.parse(init.read_text())
    table = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "_LAZY"
    )
    names = [key.value for key in table.keys]
    submodules = {p.stem for p in init.parent.glob("*.py")} | {
        p.parent.name for p in init.parent.glob("*/__init__.py")
    }
    assert not set(names) & submodules, f"{init}: rename the submodule or the name"
