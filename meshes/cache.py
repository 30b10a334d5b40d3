"""On-disk cache of generated ``.msh`` files, keyed by everything that shapes the mesh.

The key hashes the geometry's meshed fields, the MeshSpec fields that change the mesh, the
builder version and the gmsh version. Files are written under a temporary name and renamed into
place (``os.replace`` is atomic on one file system), so concurrent jobs never read a partial file.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import gmsh

from ionslit.meshes import kinds
from ionslit.meshes.geometry import Geometry, MeshSpec

# Bump whenever a change in ionslit.meshes.layout, ionslit.meshes.sizing or ionslit.meshes.builders
# changes the meshes.
BUILDER_VERSION = "2"

CACHE_ENV = "IONSLIT_CACHE_DIR"

# Geometry fields that do not enter the mesh (they only scale planar results).
_NOT_MESHED = {"slit": ("depth",), "slit_plane": ("height",)}


def default_cache_dir() -> Path:
    """``$IONSLIT_CACHE_DIR/meshes`` if that variable is set, else ``~/.cache/ionslit/meshes``."""
    root = os.environ.get(CACHE_ENV)
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "ionslit"
    return base / "meshes"


def cache_key(geometry: Geometry, spec: MeshSpec) -> str:
    """Hex SHA-256 of the mesh-defining parameters (validated geometry and spec)."""
    meshed = {
        k: v if isinstance(v, str) else float(v)
        for k, v in asdict(geometry).items()
        if k not in _NOT_MESHED.get(geometry.kind, ())
    }
    mesh_parameters = {
        "wall_size": float(spec.wall_size),
        "max_size": float(spec.max_size),
        "mouth_size": float(spec.mouth_size),
        "charged_walls": kinds.expand_wall_names(geometry.kind, tuple(spec.charged_walls)),
        "cells_across_slit": int(spec.cells_across_slit),
        "growth": float(spec.growth),
    }
    payload = {
        "builder": BUILDER_VERSION,
        "gmsh": gmsh.__version__,
        "geometry": meshed,
        "mesh": mesh_parameters,
    }
    text = json.dumps(payload, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def cache_path(geometry: Geometry, spec: MeshSpec, cache_dir: Path) -> Path:
    """Where the mesh of (geometry, spec) lives in ``cache_dir``."""
    return Path(cache_dir) / f"{geometry.kind}-{cache_key(geometry, spec)[:24]}.msh"


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(temporary_path)`` and rename the result to ``path``.

    The temporary file sits in the same directory and keeps ``path``'s suffix (gmsh picks the
    format from it); it is removed if ``write`` fails.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.tmp{path.suffix}")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
