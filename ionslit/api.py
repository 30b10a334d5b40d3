"""The Python API: what the ``ionslit`` command line does, for notebooks and scripts.

    import ionslit
    case = ionslit.load_case("cases/ohmic_slit.toml", overrides=["protocol.voltage=20 mV"])
    results = ionslit.run(case, output="results/ohmic_20mV", overwrite=True)
    results.series                                   # pandas DataFrame, SI column names

``load_case`` is ``ionslit check``'s validation (``overrides`` as ``--set KEY.PATH=VALUE``),
``run`` is ``ionslit run`` (the same results directory, manifest and files, on the ranks of
``comm``), ``open_results`` reads any results directory. Errors are exceptions: ``CaseError``
(invalid case), ``RunFailed`` (``invalid_input`` when refused before anything was written),
``RunInterrupted`` (SIGTERM: a checkpoint was written when checkpoints are on; continue with
``run(case, restart=directory)``), ``ResultsFormatError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mpi4py import MPI

from ionslit.case import CaseError, LoadedCase
from ionslit.case import load_case as _validated_case
from ionslit.results_directory import Results, ResultsFormatError, open_results
from ionslit.run_control import RunInterrupted
from ionslit.solvers.petsc_options import parse_petsc_options
from ionslit.study import RunFailed, run_study

__all__ = ["CaseError", "LoadedCase", "Results", "ResultsFormatError", "RunFailed",
           "RunInterrupted", "load_case", "open_results", "run"]


def load_case(path: str | Path, overrides: Sequence[str] = ()) -> LoadedCase:
    """The validated case of the TOML file ``path`` (values in SI units), with ``overrides``
    (``"key.path=value"``, e.g. ``"geometry.length=3 um"``) applied and validated like the file.
    Raises CaseError listing every problem."""
    return _validated_case(path, tuple(overrides))


def _directory(loaded: LoadedCase, output: str | Path | None, overwrite: bool,
               restart: str | Path | None) -> Path:
    """Where the run writes: ``restart``, else ``output``, else the case's default."""
    if restart is None:
        return Path(output) if output is not None else loaded.results_directory
    if overwrite:
        raise RunFailed("restart (--restart) continues the run in its directory; it cannot be "
                        "combined with overwrite (--overwrite)", invalid_input=True)
    if output is not None and Path(output).resolve() != Path(restart).resolve():
        raise RunFailed(f"restart {restart} continues in that directory; output {output} "
                        "differs", invalid_input=True)
    return Path(restart)


def run(case: LoadedCase | str | Path, output: str | Path | None = None, *,
        comm: MPI.Comm | None = None, overwrite: bool = False, petsc: str = "",
        restart: str | Path | None = None) -> Results:
    """Run ``case`` (a ``load_case`` result or a case file) into its results directory and
    return the results, as ``ionslit run`` does. Collective over ``comm`` (default
    MPI.COMM_WORLD): call it on every rank.

    ``output``: the results directory (default ``[output] directory``, else
    ``results/<case name>``); ``overwrite``: replace an existing results directory; ``petsc``:
    extra PETSc options as on the command line (``"-opt value ..."``); ``restart``: continue the
    interrupted run in that results directory from its checkpoint (same case, overrides and
    ``petsc``; any number of ranks). Raises CaseError, RunFailed, RunInterrupted."""
    loaded = case if isinstance(case, LoadedCase) else load_case(case)
    try:
        parse_petsc_options(petsc)
    except ValueError as error:
        raise RunFailed(f"petsc options (--petsc): {error}", invalid_input=True) from None
    directory = _directory(loaded, output, overwrite, restart)
    comm = MPI.COMM_WORLD if comm is None else comm
    run_study(loaded, directory, overwrite=overwrite, petsc=petsc, restart=restart is not None,
              comm=comm)
    comm.barrier()  # rank 0 has written the final manifest and the plots
    return open_results(directory)
