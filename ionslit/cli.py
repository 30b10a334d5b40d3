"""The ``ionslit`` command line: run | check | calibrate | mesh | plot | submit | version.

Exit codes (ionslit.exit_codes): 0 success, 2 invalid input (nothing written), 1 failure while
running, 143 (128 + SIGTERM) a run stopped by SIGTERM after writing a checkpoint (continue it
with ``--restart``). The sub-commands are ionslit.commands, loaded after the arguments are
parsed, so that ``--help``, ``--version`` and ``version --short`` load neither PETSc nor
dolfinx.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ionslit.exit_codes import EXIT_OK
from ionslit.logs import configure_logging
from ionslit.version import __version__


def _add_verbosity(parser: argparse.ArgumentParser, default: object) -> None:
    """-v / -q, accepted before and after the sub-command."""
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", default=default,
                           help="debug output")
    verbosity.add_argument("-q", "--quiet", action="store_true", default=default,
                           help="warnings and errors only")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ionslit",
        description="Nanofluidic memristive slits (Poisson-Nernst-Planck + ion pairing) and neurons.",
    )
    parser.add_argument("--version", action="version", version=f"ionslit {__version__}")
    _add_verbosity(parser, default=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def case_command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _add_verbosity(sub, default=argparse.SUPPRESS)
        sub.add_argument("case", type=Path, help="TOML case file")
        sub.add_argument(
            "--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
            help="override a case key, validated like the file (repeatable), "
            "e.g. --set geometry.length='3 um' --set electrolyte.species.Na.concentration='20 mM'",
        )
        return sub

    run = case_command("run", "run a case and write its results directory")
    run.add_argument("--output", "-o", type=Path, help="results directory (default results/<name>)")
    run.add_argument("--overwrite", action="store_true", help="replace an existing results directory")
    run.add_argument("--petsc", default="", metavar='"-opt value ..."', help="extra PETSc options")
    run.add_argument("--restart", type=Path, metavar="DIR",
                     help="continue the interrupted run in results directory DIR from its "
                     "checkpoint (same case, --set and --petsc; any number of ranks)")

    case_command("check", "validate a case, print it in SI with its dimensionless groups; no solve")

    calibrate = case_command("calibrate", "fit the case's [calibration] reaction law (and K_d) to "
                             "its target G/G_free table; print the fit and per-point residuals")
    calibrate.add_argument("--output", "-o", type=Path, help="also write the fit to this JSON file")

    mesh = case_command("mesh", "build the case's mesh, write it to XDMF and report its adequacy")
    mesh.add_argument("--output", "-o", type=Path, help="directory (default results/<name>/mesh)")

    submit = case_command("submit", "render a SLURM batch script that runs the case, and sbatch it")
    submit.add_argument("--ntasks", "-n", type=int, required=True, help="MPI ranks (sbatch --ntasks)")
    submit.add_argument("--time", "-t", required=True, metavar="HH:MM:SS",
                        help="time limit (sbatch --time: HH:MM:SS, D-HH:MM:SS, ...)")
    submit.add_argument("--partition", "-p", help="SLURM partition")
    submit.add_argument("--launcher", choices=["srun", "mpirun"], default="srun",
                        help="srun --mpi=pmi2 (default) or the environment's own mpirun")
    submit.add_argument("--output", "-o", type=Path,
                        help="results directory (default results/<name>)")
    submit.add_argument("--overwrite", action="store_true",
                        help="replace an existing results directory")
    submit.add_argument("--petsc", default="", metavar='"-opt value ..."',
                        help="extra PETSc options")
    submit.add_argument("--python", type=Path,
                        help="the job's Python (default: the one running this command)")
    submit.add_argument("--sbatch-option", dest="sbatch_options", action="append", default=[],
                        metavar="--NAME=VALUE",
                        help="another #SBATCH line (repeatable), e.g. --sbatch-option=--account=abc")
    submit.add_argument("--dry-run", action="store_true", help="print the script; submit nothing")

    plot = commands.add_parser("plot", help="(re)make the PNG plots of a results directory",
                               description="(re)make DIR/plots/*.png from the files of a results "
                               "directory")
    _add_verbosity(plot, default=argparse.SUPPRESS)
    plot.add_argument("directory", type=Path, help="results directory (with manifest.json)")

    version = commands.add_parser("version", help="versions of ionslit and the numerical stack")
    version.add_argument("--short", action="store_true", help="ionslit's version only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "version" and args.short:
        print(__version__)
        return EXIT_OK
    from mpi4py import MPI

    configure_logging(-1 if args.quiet else (1 if args.verbose else 0), MPI.COMM_WORLD)
    from ionslit.commands import COMMANDS

    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
