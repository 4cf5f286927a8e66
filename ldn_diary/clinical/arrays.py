"""The array types the clinical maths passes around, named once for the type checker.

Every array in ``engine.py`` and ``stats.py`` is one of these three dtypes: scores and statistics
are float64 with NaN for "no value", days, counts, doses and codes are int64, masks are bool.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ("BoolArray", "FloatArray", "IntArray")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
