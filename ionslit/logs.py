"""Logging on rank 0 only: other ranks stay silent unless something is an error."""

from __future__ import annotations

import logging

from mpi4py import MPI

LOGGER_NAME = "ionslit"


def configure_logging(verbosity: int, comm: MPI.Comm = MPI.COMM_WORLD) -> logging.Logger:
    """Set up the ``ionslit`` logger: -q -> warnings, default -> info, -v -> debug.

    Rank 0 prints to stderr; other ranks print only errors (prefixed with their rank) so a
    failure on one rank is still visible.
    """
    level = {-1: logging.WARNING, 0: logging.INFO}.get(max(min(verbosity, 1), -1), logging.DEBUG)
    logger = logging.getLogger(LOGGER_NAME)
    logger.handlers.clear()
    handler = logging.StreamHandler()
    prefix = "" if comm.size == 1 else f"[rank {comm.rank}] "
    handler.setFormatter(logging.Formatter(f"{prefix}%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level if comm.rank == 0 else logging.ERROR)
    logger.propagate = False
    return logger


def get_logger(name: str = "") -> logging.Logger:
    """The project logger or one of its children (``ionslit.run`` ...)."""
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)
