"""The results directory and its files: manifest.json, CSV series, written atomically on rank 0.

Contract (later features add content, not conventions): every ``run`` writes DIR/manifest.json
(``results_format``: ``RESULTS_FORMAT``, the version of this layout; status ``running`` while it
works, then ``ok``/``failed``/``interrupted`` with the reason),
DIR/case.toml (the case file as given), CSV files whose column names carry the SI unit
(``time_s``, ``voltage_V``, ``current_A``), and fields as XDMF. Every file appears under its final
name only when complete (temporary name, then ``os.replace``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Version of the results-directory layout, recorded in manifest.json as ``results_format``:
#: raised when a file or column changes meaning, so that readers can refuse what they do not know.
RESULTS_FORMAT = 1


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the whole new one, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def csv_text(columns: Mapping[str, Sequence[float] | np.ndarray]) -> str:
    """CSV with a header row; floats with 17 significant digits (round-trip exact)."""
    names = list(columns)
    arrays = [np.asarray(columns[name]) for name in names]
    lengths = {len(a) for a in arrays}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {dict(zip(names, map(len, arrays), strict=True))}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for row in zip(*arrays, strict=True):
        writer.writerow([_format(v) for v in row])
    return buffer.getvalue()


def _format(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value.item() if isinstance(value, np.generic) else value)


def atomic_write_csv(path: Path, columns: Mapping[str, Sequence[float] | np.ndarray]) -> None:
    atomic_write_text(path, csv_text(columns))


def read_csv(path: Path) -> dict[str, np.ndarray]:
    """Columns of a CSV written by ``atomic_write_csv`` (numeric columns as float arrays)."""
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    columns: dict[str, np.ndarray] = {}
    for index, name in enumerate(header):
        values = [row[index] for row in body]
        try:
            columns[name] = np.array(values, dtype=float)
        except ValueError:
            columns[name] = np.array(values, dtype=object)
    return columns


class OutputDirectoryError(RuntimeError):
    """The results directory cannot be used (exists and is not empty, not writable...)."""


def prepare_results_directory(directory: Path, overwrite: bool) -> None:
    """Create ``directory`` (rank 0 only). A non-empty directory is refused unless ``overwrite``,
    and even then only if it holds a previous ionslit result (a manifest.json), so a mistyped
    ``--output ~`` can never wipe unrelated files."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        if not overwrite:
            raise OutputDirectoryError(
                f"results directory {directory} is not empty; use --overwrite to replace it "
                "or --output to choose another"
            )
        if not (directory / "manifest.json").is_file():
            raise OutputDirectoryError(
                f"refusing to overwrite {directory}: it has no manifest.json, so it is not an "
                "ionslit results directory"
            )
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
