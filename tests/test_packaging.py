"""What a regular (non-editable) install of the checkout contains and how it imports.

The checkout is built and installed once per module with ``pip install --no-deps --target`` into a
temporary directory. The build goes to that directory too (``DIST_EXTRA_CONFIG`` points setuptools'
``build`` and ``egg_info`` there), so the checkout gets no ``build/`` or ``*.egg-info``, and no
stale ``build/lib`` of an earlier build can slip modules into the wheel. Cost: one local wheel
build, offline when this interpreter already has the build requirements of pyproject.toml (else pip
fetches them from the package index into an isolated build environment), and a fresh interpreter
per check.

Every check runs ``python -P`` (the checkout is not on ``sys.path``) from a temporary working
directory with ``PYTHONPATH`` set to the install, so it sees the installed tree, as a user outside
the checkout does. The editable install's import hook in this environment comes after
``PYTHONPATH``, so it answers only for names the install lacks; the checks assert that the modules
they import came from the install.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from ionslit.version import __version__

REPO = Path(__file__).resolve().parents[1]

# Modules that must stay out of sys.modules after importing the pure-numpy circuit code.
HEAVY = ("mpi4py", "dolfinx", "petsc4py")

MEMRISTOR_IN_COUPLING = (REPO / "coupling" / "memristor" / "__init__.py").is_file()

LIGHTNESS_PROBE = """\
import importlib, json, sys
module = importlib.import_module(sys.argv[1])
print(json.dumps({"file": module.__file__, "heavy": [n for n in sys.argv[2:] if n in sys.modules]}))
"""

MISSING_PROBE = """\
import sys
try:
    __import__(sys.argv[1])
except ModuleNotFoundError as error:
    print(error.name)
"""

# Every import statement grimp finds in the installed tree, at module level, inside functions and
# under ``if TYPE_CHECKING``, as (importer, imported, line number, whether it is type-checking only:
# absent from the graph built without those).
GRAPH_PROBE = """\
import importlib.util, json, grimp
def statements(graph):
    return {(d["importer"], d["imported"], d["line_number"])
            for importer in graph.modules
            for imported in graph.find_modules_directly_imported_by(importer)
            for d in graph.get_import_details(importer=importer, imported=imported)}
every = statements(grimp.build_graph("ionslit", cache_dir=None))
run_time = statements(grimp.build_graph("ionslit", cache_dir=None, exclude_type_checking_imports=True))
imports = [(*statement, statement not in run_time) for statement in sorted(every)]
print(json.dumps({"origin": importlib.util.find_spec("ionslit").origin, "imports": imports}))
"""


def _build_requirements_installed() -> bool:
    """True when this interpreter has every ``build-system.requires`` entry of pyproject.toml."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    for text in pyproject["build-system"]["requires"]:
        requirement = Requirement(text)
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            return False
        if not requirement.specifier.contains(installed, prereleases=True):
            return False
    return True


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding a regular install of the checkout, as site-packages would."""
    work = tmp_path_factory.mktemp("install")
    config = work / "build.cfg"
    config.write_text(f"[build]\nbuild_base = {work / 'build'}\n[egg_info]\negg_base = {work}\n")
    target = work / "site"
    isolation = ["--no-build-isolation"] if _build_requirements_installed() else []
    result = subprocess.run(
        [sys.executable, "-P", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-compile", *isolation, "--target", str(target), str(REPO)],
        cwd=work, env={**os.environ, "DIST_EXTRA_CONFIG": str(config)},
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"pip install failed:\n{result.stdout}\n{result.stderr}"
    return target


def _run_installed(site: Path, cwd: Path, code: str, *args: str) -> str:
    """Run ``code`` in a fresh interpreter that sees the install, not the checkout; its stdout."""
    result = subprocess.run([sys.executable, "-P", "-c", code, *args], cwd=cwd,
                            env={**os.environ, "PYTHONPATH": str(site)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def strongly_connected_components(graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components of a directed graph (node -> successors), each a list of
    its nodes: Tarjan's algorithm with an explicit stack instead of recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        walk = [(root, iter(graph[root]))]
        while walk:
            node, successors = walk[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    walk.append((successor, iter(graph.get(successor, ()))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                walk.pop()
                if walk:
                    parent = walk[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while not component or component[-1] != node:
                        component.append(stack.pop())
                        on_stack.discard(component[-1])
                    components.append(component)
    return components


def test_site_packages_holds_only_ionslit(site):
    """One name lands in site-packages. ``pip install --target`` puts console scripts in a
    ``bin/`` beside the packages; an environment's install puts them in its own ``bin/``, outside
    site-packages, so ``bin`` is allowed here and must hold just the ``ionslit`` command."""
    assert {entry.name for entry in site.iterdir()} == {
        "ionslit", f"ionslit-{__version__}.dist-info", "bin"}
    assert [script.name for script in (site / "bin").iterdir()] == ["ionslit"]


@pytest.mark.parametrize("module", [
    "ionslit.coupling",
    pytest.param("ionslit.coupling.memristor", marks=pytest.mark.skipif(
        not MEMRISTOR_IN_COUPLING, reason="coupling/memristor/ is not in this checkout")),
])
def test_circuit_code_imports_without_the_finite_element_stack(site, tmp_path, module):
    probe = json.loads(_run_installed(site, tmp_path, LIGHTNESS_PROBE, module, *HEAVY))
    assert Path(probe["file"]).is_relative_to(site), \
        f"{module} came from {probe['file']}, not the install (missing from pyproject's packages?)"
    assert probe["heavy"] == [], f"importing {module} loads {probe['heavy']}"


@pytest.mark.parametrize("name", ["solvers", "meshes", "coupling"])
def test_folder_names_are_not_top_level_packages(site, tmp_path, name):
    assert _run_installed(site, tmp_path, MISSING_PROBE, name).strip() == name, \
        f"`import {name}` works outside the checkout; only `ionslit` may be installed"


def test_cycle_finder_on_a_known_graph():
    graph = {"a": ["b"], "b": ["a", "c"], "c": ["d"], "d": ["c", "e"], "e": [], "f": ["f"]}
    components = sorted(sorted(c) for c in strongly_connected_components(graph))
    assert components == [["a", "b"], ["c", "d"], ["e"], ["f"]]


def test_no_import_cycles(site, tmp_path):
    """No two modules of the installed package reach each other through imports, counting
    function-level (lazy) imports and those under ``if TYPE_CHECKING``."""
    probe = json.loads(_run_installed(site, tmp_path, GRAPH_PROBE))
    assert Path(probe["origin"]).is_relative_to(site), f"grimp read {probe['origin']}"
    graph: dict[str, list[str]] = {}
    lines: dict[tuple[str, str], list[str]] = {}
    for importer, imported, line, type_only in probe["imports"]:
        graph.setdefault(importer, []).append(imported)
        where = f"{line} (TYPE_CHECKING)" if type_only else str(line)
        lines.setdefault((importer, imported), []).append(where)
    assert "ionslit.coupling" in graph, "the graph misses the mapped packages"
    cycles = [sorted(c) for c in strongly_connected_components(graph) if len(c) > 1]
    report = []
    for members in sorted(cycles):
        edges = [f"    {a} line {', '.join(lines[a, b])} imports {b}"
                 for a in members for b in sorted(set(graph[a])) if b in members]
        report.append(f"  cycle of {len(members)} modules: {', '.join(members)}\n" + "\n".join(edges))
    assert not cycles, "import cycles in the installed ionslit:\n" + "\n".join(report)
