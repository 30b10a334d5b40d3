"""The Dockerfile, built and run for real with podman (no Docker daemon, no registry needed).

The base image ``debian:trixie-slim`` is made locally when podman does not have it: debootstrap a
minimal Debian 13 and ``podman import`` it under that name, so the Dockerfile builds unchanged
(``--pull=never``). It stays in podman's storage for later runs, as do the image's layers (a
rebuild after a source edit reinstalls ionslit only). Root only: these podman flags are root's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from deploy_helpers import ROOT, check_results, is_root, unavailable, which

pytestmark = pytest.mark.slow

BASE_IMAGE = "docker.io/library/debian:trixie-slim"
IMAGE = "localhost/ionslit:deploy-test"
DEBIAN_MIRROR = os.environ.get("IONSLIT_DEBIAN_MIRROR", "http://deb.debian.org/debian")
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
# The flags podman needs on these machines (runc; explicit limits for the container's processes).
RUNTIME = ["--runtime", "runc"]
LIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096"]
SHIPPED = "/opt/ionslit/src/cases"
TIMINGS: dict[str, float] = {}


def _podman(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["podman", *RUNTIME, *args], capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(f"podman {' '.join(args)} failed ({result.returncode}):\n"
                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}", pytrace=False)
    return result


def _image_id(name: str) -> str | None:
    result = _podman("image", "inspect", "--format", "{{.Id}}", name, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def _make_base_image(work: Path) -> None:
    """debootstrap a minimal trixie and import it as ``debian:trixie-slim``."""
    debootstrap = which("debootstrap")
    if debootstrap is None:
        unavailable(f"no {BASE_IMAGE} in podman and no debootstrap to make it; {_hint()}")
    rootfs = work / "rootfs"
    result = subprocess.run(
        [debootstrap, "--variant=minbase", "trixie", str(rootfs), DEBIAN_MIRROR],
        capture_output=True, text=True, timeout=1200)
    if result.returncode != 0:
        pytest.fail(f"debootstrap failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}",
                    pytrace=False)
    for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):  # as the real slim image
        for path in (rootfs / leftover).glob("*"):
            if path.is_file():
                path.unlink()
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    imported = subprocess.run(["podman", "import", "--change", 'CMD ["bash"]', "-", BASE_IMAGE],
                              stdin=tar.stdout, capture_output=True, text=True, timeout=600)
    tar.stdout.close()
    tar.wait()
    shutil.rmtree(rootfs, ignore_errors=True)
    if imported.returncode != 0 or tar.returncode != 0:
        pytest.fail(f"podman import failed:\n{imported.stderr[-3000:]}", pytrace=False)


def _hint() -> str:
    return "scripts/system-packages.sh installs podman, runc and debootstrap (root, Debian)"


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> str:
    """The project's image, built from the Dockerfile with podman (base image made if needed)."""
    if which("podman") is None:
        unavailable(f"podman not installed; {_hint()}")
    if not is_root():
        unavailable("the container test runs podman as root (rootless podman needs other set-up)")
    start = time.monotonic()
    if _image_id(BASE_IMAGE) is None:
        _make_base_image(tmp_path_factory.mktemp("base-image"))
    TIMINGS["base image"] = time.monotonic() - start

    previous = _image_id(IMAGE)
    build = ["build", "--pull=never", "--format", "docker", *LIMITS, "--tag", IMAGE]
    if HOST_CA.is_file():  # pip inside the build trusts what the host trusts (proxies)
        build += ["--volume", f"{HOST_CA}:/run/host-ca.crt:ro", "--build-arg",
                  "PIP_CERT=/run/host-ca.crt"]
    start = time.monotonic()
    _podman(*build, str(ROOT), timeout=2400)
    TIMINGS["image build"] = time.monotonic() - start
    current = _image_id(IMAGE)
    if previous and previous != current:  # the image this test built last time, now untagged
        _podman("rmi", previous, check=False)
    return IMAGE


def _run(image: str, *args: str, volume: Path | None = None, options: tuple[str, ...] = (),
         timeout: float = 600) -> subprocess.CompletedProcess:
    mount = ["--volume", f"{volume}:/results"] if volume else []
    return _podman("run", "--rm", "--network", "none", *LIMITS, *mount, *options, image, *args,
                   timeout=timeout)


def test_image_runs_a_case_on_two_ranks_into_the_results_volume(image, tmp_path):
    """mpirun -n 2 in the container as an unprivileged user with no passwd entry (as
    `--user $(id -u)` would be), on a read-only root file system: the forms and the mesh must
    come from the caches warmed at build time, and the results go to the mounted volume only."""
    volume = tmp_path / "results"
    volume.mkdir(mode=0o777)
    volume.chmod(0o777)
    start = time.monotonic()
    _run(image, "mpirun", "-n", "2", "ionslit", "run", f"{SHIPPED}/ohmic_slit.toml",
         "--output", "/results/ohmic_slit", volume=volume,
         options=("--user", "1000:1000", "--read-only"))
    TIMINGS["container run"] = time.monotonic() - start
    assert sorted(p.name for p in volume.iterdir()) == ["ohmic_slit"]
    manifest = check_results(volume / "ohmic_slit", ranks=2)
    assert manifest["versions"]["mpi_library"].startswith("MPICH")
    assert (volume / "ohmic_slit" / "manifest.json").stat().st_uid == 1000


def test_default_command_runs_the_demo_case_with_two_ranks(image, tmp_path):
    """The image's CMD runs $IONSLIT_DEMO_CASE with mpirun -n 2 into /results/<case name>/
    (pointed at the small case here, to keep the test short)."""
    volume = tmp_path / "results"
    volume.mkdir()
    _run(image, volume=volume, options=("--env", f"IONSLIT_DEMO_CASE={SHIPPED}/ohmic_slit.toml"))
    check_results(volume / "ohmic_slit", ranks=2)


def test_image_content(image):
    """The demo case is in the image, the form cache is warm, no stray build context files, and
    the image stays a reasonable size."""
    result = _run(image, "bash", "-c", 'test -f "$IONSLIT_DEMO_CASE" && echo demo-case-ok; '
                  'ls "$XDG_CACHE_HOME/fenics" | grep -c "\\.so$"; ls -A /opt/ionslit/src')
    lines = result.stdout.split()
    assert lines[0] == "demo-case-ok"
    assert int(lines[1]) > 0, "no compiled forms in the image's cache"
    assert set(lines[2:]) <= {"README.md", "cases", "constraints.txt", "coupling", "ionslit",
                              "meshes", "pyproject.toml", "solvers"}, lines[2:]
    size = int(_podman("image", "inspect", "--format", "{{.Size}}", image).stdout.strip())
    print(f"image {image}: {size / 1e9:.2f} GB; timings (s): "
          + json.dumps({k: round(v, 1) for k, v in TIMINGS.items()}))
    assert size < 2.0e9, f"image is {size / 1e9:.2f} GB"
