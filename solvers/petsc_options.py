"""PETSc options of the PNP solves: the defaults, parsing and merging of the user's options
(case file ``[solver] petsc``, command line ``--petsc``), and which of the user's options PETSc
never read, with the valid option each misspelling most likely meant.

PETSc marks an entry of its options database as used when an object queries it (SNES, line
search, KSP and PC in ``setFromOptions``, MUMPS when it first factorises). After a solver's
first solve that set up its linear solver, ``unused_option_names`` asks the database which of
the given names (without the solver's options prefix) were never queried. The option names a
solver of the same configuration reads are collected by ``known_option_names`` from PETSc's
``-help`` output for a scratch SNES on PETSC_COMM_SELF configured with the same ``*_type``
options (only those: the user's monitors and viewers would open their output files again; its
KSP and PC are set up on a 1 x 1 matrix, so that the factorisation package lists its options).
``check_options`` names each unused option with the nearest of those
(``difflib.get_close_matches``), if one is close enough to be a likely misspelling.

Limits: only options the solver objects query are known (the ``-help`` output of objects of
the run's configuration): an option valid for another configuration (e.g. ``ksp_rtol`` with
``ksp_type preonly``) is reported unused without a suggestion. Options PETSc reads only while
solving (viewers such as ``snes_view``) are used by the first solve but are not among the known
names that suggestions are drawn from.

Collective: ``check_options`` does the same PETSc calls on every rank of ``comm`` (the scratch
objects live on PETSC_COMM_SELF, their help text is captured on each rank's stdout).
"""

from __future__ import annotations

import contextlib
import ctypes
import difflib
import io
import itertools
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mpi4py import MPI
from petsc4py import PETSc

#: Defaults for every PNP solve; user options (case file [solver.petsc], CLI --petsc) override.
DEFAULT_PETSC_OPTIONS: dict[str, Any] = {
    "snes_type": "newtonls",
    "snes_linesearch_type": "bt",
    "snes_rtol": 1e-8,
    "snes_atol": 1e-10,
    "snes_stol": 1e-10,
    "snes_max_it": 30,
    "snes_divergence_tolerance": -1,  # the limiter and line search handle growth; no dtol abort
    "ksp_type": "preonly",
    "pc_type": "lu",
    "pc_factor_mat_solver_type": "mumps",
    "mat_mumps_icntl_14": 100,  # generous workspace: the clamp's real row is dense
}


