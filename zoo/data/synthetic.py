"""Synthetic long-range tasks, generated from a seed (no data files).

The adding problem (Hochreiter & Schmidhuber 1997; Le, Jaitly & Hinton 2015): a sequence of T
(value, marker) pairs, values uniform in [0, 1], exactly two markers set to 1; the target is the
sum of the two marked values. Predicting the constant 1 scores MSE 1/6 = 0.167 (the variance of
a sum of two uniforms), so a model beats the baseline only by remembering across the sequence.
"""

import numpy as np

ADDING_BASELINE_MSE = 1.0 / 6.0


def adding_problem(num_examples, length, seed=0):
    """Returns x: [num_examples, length, 2] float32 (value, marker) and y: [num_examples, 1]."""
    if length < 2:
        raise ValueError(f"Received an invalid value for argument `length`, expected >= 2, got {length}.")
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, size=(num_examples, length)).astype("float32")
    markers = np.zeros((num_examples, length), "float32")
    rows = np.arange(num_examples)
    # the first marker in the first half, the second in the second half (as in the IRNN paper)
    first = rng.integers(0, length // 2, size=num_examples)
    second = rng.integers(length // 2, length, size=num_examples)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1)
    y = (values[rows, first] + values[rows, second])[:, None]
    return x, y


def adding_data(config):
    """The adding problem at T = config.sequence_length as a `zoo.data.Data`: config.examples
    training sequences, a tenth as many each for validation and test, seeds from config.seed."""
    from zoo.data import from_arrays

    length, n = config.sequence_length, config.examples
    return from_arrays(
        adding_problem(n, length, seed=config.seed),
        adding_problem(max(1, n // 10), length, seed=config.seed + 10_000),
        adding_problem(max(1, n // 10), length, seed=config.seed + 20_000),
        batch_size=config.batch_size,
        seed=config.seed,
    )
