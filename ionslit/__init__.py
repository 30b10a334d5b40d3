"""ionslit: nanofluidic memristive slits and the neurons they make, from case files to results.

The public Python API (``ionslit.api``) is resolved on first use, so that importing a
sub-package (``ionslit.coupling``, ``ionslit.case``...) does not load MPI, PETSc or dolfinx:
``load_case``, ``run``, ``open_results``, ``Results``, ``LoadedCase`` and the exceptions
``CaseError``, ``RunFailed``, ``RunInterrupted``, ``ResultsFormatError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ionslit.version import __version__

if TYPE_CHECKING:
    from ionslit.api import (
        CaseError,
        LoadedCase,
        Results,
        ResultsFormatError,
        RunFailed,
        RunInterrupted,
        load_case,
        open_results,
        run,
    )

__all__ = ["CaseError", "LoadedCase", "Results", "ResultsFormatError", "RunFailed",
           "RunInterrupted", "__version__", "load_case", "open_results", "run"]


def __getattr__(name: str) -> Any:
    """The API names of ``__all__``, imported from ionslit.api when first asked for."""
    if name in __all__:
        from ionslit import api

        return getattr(api, name)
    raise AttributeError(f"module 'ionslit' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names (``__all__``), for completion in notebooks."""
    return sorted(__all__)