def parse_petsc_options(text: str) -> dict[str, Any]:
    """Parse a command-line style string "-snes_rtol 1e-10 -snes_monitor -ksp_type gmres" into
    {"snes_rtol": "1e-10", "snes_monitor": None, "ksp_type": "gmres"}."""
    tokens = shlex.split(text or "")
    options: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        key = tokens[i]
        if not key.startswith("-") or len(key) < 2 or _is_number(key):
            raise ValueError(f"PETSc option string: expected '-name', got {key!r} in {text!r}")
        key = key.lstrip("-")
        if i + 1 < len(tokens) and (not tokens[i + 1].startswith("-") or _is_number(tokens[i + 1])):
            options[key] = tokens[i + 1]
            i += 2
        else:
            options[key] = None
            i += 1
    return options


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def merge_petsc_options(*layers: Mapping[str, Any] | str | None) -> dict[str, Any]:
    """Merge option layers, later ones winning: dicts (keys with or without a leading '-') or
    command-line strings. ``False``/"false" flags stay as given (PETSc parses them)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer is None:
            continue
        if isinstance(layer, str):
            layer = parse_petsc_options(layer)
        for key, value in layer.items():
            merged[str(key).lstrip("-")] = value
    return merged


#: Lowest difflib similarity ratio of a suggestion: 'snes_maxit' -> 'snes_max_it' (0.95) and
#: 'ksp_tpye' -> 'ksp_type' (0.88) qualify, 'ksp_max_it' -> 'snes_max_it' (0.76) does not.
SUGGESTION_CUTOFF = 0.8

_scratch_counter = itertools.count()
_libc = ctypes.CDLL(None)  # fflush(NULL): PETSc prints its help with C stdio


@dataclass(frozen=True)
class UnusedOption:
    """A PETSc option (``name`` without the leading '-' and without a solver's prefix) that no
    PETSc object read; ``suggestion``: the nearest option a solver of the run reads, or None."""

    name: str
    suggestion: str | None = None

    def __str__(self) -> str:
        hint = f" (did you mean -{self.suggestion}?)" if self.suggestion else ""
        return f"-{self.name}{hint}"


def unused_option_names(prefix: str, names: Iterable[str]) -> list[str]:
    """The ``names`` (without ``prefix``) whose entries ``prefix + name`` in the PETSc options
    database no object has queried (this process's database; asking does not mark them)."""
    database = PETSc.Options()
    return [name for name in names if not database.used(prefix + name)]


def known_option_names(options: Mapping[str, Any]) -> frozenset[str]:
    """Names (without prefix) of the options that an SNES configured with the ``*_type``
    entries of ``options`` queries in ``setFromOptions`` and when its KSP and PC are set up;
    empty if PETSc refuses that configuration on a scratch problem."""
    prefix = f"ionslit_option_check_{next(_scratch_counter)}_"
    types = {key: value for key, value in options.items() if key.endswith("_type")}
    database = PETSc.Options()
    for key, value in types.items():
        database.setValue(prefix + key, value)
    snes = PETSc.SNES().create(PETSc.COMM_SELF)
    matrix = PETSc.Mat().createAIJ((1, 1), nnz=1, comm=PETSc.COMM_SELF)
    matrix.setValue(0, 0, 1.0)
    matrix.assemble()

    def set_up() -> None:
        snes.setOptionsPrefix(prefix)
        snes.setFromOptions()
        ksp = snes.getKSP()
        ksp.setOperators(matrix, matrix)
        ksp.setUp()

    try:
        text = _help_output(set_up)
    finally:
        snes.destroy()
        matrix.destroy()
        for key in types:
            database.delValue(prefix + key)
    return frozenset(re.findall(rf"-{re.escape(prefix)}(\w+)", text))


def _help_output(action: Callable[[], None]) -> str:
    """What PETSc prints on this process's stdout while ``action`` runs with ``-help`` set (the
    output is captured, not shown). PETSc writes to file descriptor 1, or to Python's
    ``sys.stdout`` when petsc4py started with a replaced ``sys.stdout`` (e.g. under pytest):
    both are captured. A PETSc error inside ``action`` ends it early."""
    database = PETSc.Options()
    had_help = database.hasName("help")
    sys.stdout.flush()
    _libc.fflush(None)
    saved = os.dup(1)
    python_stream = io.StringIO()
    with tempfile.TemporaryFile() as sink, contextlib.redirect_stdout(python_stream):
        os.dup2(sink.fileno(), 1)
        try:
            if not had_help:
                database.setValue("help", "")
            action()
        except PETSc.Error:
            pass  # the options printed so far are still known
        finally:
            if not had_help:
                database.delValue("help")
            _libc.fflush(None)
            os.dup2(saved, 1)
            os.close(saved)
        sink.seek(0)
        return sink.read().decode(errors="replace") + python_stream.getvalue()


def suggestion(name: str, known: Iterable[str]) -> str | None:
    """The known option name nearest to ``name``, if similar enough (``SUGGESTION_CUTOFF``)."""
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=SUGGESTION_CUTOFF)
    return matches[0] if matches else None


def check_options(prefix: str, names: Iterable[str], options: Mapping[str, Any],
                  comm: MPI.Comm) -> tuple[UnusedOption, ...]:
    """The ``names`` (in their order) that no PETSc object read under ``prefix`` on any rank of
    ``comm``, each with a suggestion drawn from ``known_option_names(options)`` (``options``:
    the solver's options). Collective; call after the solver's first solve that factorised."""
    names = list(names)
    if not names:
        return ()
    unused = set().union(*comm.allgather(unused_option_names(prefix, names)))
    if not unused:
        return ()
    known = known_option_names(options)
    return tuple(UnusedOption(name, suggestion(name, known)) for name in names if name in unused)
