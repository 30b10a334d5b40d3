"""The few operations the rate law and the field laws need, for numpy arrays and for UFL.

Each formula is written once against an ``ops`` object and evaluated either on arrays
(analysis, calibration, tests: ``NUMPY``) or symbolically in the weak forms (``UFL``).
"""

from __future__ import annotations

import numpy as np
import ufl


class _NumpyOps:
    name = "numpy"

    @staticmethod
    def exp(x):
        return np.exp(x)

    @staticmethod
    def sqrt(x):
        return np.sqrt(x)

    @staticmethod
    def if_less(a, b, then, otherwise):
        """``then`` where a < b, else ``otherwise``."""
        return np.where(np.asarray(a) < b, then, otherwise)


class _UflOps:
    name = "ufl"

    @staticmethod
    def exp(x):
        return ufl.exp(x)

    @staticmethod
    def sqrt(x):
        return ufl.sqrt(x)

    @staticmethod
    def if_less(a, b, then, otherwise):
        return ufl.conditional(ufl.lt(a, b), then, otherwise)


NUMPY = _NumpyOps()
UFL = _UflOps()

__all__ = ["NUMPY", "UFL"]
