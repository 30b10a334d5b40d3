"""Case files: TOML with units -> validated SI parameters (see schema.py for every key)."""

from ionslit.case.loader import CaseError, LoadedCase, load_case
from ionslit.case.schema import Case

__all__ = ["Case", "CaseError", "LoadedCase", "load_case"]
