"""ionslit: nanofluidic memristive slits and the neurons they make, from case files to results."""

__version__ = "0.1.0"
