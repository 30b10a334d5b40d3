# ionslit in a container: dolfinx 0.11 + PETSc + MPICH (the PyPI wheel `dolfinx-solver-real`),
# gmsh, and the C compiler and headers FFCx's JIT needs; versions pinned by constraints.txt.
#
# Build (Docker, or podman as tests/deploy does: podman build --pull=never --runtime runc ...):
#   docker build -t ionslit .
# The main demo on 2 MPI ranks, results in ./results/<case name>/ on the host:
#   docker run --rm -v "$PWD/results:/results" ionslit
# Any case (shipped cases are in /opt/ionslit/src/cases; mount your own, e.g. -v "$PWD/my:/cases:ro"):
#   docker run --rm -v "$PWD/results:/results" ionslit \
#       mpirun -n 2 ionslit run /opt/ionslit/src/cases/ohmic_slit.toml --output /results/ohmic_slit
# Add --user "$(id -u):$(id -g)" to own the results; the caches below are writable by any user.
# Larger runs: give MPICH's shared-memory transport room with --shm-size=1g.
#
# Build arguments:
#   BASE_IMAGE      default debian:trixie-slim (Debian 13, Python 3.13). Alternative: an official
#                   dolfinx image, which brings its own dolfinx/PETSc/MPI; then leave out the
#                   `fem` extra (the PyPI wheel):
#                     --build-arg BASE_IMAGE=ghcr.io/fenics/dolfinx/dolfinx:v0.11.0 \
#                     --build-arg IONSLIT_EXTRAS=
#   IONSLIT_EXTRAS  pip extras of ionslit to install (default `fem`).
#   PIP_CERT        CA bundle for pip inside the build (behind a TLS-inspecting proxy), with podman:
#                     -v /etc/ssl/certs/ca-certificates.crt:/run/host-ca.crt:ro \
#                     --build-arg PIP_CERT=/run/host-ca.crt
ARG BASE_IMAGE=debian:trixie-slim
FROM ${BASE_IMAGE}

ARG IONSLIT_EXTRAS=fem
ARG PIP_CERT=""

# Python and the venv module; gcc, libc and Python headers for FFCx's JIT; the X/GL libraries the
# gmsh wheel links against (it loads them even without a display).
# Debian's package versions are not pinned: a stable release only takes security fixes, and exact
# versions disappear from the archive (the build would break). Everything that decides the numbers
# (dolfinx, PETSc, MPICH, gmsh, numpy, ...) is pinned exactly by constraints.txt.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv python3-dev gcc libc6-dev ca-certificates \
        libgl1 libglu1-mesa libxrender1 libxcursor1 libxft2 libxinerama1 libgomp1 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*

# HOME=/tmp: a `--user` without a passwd entry still has a writable home (gmsh writes ~/.fltk there),
# and nothing but results lands in the /results volume.
ENV VIRTUAL_ENV=/opt/ionslit/venv \
    PATH=/opt/ionslit/venv/bin:$PATH \
    XDG_CACHE_HOME=/var/cache/ionslit \
    IONSLIT_CACHE_DIR=/var/cache/ionslit/ionslit \
    MPLCONFIGDIR=/var/cache/ionslit/matplotlib \
    OMP_NUM_THREADS=1 \
    OPENBLAS_NUM_THREADS=1 \
    HOME=/tmp

# Dependencies first, from the project's metadata alone: this layer survives edits of the sources.
# The requirements are read from pyproject.toml ([project] dependencies and the chosen extras);
# ionslit itself is built in the next step, with its sources and version.
# (--system-site-packages: on an official dolfinx image, dolfinx, petsc4py, mpi4py come from there.)
WORKDIR /opt/ionslit/src
COPY pyproject.toml README.md constraints.txt ./
RUN if [ -z "${PIP_CERT}" ]; then unset PIP_CERT; fi \
 && python3 -m venv --system-site-packages "${VIRTUAL_ENV}" \
 && python3 -c "import sys, tomllib; project = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
extras = [name for name in sys.argv[1].split(',') if name]; \
print('\n'.join(project['dependencies'] + [r for name in extras for r in project['optional-dependencies'][name]]))" \
        "${IONSLIT_EXTRAS}" > /tmp/requirements.txt \
 && pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore \
        -c constraints.txt -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# Then ionslit itself (the build context is an allow-list: see .dockerignore).
COPY . ./
RUN if [ -z "${PIP_CERT}" ]; then unset PIP_CERT; fi \
 && pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore \
        --no-deps --force-reinstall . \
 && rm -rf build ./*.egg-info \
 && ionslit version

# The main demo: a case file path, run by the default command (scripts/demo.sh runs the same one).
ENV IONSLIT_DEMO_CASE=/opt/ionslit/src/cases/neuron_live.toml \
    IONSLIT_RANKS=2

# Warm the caches (FFCx forms in $XDG_CACHE_HOME/fenics, meshes in $IONSLIT_CACHE_DIR, matplotlib's
# font list) by running the demo case and the small test case once; their results are dropped.
# The caches stay writable by any user, so `docker run --user` works (and can add new forms).
RUN for case in "${IONSLIT_DEMO_CASE}" cases/ohmic_slit.toml; do \
        ionslit --quiet run "${case}" --output /tmp/ionslit-warm-up || exit 1; \
        rm -rf /tmp/ionslit-warm-up "${HOME}/.fltk"; \
    done \
 && chmod -R a+rwX "${XDG_CACHE_HOME}"

WORKDIR /results
VOLUME ["/results"]
CMD ["/bin/bash", "-c", "exec mpirun -n \"${IONSLIT_RANKS}\" ionslit run \"${IONSLIT_DEMO_CASE}\" --output \"/results/$(basename \"${IONSLIT_DEMO_CASE}\" .toml)\" --overwrite"]
