"""Argument checks shared by the zoo's layers (vanilla.py, causal_conv.py).

This module imports NumPy only.
"""

import numpy as np


def _check_units(units):
    if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
        raise ValueError(
            "Received an invalid value for argument `units`, expected a positive integer, "
            f"got {units!r}."
        )


def _check_sequences_shape(shape):
    if len(shape) != 3:
        raise ValueError(
            "Received an invalid value for argument `sequences`, expected a 3-D tensor "
            f"[batch, time, features], got shape {tuple(shape)}."
        )
