"""ionslit: nanofluidic memristive slits and the neurons they make, from case files to results."""

from ionslit.version import __version__

__all__ = ["__version__"]
