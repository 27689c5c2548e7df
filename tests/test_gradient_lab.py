"""The gradient lab: generated long-range tasks, the spectral-radius law, the causal conv stack."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import presets
from zoo.config import Config
from zoo.data.synthetic import ADDING_BASELINE_MSE, adding_problem, copy_baseline_cross_entropy, copy_memory
from zoo.datasets import load
from zoo.diagnostics import gradient_decay
from zoo.layers import CausalConvStack


def as_arrays(dataset, n):
    x, y = dataset.batch(n).get_single_element()
    return x.numpy(), y.numpy()


def test_adding_problem_shapes_markers_and_targets():
    x, y = as_arrays(adding_problem(500, 30, seed=4), 500)
    assert x.shape == (500, 30, 2) and y.shape == (500, 1) and x.dtype == np.float32
    markers = x[:, :, 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers.sum(axis=1), 2.0)  # exactly two markers
    assert (markers[:, :15].sum(1) == 1).all() and (markers[:, 15:].sum(1) == 1).all()
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * markers).sum(axis=1), rtol=1e-6)
    assert (x[:, :, 0] >= 0).all() and (x[:, :, 0] < 1).all()


def test_generators_are_deterministic_streams_whatever_the_batch_size():
    x, _ = as_arrays(adding_problem(64, 20, seed=3), 64)
    in_pieces = np.concatenate([b[0].numpy() for b in adding_problem(64, 20, seed=3).batch(10)])
    np.testing.assert_array_equal(x, in_pieces)
    assert not np.array_equal(x, as_arrays(adding_problem(64, 20, seed=4), 64)[0])
    assert not np.array_equal(x, as_arrays(adding_problem(64, 20, seed=3, split="test"), 64)[0])


def test_constant_prediction_scores_the_adding_baseline():
    _, y = as_arrays(adding_problem(100_000, 10, seed=0), 100_000)
    assert abs(np.mean((y - 1.0) ** 2) - ADDING_BASELINE_MSE) < 3e-3
    assert round(ADDING_BASELINE_MSE, 3) == 0.167


def test_copy_memory_layout_and_memoryless_baseline():
    length = 15
    x, y = as_arrays(copy_memory(300, length, seed=1), 300)
    assert x.shape == y.shape == (300, length + 20)
    symbols = x[:, :10]
    assert symbols.min() >= 1 and symbols.max() <= 8
    assert (x[:, 10:length + 9] == 0).all() and (x[:, length + 9] == 9).all() and (x[:, length + 10:] == 0).all()
    assert (y[:, :length + 10] == 0).all()
    np.testing.assert_array_equal(y[:, length + 10:], symbols)
    # the memoryless strategy: blank with certainty, then uniform over the 8 symbols
    probabilities = np.zeros((length + 20, 10))
    probabilities[:length + 10, 0] = 1.0
    probabilities[length + 10:, 1:9] = 1 / 8
    chosen = np.take_along_axis(np.broadcast_to(probabilities, (300, length + 20, 10)), y[..., None], -1)
    assert -np.log(chosen).mean() == pytest.approx(copy_baseline_cross_entropy(length), rel=1e-9)
    assert copy_baseline_cross_entropy(length) == pytest.approx(10 * math.log(8) / (length + 20))


def test_synthetic_data_for_the_engine():
    data = load(Config(task="copy", dataset="copy", sequence_length=12, examples=300, batch_size=50))
    x, y = next(iter(data.train))
    assert x.shape == (50, 32) and data.input_shape == (32,) and data.vocab_size == data.num_outputs == 10
    assert data.train_tokens == 300 * 32 and len(data.fingerprint) == 64
    again = load(Config(task="copy", dataset="copy", sequence_length=12, examples=300, batch_size=50))
    assert again.fingerprint == data.fingerprint


@pytest.mark.parametrize("radius", [0.5, 0.9, 1.0, 1.1, 1.5])
def test_linear_rnn_gradient_scales_like_rho_to_the_distance(radius):
    ratios = gradient_decay("linear", radius, length=30, units=16, dtype="float64")
    np.testing.assert_allclose(ratios, radius ** np.arange(30), rtol=1e-9)


def test_tanh_only_shrinks_the_gradient_further():
    for radius in (0.9, 1.5):
        tanh = gradient_decay("tanh", radius, length=30, units=16, dtype="float64")
        assert (tanh <= radius ** np.arange(30) * (1 + 1e-9)).all()


@pytest.mark.parametrize("length,layers", [(1, 1), (2, 1), (16, 4), (17, 5), (100, 7)])
def test_causal_stack_depth_covers_the_receptive_field(length, layers):
    assert len(CausalConvStack(4, receptive_field=length).convolutions) == layers


def test_causal_stack_is_causal_and_sees_the_whole_sequence():
    keras.utils.set_random_seed(0)
    stack = CausalConvStack(8, receptive_field=20, return_sequences=True)
    x = np.random.default_rng(0).normal(size=(2, 20, 3)).astype("float32")
    base = stack(x).numpy()
    for t in (0, 7, 19):
        changed = x.copy()
        changed[:, t + 1:] += 5.0  # change every input after step t
        np.testing.assert_array_equal(stack(changed).numpy()[:, :t + 1], base[:, :t + 1])
    first = x.copy()
    first[:, 0] += 5.0  # the first input reaches the last output
    assert np.abs(stack(first).numpy()[:, -1] - base[:, -1]).max() > 1e-4


def test_causal_stack_last_output_respects_right_padding():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(1).normal(size=(3, 10, 4)).astype("float32")
    mask = np.ones((3, 10), bool)
    mask[0, 6:] = False
    sequences = CausalConvStack(5, receptive_field=10, return_sequences=True)
    last = CausalConvStack.from_config({**sequences.get_config(), "return_sequences": False})
    sequences.build(x.shape)
    last.build(x.shape)
    last.set_weights(sequences.get_weights())
    full = sequences(x, mask=tf.constant(mask)).numpy()
    np.testing.assert_allclose(last(x, mask=tf.constant(mask)).numpy(), full[[0, 1, 2], [5, 9, 9]], rtol=1e-6)


@pytest.mark.scripts
def test_tiny_long_range_sweep_end_to_end(store, script, monkeypatch, capsys):
    tmp_path = store
    long_range = script("long_range")
    monkeypatch.setitem(presets.LONG_RANGE, "quick", dict(
        tasks=("adding",), lengths=(6, 12), cells=presets.CELLS[:2],
        base=dict(examples=256, epochs=2, units=8)))
    assert long_range.main(["--set", "batch_size=64", "--set", "flow_samples=2"]) == 0
    out = capsys.readouterr().out
    assert "adding: test loss against the baseline" in out
    table = (tmp_path / "mlruns/compare/adding/long_range.md").read_text()
    assert table.count("vanilla-tanh-noclip") == 2 and table.count("vanilla-relu-identity-clip1") == 2
    assert (tmp_path / "mlruns/compare/adding/long_range.png").stat().st_size > 10_000
    import mlflow
    from zoo import tracking
    runs = tracking.runs("adding")
    assert len(runs) == 1 + 2 * 2 * 2  # the parent and 8 children
    parent = runs[runs["tags.mlflow.parentRunId"].isna()].iloc[0]
    artifacts = {a.path for a in mlflow.MlflowClient(tracking.tracking_uri()).list_artifacts(parent["run_id"])}
    assert {"long_range.png", "long_range.md", "comparison.md"} <= artifacts


def test_spectral_radius_experiment_logs_one_run(store, script, capsys):
    assert script("spectral_radius").main(["--length", "12", "--units", "8"]) == 0
    from zoo import tracking
    runs = tracking.runs("spectral_radius")
    assert len(runs) == 1 and runs.iloc[0]["status"] == "FINISHED"
    assert runs.iloc[0]["metrics.factor_per_step/linear/rho1.5"] == pytest.approx(1.5, rel=1e-5)
    assert "| linear       |   0.5 |" in capsys.readouterr().out
