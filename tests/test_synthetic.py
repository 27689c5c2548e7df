import numpy as np
import pytest

from zoo.data.synthetic import ADDING_BASELINE_MSE, adding_problem


def test_adding_problem_shapes_markers_and_targets():
    x, y = adding_problem(500, 30, seed=4)
    assert x.shape == (500, 30, 2) and y.shape == (500, 1)
    markers = x[:, :, 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers.sum(axis=1), 2.0)
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * markers).sum(axis=1), rtol=1e-6)
    x2, y2 = adding_problem(500, 30, seed=4)
    np.testing.assert_array_equal(x, x2)  # deterministic with a seed
    assert not np.array_equal(x, adding_problem(500, 30, seed=5)[0])


def test_constant_prediction_scores_the_baseline():
    _, y = adding_problem(200_000, 10, seed=0)
    assert abs(np.mean((y - 1.0) ** 2) - ADDING_BASELINE_MSE) < 2e-3
    assert round(ADDING_BASELINE_MSE, 3) == 0.167


def test_adding_problem_rejects_short_sequences():
    with pytest.raises(ValueError, match="`length`"):
        adding_problem(10, 1)
